/**
 * Differential fuzzing of the Starlark front end against starlark-go: mutants of valid programs (see
 * tests/fixtures/starlark-mutants.ts) are parsed and resolved by both, and every program where the outcome differs
 * (ok against an error, another message, another line:col) is counted in a bucket of its kind, most frequent first,
 * with the smallest example of each.
 *
 *   bun scripts/frontend-diff.ts [--ref PATH] [--count N] [--seed S] [--edits K] [--examples E] [--keep DIR] [FILE...]
 *
 * --generate: instead of mutants, N random programs from a grammar of scopes and statements (for the resolver).
 *
 * The reference is scripts/starlark-ref in its -parse mode (see scripts/starlark-ref/reference.ts for --ref and
 * how it is built). With FILE arguments the script compares just those files instead of generating mutants. Both
 * sides run with every dialect option on and json and struct predeclared. Exit status 1 when any program differs.
 *
 * Debian's golang-starlark-dev is a 2021 snapshot; where current starlark-go differs from it, we follow current
 * starlark-go, and programs that meet such a difference are skipped (counted, not compared): those with a bytes
 * literal (or anything else with a quote after a `b`: the 2021 scanner reads `b` as a name), a \u or \U escape
 * (2021 rejects them), or a \x or octal escape above 127 (string literals no longer take them). abs and bytes,
 * universal today, are predeclared by the driver. A break or continue in a function nested in a loop is an error
 * today (google/starlark-go#598) but passes the 2021 resolver: programs that differ only by that are counted apart.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { referenceBinary } from "./starlark-ref/reference.ts";
import { parseAndResolve, UNIVERSE_NAMES } from "../src/starlark/resolve/index.ts";
import { StarlarkSyntaxError } from "../src/starlark/syntax/errors.ts";
import type { DialectOptions } from "../src/starlark/options.ts";
import { mutants, randomProgram, seedPrograms } from "../tests/fixtures/starlark-mutants.ts";
import { prng } from "../tests/fixtures/prng.ts";

/** starlark-go's flags in refparse: AllowSet, AllowRecursion (also while), AllowGlobalReassign (also top-level if/for). */
const OPTIONS: DialectOptions = { set: true, while: true, recursion: true, globalReassign: true, topLevelControl: true };
const PREDECLARED = new Set(["json", "struct"]);
const NAMES = { isPredeclared: (n: string) => PREDECLARED.has(n), isUniversal: (n: string) => UNIVERSE_NAMES.has(n) };

