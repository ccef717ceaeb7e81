/**
 * The run-time machinery the compiled closures share: the thread (call stack, step budget, options, print and
 * load hooks), frames, closure cells, Starlark function values, argument binding with starlark-go's messages,
 * and attaching positions and backtraces to errors.
 *
 * Unwinding: frames are pushed on call and popped on normal return only, so when an error propagates the stack
 * still describes where it happened. Code that catches errors (assert.fails, getattr defaults) calls `unwindTo`.
 */
import type { Pos } from "../syntax/ast.ts";
import { StarError, StarlarkEvalError, type Frame as TraceFrame } from "../values/errors.ts";
import { Dict } from "../values/hashtable.ts";
import { quote } from "../values/strings.ts";
import { iterableElems } from "../values/ops.ts";
import { runDeep, SHALLOW_DEPTH, type DeepStmt } from "./deep.ts";
import { Builtin, None, Tuple, isCallable, typeName, type Callable, type CallFrame, type ThreadLike, type Value } from "../values/value.ts";

export const NORMAL = 0,
  BREAK = 1,
  CONTINUE = 2,
  RETURN = 3;

export type Status = number;
export type Expr = (fr: Frame) => Value;
export type Stmt = (fr: Frame) => Status;

export class Cell {
  constructor(public v: Value | undefined) {}
}

/** Compiled code of one def/lambda (or of a module's top level), shared by all closures made from it. */
export interface Code {
  name: string;
  file: string;
  pos: Pos;
  body: Stmt;
  nlocals: number;
  /** Ordinary parameters (positional or keyword), then keyword-only ones; their names. */
  paramNames: string[];
  nparams: number; // ordinary params
  nkwonly: number;
  varargs: number; // slot or -1
  kwargs: number; // slot or -1
  cells: number[];
  /** No defaults, no *args/**kwargs, no keyword-only params, no cells among params: positional calls can fill slots directly. */
  simple: boolean;
  /** How many activations are on the stack (for the recursion check). */
  active: number;
  /** The body as a generator, for calls past SHALLOW_DEPTH (see deep.ts); compiled on first need. */
  deepBody?: DeepStmt;
  compileDeep: () => DeepStmt;
}

/** One activation. Frames are reused per stack depth (nothing keeps a frame after its call returns). */
export class Frame {
  pc: Pos;
  ret: Value = None;
  constructor(
    readonly thread: Thread,
    public code: Code,
    public l: any[],
    public free: Cell[],
  ) {
    this.pc = code.pos;
  }
}

export class StarFunction implements Callable {
  readonly type = "function";
  constructor(
    readonly code: Code,
    readonly defaults: (Value | undefined)[],
    readonly free: Cell[],
  ) {}
  get name(): string {
    return this.code.name;
  }
  truth(): boolean {
    return true;
  }
  /** Set on the first freeze: a closure can reach itself through its cells. */
  private frozen = false;
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    for (const d of this.defaults) if (d !== undefined && typeof d === "object") d.freeze();
    for (const c of this.free) if (c.v !== undefined && typeof c.v === "object") c.v.freeze();
  }
  toRepr(): string {
    return `<function ${this.code.name}>`;
  }
  call(thread: ThreadLike, args: Value[], kwargs: [string, Value][]): Value {
    const t = thread as Thread;
    let l: any[];
    try {
      l = bindArgs(this, args, kwargs);
    } catch (e) {
      throw bindingError(t, undefined, this.code, e);
    }
    return invoke(t, this, l);
  }
}

export interface ThreadOptions {
  recursion?: boolean;
  set?: boolean;
  print?: (msg: string) => void;
  load?: (module: string, fromFile: string) => Record<string, Value>;
  maxSteps?: number;
  maxDepth?: number;
  deadline?: Deadline;
}

/**
 * The call depth allowed by default. starlark-go has no limit of its own (Go's stacks grow to 1 GB); calls past
 * SHALLOW_DEPTH keep their frames on the heap, so this bounds the memory a runaway recursion takes before it is
 * reported as "Starlark stack overflow".
 */
export const DEFAULT_MAX_DEPTH = 300_000;

