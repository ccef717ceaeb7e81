/**
 * Compiles a resolved AST into JS closures. Every expression becomes `(frame) => Value` and every statement
 * `(frame) => Status` (normal, break, continue, return), so running a program is a chain of direct closure calls
 * over slot-indexed locals: no tree walking, no name lookups, no exceptions for control flow. Small-int and
 * string operations are handled inline; everything else falls back to the value library (values/ops.ts), whose
 * errors get the operation's position attached on the way out.
 */
import type * as A from "../syntax/ast.ts";
import { StarError } from "../values/errors.ts";
import { equals, compare, type CompareOp } from "../values/compare.ts";
import { Dict, StarSet } from "../values/hashtable.ts";
import { nearest } from "../spell.ts";
import { binary, getAttr, index, iterableElems, setField, setIndex, slice, unary } from "../values/ops.ts";
import { listMethods, stringMethods, dictMethods, setMethods, type Method } from "../values/methods.ts";
import { concat } from "../values/strings.ts";
import { charge, SLOT_BYTES, STRING_BYTES } from "../values/budget.ts";
import { repr as reprValue, simpleTemplate } from "../values/format.ts";
import { Builtin, Bytes, Float, List, None, Range, Tuple, isCallable, truth, typeName, type Value } from "../values/value.ts";
import {
  annotate,
  bindArgs,
  bindingError,
  BREAK,
  Cell,
  CONTINUE,
  errorAt,
  invoke,
  NORMAL,
  RETURN,
  StarFunction,
  starArgs,
  starStarArgs,
  type Code,
  type Expr,
  type Frame,
  type Stmt,
} from "./thread.ts";
import { fastBinary, operandOf } from "./fastops.ts";
import { intAdd, intMul, intSub } from "../values/int.ts";
import { DeepCompiler } from "./deep.ts";

const MAX = 9007199254740991;
const EMPTY_KW: [string, Value][] = [];

type Assign = (fr: Frame, v: Value) => void;

export interface ModuleEnv {
  file: string;
  globals: (Value | undefined)[];
  predeclared: Map<string, Value>;
  universe: Map<string, Value>;
}

/** An int of either representation (bigints only appear beyond 2^53). */
function isInt(v: Value): v is number | bigint {
  const t = typeof v;
  return t === "bigint" || t === "number";
}

/** The local slot an assignment target names, or -1 when it is not a plain local. */
function localSlotOf(e: A.Expr): number {
  while (e.kind === "ParenExpr") e = e.x;
  return e.kind === "Ident" && e.binding?.scope === "local" ? e.binding.index : -1;
}

function truthy(v: Value): boolean {
  return v === true ? true : v === false ? false : truth(v);
}

function binSlow(fr: Frame, pos: A.Pos, op: string, a: Value, b: Value): Value {
  try {
    return binary(op, a, b);
  } catch (e) {
    throw annotate(e, fr, pos);
  }
}

/** Calls f with evaluated arguments; positions errors at the call. */
export function callAt(fr: Frame, pos: A.Pos, f: Value, args: Value[], kwargs: [string, Value][]): Value {
  fr.pc = pos;
  if (f instanceof StarFunction) {
    let l: any[];
    try {
      l = bindArgs(f, args, kwargs);
    } catch (e) {
      throw bindingError(fr.thread, pos, f.code, e);
    }
    return invoke(fr.thread, f, l);
  }
  try {
    if (f instanceof Builtin) return f.fn(fr.thread, args, kwargs, f);
    if (isCallable(f)) return f.call(fr.thread, args, kwargs);
  } catch (e) {
    throw annotate(e, fr, pos);
  }
  throw errorAt(fr, pos, `invalid call of non-function (${typeName(f)})`);
}

function callFast1(fr: Frame, pos: A.Pos, f: (x: Value) => Value, x: Value): Value {
  try {
    return f(x);
  } catch (e) {
    throw annotate(e, fr, pos);
  }
}

function callMethod(fr: Frame, pos: A.Pos, m: Method, recv: Value, args: Value[]): Value {
  fr.pc = pos;
  try {
    return m.fn(fr.thread, recv, args, EMPTY_KW);
  } catch (e) {
    throw annotate(e, fr, pos);
  }
}

function iterElems(fr: Frame, pos: A.Pos, x: Value): Value[] {
  const es = iterableElems(x, true);
  if (es === undefined) throw errorAt(fr, pos, `${typeName(x)} value is not iterable`);
  return es;
}

/**
 * What a for loop or comprehension walks over a value other than a range: a list's own array, a dict's or set's
 * keys, or the elements of another iterable; and the counter that makes changing the list, dict or set while it
 * is walked an error (a fresh one when nothing can change).
 */
export function loopElems(fr: Frame, pos: A.Pos, it: Value): { es: Value[]; guard: { itercount: number } } {
  if (it instanceof List) return { es: it.elems, guard: it };
  if (it instanceof Dict || it instanceof StarSet) return { es: it.ht.keys(), guard: it.ht };
  return { es: iterElems(fr, pos, it), guard: { itercount: 0 } };
}

/** Counts an allocation against the memory budget; over it, the error points at `pos`. */
function chargeAt(fr: Frame, pos: A.Pos, bytes: number): void {
  try {
    charge(bytes);
  } catch (err) {
    throw annotate(err, fr, pos);
  }
}

/** The step counter ran out: the thread starts the next chunk or the computation stops here. */
function stepCheckpoint(fr: Frame, pos: A.Pos): void {
  const stop = fr.thread.checkpoint();
  if (stop !== undefined) throw errorAt(fr, pos, stop);
}

export class Compiler {
  /** Expressions compiled as given closures instead (DeepCompiler reads operands it evaluated itself). */
  overrides: Map<A.Expr, Expr> | undefined;
  constructor(readonly env: ModuleEnv) {}

  // ---- functions ----

