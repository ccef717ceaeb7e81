/**
 * The general (slow-path) operators: binary and unary arithmetic, membership, indexing, slicing, len, iteration
 * and attribute access. The evaluator handles the common int/string cases inline and falls back to these.
 */
import { NoSuchAttrError, StarError } from "./errors.ts";
import { charge, SLOT_BYTES, STRING_BYTES } from "./budget.ts";
import { compare, equals, isHashable, type CompareOp } from "./compare.ts";
import { Dict, StarSet } from "./hashtable.ts";
import * as I from "./int.ts";
import { interpolate, repr as reprOf } from "./format.ts";
import { byteLength, bytesOf, byteSlice, concat, decodeUTF8, isASCII, strLen } from "./strings.ts";
import {
  Bytes,
  Float,
  hasAttrs,
  List,
  Range,
  Struct,
  Tuple,
  typeName,
  type HasBinary,
  type HasSetField,
  type HostIterable,
  type Value,
  None,
} from "./value.ts";
import { methodsOf, bindMethod } from "./methods.ts";
import { BigRange } from "./bigrange.ts";
import { norm } from "./int.ts";
import { nearest } from "../spell.ts";

const MAX_ELEMS = 1 << 30;

function unknownBinary(op: string, x: Value, y: Value): never {
  throw new StarError(`unknown binary op: ${typeName(x)} ${op} ${typeName(y)}`);
}

function isNum(v: Value): boolean {
  return typeof v === "number" || typeof v === "bigint" || v instanceof Float;
}
function toF(v: Value): number {
  if (typeof v === "number") return v + 0;
  if (typeof v === "bigint") {
    const f = Number(v);
    if (!Number.isFinite(f)) throw new StarError("int too large to convert to float");
    return f;
  }
  return (v as Float).v;
}

/** The error of `seq * n` (or `n * seq` when `countFirst`) for a count that is not an int. */
function badCount(what: string, n: Value, countFirst: boolean): StarError {
  return new StarError(`unknown binary op: ${countFirst ? `${typeName(n)} * ${what}` : `${what} * ${typeName(n)}`}`);
}

/**
 * The count of `seq * n` as starlark-go takes it: an int that fits in 32 bits (else "repeat count N too large"),
 * a count below 1 meaning no elements. A count that is not an int is an unknown binary op.
 */
function repeatCount(n: Value, what: string, countFirst: boolean): number {
  if (typeof n === "number") {
    if (n > 0x7fffffff || n < -0x80000000) throw new StarError(`repeat count ${n} too large`);
    return n;
  }
  if (typeof n === "bigint") throw new StarError(`repeat count ${n} too large`);
  throw badCount(what, n, countFirst);
}

function repeat(elems: Value[], n: Value, what: string, countFirst = false): Value[] {
  if (elems.length === 0) {
    if (typeof n !== "number" && typeof n !== "bigint") throw badCount(what, n, countFirst);
    return [];
  }
  const count = repeatCount(n, what, countFirst);
  if (count <= 0) return [];
  if (elems.length * count >= MAX_ELEMS) throw new StarError(`excessive repeat (${elems.length} * ${count} elements)`);
  charge(elems.length * count * SLOT_BYTES);
  if (elems.length === 1) return new Array<Value>(count).fill(elems[0]!);
  const out = new Array<Value>(elems.length * count);
  for (let i = 0, k = 0; i < count; i++) for (let j = 0; j < elems.length; j++) out[k++] = elems[j]!;
  return out;
}

/** `s * n` for a string (or the one-char-per-byte text of bytes when `bytes`). */
function strRepeat(s: string, n: Value, what: string, countFirst = false, bytes = false): string {
  if (s === "") {
    if (typeof n !== "number" && typeof n !== "bigint") throw badCount(what, n, countFirst);
    return "";
  }
  const count = repeatCount(n, what, countFirst);
  if (count <= 0) return "";
  // The limit counts UTF-8 bytes; a UTF-16 unit is at most 3 of them, so most strings need no byte count.
  if ((bytes ? s.length : 3 * s.length) * count >= MAX_ELEMS) {
    const len = bytes ? s.length : byteLength(s);
    if (len * count >= MAX_ELEMS) throw new StarError(`excessive repeat (${len} * ${count} elements)`);
  }
  charge(s.length * count);
  return s.repeat(count);
}