/** A wall-clock budget: checked between steps, so a runaway loop stops at a position in the program. */
export interface Deadline {
  /** Epoch milliseconds after which the evaluation is cancelled. */
  atMs: number;
  /** For the message: the budget in seconds and how to raise it. */
  seconds: number;
  setting: string;
}

/**
 * Steps between two checkpoints (step limit and deadline): few enough that slow steps (a builtin scanning a big
 * string) still stop near the deadline, many enough that reading the clock costs nothing measurable.
 */
const STEP_CHUNK = 1 << 10;

export class Thread implements ThreadLike {
  frames: Frame[] = [];
  depth = -1;
  /** Calls at this depth or deeper go to runDeep: min(maxDepth, SHALLOW_DEPTH). */
  readonly shallowDepth: number;
  /** A deep body's call request to runDeep: the callee and its bound locals. */
  pendingFn: StarFunction | undefined;
  pendingLocals: any[] | undefined;
  /** Operand values a deep body hands to an ordinary closure (see DeepCompiler.withTemps). */
  temps: Value[] = [];
  /** Steps to the next checkpoint; the hot loops count it down and call checkpoint() at zero. */
  steps: number;
  /** Steps allowed after the current chunk. */
  private stepsAfterChunk: number;
  private readonly deadline: Deadline | undefined;
  readonly maxDepth: number;
  readonly recursion: boolean;
  readonly options: { set?: boolean; recursion?: boolean };
  readonly printFn: (msg: string) => void;
  readonly loadFn?: (module: string, fromFile: string) => Record<string, Value>;
  locals = new Map<string, unknown>();
  constructor(o: ThreadOptions) {
    const maxSteps = o.maxSteps && o.maxSteps > 0 ? o.maxSteps : Infinity;
    this.steps = Math.min(STEP_CHUNK, maxSteps);
    this.stepsAfterChunk = maxSteps - this.steps;
    this.deadline = o.deadline;
    this.maxDepth = o.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.shallowDepth = Math.min(this.maxDepth, SHALLOW_DEPTH);
    this.recursion = !!o.recursion;
    this.options = { set: o.set, recursion: o.recursion };
    this.printFn = o.print ?? ((m) => process.stdout.write(m + "\n"));
    this.loadFn = o.load;
  }
  print(msg: string): void {
    this.printFn(msg);
  }
  /** Called when `steps` runs out: starts the next chunk, or says why the computation must stop. */
  checkpoint(): string | undefined {
    if (this.stepsAfterChunk <= 0) return "Starlark computation cancelled: too many steps";
    const d = this.deadline;
    if (d !== undefined && Date.now() > d.atMs) {
      return `Starlark computation cancelled: the evaluation ran past its time budget of ${d.seconds} s (raise it with ${d.setting})`;
    }
    this.steps = Math.min(STEP_CHUNK, this.stepsAfterChunk);
    this.stepsAfterChunk -= this.steps;
    return undefined;
  }
  call(fn: Value, args: Value[], kwargs: [string, Value][]): Value {
    return callValue(this, fn, args, kwargs);
  }
  tryCall(fn: Value, args: Value[], kwargs: [string, Value][]): { value: Value } | { error: string } {
    const depth = this.depth;
    const pc = this.frames[depth]?.pc;
    try {
      return { value: callValue(this, fn, args, kwargs) };
    } catch (e) {
      const err = e instanceof StarlarkEvalError ? e : starErrorOf(e);
      if (err === undefined) throw e;
      this.unwindTo(depth);
      if (pc !== undefined) this.frames[depth]!.pc = pc;
      return { error: err.message };
    }
  }
  callStack(): CallFrame[] {
    const out: CallFrame[] = [];
    for (let i = 0; i <= this.depth; i++) {
      const f = this.frames[i]!;
      out.push({ fn: f.code.name, file: f.code.file, line: f.pc.line, col: f.pc.col });
    }
    return out;
  }
  /** After catching an error, pops the frames above `depth`. */
  unwindTo(depth: number): void {
    while (this.depth > depth) {
      if (!this.recursion) this.frames[this.depth]!.code.active--;
      this.depth--;
    }
  }
  backtrace(pos: Pos): TraceFrame[] {
    const out: TraceFrame[] = [];
    for (let i = 0; i <= this.depth; i++) {
      const f = this.frames[i]!;
      const p = i === this.depth ? pos : f.pc;
      out.push({ fn: f.code.name, file: f.code.file, line: p.line, col: p.col });
    }
    return out;
  }
}

