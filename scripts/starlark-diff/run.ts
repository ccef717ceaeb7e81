/**
 * Differential run against starlark-go: each program of corpus/*.star (programs are separated by lines that are
 * exactly `---`) runs under the reference interpreter and under `clace-lite star run`; the runner prints every
 * program whose output, failure, or first error message differs.
 *
 *   bun scripts/starlark-diff/run.ts [--ref PATH] [--only FILE[:LINE]] [--verbose]
 *
 * The reference is a starlark-go command that runs a file with json and struct predeclared and prints the error
 * backtrace on failure: --ref PATH, else $STARLARK_REF, else scripts/starlark-ref (built into .tmp/ when missing,
 * which needs golang-go and golang-starlark-dev). A program whose behaviour changed in
 * starlark-go after the reference's version carries a comment `# upstream: <reason>`: it is listed as a known
 * upstream change, not as a difference, because our interpreter follows current starlark-go there.
 * Exit status: 1 if any unexplained difference remains.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { referenceBinary } from "../starlark-ref/reference.ts";

interface Program { name: string; source: string; upstream?: string }
interface Outcome { stdout: string; error?: string }

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = flag("--only");
const verbose = args.includes("--verbose");
const root = join(import.meta.dir, "../..");
const refBin = referenceBinary(flag("--ref"));
const corpusDir = join(import.meta.dir, "corpus");

function loadCorpus(): Program[] {
  const programs: Program[] = [];
  for (const file of readdirSync(corpusDir).filter((f) => f.endsWith(".star")).sort()) {
    const lines = readFileSync(join(corpusDir, file), "utf8").split("\n");
    let start = 0;
    for (let i = 0; i <= lines.length; i++) {
      if (i < lines.length && lines[i] !== "---") continue;
      const source = lines.slice(start, i).join("\n").trim();
      if (source) {
        const upstream = /# upstream: (.*)/.exec(source)?.[1];
        programs.push({ name: `${file}:${start + 1}`, source: source + "\n", upstream });
      }
      start = i + 1;
    }
  }
  return programs.filter((p) => !only || p.name === only || p.name.startsWith(only + ":") || (only.endsWith(".star") && p.name.startsWith(only)));
}

/** The first error message, without position or the builtin's "Error in NAME: " prefix. */
function errorOf(stderr: string, file: string): string | undefined {
  const lines = stderr.split("\n");
  for (const line of lines) {
    const m = /^Error in [^:]+: (.*)$/.exec(line) ?? /^Error: (.*)$/.exec(line);
    if (m) return m[1];
  }
  const esc = file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  for (const line of lines) {
    const m = new RegExp(`^(?:.*/)?${esc}:\\d+:\\d+: (.*)$`).exec(line);
    if (m) return m[1];
  }
  return stderr.trim() ? stderr.trim().split("\n").pop() : undefined;
}

async function run(cmd: string[], cwd: string, file: string): Promise<Outcome> {
  const proc = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, error: code === 0 ? undefined : (errorOf(stderr, file) ?? `exit ${code}`) };
}

function describe(o: Outcome): string {
  return `${JSON.stringify(o.stdout)}${o.error !== undefined ? ` error ${JSON.stringify(o.error)}` : ""}`;
}

const programs = loadCorpus();
const dir = mkdtempSync(join(tmpdir(), "starlark-diff-"));
const differences: string[] = [];
const upstream: string[] = [];
const upstreamSame: string[] = [];
let next = 0;
async function worker(): Promise<void> {
  while (next < programs.length) {
    const i = next++;
    const p = programs[i]!;
    const file = `p${i}.star`;
    writeFileSync(join(dir, file), p.source);
    const ref = await run([refBin, file], dir, file);
    const ours = await run([process.execPath, join(root, "src/cli/main.ts"), "star", "run", file], dir, file);
    const same = ref.stdout === ours.stdout && ref.error === ours.error;
    const report = `${p.name}\n${p.source.replace(/^/gm, "    | ")}  starlark-go: ${describe(ref)}\n  clace-lite:  ${describe(ours)}`;
    if (p.upstream !== undefined) (same ? upstreamSame : upstream).push(`${report}\n  upstream: ${p.upstream}`);
    else if (!same) differences.push(report);
    else if (verbose) console.log(`same ${p.name}`);
  }
}
await Promise.all([worker(), worker(), worker()]);
rmSync(dir, { recursive: true, force: true });

const byName = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });
if (upstream.length) console.log(`== known upstream changes (starlark-go changed after the reference's version) ==\n${upstream.sort(byName).join("\n\n")}\n`);
if (upstreamSame.length) console.log(`== marked upstream but now the same (drop the mark?) ==\n${upstreamSame.sort(byName).join("\n\n")}\n`);
if (differences.length) console.log(`== differences ==\n${differences.sort(byName).join("\n\n")}\n`);
console.log(`${programs.length} programs: ${programs.length - differences.length - upstream.length - upstreamSame.length} same, ${differences.length} different, ${upstream.length} known upstream changes`);
process.exit(differences.length ? 1 : 0);
