/**
 * Equality, ordering and hashing. Ints and floats compare exactly across types (JS compares bigint and number
 * exactly); containers compare element-wise with a depth bound so cyclic values fail instead of looping.
 * `hashOf` hashes a hashable value so that equal Starlark values get the same hash.
 */
import { StarError } from "./errors.ts";
import { Bytes, Float, List, None, Range, Struct, Tuple, typeName, type Value } from "./value.ts";
import { Dict, StarSet } from "./hashtable.ts";
import { encodeUTF8 } from "./strings.ts";
import { BigRange } from "./bigrange.ts";
import { StringView } from "./methods.ts";

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
  if (tx === "string" && ty === "string") return cmpResult(op, compareStrings(x as string, y as string));
  const a = numOf(x),
    b = numOf(y);
  if (a !== undefined && b !== undefined) {
    // NaN equals NaN and orders above every other number (+Inf included), as in starlark-go.
    if (a !== a || b !== b) return cmpResult(op, (a !== a ? 1 : 0) - (b !== b ? 1 : 0));
    // JS relational operators compare number/bigint mixtures exactly.
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
  if (x instanceof StarSet && y instanceof StarSet) {
    // <= and >= are subset and superset; < and > their proper forms.
    switch (op) {
      case "<=": return isSubset(x, y);
      case ">=": return isSubset(y, x);
      case "<": return x.ht.count < y.ht.count && isSubset(x, y);
      case ">": return x.ht.count > y.ht.count && isSubset(y, x);
    }
  }
  if (op !== "==" && op !== "!=") {
    notImpl(op, x, y);
  }
  let eq: boolean;
  if (x instanceof Dict && y instanceof Dict) eq = dictEqual(x, y, depth);
  else if (x instanceof StarSet && y instanceof StarSet) eq = setEqual(x, y);
  else if (x instanceof Range && y instanceof Range) eq = rangeEqual(x, y);
  else if ((x instanceof Range || x instanceof BigRange) && (y instanceof Range || y instanceof BigRange)) eq = bigRange(x).equals(bigRange(y));
  else if (x instanceof Struct && y instanceof Struct) eq = structEqual(x, y, depth);
  else if (x === None) eq = true;
  else if (x instanceof StringView) eq = x.sameAs(y as StringView);
  else eq = x === y;
  return op === "==" ? eq : !eq;
}

/**
 * Orders strings by their UTF-8 bytes. UTF-16 code unit order agrees with it until the first difference
 * involves a surrogate (a supplementary character, or a raw byte kept as U+DC80..U+DCFF); only then are the
 * two tails encoded and compared byte by byte.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  const c = a.charCodeAt(i),
    d = b.charCodeAt(i);
  if (c < 0xd800 && d < 0xd800) return c - d;
  // Back up to the start of a surrogate pair so the tails encode whole characters.
  if (i > 0) {
    const p = a.charCodeAt(i - 1);
    if (p >= 0xd800 && p <= 0xdbff) i--;
  }
  const x = encodeUTF8(a.slice(i)),
    y = encodeUTF8(b.slice(i));
  const m = Math.min(x.length, y.length);
  for (let j = 0; j < m; j++) if (x[j] !== y[j]) return x[j]! - y[j]!;
  return x.length - y.length;
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
  if (x.ht.count !== y.ht.count) return false;
  const ks = x.ht.ks,
    vs = x.ht.vs;
  for (let e = 0; e < ks.length; e++) {
    const k = ks[e];
    if (k === undefined) continue;
    const w = y.ht.get(k);
    if (w === undefined || !compareDepth("==", vs[e]!, w, depth - 1)) return false;
  }
  return true;
}

/** Whether every element of x is in y. */
export function isSubset(x: StarSet, y: StarSet): boolean {
  if (x.ht.count > y.ht.count) return false;
  const ks = x.ht.ks;
  for (let e = 0; e < ks.length; e++) {
    const k = ks[e];
    if (k !== undefined && !y.ht.has(k)) return false;
  }
  return true;
}

