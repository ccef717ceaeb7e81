/**
 * Start-up of `clace-lite star run` against CPython, measured in the same run: each side runs a program that
 * prints 1, STARTUP_RUNS times (default 30, at least 5), alternating, and the table shows the median and the
 * best wall time of each and the ratio of the medians. The CLI is run from source (`bun src/cli/main.ts`) and,
 * when `dist/clace-lite` exists (`bun run build`), as the compiled binary too.
 * Run: `bun bench/startup/run.ts`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "clace-lite-startup-"));
const file = join(dir, "print.star");
writeFileSync(file, "print(1)\n");

const sides: [string, string, string[]][] = [
  ["clace-lite star run (source)", process.execPath, [join(root, "src/cli/main.ts"), "star", "run", file]],
  ["python3 -c 'print(1)'", "python3", ["-c", "print(1)"]],
];
const binary = join(root, "dist", "clace-lite");
if (existsSync(binary)) sides.splice(1, 0, ["clace-lite star run (binary)", binary, ["star", "run", file]]);

function once(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0 || r.stdout.trim() !== "1") throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
  return ms;
}

const runs = Math.max(5, Number(process.env.STARTUP_RUNS ?? 30) || 30);
const times = sides.map(() => [] as number[]);
try {
  for (const [, cmd, args] of sides) once(cmd, args); // warm the file cache
  for (let i = 0; i < runs; i++) sides.forEach(([, cmd, args], s) => times[s]!.push(once(cmd, args)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const py = median(times[times.length - 1]!);
console.log(`| command | median (ms, ${runs} runs) | best (ms) | median / python3 |`);
console.log("|---|---:|---:|---:|");
sides.forEach(([name], s) => {
  const m = median(times[s]!);
  console.log(`| ${name} | ${m.toFixed(1)} | ${Math.min(...times[s]!).toFixed(1)} | ${(m / py).toFixed(2)}x |`);
});
