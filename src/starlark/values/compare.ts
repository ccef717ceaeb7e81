/**
 * Equality, ordering and hashing. Ints and floats compare exactly across types (JS compares bigint and number
 * exactly); containers compare element-wise with a depth bound so cyclic values fail instead of looping.
 * `hashKey` maps a hashable value to a JS Map key such that equal Starlark values get the same key.
 */
import { StarError } from "./errors.ts";
import { Bytes, Float, List, None, Range, Struct, Tuple, typeName, type Value } from "./value.ts";
import { Dict, StarSet } from "./hashtable.ts";

export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";
const MAX_DEPTH = 100;

export function equals(x: Value, y: Value): boolean {
  if (x === y && typeof x !== "object") return true;
  return compareDepth("==", x, y, MAX_DEPTH);
}

export function compare(op: CompareOp, x: Value, y: Value): boolean {
  return compareDepth(op, x, y, MAX_DEPTH);
}

function cmpResult(op: CompareOp, c: number): boolean {
  switch (op) {
    case "==": return c === 0;
    case "!=": return c !== 0;
    case "<": return c < 0;
    case "<=": return c <= 0;
    case ">": return c > 0;
    case ">=": return c >= 0;
  }
}

function numOf(v: Value): number | bigint | undefined {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (v instanceof Float) return v.v;
  return undefined;
}

function notImpl(op: CompareOp, x: Value, y: Value): never {
  throw new StarError(`${typeName(x)} ${op} ${typeName(y)} not implemented`);
}

export function compareDepth(op: CompareOp, x: Value, y: Value, depth: number): boolean {
  if (depth < 1) throw new StarError("comparison exceeded maximum recursion depth");
  const tx = typeof x,
    ty = typeof y;
  if (tx === "string" && ty === "string") return cmpResult(op, x < y ? -1 : x > y ? 1 : 0);
  const a = numOf(x),
    b = numOf(y);
  if (a !== undefined && b !== undefined) {
    // JS relational operators compare number/bigint mixtures exactly; NaN makes all but != false.
    switch (op) {
      case "==": return a == b;
      case "!=": return a != b;
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      case ">=": return a >= b;
    }
  }
  if (tx === "boolean" && ty === "boolean") return cmpResult(op, Number(x) - Number(y));
  if (tx !== "object" || ty !== "object" || typeName(x) !== typeName(y)) {
    if (op === "==") return false;
    if (op === "!=") return true;
    notImpl(op, x, y);
  }
  if (x instanceof List && y instanceof List) return seqCompare(op, x.elems, y.elems, depth);
  if (x instanceof Tuple && y instanceof Tuple) return seqCompare(op, x.elems, y.elems, depth);
  if (x instanceof Bytes && y instanceof Bytes) return cmpResult(op, x.s < y.s ? -1 : x.s > y.s ? 1 : 0);
  if (op !== "==" && op !== "!=") {
    notImpl(op, x, y);
  }
  let eq: boolean;
  if (x instanceof Dict && y instanceof Dict) eq = dictEqual(x, y, depth);
  else if (x instanceof StarSet && y instanceof StarSet) eq = setEqual(x, y);
  else if (x instanceof Range && y instanceof Range) eq = rangeEqual(x, y);
  else if (x instanceof Struct && y instanceof Struct) eq = structEqual(x, y, depth);
  else if (x === None) eq = true;
  else eq = x === y;
  return op === "==" ? eq : !eq;
}

function seqCompare(op: CompareOp, a: Value[], b: Value[], depth: number): boolean {
  if ((op === "==" || op === "!=") && a.length !== b.length) return op === "!=";
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const p = a[i]!,
      q = b[i]!;
    if (p === q && typeof p !== "object") continue;
    if (!compareDepth("==", p, q, depth - 1)) {
      if (op === "==") return false;
      if (op === "!=") return true;
      return compareDepth(op, p, q, depth - 1);
    }
  }
  return cmpResult(op, a.length - b.length);
}

function dictEqual(x: Dict, y: Dict, depth: number): boolean {
  if (x.ht.map.size !== y.ht.map.size) return false;
  for (const [k, e] of x.ht.map) {
    const f = y.ht.map.get(k);
    if (f === undefined || !compareDepth("==", e.v, f.v, depth - 1)) return false;
  }
  return true;
}

function setEqual(x: StarSet, y: StarSet): boolean {
  if (x.ht.map.size !== y.ht.map.size) return false;
  for (const k of x.ht.map.keys()) if (!y.ht.map.has(k)) return false;
  return true;
}

function rangeEqual(x: Range, y: Range): boolean {
  if (x.len !== y.len) return false;
  if (x.len === 0) return true;
  if (x.start !== y.start) return false;
  return x.len === 1 || x.step === y.step;
}

function structEqual(x: Struct, y: Struct, depth: number): boolean {
  if (x.constructorName !== y.constructorName || x.fields.size !== y.fields.size) return false;
  for (const [k, v] of x.fields) {
    const w = y.fields.get(k);
    if (w === undefined || !compareDepth("==", v, w, depth - 1)) return false;
  }
  return true;
}

// ---- hashing ----

const ids = new WeakMap<object, number>();
let nextId = 1;
function identity(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
}

function unhashable(v: Value): never {
  throw new StarError(`unhashable type: ${typeName(v)}`);
}

/** Objects hashable by identity: functions and other callables, modules. */
function identityHashable(v: object): boolean {
  return typeof (v as { call?: unknown }).call === "function" || typeName(v as Value) === "module";
}

/**
 * A Map key for v. Strings map to themselves (escaped when they begin with the marker used for composite
 * keys), numbers to numbers (integral floats to the int's key), objects hashed by identity to themselves.
 */
export function hashKey(v: Value): unknown {
  switch (typeof v) {
    case "string":
      return v.charCodeAt(0) === 0xfffe ? "\ufffes" + v : v;
    case "number":
    case "bigint":
    case "boolean":
      return v;
  }
  if (v instanceof Float) {
    const f = v.v;
    if (Number.isInteger(f)) return Number.isSafeInteger(f) ? f : BigInt(f);
    return f;
  }
  if (v === None) return v;
  if (v instanceof Tuple || v instanceof Bytes || v instanceof Struct) return "\ufffe" + compositeKey(v);
  if (v instanceof List || v instanceof Dict || v instanceof StarSet || v instanceof Range) unhashable(v);
  if (identityHashable(v)) return v;
  unhashable(v);
}

function compositeKey(v: Value): string {
  switch (typeof v) {
    case "string":
      return "s" + v.length + ":" + v;
    case "number":
    case "bigint":
      return "i" + v;
    case "boolean":
      return v ? "T" : "F";
  }
  if (v instanceof Float) {
    const f = v.v;
    if (Number.isInteger(f)) return "i" + (Number.isSafeInteger(f) ? f : BigInt(f));
    return "f" + f;
  }
  if (v === None) return "N";
  if (v instanceof Tuple) {
    let s = "(";
    for (const e of v.elems) s += compositeKey(e) + ",";
    return s + ")";
  }
  if (v instanceof Bytes) return "y" + v.s.length + ":" + v.s;
  if (v instanceof Struct) {
    let s = "S" + v.constructorName.length + ":" + v.constructorName + "{";
    for (const [k, f] of v.fields) s += k.length + ":" + k + "=" + compositeKey(f) + ",";
    return s + "}";
  }
  if (v instanceof List || v instanceof Dict || v instanceof StarSet || v instanceof Range) unhashable(v);
  if (identityHashable(v)) return "o" + identity(v);
  unhashable(v);
}
