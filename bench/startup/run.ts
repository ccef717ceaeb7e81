/**
 * Start-up of `clace-lite star run` against CPython, measured in the same run: each side runs a program that
 * prints 1, STARTUP_RUNS times (default 30, at least 5), alternating, and the table shows the median and the
 * best wall time of each and the ratio of the medians. The CLI is run from source (`bun src/cli/main.ts`), as the
 * npm package runs it (the bundle `npm pack` makes), and, when `dist/clace-lite` exists (`bun run build`), as the
 * compiled binary too. CPython is its own executable
 * (`sys.executable`), not a launcher script that may stand first on PATH (pyenv's shim adds some 80 ms).
 * Run: `bun bench/startup/run.ts`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "../stats.ts";

const root = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "clace-lite-startup-"));
const file = join(dir, "print.star");
writeFileSync(file, "print(1)\n");

const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim() || "python3";
const sides: [string, string, string[]][] = [
  ["clace-lite star run (source)", process.execPath, [join(root, "src/cli/main.ts"), "star", "run", file]],
  [`${python} -c 'print(1)'`, python, ["-c", "print(1)"]],
];
// Debian's own CPython, when it is not the one on PATH: built with its optimisations, it starts several times faster.
if (existsSync("/usr/bin/python3") && python !== "/usr/bin/python3") sides.push(["/usr/bin/python3 -c 'print(1)'", "/usr/bin/python3", ["-c", "print(1)"]]);
const binary = join(root, "dist", "clace-lite");
if (existsSync(binary)) sides.splice(1, 0, ["clace-lite star run (binary)", binary, ["star", "run", file]]);
// What `bunx clace-lite` runs: the npm package's bundled CLI, built here when missing (as `npm pack` would).
const packaged = join(root, "dist", "package", "cli", "main.js");
if (!existsSync(packaged)) spawnSync("bun", ["run", "scripts/build.ts", "--package"], { cwd: root, stdio: "inherit" });
sides.splice(1, 0, ["clace-lite star run (npm package)", process.execPath, [packaged, "star", "run", file]]);

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

// One ratio column per CPython measured.
const pythons = sides.flatMap(([name, cmd], s) => (cmd.includes("python") ? [{ name: cmd, median: median(times[s]!) }] : []));
console.log(`| command | median (ms, ${runs} runs) | best (ms) | ${pythons.map((p) => `median / ${p.name}`).join(" | ")} |`);
console.log(`|---|---:|---:|${pythons.map(() => "---:").join("|")}|`);
sides.forEach(([name], s) => {
  const m = median(times[s]!);
  console.log(`| ${name} | ${m.toFixed(1)} | ${Math.min(...times[s]!).toFixed(1)} | ${pythons.map((p) => `${(m / p.median).toFixed(2)}x`).join(" | ")} |`);
});
