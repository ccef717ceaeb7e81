/**
 * The static diagnostics of the front end, checked with .star files in starlark-go's test-file convention:
 * chunks split at `---` lines (line numbers kept), `### "regexp"` (or a back-quoted regexp) marks a line that must
 * produce a matching static error, `option:NAME` turns a dialect option on for the chunk. Every error must be
 * expected and every expectation met. Files named `parse*.star` and `scan*.star` are only parsed (as starlark-go's
 * syntax tests are); the others are parsed and resolved.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAndResolve, UNIVERSE_NAMES } from "../../src/starlark/resolve/index.ts";
import { StarlarkSyntaxError } from "../../src/starlark/syntax/errors.ts";
import { parseFile } from "../../src/starlark/syntax/parser.ts";
import { OPTION_NAMES, type DialectOptions } from "../../src/starlark/options.ts";

interface Chunk {
  source: string;
  firstLine: number;
  options: DialectOptions;
  expected: Map<number, RegExp[]>;
}

const EXPECT = /###\s*(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`)/g;

/** Splits a test file into chunks; each chunk keeps the original line numbers (earlier lines become blank). */
export function chunks(text: string): Chunk[] {
  const lines = text.split("\n");
  const out: Chunk[] = [];
  let start = 0;
  for (let i = 0; i <= lines.length; i++) {
    if (i < lines.length && lines[i] !== "---") continue;
    const body = lines.slice(start, i);
    const options: DialectOptions = {};
    const expected = new Map<number, RegExp[]>();
    body.forEach((line, k) => {
      for (const m of line.matchAll(/option:(\w+)/g)) {
        const key = OPTION_NAMES[m[1]!];
        if (key) options[key] = true;
      }
      for (const m of line.matchAll(EXPECT)) {
        const pattern = m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : m[2]!;
        const list = expected.get(start + k + 1) ?? [];
        list.push(new RegExp(pattern));
        expected.set(start + k + 1, list);
      }
    });
    out.push({ source: "\n".repeat(start) + body.join("\n") + "\n", firstLine: start + 1, options, expected });
    start = i + 1;
  }
  return out;
}

/** The problems of one chunk: unexpected errors and unmet expectations (empty when the chunk passes). */
export function checkChunk(file: string, c: Chunk, parseOnly = false): string[] {
  let diags: { line: number; col: number; message: string }[] = [];
  try {
    if (parseOnly) parseFile(file, c.source, c.options);
    else {
      parseAndResolve(file, c.source, c.options, {
        isPredeclared: () => false,
        isUniversal: (n) => UNIVERSE_NAMES.has(n),
      });
    }
  } catch (e) {
    if (!(e instanceof StarlarkSyntaxError)) return [`chunk at line ${c.firstLine}: threw ${String(e)}`];
    diags = e.diagnostics.map((d) => ({ line: d.pos.line, col: d.pos.col, message: d.message }));
  }
  const problems: string[] = [];
  const pending = new Map([...c.expected].map(([l, rs]) => [l, [...rs]]));
  for (const d of diags) {
    const rs = pending.get(d.line) ?? [];
    const k = rs.findIndex((r) => r.test(d.message));
    if (k < 0) problems.push(`${file}:${d.line}:${d.col}: unexpected error: ${d.message}`);
    else rs.splice(k, 1);
  }
  for (const [line, rs] of pending) for (const r of rs) problems.push(`${file}:${line}: expected error matching ${r}`);
  return problems;
}

const dir = join(import.meta.dir, "syntax");
const files = readdirSync(dir).filter((f) => f.endsWith(".star")).sort();

describe("front-end diagnostics files", () => {
  test("the directory has the diagnostics files", () => {
    expect(files).toEqual(expect.arrayContaining(["parse.star", "resolve.star", "scan.star"]));
  });
  for (const f of files) {
    test(`${f}: every chunk reports exactly its expected static errors`, () => {
      const text = readFileSync(join(dir, f), "utf8");
      const cs = chunks(text);
      expect(cs.length).toBeGreaterThan(3);
      const parseOnly = f.startsWith("parse") || f.startsWith("scan");
      const problems = cs.flatMap((c) => checkChunk(f, c, parseOnly));
      expect(problems).toEqual([]);
    });
  }
});

describe("the chunk checker itself", () => {
  test("a missing expected error and an unexpected one are both reported", () => {
    const [c] = chunks('x = 1 ### "undefined"\ny = zz\n');
    const problems = checkChunk("t.star", c!);
    expect(problems.some((p) => p.includes("unexpected error: undefined: zz"))).toBe(true);
    expect(problems.some((p) => p.includes("t.star:1: expected error"))).toBe(true);
  });
  test("chunks keep the original line numbers and their own options", () => {
    const cs = chunks("x = 1\n---\noption:set\ny = 2\n");
    expect(cs.length).toBe(2);
    expect(cs[1]!.firstLine).toBe(3);
    expect(cs[1]!.source.split("\n")[3]).toBe("y = 2");
    expect(cs[1]!.options.set).toBe(true);
    expect(cs[0]!.options.set).toBeUndefined();
  });
});
