/**
 * Running a module: parse and resolve, compile to closures, execute the top level in a fresh thread, freeze the
 * globals and return them. Internal errors with positions become the public `StarlarkEvalError`.
 */
import type { File } from "../syntax/ast.ts";
import type { DialectOptions } from "../options.ts";
import { universe } from "../library.ts";
import { StarError, StarlarkEvalError } from "../values/errors.ts";
import type { Value } from "../values/value.ts";
import { Compiler } from "./compile.ts";
import { parseAndResolve } from "./frontend.ts";
import { Cell, Frame, Thread, type Deadline } from "./thread.ts";
import { enterBudget, type MemoryBudget } from "../values/budget.ts";

export interface ExecOptions {
  /** Names visible to the module besides the universe. */
  predeclared?: Record<string, Value>;
  options?: DialectOptions;
  /** Called for each load("name", ...); returns the loaded module's exported globals. Synchronous. */
  load?: (module: string, fromFile: string) => Record<string, Value>;
  /** Receives what `print` prints (default: standard output). */
  print?: (message: string) => void;
  /** 0 = unlimited; exceeded -> StarlarkEvalError "too many steps". */
  maxSteps?: number;
  /** Maximum Starlark call depth (default DEFAULT_MAX_DEPTH, bounded first by the JS stack). */
  maxDepth?: number;
  /** Wall-clock budget; exceeded -> StarlarkEvalError naming it. */
  deadline?: Deadline;
  /** Memory budget counted by the interpreter; a load() inside this module charges the same one. */
  budget?: MemoryBudget;
}

/** Runs a module; returns its globals (frozen). Throws StarlarkSyntaxError or StarlarkEvalError. */
export function exec(filename: string, source: string, opts: ExecOptions = {}): Record<string, Value> {
  const options = opts.options ?? {};
  const predeclared = new Map(Object.entries(opts.predeclared ?? {}));
  const u = universe(options);
  const file = parseAndResolve(filename, source, options, {
    isPredeclared: (n) => predeclared.has(n),
    isUniversal: (n) => u.has(n),
  });
  return execFile(file, source, opts, predeclared, u);
}

/** Runs an already resolved file. */
export function execFile(
  file: File,
  source: string,
  opts: ExecOptions,
  predeclared: Map<string, Value> = new Map(Object.entries(opts.predeclared ?? {})),
  u: Map<string, Value> = universe(opts.options ?? {}),
): Record<string, Value> {
  const options = opts.options ?? {};
  const mod = file.module!;
  const globals = new Array<Value | undefined>(mod.globals.length);
  const compiler = new Compiler({ file: file.filename, globals, predeclared, universe: u });
  const code = compiler.code("<toplevel>", file.start, [], file.stmts, mod.locals.length, mod.cells);
  const thread = new Thread({
    recursion: options.recursion,
    set: options.set,
    print: opts.print,
    load: opts.load,
    maxSteps: opts.maxSteps,
    maxDepth: opts.maxDepth,
    deadline: opts.deadline,
  });
  const locals = new Array<unknown>(mod.locals.length);
  for (const i of mod.cells) locals[i] = new Cell(undefined);
  const fr = new Frame(thread, code, locals as Value[], []);
  thread.frames[0] = fr;
  thread.depth = 0;
  code.active = 1;
  const leaveBudget = enterBudget(opts.budget);
  try {
    code.body(fr);
  } catch (e) {
    throw toEvalError(e, file.filename, source);
  } finally {
    code.active = 0;
    leaveBudget();
  }
  const out: Record<string, Value> = {};
  for (let i = 0; i < mod.globals.length; i++) {
    const v = globals[i];
    if (v === undefined) continue;
    if (typeof v === "object") v.freeze();
    out[mod.globals[i]!.first!.name] = v;
  }
  return out;
}


/** Converts an error escaping Starlark code into the public error type. */
export function toEvalError(e: unknown, filename: string, source: string): Error {
  if (e instanceof StarlarkEvalError) return e;
  if (e instanceof StarError) {
    const sources = new Map([[filename, source]]);
    const pos = e.pos ?? { file: filename, line: 1, col: 1 };
    const err = new StarlarkEvalError(e.message, pos, e.backtrace ?? [], sources);
    if (e.cause !== undefined) err.cause = e.cause;
    return err;
  }
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new StarlarkEvalError("Starlark stack overflow", { file: filename, line: 1, col: 1 }, []);
  }
  return e instanceof Error ? e : new Error(String(e));
}