/** struct + struct (starlarkstruct's Binary): the fields of both, the right operand's winning a shared name. */
function structConcat(x: Struct, y: Struct): Struct {
  if (x.constructorName !== y.constructorName) {
    throw new StarError(`cannot add structs of different constructors: ${reprOf(x.constructorName)} + ${reprOf(y.constructorName)}`);
  }
  charge((x.fields.size + y.fields.size) * SLOT_BYTES);
  return new Struct(new Map([...x.fields, ...y.fields]), x.constructorName);
}

export function binary(op: string, x: Value, y: Value): Value {
  const tx = typeof x,
    ty = typeof y;
  const ints = (tx === "number" || tx === "bigint") && (ty === "number" || ty === "bigint");
  switch (op) {
    case "+":
      if (ints) return I.intAdd(x as I.Int, y as I.Int);
      if (tx === "string" && ty === "string") return concat(x as string, y as string);
      if (isNum(x) && isNum(y)) return new Float(toF(x) + toF(y));
      if (x instanceof List && y instanceof List) {
        charge((x.elems.length + y.elems.length) * SLOT_BYTES);
        return new List(x.elems.concat(y.elems));
      }
      if (x instanceof Tuple && y instanceof Tuple) {
        charge((x.elems.length + y.elems.length) * SLOT_BYTES);
        return new Tuple(x.elems.concat(y.elems));
      }
      if (x instanceof Bytes && y instanceof Bytes) {
        charge(x.s.length + y.s.length);
        return new Bytes(x.s + y.s);
      }
      if (x instanceof Struct && y instanceof Struct) return structConcat(x, y);
      break;
    case "-":
      if (ints) return I.intSub(x as I.Int, y as I.Int);
      if (isNum(x) && isNum(y)) return new Float(toF(x) - toF(y));
      if (x instanceof StarSet && y instanceof StarSet) return setDifference(x, [y]);
      break;
    case "*":
      if (ints) return I.intMul(x as I.Int, y as I.Int);
      if (isNum(x) && isNum(y)) return new Float(toF(x) * toF(y));
      if (tx === "string") return strRepeat(x as string, y, "string");
      if (ty === "string") return strRepeat(y as string, x, "string", true);
      if (x instanceof List) return new List(repeat(x.elems, y, "list"));
      if (y instanceof List) return new List(repeat(y.elems, x, "list", true));
      if (x instanceof Tuple) return new Tuple(repeat(x.elems, y, "tuple"));
      if (y instanceof Tuple) return new Tuple(repeat(y.elems, x, "tuple", true));
      if (x instanceof Bytes) return new Bytes(strRepeat(x.s, y, "bytes", false, true));
      if (y instanceof Bytes) return new Bytes(strRepeat(y.s, x, "bytes", true, true));
      break;
    case "/":
      if (isNum(x) && isNum(y)) {
        const d = toF(y);
        if (d === 0) throw new StarError("floating-point division by zero");
        return new Float(toF(x) / d);
      }
      break;
    case "//":
      if (ints) return I.intFloorDiv(x as I.Int, y as I.Int);
      if (isNum(x) && isNum(y)) {
        const d = toF(y);
        if (d === 0) throw new StarError("floored division by zero");
        return new Float(Math.floor(toF(x) / d));
      }
      break;
    case "%":
      if (ints) return I.intMod(x as I.Int, y as I.Int);
      if (tx === "string") {
        const s = interpolate(x as string, y);
        charge(STRING_BYTES + s.length);
        return s;
      }
      if (isNum(x) && isNum(y)) {
        const a = toF(x),
          d = toF(y);
        if (d === 0) throw new StarError("floating-point modulo by zero");
        // Go's math.Mod keeps the dividend's sign, zero included (-0.0 % 5 is -0.0), then the result moves
        // to the divisor's side.
        let r = a % d;
        if (r !== 0 && r < 0 !== d < 0) r += d;
        return new Float(r);
      }
      break;
    case "|":
      if (ints) return I.intOr(x as I.Int, y as I.Int);
      if (x instanceof StarSet && y instanceof StarSet) return setUnion(x, [y]);
      if (x instanceof Dict && y instanceof Dict) {
        const d = new Dict();
        for (const [k, v] of x.ht.entries()) d.ht.set(k, v);
        for (const [k, v] of y.ht.entries()) d.ht.set(k, v);
        return d;
      }
      break;
    case "&":
      if (ints) return I.intAnd(x as I.Int, y as I.Int);
      if (x instanceof StarSet && y instanceof StarSet) return setIntersection(x, [y]);
      break;
    case "^":
      if (ints) return I.intXor(x as I.Int, y as I.Int);
      if (x instanceof StarSet && y instanceof StarSet) return setSymmetricDifference(x, y);
      break;
    case "<<":
    case ">>":
      // The count goes through starlark-go's AsInt32 whatever the shift: a float count or one beyond 32 bits
      // is an error even where the result would be 0 or -1.
      if (tx === "number" || tx === "bigint") {
        if (!(ty === "number" && (y as number) >= -0x80000000 && (y as number) <= 0x7fffffff)) throw new StarError(asInt32Error(y));
        return I.intShift(op, x as I.Int, y as I.Int);
      }
      break;
    case "in":
      return contains(y, x);
    case "not in":
      return !contains(y, x);
    case "==":
    case "!=":
    case "<":
    case "<=":
    case ">":
    case ">=":
      return compare(op as CompareOp, x, y);
  }
  const r = hostBinary(op, x, y);
  if (r !== undefined) return r;
  unknownBinary(op, x, y);
}