/** A program whose outcome under the 2021 reference is not current starlark-go's (see the header). */
const NEWER_THAN_REFERENCE = /b['"]|\\[uU]|\\x[89a-fA-F]|\\[2-7][0-7][0-7]/;

/** Our outcomes in the reference's shape, without the file name: ["ok"] or every "line:col: message", in order. */
export function ourOutcomes(file: string, source: string): string[] {
  try {
    parseAndResolve(file, source, OPTIONS, NAMES);
    return ["ok"];
  } catch (e) {
    if (e instanceof StarlarkSyntaxError && e.diagnostics.length > 0) {
      return e.diagnostics.map((d) => `${d.pos.line}:${d.pos.col}: ${d.message}`);
    }
    return [`CRASH: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`];
  }
}

/**
 * Whether the difference is only a `break` or `continue` in a function nested in a loop, which the 2021 resolver
 * lets through (the compiler then crashes) and current starlark-go reports (google/starlark-go#598): without our
 * errors of that kind, the outcome is the reference's.
 */
function onlyNestedBranch(ref: string, ours: string[]): boolean {
  const rest = ours.filter((o) => !/: (break|continue) not in a loop$/.test(o));
  return rest.length < ours.length && (rest[0] ?? "ok") === ref;
}

/** The reference outcomes of `files`, in the same shape, in batches (one process per batch). */
function refOutcomes(refparse: string, files: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < files.length; i += 400) {
    const batch = files.slice(i, i + 400);
    const r = Bun.spawnSync([refparse, "-parse", ...batch], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${refparse} failed: ${r.stderr.toString()}`);
    // One line per file, in order; a message that spans lines continues until the next file's name.
    const text = r.stdout.toString();
    let k = 0;
    let cur: string | null = null;
    const results: string[] = [];
    for (const line of text.split("\n")) {
      const next = batch[k];
      if (next !== undefined && (line === `${next}: ok` || line.startsWith(`${next}:`))) {
        if (cur !== null) results.push(cur);
        cur = line === `${next}: ok` ? "ok" : line.slice(next.length + 1);
        k++;
      } else if (cur !== null && line !== "") cur += "\n" + line;
    }
    if (cur !== null) results.push(cur);
    if (results.length !== batch.length) throw new Error(`the reference printed ${results.length} results for ${batch.length} files`);
    out.push(...results);
  }
  return out;
}

/** The bucket of a difference: its kind and both messages with names and numbers abstracted. */
function bucket(ref: string, ours: string): string {
  const msg = (o: string) => (o === "ok" ? "ok" : o.replace(/^\d+:\d+: /, ""));
  const norm = (m: string) =>
    m
      .replace(/(undefined|global|local|name|parameter|argument|symbol|assign(?:ment)? to) ([\p{L}_][\p{L}\p{N}_]*)/gu, "$1 NAME")
      .replace(/ \(did you mean [^)]*\)/, " (did you mean NAME?)")
      .replace(/declared at [^ ]*:\d+:\d+/, "declared at POS")
      .replace(/\d+/g, "N")
      .replace(/"(?:[^"\\]|\\.)*"/g, '"S"');
  const [rm, om] = [msg(ref), msg(ours)];
  if (ours.startsWith("CRASH")) return `crash: ${norm(rm)}`;
  if (rm === "ok") return `we reject, ref accepts: ${norm(om)}`;
  if (om === "ok") return `we accept, ref rejects: ${norm(rm)}`;
  if (rm === om) return `position: ${norm(rm)}`;
  return `message: ref ${JSON.stringify(norm(rm))} ours ${JSON.stringify(norm(om))}`;
}

function main(): void {
  const args = process.argv.slice(2);
  const flag = (name: string, dflt: string) => {
    const i = args.indexOf(name);
    if (i < 0) return dflt;
    const v = args[i + 1]!;
    args.splice(i, 2);
    return v;
  };
  const count = Number(flag("--count", "5000"));
  const seed = Number(flag("--seed", "1"));
  const edits = Number(flag("--edits", "2"));
  const examples = Number(flag("--examples", "1"));
  const keep = flag("--keep", "");
  const generate = args.includes("--generate");
  if (generate) args.splice(args.indexOf("--generate"), 1);
  const refparse = referenceBinary(flag("--ref", ""));
  const files = args;

  const dir = keep || mkdtempSync(join(tmpdir(), "frontend-diff-"));
  mkdirSync(dir, { recursive: true });
  let cases: { path: string; origin: string }[];
  if (files.length > 0) cases = files.map((f) => ({ path: f, origin: f }));
  else {
    const seeds = seedPrograms({ starlarkGo: true });
    const r = prng(seed);
    const ms = generate
      ? Array.from({ length: count }, (_, i) => ({ name: `generated#${i}`, source: randomProgram(r), edit: "generated" }))
      : [...seeds.map((s) => ({ ...s, edit: "unchanged" })), ...mutants(seeds, count, r, edits)];
    cases = ms.map((m, i) => {
      const path = join(dir, `m${String(i).padStart(6, "0")}.star`);
      writeFileSync(path, m.source);
      return { path, origin: `${m.name}: ${m.edit}` };
    });
  }

  const skipped = cases.filter((c) => NEWER_THAN_REFERENCE.test(readFileSync(c.path, "utf8"))).length;
  cases = cases.filter((c) => !NEWER_THAN_REFERENCE.test(readFileSync(c.path, "utf8")));
  const refs = refOutcomes(refparse, cases.map((c) => c.path));
  const buckets = new Map<string, { n: number; eg: { path: string; origin: string; ref: string; ours: string; size: number }[] }>();
  let same = 0;
  let nestedBranch = 0;
  cases.forEach((c, i) => {
    const source = readFileSync(c.path, "utf8");
    const all = ourOutcomes(c.path, source);
    const ours = all[0]!;
    const ref = refs[i]!;
    if (ours === ref) {
      same++;
      return;
    }
    if (onlyNestedBranch(ref, all)) {
      nestedBranch++;
      return;
    }
    const key = bucket(ref, ours);
    const b = buckets.get(key) ?? { n: 0, eg: [] };
    b.n++;
    b.eg.push({ ...c, ref, ours, size: source.length });
    buckets.set(key, b);
  });

  const sorted = [...buckets].sort((a, b) => b[1].n - a[1].n);
  for (const [key, b] of sorted) {
    console.log(`${String(b.n).padStart(5)}  ${key}`);
    for (const e of b.eg.sort((x, y) => x.size - y.size).slice(0, examples)) {
      console.log(`         ${e.path} (${e.origin})\n           ref:  ${e.ref}\n           ours: ${e.ours.split("\n")[0]}`);
    }
  }
  const differ = cases.length - same - nestedBranch;
  console.log(`${cases.length} programs: ${same} same, ${differ} differ (${buckets.size} buckets); ${skipped} skipped (newer than the reference), ${nestedBranch} differ only by a break/continue in a nested function${keep ? `; files in ${dir}` : ""}`);
  if (!keep && files.length === 0) rmSync(dir, { recursive: true, force: true });
  process.exit(differ > 0 ? 1 : 0);
}

if (import.meta.main) main();
