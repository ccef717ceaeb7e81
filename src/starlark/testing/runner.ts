/**
 * The `star test` runner, following starlark-go's test-file convention (its chunkedfile package and eval tests):
 * a file is split into chunks at lines that are exactly `---`; each chunk runs as its own module keeping the
 * file's line numbers; a comment `### "regexp"` (or a Go back-quoted regexp) on a line says that line must raise
 * an error (static or runtime) whose message matches; `option:NAME` in a chunk turns that dialect option on;
 * `load("assert.star", "assert", "freeze")` gives the assert module, `json.star`/`math.star` the json and math
 * modules, and `struct` is predeclared. Assertion failures are recorded without stopping the chunk.
 */
import { OPTION_NAMES, type DialectOptions } from "../options.ts";
import { universe } from "../library.ts";
import { execFile } from "../eval/exec.ts";
import { parseAndResolve } from "../eval/frontend.ts";
import { parseFile } from "../syntax/parser.ts";
import { equals, compare } from "../values/compare.ts";
import { StarError, StarlarkEvalError } from "../values/errors.ts";
import { repr, str } from "../values/format.ts";
import { contains } from "../values/ops.ts";
import { Builtin, Float, Module, None, Struct, truth, freeze, type ThreadLike, type Value } from "../values/value.ts";
import { positional, unpackArgs } from "../values/args.ts";
import { jsonModule } from "../modules/json.ts";
import { mathModule } from "../modules/math.ts";

export interface Failure {
  line: number;
  message: string;
}

export interface ChunkResult {
  /** 1-based line of the chunk's first line. */
  startLine: number;
  failures: Failure[];
}

export interface FileResult {
  filename: string;
  chunks: ChunkResult[];
  passed: number;
  failed: number;
}