/** The result of a host value's own binary operator (HasBinary), left operand first; undefined when none applies. */
function hostBinary(op: string, x: Value, y: Value): Value | undefined {
  if (typeof x === "object" && typeof (x as HasBinary).binary === "function") {
    const r = (x as HasBinary).binary(op, y, "left");
    if (r !== undefined) return r;
  }
  if (typeof y === "object" && typeof (y as HasBinary).binary === "function") return (y as HasBinary).binary(op, x, "right");
  return undefined;
}

export function setUnion(x: StarSet, others: Value[]): StarSet {
  const s = new StarSet();
  const ks = x.ht.ks;
  for (let e = 0; e < ks.length; e++) if (ks[e] !== undefined) s.add(ks[e]!);
  for (const o of others) for (const v of iterate(o)) s.add(v);
  return s;
}
export function setIntersection(x: StarSet, others: Value[]): StarSet {
  let cur = x;
  for (const o of others) {
    const other = o instanceof StarSet ? o : setUnion(new StarSet(), [o]);
    const s = new StarSet();
    for (const k of cur.ht.keys()) if (other.ht.has(k)) s.add(k);
    cur = s;
  }
  return cur === x ? setUnion(x, []) : cur;
}
export function setDifference(x: StarSet, others: Value[]): StarSet {
  const s = setUnion(x, []);
  for (const o of others) for (const v of iterate(o)) s.ht.delete(v);
  return s;
}
export function setSymmetricDifference(x: StarSet, y: Value): StarSet {
  const s = setUnion(x, []);
  for (const v of iterate(y)) {
    if (x.ht.has(v)) s.ht.delete(v);
    else s.add(v);
  }
  return s;
}

export function contains(container: Value, x: Value): boolean {
  if (typeof container === "string") {
    if (typeof x !== "string") throw new StarError(`'in <string>' requires string as left operand, not ${typeName(x)}`);
    return container.includes(x);
  }
  if (container instanceof List || container instanceof Tuple) {
    for (const e of container.elems) if (e === x || equals(e, x)) return true;
    return false;
  }
  // An unhashable value is simply not a key of a dict (starlark-go ignores the lookup error); a set reports it.
  if (container instanceof Dict) return isHashable(x) && container.ht.has(x);
  if (container instanceof StarSet) return container.ht.has(x);
  if (container instanceof Range || container instanceof BigRange) return rangeContains(container, x);
  if (container instanceof Bytes) {
    if (x instanceof Bytes) return container.s.includes(x.s);
    if (typeof x === "number") {
      if (x < 0 || x > 255) throw new StarError(`int in bytes: ${x} out of range`);
      return container.s.includes(String.fromCharCode(x));
    }
    throw new StarError(`'in bytes' requires bytes or int as left operand, not ${typeName(x)}`);
  }
  throw new StarError(`unknown binary op: ${typeName(x)} in ${typeName(container)}`);
}

/**
 * `x in range` as starlark-go computes it: a float is truncated toward zero (an infinite or NaN one is refused),
 * and a value outside the signed 32-bit range is never an element (its check goes through AsInt32).
 */
