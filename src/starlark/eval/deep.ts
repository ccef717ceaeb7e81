/**
 * Deep calls: Starlark recursion that does not consume the JS stack.
 *
 * The closure compiler (compile.ts) runs each Starlark call on the JS stack, which holds only some thousands of
 * them. Past `SHALLOW_DEPTH` calls, `invoke` hands the call to `runDeep` instead: a loop over an explicit stack of
 * generators, one per Starlark activation. A function's body is compiled a second time, on first need, into a
 * generator (`deepBody`) that yields at each call of a Starlark function; the loop starts the callee's generator
 * and resumes the caller with the result. So the depth is bounded by memory and `maxDepth`, not by the JS stack,
 * and programs that never go deep never compile or run a generator.
 *
 * Only the nodes a call can pass through are rewritten as generators: a call-free expression or statement runs
 * its ordinary closure. An expression with calls below it evaluates its operands through their generators, left
 * to right, parks the values in `Thread.temps`, and then runs the ordinary closure of the same node compiled with
 * those operands read back from there, so every operator keeps exactly one implementation. Short-circuiting
 * operators, conditionals, comprehensions and statements have generator forms of their own.
 */
import type * as A from "../syntax/ast.ts";
import { Dict } from "../values/hashtable.ts";
import { Builtin, Callbacks, List, None, Range, truth, type CallbackBody, type CallRequest, type Value } from "../values/value.ts";
import { callAt, loopElems, type Compiler } from "./compile.ts";
import {
  annotate,
  bindArgs,
  bindingError,
  BREAK,
  errorAt,
  failInCaller,
  Frame,
  NORMAL,
  pushFrame,
  RETURN,
  StarFunction,
  starArgs,
  starStarArgs,
  type Expr,
  type Status,
  type Stmt,
  type Thread,
} from "./thread.ts";

/** Starlark calls made on the JS stack before calls continue on the explicit stack. */
export const SHALLOW_DEPTH = 800;

/** What a deep body yields: nothing; the callee and its bound locals are in `Thread.pendingFn/pendingLocals`. */
type Yield = 0;
export type DeepExpr = (fr: Frame) => Generator<Yield, Value, Value>;
export type DeepStmt = (fr: Frame) => Generator<Yield, Status, Value>;

/** A compiled node: its ordinary closure when no call is below it, else its generator. */
type GE = { sync: Expr; gen?: undefined } | { sync?: undefined; gen: DeepExpr };
type GS = { sync: Stmt; gen?: undefined } | { sync?: undefined; gen: DeepStmt };

// ---- the driver ----

/** Pushes the frame of a call of `f` with bound locals `l` and returns its body's generator. */
function enter(thread: Thread, f: StarFunction, l: any[]): Generator<Yield, Status, Value> {
  const code = f.code;
  if (!thread.recursion && code.active > 0) throw failInCaller(thread, `function ${code.name} called recursively`);
  if (thread.depth >= thread.maxDepth) throw failInCaller(thread, "Starlark stack overflow");
  const fr = pushFrame(thread, f, l);
  if (!thread.recursion) code.active++;
  if (code.deepBody === undefined) code.deepBody = code.compileDeep();
  return code.deepBody(fr);
}

/** Pops the innermost frame after its body finished with `status`; returns the call's result. */
function leave(thread: Thread, status: Status): Value {
  const fr = thread.frames[thread.depth]!;
  thread.depth--;
  if (!thread.recursion) fr.code.active--;
  const v = status === RETURN ? fr.ret : None;
  fr.ret = None;
  return v;
}

/**
 * Runs a call of `f` (locals bound) and every Starlark call below it on an explicit stack of generators. Starlark
 * has no way to catch an error, so one raised below ends every waiting caller: each is closed (`return()`), which
 * runs its `finally` blocks (iteration guards) as unwinding the JS stack would. As there, the thread's frames
 * stay in place to describe where it happened.
 */