/** The JS engine's stack overflow (the only RangeError it raises for deep calls). */
export function isJSStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack|recursion/i.test(e.message);
}

/**
 * The Starlark error an exception stands for: itself, or "Starlark stack overflow" for the JS stack running out
 * (deep Starlark recursion reaches it before the default depth limit). Undefined for anything else.
 */
export function starErrorOf(e: unknown): StarError | undefined {
  if (e instanceof StarError) return e;
  if (isJSStackOverflow(e)) return new StarError("Starlark stack overflow");
  return undefined;
}

/** Gives an error the position where it happened (if it has none yet) and the current backtrace. */
export function annotate(e: unknown, fr: Frame, pos: Pos): StarError {
  let se = starErrorOf(e);
  if (se === undefined) {
    // An error a host builtin raised: its message becomes the Starlark error's, and the error itself its cause, for
    // the host to recognise its own error when it comes out of exec.
    se = new StarError(e instanceof Error ? e.message : String(e));
    se.cause = e;
  }
  if (se.pos === undefined) {
    se.pos = { file: fr.code.file, line: pos.line, col: pos.col };
    se.backtrace = fr.thread.backtrace(pos);
  }
  return se;
}

/**
 * An argument-binding error. As in starlark-go (which binds arguments inside the callee's frame), it is
 * positioned at the callee's `def` (or `lambda`) and the callee is the innermost frame of the backtrace.
 */
export function bindingError(thread: Thread, callPos: Pos | undefined, code: Code, e: unknown): unknown {
  if (!(e instanceof StarError) || e.pos !== undefined) return e;
  const at = { file: code.file, line: code.pos.line, col: code.pos.col };
  const caller = thread.frames[thread.depth];
  e.pos = at;
  e.backtrace = [...(caller ? thread.backtrace(callPos ?? caller.pc) : []), { fn: code.name, ...at }];
  return e;
}

export function errorAt(fr: Frame, pos: Pos, msg: string): StarError {
  return annotate(new StarError(msg), fr, pos);
}

/** Runs a Starlark function whose locals array `l` is already filled with the arguments. */
export function invoke(thread: Thread, f: StarFunction, l: any[]): Value {
  const code = f.code;
  const noRecursion = !thread.recursion;
  if (noRecursion && code.active > 0) throw failInCaller(thread, `function ${code.name} called recursively`);
  if (thread.depth >= thread.shallowDepth) {
    if (thread.depth >= thread.maxDepth) throw failInCaller(thread, "Starlark stack overflow");
    return runDeep(thread, f, l);
  }
  const fr = pushFrame(thread, f, l);
  if (noRecursion) code.active++;
  const r = code.body(fr);
  thread.depth--;
  if (noRecursion) code.active--;
  if (r === RETURN) {
    const v = fr.ret;
    fr.ret = None;
    return v;
  }
  return None;
}

/**
 * The step budget's checkpoint, then the frame of a call of `f` with bound locals `l` pushed (a frame object is
 * kept per depth and reused). Shared by the shallow path (invoke) and the explicit stack (deep.ts).
 */
export function pushFrame(thread: Thread, f: StarFunction, l: any[]): Frame {
  if (--thread.steps <= 0) {
    const stop = thread.checkpoint();
    if (stop !== undefined) throw failInCaller(thread, stop);
  }
  const code = f.code;
  const cells = code.cells;
  for (let i = 0; i < cells.length; i++) l[cells[i]!] = new Cell(l[cells[i]!]);
  // The depth grows only once its frame exists: the JS stack can run out inside `new Frame`, and the error's
  // backtrace reads every frame up to the depth.
  const d = thread.depth + 1;
  let fr = thread.frames[d];
  if (fr === undefined) thread.frames[d] = fr = new Frame(thread, code, l, f.free);
  else {
    fr.code = code;
    fr.l = l;
    fr.free = f.free;
    fr.pc = code.pos;
  }
  thread.depth = d;
  return fr;
}