/** Go's regexp syntax is close to JS's; translate the few differences that matter in test files. */
export function goRegExp(pattern: string): RegExp {
  let flags = "";
  let p = pattern;
  const m = /^\(\?([a-z]+)\)/.exec(p);
  if (m) {
    if (m[1]!.includes("i")) flags += "i";
    if (m[1]!.includes("s")) flags += "s";
    p = p.slice(m[0].length);
  }
  p = p.replace(/\\Q(.*?)(\\E|$)/g, (_all, lit: string) => lit.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  try {
    return new RegExp(p, flags + "u");
  } catch {
    return new RegExp(p, flags);
  }
}

/** Unquotes a Go string literal ("..." with escapes, or `...` raw). */
function unquoteGo(q: string): string | undefined {
  if (q.startsWith("`")) {
    const end = q.indexOf("`", 1);
    return end < 0 ? undefined : q.slice(1, end);
  }
  if (!q.startsWith('"')) return undefined;
  let out = "";
  for (let i = 1; i < q.length; i++) {
    const c = q[i]!;
    if (c === '"') return out;
    if (c === "\\") {
      const n = q[++i];
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", "'": "'", a: "\x07", b: "\b", f: "\f", v: "\v" };
      if (n !== undefined && simple[n] !== undefined) out += simple[n];
      else if (n === "x") {
        out += String.fromCharCode(parseInt(q.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (n === "u") {
        out += String.fromCharCode(parseInt(q.slice(i + 1, i + 5), 16));
        i += 4;
      } else out += "\\" + (n ?? "");
      continue;
    }
    out += c;
  }
  return undefined;
}

interface Expectation {
  line: number;
  pattern: string;
  re: RegExp;
}

function expectations(lines: string[], from: number, to: number): Map<number, Expectation> {
  const out = new Map<number, Expectation>();
  for (let i = from; i < to; i++) {
    const line = lines[i]!;
    const k = line.indexOf("###");
    if (k < 0) continue;
    const rest = line.slice(k + 3).trim();
    const pattern = unquoteGo(rest);
    if (pattern === undefined) continue;
    out.set(i + 1, { line: i + 1, pattern, re: goRegExp(pattern) });
  }
  return out;
}

/** Options named by `option:NAME` in a chunk. */
export function chunkOptions(text: string): DialectOptions {
  const o: DialectOptions = {};
  for (const [name, field] of Object.entries(OPTION_NAMES)) if (text.includes("option:" + name)) o[field] = true;
  return o;
}

/** The line of this file that the innermost call in it is executing (where a failing assertion was called). */
function callerLine(thread: ThreadLike, filename: string): number {
  const stack = thread.callStack();
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.file === filename) return stack[i]!.line;
  return 0;
}

/**
 * What a host changes in how a test file is run, as starlark-go's own Go tests set up their threads: the dialect
 * options a chunk gets, extra predeclared values, its own modules for load(), and whether the file is only parsed.
 */
export interface TestHarness {
  /** The dialect options of a chunk, from its text (default: `option:NAME` turns on that option). */
  chunkOptions?: (chunkText: string) => DialectOptions;
  /** Values predeclared in every chunk besides `struct`; called once per chunk, so host values start fresh. */
  predeclared?: () => Record<string, Value>;
  /**
   * The globals of a module named in load(), or undefined for the runner's own table (assert.star, json.star,
   * math.star). `fail` records an assertion failure at the test-file line the thread is executing.
   */
  load?: (module: string, fail: (thread: ThreadLike, message: string) => void) => Record<string, Value> | undefined;
  /**
   * "eval" (the default) parses, resolves and runs each chunk; "parse" only parses it, and an expected error is
   * matched against the parser's bare message (starlark-go's syntax tests).
   */
  phase?: "eval" | "parse";
  /**
   * Whether a static (parse or resolve) error of an evaluated chunk may satisfy a `###` expectation (the default,
   * true) or is always a failure, as in starlark-go's evaluator tests, which expect only run-time errors.
   */
  staticErrorsMatch?: boolean;
}

function asFloat(v: Value): number | undefined {
  if (v instanceof Float) return v.v;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

/** Whether y is x or the next float from x towards y. */
function withinOneUlp(x: number, y: number): boolean {
  if (x === y || (x !== x && y !== y)) return true;
  if (x !== x || y !== y) return false;
  return nextToward(x, y) === y;
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

function nextToward(x: number, y: number): number {
  if (x === 0) return y > 0 ? Number.MIN_VALUE : -Number.MIN_VALUE;
  f64[0] = x;
  i64[0]! += (y > x) === (x > 0) ? 1n : -1n;
  return f64[0]!;
}

function assertModule(filename: string, report: (line: number, msg: string) => void): Record<string, Value> {
  const error = (t: ThreadLike, msg: string): Value => {
    report(callerLine(t, filename), msg);
    return None;
  };
  const assert = new Module("assert", {
    eq: new Builtin("assert.eq", (t, a, k) => {
      const [x, y, msg] = unpackArgs("assert.eq", a, k, ["x", "y", "msg?"]);
      if (equals(x!, y!)) return None;
      const prefix = msg !== undefined ? str(msg) + ": " : "";
      // As starlark-go's assert.star: a float and a number within one ulp of each other are equal.
      const fx = asFloat(x!),
        fy = asFloat(y!);
      if (fx !== undefined && fy !== undefined && (x instanceof Float || y instanceof Float)) {
        if (!withinOneUlp(fx, fy)) return error(t, `${prefix}floats: ${repr(x!)} != ${repr(y!)} (delta > 1 ulp)`);
        return None;
      }
      return error(t, `${prefix}${repr(x!)} != ${repr(y!)}`);
    }),
    ne: new Builtin("assert.ne", (t, a, k) => {
      const [x, y, msg] = unpackArgs("assert.ne", a, k, ["x", "y", "msg?"]);
      if (equals(x!, y!)) return error(t, `${msg !== undefined ? str(msg) + ": " : ""}${repr(x!)} == ${repr(y!)}`);
      return None;
    }),
    true: new Builtin("assert.true", (t, a, k) => {
      const [cond, msg] = unpackArgs("assert.true", a, k, ["cond", "msg?"]);
      if (!truth(cond!)) return error(t, msg !== undefined ? str(msg) : "assertion failed");
      return None;
    }),
    lt: new Builtin("assert.lt", (t, a, k) => {
      positional("assert.lt", a, k, 2, 2);
      if (!compare("<", a[0]!, a[1]!)) return error(t, `${str(a[0]!)} is not less than ${str(a[1]!)}`);
      return None;
    }),
    contains: new Builtin("assert.contains", (t, a, k) => {
      positional("assert.contains", a, k, 2, 2);
      if (!contains(a[0]!, a[1]!)) return error(t, `${str(a[0]!)} does not contain ${str(a[1]!)}`);
      return None;
    }),
    fails: new Builtin("assert.fails", (t, a, k) => {
      positional("assert.fails", a, k, 2, 2);
      const pattern = a[1]!;
      if (typeof pattern !== "string") throw new StarError(`assert.fails: got ${typeof pattern}, want string`);
      const r = t.tryCall(a[0]!, [], []);
      const msg = "error" in r ? r.error : undefined;
      if (msg === undefined) return error(t, `evaluation succeeded unexpectedly (want error matching ${repr(pattern)})`);
      if (!goRegExp(pattern).test(msg)) return error(t, `regular expression (${pattern}) did not match error (${msg})`);
      return None;
    }),
    fail: new Builtin("assert.fail", (t, a, k) => {
      positional("assert.fail", a, k, 1, 1);
      return error(t, str(a[0]!));
    }),
  });
  const freezeFn = new Builtin("freeze", (_t, a, k) => {
    positional("freeze", a, k, 1, 1);
    freeze(a[0]!);
    return a[0]!;
  });
  return { assert, freeze: freezeFn };
}

export const STRUCT_BUILTIN = new Builtin("struct", (_t, a, k) => {
  if (a.length > 0) throw new StarError(`struct: unexpected positional arguments`);
  const fields = new Map<string, Value>();
  for (const [name, v] of k) fields.set(name, v);
  return new Struct(fields);
});

interface SyntaxErrorLike {
  diagnostics: { pos: { line: number; col: number }; message: string }[];
}
function isSyntaxError(e: unknown): e is SyntaxErrorLike & Error {
  return e instanceof Error && Array.isArray((e as unknown as SyntaxErrorLike).diagnostics);
}

/** Runs one chunk (its text preceded by one blank line per line of the earlier chunks). */
function runChunk(
  filename: string,
  source: string,
  expect: Map<number, Expectation>,
  options: DialectOptions,
  harness: TestHarness,
): Failure[] {
  const failures: Failure[] = [];
  const report = (line: number, message: string): void => {
    failures.push({ line, message });
  };
  const gotError = (line: number, message: string): void => {
    const want = expect.get(line);
    if (want === undefined) report(line, `unexpected error: ${message}`);
    else {
      if (!want.re.test(message)) report(line, `error ${JSON.stringify(message)} does not match pattern ${JSON.stringify(want.pattern)}`);
      expect.delete(line);
    }
  };
  try {
    if (harness.phase === "parse") parseFile(filename, source, options);
    else evalChunk(filename, source, options, harness, report);
  } catch (e) {
    if (isSyntaxError(e)) {
      if (harness.phase === "parse") {
        // starlark-go's parser stops at its first error and reports the bare message.
        const d = e.diagnostics[0]!;
        gotError(d.pos.line, d.message);
      } else {
        for (const d of e.diagnostics) {
          const message = `${filename}:${d.pos.line}:${d.pos.col}: ${d.message}`;
          if (harness.staticErrorsMatch === false) report(d.pos.line, `static error (want none): ${message}`);
          else gotError(d.pos.line, message);
        }
      }
    } else if (e instanceof StarlarkEvalError) {
      let line = e.pos.file === filename ? e.pos.line : 0;
      for (let i = e.backtrace.length - 1; i >= 0; i--) {
        if (e.backtrace[i]!.file === filename) {
          line = e.backtrace[i]!.line;
          break;
        }
      }
      gotError(line, e.message);
    } else {
      report(0, `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
  for (const want of expect.values()) report(want.line, `expected error matching ${JSON.stringify(want.pattern)}`);
  failures.sort((a, b) => a.line - b.line);
  return failures;
}

function evalChunk(
  filename: string,
  source: string,
  options: DialectOptions,
  harness: TestHarness,
  report: (line: number, message: string) => void,
): void {
  const predeclared = new Map<string, Value>([["struct", STRUCT_BUILTIN], ...Object.entries(harness.predeclared?.() ?? {})]);
  const u = universe(options);
  const fail = (thread: ThreadLike, message: string): void => report(callerLine(thread, filename), message);
  let builtinModules: Record<string, Record<string, Value>> | undefined;
  const file = parseAndResolve(filename, source, options, {
    isPredeclared: (n) => predeclared.has(n),
    isUniversal: (n) => u.has(n),
  });
  execFile(
    file,
    source,
    {
      options,
      print: () => {},
      load: (module) => {
        const own = harness.load?.(module, fail);
        if (own !== undefined) return own;
        builtinModules ??= {
          "assert.star": assertModule(filename, report),
          "json.star": { json: jsonModule },
          "math.star": { math: mathModule },
        };
        const m = builtinModules[module];
        if (m === undefined) throw new StarError(`no such module: ${module}`);
        return m;
      },
    },
    predeclared,
    u,
  );
}

/** Splits a test file into chunks and runs each. */
export function runTestSource(filename: string, source: string, harness: TestHarness = {}): FileResult {
  const lines = source.split("\n");
  const bounds: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === "---" || lines[i] === "---\r") {
      bounds.push([start, i]);
      start = i + 1;
    }
  }
  bounds.push([start, lines.length]);
  const chunks: ChunkResult[] = [];
  for (const [from, to] of bounds) {
    // Keep line numbers: blank lines stand for the earlier chunks; the later ones are cut off, so an error at
    // the end of this chunk's text (an unclosed bracket, say) is reported on this chunk's last line.
    const text = "\n".repeat(from) + lines.slice(from, to).join("\n");
    const chunkText = lines.slice(from, to).join("\n");
    const options = (harness.chunkOptions ?? chunkOptions)(chunkText);
    const failures = runChunk(filename, text, expectations(lines, from, to), options, harness);
    chunks.push({ startLine: from + 1, failures });
  }
  const failed = chunks.filter((c) => c.failures.length > 0).length;
  return { filename, chunks, passed: chunks.length - failed, failed };
}