export function runDeep(thread: Thread, f: StarFunction, l: any[]): Value {
  const stack: Generator<Yield, Status, Value>[] = [enter(thread, f, l)];
  let input: Value = None;
  try {
    for (;;) {
      const r = stack[stack.length - 1]!.next(input);
      if (r.done) {
        input = leave(thread, r.value);
        stack.pop();
        if (stack.length === 0) return input;
        continue;
      }
      const callee = thread.pendingFn!,
        locals = thread.pendingLocals!;
      thread.pendingFn = undefined;
      thread.pendingLocals = undefined;
      stack.push(enter(thread, callee, locals));
      input = None;
    }
  } catch (e) {
    for (let i = stack.length - 1; i >= 0; i--) stack[i]!.return(NORMAL);
    throw e;
  }
}

/**
 * A builtin that calls back into Starlark (sorted's key=, ...), run so that each Starlark function it calls goes on
 * the explicit stack like any other call; its other callees and its own errors are handled as callAt does.
 */
function* callbackBuiltin(
  fr: Frame,
  pos: A.Pos,
  body: CallbackBody,
  args: Value[],
  kwargs: [string, Value][],
): Generator<Yield, Value, Value> {
  const thread = fr.thread;
  let calls: Generator<CallRequest, Value, Value>;
  let r: IteratorResult<CallRequest, Value>;
  try {
    const result = body(thread, args, kwargs);
    if (!(result instanceof Callbacks)) return result;
    calls = result.calls;
    r = calls.next(None);
  } catch (err) {
    throw annotate(err, fr, pos);
  }
  while (!r.done) {
    const { fn, args: callArgs } = r.value;
    let input: Value;
    if (fn instanceof StarFunction) {
      try {
        thread.pendingLocals = bindArgs(fn, callArgs, []);
      } catch (err) {
        throw annotate(err, fr, pos);
      }
      thread.pendingFn = fn;
      input = yield 0;
      fr.pc = pos;
    } else input = callAt(fr, pos, fn, callArgs, []);
    try {
      r = calls.next(input);
    } catch (err) {
      throw annotate(err, fr, pos);
    }
  }
  return r.value;
}

// ---- the generator compiler ----

function hasCall(e: A.Expr | null): boolean {
  if (e === null) return false;
  switch (e.kind) {
    case "CallExpr":
      return true;
    case "Ident":
    case "Literal":
    case "LambdaExpr": // its body is a function of its own; defaults run on the JS stack
      return false;
    case "ParenExpr":
    case "UnaryExpr":
    case "DotExpr":
      return hasCall(e.x);
    case "TupleExpr":
    case "ListExpr":
      return e.elts.some(hasCall);
    case "DictExpr":
      return e.entries.some((en) => hasCall(en.key) || hasCall(en.value));
    case "BinaryExpr":
    case "IndexExpr":
      return hasCall(e.x) || hasCall(e.y);
    case "SliceExpr":
      return hasCall(e.x) || hasCall(e.lo) || hasCall(e.hi) || hasCall(e.step);
    case "CondExpr":
      return hasCall(e.cond) || hasCall(e.then) || hasCall(e.else_);
    case "Comprehension": {
      const b = e.body;
      if (b.kind === "DictEntry" ? hasCall(b.key) || hasCall(b.value) : hasCall(b)) return true;
      return e.clauses.some((c) => (c.kind === "IfClause" ? hasCall(c.cond) : hasCall(c.x)));
    }
  }
}

/** The direct operands of a node evaluated left to right with no short-circuit (null ones are absent). */
function operands(e: A.Expr): A.Expr[] | undefined {
  switch (e.kind) {
    case "TupleExpr":
    case "ListExpr":
      return e.elts;
    case "DictExpr":
      return e.entries.flatMap((en) => [en.key, en.value]);
    case "UnaryExpr":
    case "DotExpr":
      return [e.x];
    case "BinaryExpr":
      return e.op === "and" || e.op === "or" ? undefined : [e.x, e.y];
    case "IndexExpr":
      return [e.x, e.y];
    case "SliceExpr":
      return [e.x, e.lo, e.hi, e.step].filter((x): x is A.Expr => x !== null);
    default:
      return undefined;
  }
}