  /** Builds the Code of a def, lambda or the module top level. */
  code(name: string, pos: A.Pos, params: A.Param[], body: A.Stmt[], nlocals: number, cells: number[], fs?: A.FunctionScope): Code {
    const ordinary: string[] = [];
    const kwonly: string[] = [];
    let seenStar = false;
    let hasOptional = false;
    for (const p of params) {
      if (p.type === "star") seenStar = true;
      else if (p.type === "starstar") continue;
      else {
        if (p.type === "optional") hasOptional = true;
        (seenStar ? kwonly : ordinary).push(p.name!.name);
      }
    }
    const hasVarargs = fs?.hasVarargs ?? false,
      hasKwargs = fs?.hasKwargs ?? false;
    const n = ordinary.length + kwonly.length;
    const code: Code = {
      name,
      file: this.env.file,
      pos,
      body: () => NORMAL,
      nlocals,
      paramNames: [...ordinary, ...kwonly],
      nparams: ordinary.length,
      nkwonly: kwonly.length,
      varargs: hasVarargs ? n : -1,
      kwargs: hasKwargs ? n + (hasVarargs ? 1 : 0) : -1,
      cells,
      simple: !hasOptional && !hasVarargs && !hasKwargs && kwonly.length === 0,
      active: 0,
      compileDeep: () => new DeepCompiler(this).body(body),
    };
    code.body = this.block(body);
    return code;
  }

  /** An expression creating a function value (def or lambda) at run time. */
  makeFunction(fs: A.FunctionScope, name: string, pos: A.Pos): Expr {
    const code = this.code(name, pos, fs.params, fs.body, fs.locals.length, fs.cells, fs);
    const nAll = code.nparams + code.nkwonly;
    const defaultExprs: (Expr | undefined)[] = [];
    for (const p of fs.params) {
      if (p.type === "required" || p.type === "optional") defaultExprs.push(p.default ? this.expr(p.default) : undefined);
    }
    const hasDefaults = defaultExprs.some((d) => d !== undefined);
    const freeGetters: ((fr: Frame) => Cell)[] = fs.freeVars.map((b) => {
      const i = b.index;
      if (b.scope === "cell") return (fr: Frame) => fr.l[i] as Cell;
      if (b.scope === "free") return (fr: Frame) => fr.free[i]!;
      throw new Error(`internal error: free variable with scope ${b.scope}`);
    });
    const noDefaults: (Value | undefined)[] = [];
    return (fr) => {
      let defaults = noDefaults;
      if (hasDefaults) {
        defaults = new Array(nAll);
        for (let i = 0; i < nAll; i++) {
          const d = defaultExprs[i];
          if (d !== undefined) defaults[i] = d(fr);
        }
      }
      const free = new Array<Cell>(freeGetters.length);
      for (let i = 0; i < freeGetters.length; i++) free[i] = freeGetters[i]!(fr);
      return new StarFunction(code, defaults, free);
    };
  }

  // ---- statements ----

  block(stmts: A.Stmt[]): Stmt {
    const ss = stmts.map((s) => this.stmt(s));
    switch (ss.length) {
      case 0:
        return () => NORMAL;
      case 1:
        return ss[0]!;
      case 2: {
        const [a, b] = ss as [Stmt, Stmt];
        return (fr) => {
          const r = a(fr);
          return r !== NORMAL ? r : b(fr);
        };
      }
      case 3: {
        const [a, b, c] = ss as [Stmt, Stmt, Stmt];
        return (fr) => {
          let r = a(fr);
          if (r !== NORMAL) return r;
          r = b(fr);
          return r !== NORMAL ? r : c(fr);
        };
      }
      default:
        return (fr) => {
          for (let i = 0; i < ss.length; i++) {
            const r = ss[i]!(fr);
            if (r !== NORMAL) return r;
          }
          return NORMAL;
        };
    }
  }

  stmt(s: A.Stmt): Stmt {
    switch (s.kind) {
      case "ExprStmt": {
        const x = this.expr(s.x);
        return (fr) => {
          x(fr);
          return NORMAL;
        };
      }
      case "AssignStmt":
        return s.op === "=" ? this.assignStmt(s) : this.augAssign(s);
      case "DefStmt": {
        const mk = this.makeFunction(s.fn!, s.name.name, s.start);
        const set = this.assignTo(s.name);
        return (fr) => {
          set(fr, mk(fr));
          return NORMAL;
        };
      }
      case "IfStmt": {
        const cond = this.expr(s.cond),
          then = this.block(s.then);
        if (s.else_.length === 0) {
          // `if x:` on a local reads the slot inline (cond only runs to report it unbound).
          const o = operandOf(s.cond);
          if (o !== undefined && o.slot >= 0) {
            const k = o.slot;
            return (fr) => {
              let c = fr.l[k];
              if (c === undefined) c = cond(fr);
              return truthy(c) ? then(fr) : NORMAL;
            };
          }
          return (fr) => (truthy(cond(fr)) ? then(fr) : NORMAL);
        }
        const els = this.block(s.else_);
        return (fr) => (truthy(cond(fr)) ? then(fr) : els(fr));
      }
      case "ForStmt":
        return this.forStmt(s);
      case "WhileStmt": {
        const cond = this.expr(s.cond),
          body = this.block(s.body);
        const pos = s.start;
        return (fr) => {
          const t = fr.thread;
          while (truthy(cond(fr))) {
            if (--t.steps <= 0) stepCheckpoint(fr, pos);
            const r = body(fr);
            if (r !== NORMAL) {
              if (r === BREAK) break;
              if (r === RETURN) return r;
            }
          }
          return NORMAL;
        };
      }
      case "ReturnStmt": {
        if (s.result === null)
          return (fr) => {
            fr.ret = None;
            return RETURN;
          };
        const x = this.expr(s.result);
        return (fr) => {
          fr.ret = x(fr);
          return RETURN;
        };
      }
      case "BranchStmt": {
        const r = s.token === "break" ? BREAK : s.token === "continue" ? CONTINUE : NORMAL;
        return () => r;
      }
      case "LoadStmt":
        return this.loadStmt(s);
    }
  }