function setEqual(x: StarSet, y: StarSet): boolean {
  return x.ht.count === y.ht.count && isSubset(x, y);
}

function rangeEqual(x: Range, y: Range): boolean {
  if (x.len !== y.len) return false;
  if (x.len === 0) return true;
  if (x.start !== y.start) return false;
  return x.len === 1 || x.step === y.step;
}

function bigRange(r: Range | BigRange): BigRange {
  return r instanceof BigRange ? r : new BigRange(BigInt(r.start), BigInt(r.stop), BigInt(r.step));
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

/** Objects hashable by identity: functions and other callables (a module is not hashable, as in starlark-go). */
function identityHashable(v: object): boolean {
  return typeof (v as { call?: unknown }).call === "function";
}

/** murmur3's finalizer: spreads every input bit over the low bits the hash table's index uses. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** FNV-1a over the UTF-16 code units; long strings are sampled (both ends and a stride) to bound the cost. */
export function strHash(s: string): number {
  const n = s.length;
  let h = 0x811c9dc5 ^ n;
  if (n <= 64) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < 32; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    const step = Math.floor(n / 32);
    for (let i = 32; i < n - 32; i += step) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    for (let i = n - 32; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return fmix(h);
}

function intHash(n: number): number {
  if ((n | 0) === n) return fmix(n);
  const hi = Math.floor(n / 4294967296);
  return fmix((n - hi * 4294967296) ^ fmix(hi | 0));
}

function bigHash(n: bigint): number {
  let h = 0x6b43a9b5;
  let x = n < 0n ? -n : n;
  while (x > 0n) {
    h = fmix(h ^ Number(x & 0xffffffffn));
    x >>= 32n;
  }
  return n < 0n ? ~h : h;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
function floatBitsHash(f: number): number {
  if (f !== f) return 0x7ff80000; // every NaN is the same key
  f64[0] = f;
  return fmix(u32[0]! ^ fmix(u32[1]!));
}

/** Whether hashOf(v) succeeds, without building an error. */
export function isHashable(v: Value): boolean {
  if (typeof v !== "object" || v === None || v instanceof Float || v instanceof Bytes) return true;
  if (v instanceof Tuple) return v.elems.every(isHashable);
  if (v instanceof Struct) {
    for (const f of v.fields.values()) if (!isHashable(f)) return false;
    return true;
  }
  return typeof (v as { call?: unknown }).call === "function";
}

/**
 * The hash of a hashable value (a 32-bit int), or an "unhashable type" error. Equal values hash alike: an
 * integral float hashes as the int it equals; tuples and structs combine their elements' hashes.
 */
export function hashOf(v: Value): number {
  switch (typeof v) {
    case "string":
      return strHash(v);
    case "number":
      return intHash(v);
    case "boolean":
      return v ? 0x2f1a3b57 : 0x1c3e7d91;
    case "bigint":
      return bigHash(v);
  }
  if (v instanceof Float) {
    const f = v.v;
    if (Number.isInteger(f)) return Number.isSafeInteger(f) ? intHash(f) : bigHash(BigInt(f));
    return floatBitsHash(f);
  }
  if (v === None) return 0x5bd1e995;
  if (v instanceof Tuple) {
    let h = 0x345678 ^ v.elems.length;
    for (const e of v.elems) h = Math.imul(h ^ hashOf(e), 1000003);
    return fmix(h);
  }
  if (v instanceof Bytes) return strHash(v.s) ^ 0x9e3779b9;
  if (v instanceof Struct) {
    let h = strHash(v.constructorName);
    for (const [k, f] of v.fields) h = Math.imul(h ^ strHash(k) ^ hashOf(f), 1000003);
    return fmix(h);
  }
  if (v instanceof Range || v instanceof BigRange) throw new StarError("unhashable: range");
  if (v instanceof List || v instanceof Dict || v instanceof StarSet) unhashable(v);
  if (identityHashable(v)) return fmix(identity(v));
  if (typeName(v) === "module") throw new StarError("unhashable: module");
  unhashable(v);
}

// ---- sorting ----

/** Three-way comparison by Starlark's ordering; fails for values that are not ordered. */
export function cmp3(x: Value, y: Value): number {
  if (typeof x === "number" && typeof y === "number") return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === "string" && typeof y === "string") return compareStrings(x, y);
  return compareDepth("<", x, y, MAX_DEPTH) ? -1 : compareDepth("<", y, x, MAX_DEPTH) ? 1 : 0;
}

/** Code units at or above U+D800 are where UTF-16 order and UTF-8 byte order can disagree. */
const SURROGATE_OR_ABOVE = /[\ud800-\uffff]/;

/**
 * Sorts values stably in Starlark's order (descending when `reverse`, equal elements keeping their order). All
 * small ints sort natively as doubles; strings whose UTF-16 order is their UTF-8 byte order use the built-in
 * string sort; anything else goes through cmp3.
 */
export function sortValues(es: Value[], reverse: boolean): Value[] {
  const n = es.length;
  let ints = true,
    strs = true;
  for (let i = 0; i < n && (ints || strs); i++) {
    const e = es[i];
    if (typeof e !== "number") ints = false;
    if (typeof e !== "string" || SURROGATE_OR_ABOVE.test(e)) strs = false;
  }
  if (ints && n > 0) {
    const f = new Float64Array(es as number[]).sort();
    const out = new Array<Value>(n);
    if (reverse) for (let i = 0; i < n; i++) out[i] = f[n - 1 - i]!;
    else for (let i = 0; i < n; i++) out[i] = f[i]!;
    return out;
  }
  if (strs && n > 0) {
    (es as string[]).sort();
    return reverse ? es.reverse() : es;
  }
  const keys = es.slice();
  try {
    return es.sort(reverse ? (x, y) => cmp3(y, x) : cmp3);
  } catch (e) {
    throw sortError(e, keys, reverse);
  }
}

/** The indices of keys in stable sorted order (for sorted(key=...)). */
export function sortIndices(keys: Value[], reverse: boolean): number[] {
  const idx = keys.map((_, i) => i);
  try {
    return idx.sort(reverse ? (i, j) => cmp3(keys[j]!, keys[i]!) : (i, j) => cmp3(keys[i]!, keys[j]!));
  } catch (e) {
    throw sortError(e, keys, reverse);
  }
}

/**
 * The error sorting `keys` reports. starlark-go's sort goes on past a failed comparison (counting it as "not
 * less") and reports the last failure, so which pair is named depends on its algorithm, Go's sort.Stable
 * (insertion sort of blocks of 20, then in-place merges). That is replayed here, only once a comparison has failed.
 */
function sortError(first: unknown, keys: Value[], reverse: boolean): unknown {
  if (!(first instanceof StarError)) return first;
  const a = keys.slice();
  let last: unknown = first;
  const lessAt = (i: number, j: number): boolean => {
    try {
      return compareDepth("<", a[i]!, a[j]!, MAX_DEPTH);
    } catch (e) {
      last = e;
      return false;
    }
  };
  const less = reverse ? (i: number, j: number) => lessAt(j, i) : lessAt;
  goStableSort(a.length, less, (i, j) => {
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  });
  return last;
}

/** Go's sort.Stable over an abstract sequence, step for step (the comparisons it makes decide the error). */
function goStableSort(n: number, less: (i: number, j: number) => boolean, swap: (i: number, j: number) => void): void {
  const insertionSort = (a: number, b: number) => {
    for (let i = a + 1; i < b; i++) for (let j = i; j > a && less(j, j - 1); j--) swap(j, j - 1);
  };
  const swapRange = (a: number, b: number, k: number) => {
    for (let i = 0; i < k; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number) => {
    let i = m - a,
      j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m,
        j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (less(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a,
        j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!less(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const nn = mid + m;
    let start: number, r: number;
    if (m > mid) {
      start = nn - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = nn - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!less(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = nn - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };
  let blockSize = 20;
  let a = 0,
    b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}