function truthy(v: Value): boolean {
  return v === true ? true : v === false ? false : truth(v);
}

/** Compiles function bodies into generators, reusing `c`'s closures for everything a call cannot pass through. */
export class DeepCompiler {
  constructor(readonly c: Compiler) {}

  body(stmts: A.Stmt[]): DeepStmt {
    const b = this.block(stmts);
    if (b.gen !== undefined) return b.gen;
    const s = b.sync;
    return function* (fr) {
      return s(fr);
    };
  }

  block(stmts: A.Stmt[]): GS {
    const ss = stmts.map((s) => this.stmt(s));
    if (ss.every((s) => s.sync !== undefined)) return { sync: this.c.block(stmts) };
    if (ss.length === 1) return ss[0]!;
    return {
      *gen(fr) {
        for (let i = 0; i < ss.length; i++) {
          const s = ss[i]!;
          const r = s.sync !== undefined ? s.sync(fr) : yield* s.gen(fr);
          if (r !== NORMAL) return r;
        }
        return NORMAL;
      },
    };
  }

  stmt(s: A.Stmt): GS {
    switch (s.kind) {
      case "ExprStmt": {
        if (!hasCall(s.x)) break;
        const x = this.genOf(s.x);
        return {
          *gen(fr) {
            yield* x(fr);
            return NORMAL;
          },
        };
      }
      case "ReturnStmt": {
        if (s.result === null || !hasCall(s.result)) break;
        const x = this.genOf(s.result);
        return {
          *gen(fr) {
            fr.ret = yield* x(fr);
            return RETURN;
          },
        };
      }
      case "AssignStmt": {
        if (!hasCall(s.rhs)) break;
        let lhs: A.Expr = s.lhs;
        while (lhs.kind === "ParenExpr") lhs = lhs.x;
        // `a[i] += f()` reads a[i] before the call: only a plain name keeps its order when the call goes first.
        if (s.op !== "=" && lhs.kind !== "Ident") break;
        const rhs = this.genOf(s.rhs);
        const rest = s.op === "=" ? undefined : this.withTemps([s.rhs], () => this.c.stmt(s));
        const set = s.op === "=" ? this.c.assignTo(s.lhs) : undefined;
        return {
          *gen(fr) {
            const v = yield* rhs(fr);
            if (set !== undefined) set(fr, v);
            else {
              fr.thread.temps[0] = v;
              rest!(fr);
            }
            return NORMAL;
          },
        };
      }
      case "IfStmt": {
        const then = this.block(s.then),
          els = this.block(s.else_);
        if (!hasCall(s.cond) && then.sync !== undefined && els.sync !== undefined) break;
        const cond = this.gexpr(s.cond);
        return {
          *gen(fr) {
            const c = cond.sync !== undefined ? cond.sync(fr) : yield* cond.gen(fr);
            const b = truthy(c) ? then : els;
            return b.sync !== undefined ? b.sync(fr) : yield* b.gen(fr);
          },
        };
      }
      case "WhileStmt": {
        const body = this.block(s.body);
        if (!hasCall(s.cond) && body.sync !== undefined) break;
        const cond = this.gexpr(s.cond);
        const pos = s.start;
        return {
          *gen(fr) {
            const t = fr.thread;
            for (;;) {
              const c = cond.sync !== undefined ? cond.sync(fr) : yield* cond.gen(fr);
              if (!truthy(c)) break;
              if (--t.steps <= 0) checkpoint(fr, pos);
              const r = body.sync !== undefined ? body.sync(fr) : yield* body.gen(fr);
              if (r === BREAK) break;
              if (r === RETURN) return r;
            }
            return NORMAL;
          },
        };
      }
      case "ForStmt": {
        const body = this.block(s.body);
        if (!hasCall(s.x) && body.sync !== undefined) break;
        const x = this.gexpr(s.x);
        const set = this.c.assignTo(s.vars);
        const pos = s.start,
          xpos = s.x.start;
        return {
          *gen(fr) {
            const it = x.sync !== undefined ? x.sync(fr) : yield* x.gen(fr);
            const t = fr.thread;
            const { n, at, guard } = iteration(fr, xpos, it);
            guard.itercount++;
            try {
              for (let i = 0; i < n; i++) {
                if (--t.steps <= 0) checkpoint(fr, pos);
                set(fr, at(i));
                const r = body.sync !== undefined ? body.sync(fr) : yield* body.gen(fr);
                if (r === BREAK) break;
                if (r === RETURN) return r;
              }
            } finally {
              guard.itercount--;
            }
            return NORMAL;
          },
        };
      }
      default:
        break;
    }
    return { sync: this.c.stmt(s) };
  }