function rangeContains(r: Range | BigRange, x: Value): boolean {
  let i: number;
  if (typeof x === "number") i = x;
  else if (typeof x === "bigint") return false;
  else if (x instanceof Float && Number.isFinite(x.v)) i = Math.trunc(x.v);
  else throw new StarError(`'in <range>' requires integer as left operand, not ${typeName(x)}`);
  if (i < -0x80000000 || i > 0x7fffffff) return false;
  if (r instanceof BigRange) return r.contains(i);
  if (r.len === 0) return false;
  const off = i - r.start;
  if (off % r.step !== 0) return false;
  const q = off / r.step;
  return q >= 0 && q < r.len;
}

export function unary(op: string, x: Value): Value {
  switch (op) {
    case "-":
      if (typeof x === "number" || typeof x === "bigint") return I.intNeg(x);
      if (x instanceof Float) return new Float(-x.v);
      break;
    case "+":
      if (typeof x === "number" || typeof x === "bigint" || x instanceof Float) return x;
      break;
    case "~":
      if (typeof x === "number" || typeof x === "bigint") return I.intInvert(x);
      break;
  }
  throw new StarError(`unknown unary op: ${op} ${typeName(x)}`);
}

export function len(x: Value): number {
  if (typeof x === "string") return strLen(x);
  if (x instanceof List || x instanceof Tuple) return x.elems.length;
  if (x instanceof Dict || x instanceof StarSet) return x.ht.count;
  if (x instanceof Range) return x.len;
  if (x instanceof Bytes) return x.s.length;
  return -1;
}

/**
 * The elements of an iterable value, or undefined when x is not iterable. A host value's own iterator (see
 * HostIterable) is drained, unless `lazy`: a loop walks it through an array view that pulls each element as the
 * loop reaches it, so a loop can break out of an endless one.
 */
export function iterableElems(x: Value, lazy = false): Value[] | undefined {
  if (x instanceof List || x instanceof Tuple) return x.elems;
  if (x instanceof Dict || x instanceof StarSet) return x.ht.keys();
  if (x instanceof Range) {
    charge(x.len * SLOT_BYTES);
    const out = new Array<Value>(x.len);
    for (let i = 0; i < x.len; i++) out[i] = x.start + i * x.step;
    return out;
  }
  if (typeof x === "object" && typeof (x as HostIterable).iterate === "function") {
    const it = (x as HostIterable).iterate();
    if (Array.isArray(it)) return it;
    return lazy ? pullingView(it) : drain(it);
  }
  return undefined;
}

function drain(it: Iterator<Value>): Value[] {
  const out: Value[] = [];
  for (let r = it.next(); !r.done; r = it.next()) {
    charge(SLOT_BYTES);
    out.push(r.value);
  }
  return out;
}

/**
 * An array view of an iterator for the loops, which read `es.length` before each `es[i]`: reading the length
 * pulls the next element into the view, so the view is one element ahead of the loop and never further.
 */