  loadStmt(s: A.LoadStmt): Stmt {
    const module = s.module.value;
    const pos = s.start;
    const sets = s.to.map((id) => this.assignTo(id));
    const names = s.from.map((id) => id.name);
    const file = this.env.file;
    return (fr) => {
      const t = fr.thread;
      if (t.loadFn === undefined) throw errorAt(fr, pos, "load not implemented by this application");
      let members: Record<string, Value>;
      fr.pc = pos;
      try {
        members = t.loadFn(module, file);
      } catch (e) {
        // Reported at the load, keeping the inner message and the host's own error as the cause.
        const cause = e instanceof StarError ? e.cause : e;
        let err: StarError;
        if (e instanceof StarError && e.pos !== undefined) err = errorAt(fr, pos, `cannot load ${module}: ${e.message}`);
        else if (e instanceof Error) err = annotate(new StarError(`cannot load ${module}: ${e.message}`), fr, pos);
        else throw annotate(e, fr, pos);
        if (cause !== undefined) err.cause = cause;
        throw err;
      }
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        const v = Object.prototype.hasOwnProperty.call(members, name) ? members[name] : undefined;
        if (v === undefined || name.startsWith("_")) {
          const near = nearest(name, Object.keys(members).sort());
          const hint = near !== "" ? ` (did you mean ${near}?)` : "";
          throw errorAt(fr, s.from[i]!.start, `load: name ${name} not found in module ${module}${hint}`);
        }
        sets[i]!(fr, v);
      }
      return NORMAL;
    };
  }

  /**
   * `for j in range(...): xs[j] = True` (sieves, marking, clearing) with local xs: one closure that stores in a
   * tight loop. The general loop calls its body through a call site shared by every loop of every program, which
   * the engine stops inlining once it has seen many bodies; here nothing is called per element. Anything but a
   * range over a mutable, unfrozen list and an index within it goes through the general loop and body.
   */
  private rangeFill(s: A.ForStmt, slot: number, x: Expr, body: Stmt): Stmt | undefined {
    if (s.body.length !== 1) return undefined;
    const st = s.body[0]!;
    if (st.kind !== "AssignStmt" || st.op !== "=") return undefined;
    let lhs: A.Expr = st.lhs;
    while (lhs.kind === "ParenExpr") lhs = lhs.x;
    let rv: A.Expr = st.rhs;
    while (rv.kind === "ParenExpr") rv = rv.x;
    if (lhs.kind !== "IndexExpr" || rv.kind !== "Ident" || rv.binding?.scope !== "universal") return undefined;
    const k = rv.name === "True" ? true : rv.name === "False" ? false : rv.name === "None" ? None : undefined;
    const ox = operandOf(lhs.x),
      oy = operandOf(lhs.y);
    if (k === undefined || ox === undefined || oy === undefined || oy.slot !== slot || ox.slot < 0 || ox.slot === slot) return undefined;
    const xs = ox.slot;
    const pos = s.start;
    const general = this.localLoop(s, slot, body);
    return (fr) => {
      const it = x(fr);
      const xv = fr.l[xs];
      if (!(it instanceof Range) || !(xv instanceof List) || xv.frozen || xv.itercount !== 0) return general(fr, it);
      const t = fr.thread;
      const l = fr.l;
      const es = xv.elems;
      const n = it.len,
        start = it.start,
        step = it.step;
      for (let i = 0; i < n; i++) {
        if (--t.steps <= 0) stepCheckpoint(fr, pos);
        const j = start + i * step;
        l[slot] = j;
        if (j >= 0 && j < es.length) es[j] = k;
        else body(fr); // a negative index, or the error of one out of range
      }
      return NORMAL;
    };
  }

  /** The loop of `for <local> in it` (the loop variable stored inline), given the evaluated iterable. */
  private localLoop(s: A.ForStmt, slot: number, body: Stmt): (fr: Frame, it: Value) => number {
    const pos = s.start;
    const xpos = s.x.start;
    return (fr, it) => {
      const t = fr.thread;
      const l = fr.l;
      if (it instanceof Range) {
        const n = it.len,
          start = it.start,
          step = it.step;
        for (let i = 0; i < n; i++) {
          if (--t.steps <= 0) stepCheckpoint(fr, pos);
          l[slot] = start + i * step;
          const r = body(fr);
          if (r !== NORMAL) {
            if (r === BREAK) break;
            if (r === RETURN) return r;
          }
        }
        return NORMAL;
      }
      const { es, guard } = loopElems(fr, xpos, it);
      guard.itercount++;
      try {
        for (let i = 0; i < es.length; i++) {
          if (--t.steps <= 0) stepCheckpoint(fr, pos);
          l[slot] = es[i]!;
          const r = body(fr);
          if (r !== NORMAL) {
            if (r === BREAK) break;
            if (r === RETURN) return r;
          }
        }
      } finally {
        guard.itercount--;
      }
      return NORMAL;
    };
  }

  forStmt(s: A.ForStmt): Stmt {
    const x = this.expr(s.x);
    const set = this.assignTo(s.vars);
    const body = this.block(s.body);
    const pos = s.start;
    const xpos = s.x.start;
    const slot = localSlotOf(s.vars);
    if (slot >= 0) {
      // The common `for i in range(n)` / `for x in xs` with a local loop variable: store it inline.
      const fill = this.rangeFill(s, slot, x, body);
      if (fill !== undefined) return fill;
      const loop = this.localLoop(s, slot, body);
      return (fr) => loop(fr, x(fr));
    }
    return (fr) => {
      const it = x(fr);
      const t = fr.thread;
      if (it instanceof Range) {
        const n = it.len,
          start = it.start,
          step = it.step;
        for (let i = 0; i < n; i++) {
          if (--t.steps <= 0) stepCheckpoint(fr, pos);
          set(fr, start + i * step);
          const r = body(fr);
          if (r !== NORMAL) {
            if (r === BREAK) break;
            if (r === RETURN) return r;
          }
        }
        return NORMAL;
      }
      const { es, guard } = loopElems(fr, xpos, it);
      guard.itercount++;
      try {
        for (let i = 0; i < es.length; i++) {
          if (--t.steps <= 0) stepCheckpoint(fr, pos);
          set(fr, es[i]!);
          const r = body(fr);
          if (r !== NORMAL) {
            if (r === BREAK) break;
            if (r === RETURN) return r;
          }
        }
      } finally {
        guard.itercount--;
      }
      return NORMAL;
    };
  }

  assignStmt(s: A.AssignStmt): Stmt {
    const rhs = this.expr(s.rhs);
    let lhs: A.Expr = s.lhs;
    while (lhs.kind === "ParenExpr") lhs = lhs.x;
    if (lhs.kind === "Ident") {
      const b = lhs.binding!;
      const i = b.index;
      if (b.scope === "local")
        return (fr) => {
          fr.l[i] = rhs(fr);
          return NORMAL;
        };
      if (b.scope === "global") {
        const G = this.env.globals;
        return (fr) => {
          G[i] = rhs(fr);
          return NORMAL;
        };
      }
    }
    let rv: A.Expr = s.rhs;
    while (rv.kind === "ParenExpr") rv = rv.x;
    if ((lhs.kind === "TupleExpr" || lhs.kind === "ListExpr") && rv.kind === "TupleExpr" && rv.elts.length === lhs.elts.length) {
      // `a, b = b, a + b`: every value is computed first, as for the tuple, but no tuple is made.
      const vals = rv.elts.map((x) => this.expr(x));
      const sets = lhs.elts.map((x) => this.assignTo(x));
      const n = vals.length;
      if (n === 2) {
        const [v0, v1] = vals as [Expr, Expr],
          [s0, s1] = sets as [Assign, Assign];
        const [i0, i1] = lhs.elts.map((x) => localSlotOf(x)) as [number, number];
        if (i0 >= 0 && i1 >= 0)
          // Both targets locals (`a, b = b, a + b`): stored inline, without a closure call each.
          return (fr) => {
            const a = v0(fr),
              b = v1(fr);
            const l = fr.l;
            l[i0] = a;
            l[i1] = b;
            return NORMAL;
          };
        return (fr) => {
          const a = v0(fr),
            b = v1(fr);
          s0(fr, a);
          s1(fr, b);
          return NORMAL;
        };
      }
      return (fr) => {
        const vs = new Array<Value>(n);
        for (let i = 0; i < n; i++) vs[i] = vals[i]!(fr);
        for (let i = 0; i < n; i++) sets[i]!(fr, vs[i]!);
        return NORMAL;
      };
    }
    const set = this.assignTo(s.lhs);
    if (lhs.kind === "IndexExpr") {
      // `xs[i] = v` with local xs and i (sieves, in-place updates): store into a list inline.
      const ox = operandOf(lhs.x),
        oy = operandOf(lhs.y);
      if (ox !== undefined && ox.slot >= 0 && oy !== undefined && oy.slot >= 0) {
        const xs = ox.slot,
          ys = oy.slot;
        // A constant stored (`flags[j] = False`) is read without a closure call.
        let rv: A.Expr = s.rhs;
        while (rv.kind === "ParenExpr") rv = rv.x;
        const isConst = rv.kind === "Ident" && rv.binding?.scope === "universal" && ["True", "False", "None"].includes(rv.name);
        const k = isConst ? rhs(undefined as unknown as Frame) : undefined;
        if (k !== undefined)
          return (fr) => {
            const xv = fr.l[xs],
              yv = fr.l[ys];
            if (xv instanceof List && typeof yv === "number" && yv >= 0 && yv < xv.elems.length && !xv.frozen && xv.itercount === 0) {
              xv.elems[yv] = k;
            } else set(fr, k);
            return NORMAL;
          };
        return (fr) => {
          const v = rhs(fr);
          const xv = fr.l[xs],
            yv = fr.l[ys];
          if (xv instanceof List && typeof yv === "number" && yv >= 0 && yv < xv.elems.length && !xv.frozen && xv.itercount === 0) {
            xv.elems[yv] = v;
          } else set(fr, v);
          return NORMAL;
        };
      }
    }
    return (fr) => {
      set(fr, rhs(fr));
      return NORMAL;
    };
  }

  /** `x op= y`: evaluates the operands of x once; `list += iterable` extends in place. */
  augAssign(s: A.AssignStmt): Stmt {
    const op = A_binaryOpOf(s.op);
    const rhs = this.expr(s.rhs);
    const pos = s.opPos;
    const combine = (fr: Frame, a: Value, b: Value): Value => {
      // `list += iterable` extends in place; a non-iterable operand gets the `+` operator's own error.
      const es = op === "+" && a instanceof List ? iterableElems(b) : undefined;
      if (es !== undefined) {
        try {
          (a as List).checkMutable("apply += to");
        } catch (e) {
          throw annotate(e, fr, pos);
        }
        const a1 = a as List;
        chargeAt(fr, pos, es.length * SLOT_BYTES);
        for (let i = 0, n = es.length; i < n; i++) a1.elems.push(es[i]!);
        return a1;
      }
      if (op === "|" && a instanceof Dict && b instanceof Dict) {
        // `d |= other` updates d in place, so every alias of d sees the change.
        try {
          a.ht.checkMutable("apply |= to");
          for (const [k, v] of b.ht.entries()) a.ht.set(k, v);
        } catch (e) {
          throw annotate(e, fr, pos);
        }
        return a;
      }
      return binSlow(fr, pos, op, a, b);
    };
    let lhs: A.Expr = s.lhs;
    while (lhs.kind === "ParenExpr") lhs = lhs.x;
    if (lhs.kind === "Ident") {
      const get = this.ident(lhs);
      const b = lhs.binding!;
      const i = b.index;
      const ro = operandOf(s.rhs);
      if (op === "+" && b.scope === "local" && ro !== undefined) {
        // `count += 1`, `total += i`: both operands read inline, no closure calls for small ints.
        const rs = ro.slot,
          rc = ro.c;
        return (fr) => {
          const l = fr.l;
          const a = l[i];
          const c = rs >= 0 ? l[rs] : rc;
          if (typeof a === "number" && typeof c === "number") {
            const z = a + c;
            if (z <= MAX && z >= -MAX) {
              l[i] = z;
              return NORMAL;
            }
          }
          l[i] = combine(fr, get(fr), rhs(fr));
          return NORMAL;
        };
      }
      if (op === "+" && (b.scope === "local" || b.scope === "global")) {
        const arr = b.scope === "global" ? this.env.globals : undefined;
        return (fr) => {
          const a = get(fr);
          const c = rhs(fr);
          let z: Value;
          if (typeof a === "number" && typeof c === "number" && (z = a + c) <= MAX && z >= -MAX) {
            // fast path: small ints
          } else z = combine(fr, a, c);
          if (arr !== undefined) arr[i] = z;
          else fr.l[i] = z;
          return NORMAL;
        };
      }
      const set = this.assignTo(lhs);
      return (fr) => {
        set(fr, combine(fr, get(fr), rhs(fr)));
        return NORMAL;
      };
    }
    if (lhs.kind === "IndexExpr") {
      const x = this.expr(lhs.x),
        y = this.expr(lhs.y);
      const ipos = lhs.lbrack;
      return (fr) => {
        const xv = x(fr),
          yv = y(fr);
        let old: Value;
        try {
          old = index(xv, yv);
        } catch (e) {
          throw annotate(e, fr, ipos);
        }
        const nv = combine(fr, old, rhs(fr));
        try {
          setIndex(xv, yv, nv);
        } catch (e) {
          throw annotate(e, fr, ipos);
        }
        return NORMAL;
      };
    }
    if (lhs.kind === "DotExpr") {
      const x = this.expr(lhs.x);
      const name = lhs.name.name;
      const dpos = lhs.dotPos;
      return (fr) => {
        const xv = x(fr);
        let old: Value;
        try {
          old = getAttr(xv, name);
        } catch (e) {
          throw annotate(e, fr, dpos);
        }
        const nv = combine(fr, old, rhs(fr));
        try {
          setField(xv, name, nv);
        } catch (e) {
          throw annotate(e, fr, dpos);
        }
        return NORMAL;
      };
    }
    throw new Error(`internal error: cannot assign to ${lhs.kind}`);
  }

  /** A function storing a value into an assignable expression. */
  assignTo(e: A.Expr): Assign {
    switch (e.kind) {
      case "ParenExpr":
        return this.assignTo(e.x);
      case "Ident": {
        const b = e.binding!;
        const i = b.index;
        switch (b.scope) {
          case "local":
            return (fr, v) => {
              fr.l[i] = v;
            };
          case "cell":
            return (fr, v) => {
              (fr.l[i] as Cell).v = v;
            };
          case "free":
            return (fr, v) => {
              fr.free[i]!.v = v;
            };
          case "global": {
            const G = this.env.globals;
            return (_fr, v) => {
              G[i] = v;
            };
          }
          default:
            throw new Error(`internal error: cannot assign to ${b.scope} name ${e.name}`);
        }
      }
      case "TupleExpr":
      case "ListExpr": {
        const sets = e.elts.map((x) => this.assignTo(x));
        const n = sets.length;
        const pos = e.start;
        return (fr, v) => {
          let es: Value[] | undefined;
          if (v instanceof Tuple || v instanceof List) es = v.elems;
          else if (typeof v === "object") es = iterableElems(v);
          if (es === undefined) throw errorAt(fr, pos, `got ${typeName(v)} in sequence assignment`);
          if (es.length > n) throw errorAt(fr, pos, `too many values to unpack (got ${es.length}, want ${n})`);
          if (es.length < n) throw errorAt(fr, pos, `too few values to unpack (got ${es.length}, want ${n})`);
          for (let i = 0; i < n; i++) sets[i]!(fr, es[i]!);
        };
      }
      case "IndexExpr": {
        const x = this.expr(e.x),
          y = this.expr(e.y);
        const pos = e.lbrack;
        return (fr, v) => {
          const xv = x(fr),
            yv = y(fr);
          if (xv instanceof List && typeof yv === "number" && yv >= 0 && yv < xv.elems.length && !xv.frozen && xv.itercount === 0) {
            xv.elems[yv] = v;
            return;
          }
          if (xv instanceof Dict && typeof yv === "string" && !xv.ht.frozen && xv.ht.itercount === 0) {
            xv.ht.set(yv, v);
            return;
          }
          try {
            setIndex(xv, yv, v);
          } catch (err) {
            throw annotate(err, fr, pos);
          }
        };
      }
      case "DotExpr": {
        const x = this.expr(e.x);
        const name = e.name.name;
        const pos = e.dotPos;
        return (fr, v) => {
          const xv = x(fr);
          try {
            setField(xv, name, v);
          } catch (err) {
            throw annotate(err, fr, pos);
          }
        };
      }
      default:
        throw new Error(`internal error: cannot assign to ${e.kind}`);
    }
  }

  // ---- expressions ----

  ident(id: A.Ident): Expr {
    const b = id.binding!;
    const i = b.index;
    const name = id.name;
    const pos = id.start;
    switch (b.scope) {
      case "local":
        return (fr) => {
          const v = fr.l[i];
          if (v === undefined) throw errorAt(fr, pos, `local variable ${name} referenced before assignment`);
          return v;
        };
      case "cell":
        return (fr) => {
          const v = (fr.l[i] as Cell).v;
          if (v === undefined) throw errorAt(fr, pos, `local variable ${name} referenced before assignment`);
          return v;
        };
      case "free":
        return (fr) => {
          const v = fr.free[i]!.v;
          if (v === undefined) throw errorAt(fr, pos, `local variable ${name} referenced before assignment`);
          return v;
        };
      case "global": {
        const G = this.env.globals;
        return (fr) => {
          const v = G[i];
          if (v === undefined) throw errorAt(fr, pos, `global variable ${name} referenced before assignment`);
          return v;
        };
      }
      case "predeclared":
      case "universal": {
        const v = (b.scope === "predeclared" ? this.env.predeclared : this.env.universe).get(name) ?? this.env.universe.get(name);
        if (v === undefined) return (fr) => {
          throw errorAt(fr, pos, `undefined: ${name}`);
        };
        return () => v;
      }
      default:
        return (fr) => {
          throw errorAt(fr, pos, `undefined: ${name}`);
        };
    }
  }

  expr(e: A.Expr): Expr {
    if (this.overrides !== undefined) {
      const o = this.overrides.get(e);
      if (o !== undefined) return o;
    }
    switch (e.kind) {
      case "Ident":
        return this.ident(e);
      case "Literal": {
        let v: Value;
        if (e.type === "float") v = new Float(e.value as number);
        else if (e.type === "bytes") v = new Bytes(e.value as string);
        else v = e.value as Value;
        return () => v;
      }
      case "ParenExpr":
        return this.expr(e.x);
      case "TupleExpr": {
        const xs = e.elts.map((x) => this.expr(x));
        if (xs.length === 2) {
          const [a, b] = xs as [Expr, Expr];
          return (fr) => new Tuple([a(fr), b(fr)]);
        }
        return (fr) => new Tuple(xs.map((x) => x(fr)));
      }
      case "ListExpr": {
        const xs = e.elts.map((x) => this.expr(x));
        return (fr) => {
          const out = new Array<Value>(xs.length);
          for (let i = 0; i < xs.length; i++) out[i] = xs[i]!(fr);
          return new List(out);
        };
      }
      case "DictExpr": {
        const ks = e.entries.map((en) => this.expr(en.key)),
          vs = e.entries.map((en) => this.expr(en.value));
        const poss = e.entries.map((en) => en.start);
        return (fr) => {
          const d = new Dict();
          for (let i = 0; i < ks.length; i++) {
            const k = ks[i]!(fr),
              v = vs[i]!(fr);
            try {
              if (d.ht.has(k)) throw new StarError(`duplicate key: ${reprValue(k)}`);
              d.ht.set(k, v);
            } catch (err) {
              throw annotate(err, fr, poss[i]!);
            }
          }
          return d;
        };
      }
      case "Comprehension":
        return this.comprehension(e);
      case "UnaryExpr": {
        const x = this.expr(e.x);
        const op = e.op;
        const pos = e.start;
        if (op === "not") return (fr) => !truthy(x(fr));
        if (op === "-")
          return (fr) => {
            const v = x(fr);
            if (typeof v === "number") return 0 - v;
            try {
              return unary(op, v);
            } catch (err) {
              throw annotate(err, fr, pos);
            }
          };
        return (fr) => {
          const v = x(fr);
          try {
            return unary(op, v);
          } catch (err) {
            throw annotate(err, fr, pos);
          }
        };
      }
      case "BinaryExpr":
        return this.binaryExpr(e);
      case "CondExpr": {
        const c = this.expr(e.cond),
          t = this.expr(e.then),
          f = this.expr(e.else_);
        return (fr) => (truthy(c(fr)) ? t(fr) : f(fr));
      }
      case "DotExpr": {
        const x = this.expr(e.x);
        const name = e.name.name;
        const pos = e.dotPos;
        return (fr) => {
          const v = x(fr);
          try {
            return getAttr(v, name);
          } catch (err) {
            throw annotate(err, fr, pos);
          }
        };
      }
      case "IndexExpr": {
        const x = this.expr(e.x),
          y = this.expr(e.y);
        const pos = e.lbrack;
        return (fr) => {
          const xv = x(fr),
            yv = y(fr);
          if (xv instanceof List && typeof yv === "number" && yv >= 0 && yv < xv.elems.length) return xv.elems[yv]!;
          if (xv instanceof Dict && typeof yv === "string") {
            const v = xv.ht.get(yv);
            if (v !== undefined) return v;
          }
          try {
            return index(xv, yv);
          } catch (err) {
            throw annotate(err, fr, pos);
          }
        };
      }
      case "SliceExpr": {
        const x = this.expr(e.x);
        const none = (): Value => None;
        const lo = e.lo ? this.expr(e.lo) : none,
          hi = e.hi ? this.expr(e.hi) : none,
          st = e.step ? this.expr(e.step) : none;
        const pos = e.lbrack;
        return (fr) => {
          const xv = x(fr);
          const a = lo(fr),
            b = hi(fr),
            c = st(fr);
          try {
            return slice(xv, a, b, c);
          } catch (err) {
            throw annotate(err, fr, pos);
          }
        };
      }
      case "CallExpr":
        return this.call(e);
      case "LambdaExpr":
        return this.makeFunction(e.fn!, "lambda", e.start);
    }
  }

  binaryExpr(e: A.BinaryExpr): Expr {
    const pos = e.opPos;
    if (e.op !== "and" && e.op !== "or") {
      const f = fastBinary(e.op, e.x, e.y, pos);
      if (f !== undefined) return f;
    }
    const x = this.expr(e.x),
      y = this.expr(e.y);
    switch (e.op) {
      case "and":
        return (fr) => {
          const a = x(fr);
          return truthy(a) ? y(fr) : a;
        };
      case "or":
        return (fr) => {
          const a = x(fr);
          return truthy(a) ? a : y(fr);
        };
      case "+":
        return (fr) => {
          const a = x(fr),
            b = y(fr);
          if (typeof a === "number" && typeof b === "number") {
            const z = a + b;
            if (z <= MAX && z >= -MAX) return z;
          } else if (typeof a === "string" && typeof b === "string") return concat(a, b);
          else if (isInt(a) && isInt(b)) return intAdd(a, b);
          return binSlow(fr, pos, "+", a, b);
        };
      case "-":
        return (fr) => {
          const a = x(fr),
            b = y(fr);
          if (typeof a === "number" && typeof b === "number") {
            const z = a - b;
            if (z <= MAX && z >= -MAX) return z;
          } else if (isInt(a) && isInt(b)) return intSub(a, b);
          return binSlow(fr, pos, "-", a, b);
        };
      case "*":
        return (fr) => {
          const a = x(fr),
            b = y(fr);
          if (typeof a === "number" && typeof b === "number") {
            const z = a * b;
            if (z <= MAX && z >= -MAX) return z;
          } else if (isInt(a) && isInt(b)) return intMul(a, b);
          return binSlow(fr, pos, "*", a, b);
        };
      case "%": {
        let fx: A.Expr = e.x;
        while (fx.kind === "ParenExpr") fx = fx.x;
        const t = fx.kind === "Literal" && fx.type === "string" ? simpleTemplate(fx.value as string) : null;
        if (t !== null) {
          // `"k%d" % i` with a literal template of one %d or %s: split at compile time.
          const [pre, conv, suf] = t;
          const fmt = (fx as A.Literal).value as string;
          return (fr) => {
            const b = y(fr);
            if (typeof b === "number" || (conv === "s" && typeof b === "string")) {
              chargeAt(fr, pos, STRING_BYTES + pre.length + suf.length + (typeof b === "string" ? b.length : 20));
              return pre + b + suf;
            }
            return binSlow(fr, pos, "%", fmt, b);
          };
        }
        return (fr) => {
          const a = x(fr),
            b = y(fr);
          if (typeof a === "number" && typeof b === "number" && a >= 0 && b > 0) return a % b;
          return binSlow(fr, pos, "%", a, b);
        };
      }
      case "//":
        return (fr) => {
          const a = x(fr),
            b = y(fr);
          if (typeof a === "number" && typeof b === "number" && b !== 0) return Math.floor(a / b) + 0;
          return binSlow(fr, pos, "//", a, b);
        };
      case "==":
        return (fr) => {
          const a = x(fr),
            b = y(fr);
          const ta = typeof a;
          if (ta !== "object" && ta === typeof b) return a === b;
          try {
            return equals(a, b);
          } catch (err) {
            throw annotate(err, fr, pos);
          }
        };
      case "!=":
        return (fr) => {
          const a = x(fr),
            b = y(fr);
          const ta = typeof a;
          if (ta !== "object" && ta === typeof b) return a !== b;
          try {
            return !equals(a, b);
          } catch (err) {
            throw annotate(err, fr, pos);
          }
        };
      case "<":
      case "<=":
      case ">":
      case ">=": {
        const op = e.op as CompareOp;
        const slow = (fr: Frame, a: Value, b: Value): boolean => {
          try {
            return compare(op, a, b);
          } catch (err) {
            throw annotate(err, fr, pos);
          }
        };
        switch (op) {
          case "<":
            return (fr) => {
              const a = x(fr),
                b = y(fr);
              if (typeof a === "number" && typeof b === "number") return a < b;
              return slow(fr, a, b);
            };
          case "<=":
            return (fr) => {
              const a = x(fr),
                b = y(fr);
              if (typeof a === "number" && typeof b === "number") return a <= b;
              return slow(fr, a, b);
            };
          case ">":
            return (fr) => {
              const a = x(fr),
                b = y(fr);
              if (typeof a === "number" && typeof b === "number") return a > b;
              return slow(fr, a, b);
            };
          default:
            return (fr) => {
              const a = x(fr),
                b = y(fr);
              if (typeof a === "number" && typeof b === "number") return a >= b;
              return slow(fr, a, b);
            };
        }
      }
      default: {
        const op = e.op;
        return (fr) => binSlow(fr, pos, op, x(fr), y(fr));
      }
    }
  }

  call(e: A.CallExpr): Expr {
    const pos = e.lparen;
    const positionalOnly = e.args.every((a) => a.type === "positional");
    if (positionalOnly) {
      const argEs = e.args.map((a) => this.expr(a.value));
      const n = argEs.length;
      const evalArgs = (fr: Frame): Value[] => {
        const out = new Array<Value>(n);
        for (let i = 0; i < n; i++) out[i] = argEs[i]!(fr);
        return out;
      };
      if (e.fn.kind === "DotExpr") return this.methodCall(e.fn, argEs, evalArgs, pos);
      const fnE = this.expr(e.fn);
      // A call of a global function (`fib(n - 1)`) reads the global inline; fnE only runs to report it unbound.
      const G = e.fn.kind === "Ident" && e.fn.binding?.scope === "global" ? this.env.globals : undefined;
      const gi = G !== undefined ? (e.fn as A.Ident).binding!.index : 0;
      if (n === 1) {
        const a0 = argEs[0]!;
        return (fr) => {
          let f = G !== undefined ? G[gi] : undefined;
          if (f === undefined) f = fnE(fr);
          if (f instanceof StarFunction) {
            const c = f.code;
            if (c.simple && c.nparams === 1) {
              const l: Value[] = c.nlocals === 1 ? [a0(fr)] : new Array(c.nlocals);
              if (c.nlocals !== 1) l[0] = a0(fr);
              fr.pc = pos;
              return invoke(fr.thread, f, l);
            }
          }
          if (f instanceof Builtin && f.fast1 !== undefined) return callFast1(fr, pos, f.fast1, a0(fr));
          return callAt(fr, pos, f, [a0(fr)], EMPTY_KW);
        };
      }
      if (n === 2) {
        const a0 = argEs[0]!,
          a1 = argEs[1]!;
        // Local variables as arguments (`add(total, i)`) are read inline; a0/a1 only run for other shapes or
        // to report an unbound local.
        const o0 = operandOf(e.args[0]!.value),
          o1 = operandOf(e.args[1]!.value);
        const s0 = o0 !== undefined ? o0.slot : -1,
          s1 = o1 !== undefined ? o1.slot : -1;
        return (fr) => {
          let f = G !== undefined ? G[gi] : undefined;
          if (f === undefined) f = fnE(fr);
          if (f instanceof StarFunction) {
            const c = f.code;
            if (c.simple && c.nparams === 2) {
              let l: Value[];
              if (c.nlocals === 2) {
                let v0 = s0 >= 0 ? fr.l[s0] : undefined;
                if (v0 === undefined) v0 = a0(fr);
                let v1 = s1 >= 0 ? fr.l[s1] : undefined;
                if (v1 === undefined) v1 = a1(fr);
                l = [v0, v1];
              }
              else {
                l = new Array(c.nlocals);
                l[0] = a0(fr);
                l[1] = a1(fr);
              }
              fr.pc = pos;
              return invoke(fr.thread, f, l);
            }
          }
          return callAt(fr, pos, f, [a0(fr), a1(fr)], EMPTY_KW);
        };
      }
      return (fr) => {
        const f = fnE(fr);
        if (f instanceof StarFunction) {
          const c = f.code;
          if (c.simple && c.nparams === n) {
            const l = new Array(c.nlocals);
            for (let i = 0; i < n; i++) l[i] = argEs[i]!(fr);
            fr.pc = pos;
            return invoke(fr.thread, f, l);
          }
        }
        return callAt(fr, pos, f, evalArgs(fr), EMPTY_KW);
      };
    }
    // General case: *args, **kwargs and named arguments.
    const fnE = this.expr(e.fn);
    const parts = e.args.map((a) => ({ type: a.type, name: a.name?.name ?? "", value: this.expr(a.value), pos: a.start }));
    return (fr) => {
      const f = fnE(fr);
      const args: Value[] = [];
      const kwargs: [string, Value][] = [];
      for (const p of parts) {
        const v = p.value(fr);
        switch (p.type) {
          case "positional":
            args.push(v);
            break;
          case "named":
            kwargs.push([p.name, v]);
            break;
          case "star":
            try {
              for (const x of starArgs(v)) args.push(x);
            } catch (err) {
              throw annotate(err, fr, pos);
            }
            break;
          case "starstar":
            try {
              starStarArgs(v, kwargs);
            } catch (err) {
              throw annotate(err, fr, pos);
            }
            break;
        }
      }
      return callAt(fr, pos, f, args, kwargs);
    };
  }

  /** `x.name(args)`: built-in methods are called without allocating a bound method. */
  methodCall(dot: A.DotExpr, argEs: Expr[], evalArgs: (fr: Frame) => Value[], pos: A.Pos): Expr {
    const x = this.expr(dot.x);
    const name = dot.name.name;
    const dpos = dot.dotPos;
    const lm = listMethods.get(name),
      sm = stringMethods.get(name),
      dm = dictMethods.get(name),
      setm = setMethods.get(name);
    const generic = (fr: Frame, xv: Value): Value => {
      let f: Value;
      try {
        f = getAttr(xv, name);
      } catch (err) {
        throw annotate(err, fr, dpos);
      }
      return callAt(fr, pos, f, evalArgs(fr), EMPTY_KW);
    };
    if (name === "append" && argEs.length === 1) {
      const a0 = argEs[0]!;
      return (fr) => {
        const xv = x(fr);
        if (xv instanceof List) {
          const v = a0(fr);
          if (xv.frozen || xv.itercount > 0) return callMethod(fr, pos, lm!, xv, [v]);
          chargeAt(fr, pos, SLOT_BYTES);
          xv.elems.push(v);
          return None;
        }
        return generic(fr, xv);
      };
    }
    return (fr) => {
      const xv = x(fr);
      let m: Method | undefined;
      if (typeof xv === "string") m = sm;
      else if (xv instanceof List) m = lm;
      else if (xv instanceof Dict) m = dm;
      else if (xv instanceof StarSet) m = setm;
      if (m !== undefined) return callMethod(fr, pos, m, xv, evalArgs(fr));
      return generic(fr, xv);
    };
  }

  comprehension(e: A.Comprehension): Expr {
    const pos = e.start;
    type Emit = (fr: Frame, acc: any) => void;
    let emit: Emit;
    if (e.curly) {
      const entry = e.body as A.DictEntry;
      const k = this.expr(entry.key),
        v = this.expr(entry.value);
      const epos = entry.start;
      emit = (fr, acc: Dict) => {
        const kv = k(fr),
          vv = v(fr);
        try {
          acc.ht.set(kv, vv);
        } catch (err) {
          throw annotate(err, fr, epos);
        }
      };
    } else {
      const body = this.expr(e.body as A.Expr);
      emit = (fr, acc: Value[]) => {
        const v = body(fr);
        chargeAt(fr, pos, SLOT_BYTES);
        acc.push(v);
      };
    }
    for (let ci = e.clauses.length - 1; ci >= 0; ci--) {
      const c = e.clauses[ci]!;
      const next = emit;
      if (c.kind === "IfClause") {
        const cond = this.expr(c.cond);
        emit = (fr, acc) => {
          if (truthy(cond(fr))) next(fr, acc);
        };
      } else {
        const x = this.expr(c.x);
        let cv: A.Expr = c.vars;
        while (cv.kind === "ParenExpr") cv = cv.x;
        const slot = cv.kind === "Ident" && cv.binding!.scope === "local" ? cv.binding!.index : -1;
        const assign = this.assignTo(c.vars);
        const set: Assign =
          slot >= 0
            ? (fr, v) => {
                fr.l[slot] = v;
              }
            : assign;
        const xpos = c.x.start;
        emit = (fr, acc) => {
          const it = x(fr);
          const t = fr.thread;
          if (it instanceof Range) {
            const n = it.len,
              start = it.start,
              step = it.step;
            for (let i = 0; i < n; i++) {
              if (--t.steps <= 0) stepCheckpoint(fr, pos);
              set(fr, start + i * step);
              next(fr, acc);
            }
            return;
          }
          if (slot >= 0 && it instanceof List) {
            // A list with a local loop variable: store it inline.
            const es = it.elems;
            const l = fr.l;
            it.itercount++;
            try {
              for (let i = 0; i < es.length; i++) {
                if (--t.steps <= 0) stepCheckpoint(fr, pos);
                l[slot] = es[i]!;
                next(fr, acc);
              }
            } finally {
              it.itercount--;
            }
            return;
          }
          const { es, guard } = loopElems(fr, xpos, it);
          guard.itercount++;
          try {
            for (let i = 0; i < es.length; i++) {
              if (--t.steps <= 0) stepCheckpoint(fr, pos);
              set(fr, es[i]!);
              next(fr, acc);
            }
          } finally {
            guard.itercount--;
          }
        };
      }
    }
    const run = emit;
    if (e.curly)
      return (fr) => {
        const d = new Dict();
        run(fr, d);
        return d;
      };
    return (fr) => {
      const out: Value[] = [];
      run(fr, out);
      return new List(out);
    };
  }
}

function A_binaryOpOf(op: A.AssignOp): string {
  return op.slice(0, -1);
}