  genOf(e: A.Expr): DeepExpr {
    const g = this.gexpr(e);
    if (g.gen !== undefined) return g.gen;
    const s = g.sync;
    return function* (fr) {
      return s(fr);
    };
  }

  gexpr(e: A.Expr): GE {
    if (!hasCall(e)) return { sync: this.c.expr(e) };
    switch (e.kind) {
      case "ParenExpr":
        return this.gexpr(e.x);
      case "CallExpr":
        return { gen: this.call(e) };
      case "CondExpr": {
        const c = this.gexpr(e.cond),
          t = this.gexpr(e.then),
          f = this.gexpr(e.else_);
        return {
          *gen(fr) {
            const cv = c.sync !== undefined ? c.sync(fr) : yield* c.gen(fr);
            const b = truthy(cv) ? t : f;
            return b.sync !== undefined ? b.sync(fr) : yield* b.gen(fr);
          },
        };
      }
      case "BinaryExpr":
        if (e.op === "and" || e.op === "or") {
          const and = e.op === "and";
          const x = this.gexpr(e.x),
            y = this.gexpr(e.y);
          return {
            *gen(fr) {
              const a = x.sync !== undefined ? x.sync(fr) : yield* x.gen(fr);
              if (truthy(a) !== and) return a;
              return y.sync !== undefined ? y.sync(fr) : yield* y.gen(fr);
            },
          };
        }
        break;
      case "Comprehension":
        return { gen: this.comprehension(e) };
      default:
        break;
    }
    const ops = operands(e)!;
    const parts = ops.map((o) => this.gexpr(o));
    const rest = this.withTemps(ops, () => this.c.expr(e));
    const n = parts.length;
    return {
      *gen(fr) {
        const vs = new Array<Value>(n);
        for (let i = 0; i < n; i++) {
          const p = parts[i]!;
          vs[i] = p.sync !== undefined ? p.sync(fr) : yield* p.gen(fr);
        }
        const temps = fr.thread.temps;
        for (let i = 0; i < n; i++) temps[i] = vs[i]!;
        return rest(fr);
      },
    };
  }

  /** Compiles with each of `ops` read from `Thread.temps[i]` instead of evaluated. */
  private withTemps<T>(ops: A.Expr[], compile: () => T): T {
    const saved = this.c.overrides;
    const m = new Map<A.Expr, Expr>(saved);
    ops.forEach((o, i) => m.set(o, (fr) => fr.thread.temps[i]!));
    this.c.overrides = m;
    try {
      return compile();
    } finally {
      this.c.overrides = saved;
    }
  }