function pullingView(it: Iterator<Value>): Value[] {
  const seen: Value[] = [];
  let done = false;
  return new Proxy(seen, {
    get(target, key, receiver) {
      if (key === "length" && !done) {
        const r = it.next();
        if (r.done) done = true;
        else {
          charge(SLOT_BYTES);
          target.push(r.value);
        }
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/**
 * The elements of x (a copy is not guaranteed: do not mutate). `what` names the builtin whose argument x is
 * (its error is starlark-go's argument-unpacking one); without it the error is the for-loop's.
 */
export function iterate(x: Value, what?: string, param: string = "1"): Value[] {
  const es = iterableElems(x);
  if (es === undefined) {
    if (what === undefined) throw new StarError(`${typeName(x)} value is not iterable`);
    throw new StarError(`${what}: for parameter ${param}: got ${typeName(x)}, want iterable`);
  }
  return es;
}

/** An index as starlark-go takes it (AsInt32): an int within 32 bits, else "X index: N out of range". */
function asIndex(x: Value, i: Value): number {
  if (typeof i === "number" && i >= -0x80000000 && i <= 0x7fffffff) return i;
  throw new StarError(`${typeName(x)} index: ${asInt32Error(i)}`);
}

/** starlark-go's AsInt32 error for a value that is not an int within 32 bits. */
function asInt32Error(i: Value): string {
  return typeof i === "number" || typeof i === "bigint" ? `${i} out of range` : `got ${typeName(i)}, want int`;
}

function outOfRange(i: number, n: number, x: Value): never {
  if (n === 0) throw new StarError(`index ${i} out of range: empty ${typeName(x)}`);
  throw new StarError(`${typeName(x)} index ${i} out of range [${-n}:${n - 1}]`);
}

export function index(x: Value, y: Value): Value {
  if (x instanceof List || x instanceof Tuple) {
    const n = x.elems.length;
    let i = asIndex(x, y);
    const orig = i;
    if (i < 0) i += n;
    if (i < 0 || i >= n) outOfRange(orig, n, x);
    return x.elems[i]!;
  }
  if (x instanceof Dict) {
    const v = x.ht.get(y);
    if (v === undefined) throw new StarError(`key ${reprOf(y)} not in dict`);
    return v;
  }
  if (typeof x === "string") {
    const ascii = isASCII(x);
    const n = ascii ? x.length : byteLength(x);
    let i = asIndex(x, y);
    const orig = i;
    if (i < 0) i += n;
    if (i < 0 || i >= n) outOfRange(orig, n, x);
    return ascii ? x[i]! : decodeUTF8(bytesOf(x), i, i + 1);
  }
  if (x instanceof Range) {
    let i = asIndex(x, y);
    const orig = i;
    if (i < 0) i += x.len;
    if (i < 0 || i >= x.len) outOfRange(orig, x.len, x);
    return x.at(i);
  }
  if (x instanceof Bytes) {
    let i = asIndex(x, y);
    const orig = i;
    const n = x.s.length;
    if (i < 0) i += n;
    if (i < 0 || i >= n) outOfRange(orig, n, x);
    return new Bytes(x.s[i]!);
  }
  const m = x as unknown as { index?(i: Value): Value };
  if (typeof x === "object" && typeof m.index === "function") return m.index(y);
  throw new StarError(`unhandled index operation ${typeName(x)}[${typeName(y)}]`);
}


/** A range value: the number-based Range when every bound and the length are safe integers, else a BigRange. */
export function makeRange(start: I.Int, stop: I.Int, step: I.Int): Range | BigRange {
  if (typeof start === "number" && typeof stop === "number" && typeof step === "number" && Math.abs(stop - start) <= Number.MAX_SAFE_INTEGER) {
    return new Range(start, stop, step);
  }
  return new BigRange(BigInt(start), BigInt(stop), BigInt(step));
}

export function setIndex(x: Value, y: Value, v: Value): void {
  if (x instanceof List) {
    x.checkMutable("assign to element of");
    const n = x.elems.length;
    // Unlike x[y], starlark-go's x[y] = z reports a bad index without naming the operand's type.
    if (!(typeof y === "number" && y >= -0x80000000 && y <= 0x7fffffff)) throw new StarError(asInt32Error(y));
    let i = y;
    const orig = i;
    if (i < 0) i += n;
    if (i < 0 || i >= n) outOfRange(orig, n, x);
    x.elems[i] = v;
    return;
  }
  if (x instanceof Dict) {
    x.ht.set(y, v);
    return;
  }
  throw new StarError(`${typeName(x)} value does not support item assignment`);
}

const INT32_MAX = 2147483647;

/** A slice's start, end or step: None, or an int in the signed 32-bit range (starlark-go's AsInt32). */
function sliceIndex(v: Value, what: string): number | undefined {
  if (v === None) return undefined;
  if ((typeof v === "number" && v <= INT32_MAX && v >= -INT32_MAX - 1)) return v;
  if (typeof v === "number" || typeof v === "bigint") throw new StarError(`invalid ${what}: ${v} out of range`);
  throw new StarError(`invalid ${what}: got ${typeName(v)}, want int`);
}

/** Python's slice.indices: the concrete start, stop and step for a sequence of length n. */
export function sliceIndices(n: number, lo: Value, hi: Value, st: Value): [number, number, number] {
  let step = sliceIndex(st, "slice step");
  if (step === undefined) step = 1;
  if (step === 0) throw new StarError("zero is not a valid slice step");
  const a = sliceIndex(lo, "start index"),
    b = sliceIndex(hi, "end index");
  let start: number, end: number;
  if (step > 0) {
    start = a === undefined ? 0 : a < 0 ? Math.max(0, a + n) : Math.min(a, n);
    end = b === undefined ? n : b < 0 ? Math.max(0, b + n) : Math.min(b, n);
  } else {
    start = a === undefined ? n - 1 : a < 0 ? Math.max(-1, a + n) : Math.min(a, n - 1);
    end = b === undefined ? -1 : b < 0 ? Math.max(-1, b + n) : Math.min(b, n - 1);
  }
  return [start, end, step];
}

function pick<T>(get: (i: number) => T, start: number, end: number, step: number): T[] {
  const out: T[] = [];
  if (step > 0) for (let i = start; i < end; i += step) out.push(get(i));
  else for (let i = start; i > end; i += step) out.push(get(i));
  return out;
}

export function slice(x: Value, lo: Value, hi: Value, st: Value): Value {
  if (x instanceof List || x instanceof Tuple) {
    const [s, e, k] = sliceIndices(x.elems.length, lo, hi, st);
    const es = k === 1 ? x.elems.slice(s, Math.max(s, e)) : pick((i) => x.elems[i]!, s, e, k);
    return x instanceof List ? new List(es) : new Tuple(es);
  }
  if (typeof x === "string") {
    const ascii = isASCII(x);
    const n = ascii ? x.length : byteLength(x);
    const [s, e, k] = sliceIndices(n, lo, hi, st);
    if (k === 1) return ascii ? x.slice(s, Math.max(s, e)) : byteSlice(x, s, Math.max(s, e));
    if (ascii) return pick((i) => x[i]!, s, e, k).join("");
    const b = bytesOf(x);
    return decodeUTF8(Uint8Array.from(pick((i) => b[i]!, s, e, k)));
  }
  if (x instanceof Bytes) {
    const [s, e, k] = sliceIndices(x.s.length, lo, hi, st);
    if (k === 1) return new Bytes(x.s.slice(s, Math.max(s, e)));
    return new Bytes(pick((i) => x.s[i]!, s, e, k).join(""));
  }
  if (x instanceof Range || x instanceof BigRange) {
    // As starlark-go: the slice [s:e:k] of range(a, b, c) is range(a + s*c, a + e*c, c*k).
    const r = x instanceof Range ? new BigRange(BigInt(x.start), BigInt(x.stop), BigInt(x.step)) : x;
    let [s, e, k] = sliceIndices(Number(r.n), lo, hi, st);
    // starlark-go makes an empty slice's bounds meet before it computes the new range: the end moves up to the
    // start for a positive step, the start up to the end for a negative one (range(10)[5:2] is range(5, 5)).
    if (k > 0) e = Math.max(s, e);
    else s = Math.max(s, e);
    return makeRange(norm(r.start + BigInt(s) * r.step), norm(r.start + BigInt(e) * r.step), norm(r.step * BigInt(k)));
  }
  throw new StarError(`invalid slice operand ${typeName(x)}`);
}

// ---- attributes ----

export function getAttr(x: Value, name: string): Value {
  const ms = methodsOf(x);
  if (ms !== undefined) {
    const m = ms.get(name);
    if (m !== undefined) return bindMethod(m, x);
  }
  if (hasAttrs(x)) {
    let v: Value | undefined;
    try {
      v = x.attr(name);
    } catch (e) {
      if (e instanceof NoSuchAttrError) throw new StarError(e.message + hint(name, x.attrNames()));
      throw e;
    }
    if (v !== undefined) return v;
    if (x instanceof Struct) {
      const ctor = x.constructorName !== "struct" ? x.constructorName + " " : "";
      throw new StarError(`${ctor}struct has no .${name} attribute${hint(name, x.attrNames())}`);
    }
    throw new StarError(`${typeName(x)} has no .${name} field or method${hint(name, x.attrNames())}`);
  }
  throw new StarError(`${typeName(x)} has no .${name} field or method${hint(name, ms ? [...ms.keys()] : [])}`);
}

export function hasAttr(x: Value, name: string): boolean {
  if (methodsOf(x)?.has(name)) return true;
  return hasAttrs(x) && x.attr(name) !== undefined;
}

export function attrNames(x: Value): string[] {
  const names = new Set<string>(methodsOf(x)?.keys() ?? []);
  if (hasAttrs(x)) for (const n of x.attrNames()) names.add(n);
  return [...names].sort();
}

function hint(name: string, names: string[]): string {
  const n = nearest(name, names);
  return n ? ` (did you mean .${n}?)` : "";
}

export function setField(x: Value, name: string, v: Value): void {
  const s = x as HasSetField;
  if (typeof x === "object" && typeof s.setField === "function") {
    try {
      s.setField(name, v);
    } catch (e) {
      if (e instanceof NoSuchAttrError) throw new StarError(e.message + hint(name, s.attrNames()));
      throw e;
    }
    return;
  }
  throw new StarError(`can't assign to .${name} field of ${typeName(x)}`);
}
