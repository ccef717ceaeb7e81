/**
 * Bad input never escapes as a JavaScript exception: random text, random token soup and mutations of valid files
 * (seeded, bounded) all end in an AST or in positioned StarlarkSyntaxError diagnostics.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAndResolve, UNIVERSE_NAMES } from "../../src/starlark/resolve/index.ts";
import { StarlarkSyntaxError } from "../../src/starlark/syntax/errors.ts";
import { prng as rng } from "../fixtures/prng.ts";
import { mutants, randomProgram, seedPrograms } from "../fixtures/starlark-mutants.ts";

const names = { isPredeclared: () => false, isUniversal: (n: string) => UNIVERSE_NAMES.has(n) };
const opts = [{}, { while: true, set: true, topLevelControl: true }, { globalReassign: true, loadBindsGlobally: true }];

/** "ast" or "diagnostics"; any other outcome fails the test with the input that caused it. */
function outcome(src: string, k: number): string {
  try {
    parseAndResolve("fuzz.star", src, opts[k % opts.length]!, names);
    return "ast";
  } catch (e) {
    if (!(e instanceof StarlarkSyntaxError)) throw new Error(`input ${JSON.stringify(src)} threw ${String(e)}`);
    expect(e.diagnostics.length).toBeGreaterThan(0);
    const lines = src.split(/\r\n|\r|\n/).length;
    for (const d of e.diagnostics) {
      if (!(d.pos.file === "fuzz.star" && d.pos.line >= 1 && d.pos.line <= lines + 1 && d.pos.col >= 1 && d.message)) {
        throw new Error(`input ${JSON.stringify(src)}: bad diagnostic ${JSON.stringify(d)}`);
      }
    }
    e.render();
    return "diagnostics";
  }
}

const ALPHABET = "abcxyz_019 \t\n\n\n()[]{}:;,.=+-*/%<>!&|^~#\\'\"rbé世";
const TOKENS = [
  "def", "if", "elif", "else", "for", "in", "while", "return", "load", "lambda", "not", "and", "or", "pass", "break",
  "continue", "x", "y", "f", "len", "1", "0x1f", "2.5e3", "'s'", '"""t"""', "b'\\xff'", "(", ")", "[", "]", "{", "}",
  ":", ",", ";", ".", "=", "+=", "==", "<", "**", "*", "-", "\n", "\n  ", "\n    ", "\n", " ",
];

const sample = readFileSync(join(import.meta.dir, "../../bench/starlark-parse/rules.star"), "utf8");
const sampleLines = sample.split("\n");

describe("front-end fuzzing", () => {
  test("random characters", () => {
    const r = rng(1);
    const seen = new Set<string>();
    for (let i = 0; i < 1500; i++) {
      let s = "";
      const n = Math.floor(r() * 60);
      for (let j = 0; j < n; j++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
      seen.add(outcome(s, i));
    }
    expect(seen.has("diagnostics")).toBe(true);
  });

  test("random token sequences", () => {
    const r = rng(2);
    const seen = new Set<string>();
    for (let i = 0; i < 1500; i++) {
      const parts: string[] = [];
      const n = 1 + Math.floor(r() * 25);
      for (let j = 0; j < n; j++) parts.push(TOKENS[Math.floor(r() * TOKENS.length)]!);
      seen.add(outcome(parts.join(" "), i));
    }
    expect(seen.size).toBe(2);
  });

  test("mutations of a real file (delete, insert, duplicate and swap characters and lines)", () => {
    const r = rng(3);
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) {
      // A window of the sample keeps each case small.
      const from = Math.floor(r() * (sampleLines.length - 40));
      let s = sampleLines.slice(from, from + 10 + Math.floor(r() * 30)).join("\n");
      const edits = 1 + Math.floor(r() * 3);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(r() * s.length);
        const op = Math.floor(r() * 5);
        if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 5));
        else if (op === 1) s = s.slice(0, at) + ALPHABET[Math.floor(r() * ALPHABET.length)] + s.slice(at);
        else if (op === 2) s = s.slice(0, at) + s.slice(at, at + 8) + s.slice(at);
        else if (op === 3) s = s.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + s.slice(at);
        else {
          const ls = s.split("\n");
          const a = Math.floor(r() * ls.length);
          const b = Math.floor(r() * ls.length);
          [ls[a], ls[b]] = [ls[b]!, ls[a]!];
          s = ls.join("\n");
        }
      }
      seen.add(outcome(s, i));
    }
    expect(seen.size).toBe(2);
  });

  // The mutants and programs of scripts/frontend-diff.ts, which compares them with starlark-go; here only our
  // front end runs, so the test needs nothing installed.
  test("token mutants of the seed programs (delete, duplicate, swap, insert keywords, operators, bad literals)", () => {
    const seeds = seedPrograms();
    expect(seeds.length).toBeGreaterThan(300);
    const seen = new Set<string>();
    mutants(seeds, 3000, rng(4), 3).forEach((m, i) => seen.add(outcome(m.source, i)));
    expect(seen.size).toBe(2);
  });

  test("generated programs over few names (scopes, loads, control flow, argument and parameter orders)", () => {
    const r = rng(5);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(outcome(randomProgram(r), i));
    expect(seen.size).toBe(2);
  });

  test("pathological nesting is a diagnostic, not a stack overflow", () => {
    expect(outcome("x = " + "(".repeat(20000) + ")".repeat(20000) + "\n", 0)).toBe("diagnostics");
    expect(outcome("x = " + "[".repeat(20000) + "\n", 0)).toBe("diagnostics");
    expect(outcome("x = " + "-".repeat(200) + "1\n", 0)).toBe("ast");
  });
});
