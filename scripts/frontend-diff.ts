/**
 * Differential fuzzing of the Starlark front end against starlark-go: mutants of valid programs (see
 * tests/fixtures/starlark-mutants.ts) are parsed and resolved by both, and every program where the outcome differs
 * (ok against an error, another message, another line:col) is counted in a bucket of its kind, most frequent first,
 * with the smallest example of each.
 *
 *   bun scripts/frontend-diff.ts REFPARSE [--count N] [--seed S] [--edits K] [--examples E] [--keep DIR] [FILE...]
 *
 * REFPARSE is the reference driver built from scripts/refparse/main.go (how to build it: that file's header). With
 * FILE arguments the script compares just those files instead of generating mutants. Both sides run with every
 * dialect option on and json and struct predeclared. Exit status 1 when any program differs.
 *
 * Debian's golang-starlark-dev is a 2021 snapshot; where current starlark-go differs from it, we follow current
 * starlark-go. Programs that meet such a difference are skipped (counted, not compared): those with a bytes literal
 * (or anything else followed by a quote after a `b`: the 2021 scanner reads `b` as a name) or a \u or \U escape (2021 rejects them). abs and bytes,
 * universal today, are predeclared by the driver.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAndResolve, UNIVERSE_NAMES } from "../src/starlark/resolve/index.ts";
import { StarlarkSyntaxError } from "../src/starlark/syntax/errors.ts";
import type { DialectOptions } from "../src/starlark/options.ts";
import { mutants, seedPrograms } from "../tests/fixtures/starlark-mutants.ts";
import { prng } from "../tests/fixtures/prng.ts";

/** starlark-go's flags in refparse: AllowSet, AllowRecursion (also while), AllowGlobalReassign (also top-level if/for). */
const OPTIONS: DialectOptions = { set: true, while: true, recursion: true, globalReassign: true, topLevelControl: true };
const PREDECLARED = new Set(["json", "struct"]);
const NAMES = { isPredeclared: (n: string) => PREDECLARED.has(n), isUniversal: (n: string) => UNIVERSE_NAMES.has(n) };

/** A program whose outcome under the 2021 reference is not current starlark-go's (see the header). */
const NEWER_THAN_REFERENCE = /b['"]|\\[uU]/;

/** Our outcome in refparse's shape, without the file name: "ok" or "line:col: message". */
export function ourOutcome(file: string, source: string): string {
  try {
    parseAndResolve(file, source, OPTIONS, NAMES);
    return "ok";
  } catch (e) {
    if (e instanceof StarlarkSyntaxError && e.diagnostics.length > 0) {
      const d = e.diagnostics[0]!;
      return `${d.pos.line}:${d.pos.col}: ${d.message}`;
    }
    return `CRASH: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
  }
}

/** The reference outcomes of `files`, in the same shape, in batches (one process per batch). */
function refOutcomes(refparse: string, files: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < files.length; i += 400) {
    const batch = files.slice(i, i + 400);
    const r = Bun.spawnSync([refparse, ...batch], { stdout: "pipe", stderr: "pipe" });
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
    if (results.length !== batch.length) throw new Error(`refparse printed ${results.length} results for ${batch.length} files`);
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
  const [refparse, ...files] = args;
  if (!refparse) {
    console.error("usage: bun scripts/frontend-diff.ts REFPARSE [--count N] [--seed S] [--edits K] [--examples E] [--keep DIR] [FILE...]");
    process.exit(2);
  }

  const dir = keep || mkdtempSync(join(tmpdir(), "frontend-diff-"));
  mkdirSync(dir, { recursive: true });
  let cases: { path: string; origin: string }[];
  if (files.length > 0) cases = files.map((f) => ({ path: f, origin: f }));
  else {
    const seeds = seedPrograms({ starlarkGo: true });
    const ms = [...seeds.map((s) => ({ ...s, edit: "unchanged" })), ...mutants(seeds, count, prng(seed), edits)];
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
  cases.forEach((c, i) => {
    const source = readFileSync(c.path, "utf8");
    const ours = ourOutcome(c.path, source);
    const ref = refs[i]!;
    if (ours === ref) {
      same++;
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
  const differ = cases.length - same;
  console.log(`${cases.length} programs: ${same} same, ${differ} differ (${buckets.size} buckets); ${skipped} skipped (newer than the reference)${keep ? `; files in ${dir}` : ""}`);
  if (!keep && files.length === 0) rmSync(dir, { recursive: true, force: true });
  process.exit(differ > 0 ? 1 : 0);
}

if (import.meta.main) main();