  call(e: A.CallExpr): DeepExpr {
    const fn = this.gexpr(e.fn);
    const parts = e.args.map((a) => ({ type: a.type, name: a.name?.name ?? "", value: this.gexpr(a.value) }));
    const pos = e.lparen;
    return function* (fr) {
      const f = fn.sync !== undefined ? fn.sync(fr) : yield* fn.gen(fr);
      const args: Value[] = [];
      const kwargs: [string, Value][] = [];
      for (const p of parts) {
        const v = p.value.sync !== undefined ? p.value.sync(fr) : yield* p.value.gen(fr);
        try {
          if (p.type === "positional") args.push(v);
          else if (p.type === "named") kwargs.push([p.name, v]);
          else if (p.type === "star") for (const x of starArgs(v)) args.push(x);
          else starStarArgs(v, kwargs);
        } catch (err) {
          throw annotate(err, fr, pos);
        }
      }
      fr.pc = pos;
      if (f instanceof Builtin && f.callbacks !== undefined) return yield* callbackBuiltin(fr, pos, f.callbacks, args, kwargs);
      if (!(f instanceof StarFunction)) return callAt(fr, pos, f, args, kwargs);
      let l: any[];
      try {
        l = bindArgs(f, args, kwargs);
      } catch (err) {
        throw bindingError(fr.thread, pos, f.code, err);
      }
      fr.thread.pendingFn = f;
      fr.thread.pendingLocals = l;
      return yield 0;
    };
  }

  comprehension(e: A.Comprehension): DeepExpr {
    const pos = e.start;
    type Emit = (fr: Frame, acc: any) => Generator<Yield, void, Value>;
    let emit: Emit;
    if (e.curly) {
      const entry = e.body as A.DictEntry;
      const k = this.gexpr(entry.key),
        v = this.gexpr(entry.value);
      const epos = entry.start;
      emit = function* (fr, acc: Dict) {
        const kv = k.sync !== undefined ? k.sync(fr) : yield* k.gen(fr);
        const vv = v.sync !== undefined ? v.sync(fr) : yield* v.gen(fr);
        try {
          acc.ht.set(kv, vv);
        } catch (err) {
          throw annotate(err, fr, epos);
        }
      };
    } else {
      const body = this.gexpr(e.body as A.Expr);
      emit = function* (fr, acc: Value[]) {
        acc.push(body.sync !== undefined ? body.sync(fr) : yield* body.gen(fr));
      };
    }
    for (let ci = e.clauses.length - 1; ci >= 0; ci--) {
      const c = e.clauses[ci]!;
      const next = emit;
      if (c.kind === "IfClause") {
        const cond = this.gexpr(c.cond);
        emit = function* (fr, acc) {
          const v = cond.sync !== undefined ? cond.sync(fr) : yield* cond.gen(fr);
          if (truthy(v)) yield* next(fr, acc);
        };
        continue;
      }
      const x = this.gexpr(c.x);
      const set = this.c.assignTo(c.vars);
      const xpos = c.x.start;
      emit = function* (fr, acc) {
        const it = x.sync !== undefined ? x.sync(fr) : yield* x.gen(fr);
        const t = fr.thread;
        const { n, at, guard } = iteration(fr, xpos, it);
        guard.itercount++;
        try {
          for (let i = 0; i < n; i++) {
            if (--t.steps <= 0) checkpoint(fr, pos);
            set(fr, at(i));
            yield* next(fr, acc);
          }
        } finally {
          guard.itercount--;
        }
      };
    }
    const run = emit;
    if (e.curly)
      return function* (fr) {
        const d = new Dict();
        yield* run(fr, d);
        return d;
      };
    return function* (fr) {
      const out: Value[] = [];
      yield* run(fr, out);
      return new List(out);
    };
  }
}

/** What a for loop or comprehension visits: n elements read by index, and the object whose count guards mutation. */
interface Iteration {
  n: number;
  at: (i: number) => Value;
  guard: { itercount: number };
}

function iteration(fr: Frame, pos: A.Pos, it: Value): Iteration {
  if (it instanceof Range) return { n: it.len, at: (i) => it.at(i), guard: { itercount: 0 } };
  const { es, guard } = loopElems(fr, pos, it);
  return { n: es.length, at: (i) => es[i]!, guard };
}

function checkpoint(fr: Frame, pos: A.Pos): void {
  const stop = fr.thread.checkpoint();
  if (stop !== undefined) throw errorAt(fr, pos, stop);
}