/** An error positioned at the call site currently executing in the innermost frame. */
export function failInCaller(thread: Thread, msg: string): StarError {
  const fr = thread.frames[thread.depth];
  return fr ? annotate(new StarError(msg), fr, fr.pc) : new StarError(msg);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Binds call arguments to a new locals array, following starlark-go's setArgs. */
export function bindArgs(f: StarFunction, args: Value[], kwargs: [string, Value][]): any[] {
  const code = f.code;
  const l = new Array<any>(code.nlocals);
  const np = code.nparams;
  const name = code.name;
  if (code.simple && kwargs.length === 0 && args.length === np) {
    for (let i = 0; i < np; i++) l[i] = args[i];
    return l;
  }
  const nAll = np + code.nkwonly;
  if (nAll === 0 && code.varargs < 0 && code.kwargs < 0 && args.length + kwargs.length > 0) {
    throw new StarError(`function ${name} accepts no arguments (${args.length + kwargs.length} given)`);
  }
  let extra: Value[] | undefined;
  if (args.length > np) {
    if (code.varargs < 0) {
      const optional = f.defaults.slice(0, np).some((d) => d !== undefined);
      throw new StarError(
        `function ${name} accepts ${optional ? "at most " : ""}${plural(np, "positional argument")} (${args.length} given)`,
      );
    }
    extra = args.slice(np);
  }
  const n = Math.min(args.length, np);
  for (let i = 0; i < n; i++) l[i] = args[i];
  if (code.varargs >= 0) l[code.varargs] = new Tuple(extra ?? []);
  let kwdict: Dict | undefined;
  if (code.kwargs >= 0) l[code.kwargs] = kwdict = new Dict();
  for (const [k, v] of kwargs) {
    const i = code.paramNames.indexOf(k);
    if (i < 0) {
      if (kwdict === undefined) throw new StarError(`function ${name} got an unexpected keyword argument ${quote(k)}`);
      if (kwdict.ht.has(k)) throw new StarError(`function ${name} got multiple values for parameter ${quote(k)}`);
      kwdict.ht.set(k, v);
      continue;
    }
    if (l[i] !== undefined) throw new StarError(`function ${name} got multiple values for parameter ${quote(k)}`);
    l[i] = v;
  }
  // Defaults, then report missing ones.
  let missing: string[] | undefined;
  for (let i = 0; i < nAll; i++) {
    if (l[i] !== undefined) continue;
    const d = f.defaults[i];
    if (d !== undefined) l[i] = d;
    else (missing ??= []).push(code.paramNames[i]!);
  }
  if (missing !== undefined) {
    throw new StarError(`function ${name} missing ${plural(missing.length, "argument")} (${missing.join(", ")})`);
  }
  return l;
}

/** Calls any callable with already-evaluated arguments (used by builtins such as sorted(key=...)). */
export function callValue(thread: Thread, fn: Value, args: Value[], kwargs: [string, Value][]): Value {
  if (fn instanceof StarFunction) return invoke(thread, fn, bindArgs(fn, args, kwargs));
  if (fn instanceof Builtin) return fn.fn(thread, args, kwargs, fn);
  if (isCallable(fn)) return fn.call(thread, args, kwargs);
  throw new StarError(`invalid call of non-function (${typeName(fn)})`);
}

/** Expands `*x` of a call. */
export function starArgs(x: Value): Value[] {
  const es = iterableElems(x);
  if (es === undefined) throw new StarError(`argument after * must be iterable, not ${typeName(x)}`);
  return es;
}

/** Expands `**x` of a call into kwargs. */
export function starStarArgs(x: Value, into: [string, Value][]): void {
  if (!(x instanceof Dict)) throw new StarError(`argument after ** must be a mapping, not ${typeName(x)}`);
  for (const [k, v] of x.ht.entries()) {
    if (typeof k !== "string") throw new StarError(`keywords must be strings, not ${typeName(k)}`);
    into.push([k, v]);
  }
}
