/**
 * Benchmark: scan + parse + resolve of rules.star (~1,300 lines of Bazel-style Starlark).
 * Goal: under 15 ms per file after warm-up. Prints the per-phase and total figures (median and p90 over the runs).
 *
 *   bun bench/starlark-parse/run.ts [runs]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { scan } from "../../src/starlark/syntax/scanner.ts";
import { parseFile } from "../../src/starlark/syntax/parser.ts";
import { resolveFile, UNIVERSE_NAMES } from "../../src/starlark/resolve/index.ts";

// What a Bazel-like host predeclares.
const PREDECLARED = new Set([
  "provider", "rule", "repository_rule", "attr", "depset", "select", "native", "struct", "platform_common",
  "testing", "DefaultInfo", "OutputGroupInfo",
]);
const names = { isPredeclared: (n: string) => PREDECLARED.has(n), isUniversal: (n: string) => UNIVERSE_NAMES.has(n) };

const file = join(import.meta.dir, "rules.star");
const source = readFileSync(file, "utf8");
const lines = source.split("\n").length;
const runs = Number(process.argv[2] ?? 200);

function once(): void {
  const f = parseFile("rules.star", source);
  const errors = resolveFile(f, {}, names);
  if (errors.length > 0) throw new Error(`unexpected errors: ${JSON.stringify(errors.slice(0, 3))}`);
}

function stats(xs: number[]): { median: number; p90: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p90: s[Math.floor(s.length * 0.9)]!, min: s[0]! };
}

const t0 = performance.now();
once(); // includes constructing the parser (Chevrotain's grammar analysis), once per process
const first = performance.now() - t0;
for (let i = 0; i < 30; i++) once(); // warm-up

const scanT: number[] = [];
const parseT: number[] = [];
const resolveT: number[] = [];
const totalT: number[] = [];
for (let i = 0; i < runs; i++) {
  let t = performance.now();
  scan(source);
  scanT.push(performance.now() - t);
  t = performance.now();
  const f = parseFile("rules.star", source); // scans again: parse time here includes scanning
  const tp = performance.now() - t;
  parseT.push(tp);
  t = performance.now();
  resolveFile(f, {}, names);
  const tr = performance.now() - t;
  resolveT.push(tr);
  totalT.push(tp + tr);
}

const fmt = (x: { median: number; p90: number; min: number }) =>
  `median ${x.median.toFixed(2)} ms, p90 ${x.p90.toFixed(2)} ms, min ${x.min.toFixed(2)} ms`;
console.log(`starlark-parse: ${lines} lines, ${source.length} bytes, ${runs} runs after warm-up`);
console.log(`  first call (with parser construction): ${first.toFixed(1)} ms`);
console.log(`  scan only:              ${fmt(stats(scanT))}`);
console.log(`  scan + parse:           ${fmt(stats(parseT))}`);
console.log(`  resolve:                ${fmt(stats(resolveT))}`);
console.log(`  scan + parse + resolve: ${fmt(stats(totalT))}  (goal < 15 ms)`);
