/**
 * The universe: Starlark's predeclared builtins (None, True, False, abs ... zip), one table from name to function.
 * Adding a builtin is one entry here.
 */
import { charge, SLOT_BYTES, STRING_BYTES, TUPLE_BYTES } from "./values/budget.ts";
import { StarError } from "./values/errors.ts";
import { compare, sortIndices, sortValues } from "./values/compare.ts";
import { Dict, StarSet } from "./values/hashtable.ts";
import { paramLabel, positional, unpackArgs, wantBool, wantCallable, wantInt, wantString } from "./values/args.ts";
import { str, repr, formatFloat } from "./values/format.ts";
import { floatToInt, intNeg, norm, type Int } from "./values/int.ts";
import { attrNames, getAttr, hasAttr, iterate, len as lenOf, iterableElems, makeRange } from "./values/ops.ts";
import { dictUpdate } from "./values/methods.ts";
import { fitsInt64 } from "./values/bigrange.ts";
import * as S from "./values/strings.ts";
import {
  Builtin,
  Bytes,
  Float,
  List,
  None,
  Range,
  Tuple,
  truth,
  typeName,
  withCallbacks,
  Callbacks,
  type CallbackBody,
  type CallRequest,
  type ThreadLike,
  type Value,
} from "./values/value.ts";

type Fn = (thread: ThreadLike, args: Value[], kwargs: [string, Value][]) => Value;

function parseIntLiteral(s: string, base: number): Int | undefined {
  let t = s.trim() === s ? s : "";
  let neg = false;
  if (t.startsWith("+") || t.startsWith("-")) {
    neg = t[0] === "-";
    t = t.slice(1);
  }
  const lower = t.toLowerCase();
  const prefixes: Record<string, number> = { "0x": 16, "0o": 8, "0b": 2 };
  const p = prefixes[lower.slice(0, 2)];
  if (base === 0) {
    if (p !== undefined) {
      base = p;
      t = t.slice(2);
    } else {
      // As in starlark-go, a literal that starts with 0 must be all zeros ("00" is 0, "010" is refused).
      if (t.length > 1 && t[0] === "0") return /^0+$/.test(t) ? 0 : undefined;
      base = 10;
    }
  } else if (p !== undefined && p === base) t = t.slice(2);
  if (t === "") return undefined;
  const digits = "0123456789abcdefghijklmnopqrstuvwxyz".slice(0, base);
  let v = 0n;
  const b = BigInt(base);
  for (const c of t.toLowerCase()) {
    const d = digits.indexOf(c);
    if (d < 0) return undefined;
    v = v * b + BigInt(d);
  }
  return norm(neg ? -v : v);
}

/** float(s): the syntax of Go's strconv.ParseFloat, which starlark-go uses (hex mantissas, digit separators). */
function parseFloatLiteral(s: string): number | undefined {
  let t = s.toLowerCase();
  const m = /^([+-]?)(inf|infinity|nan)$/.exec(t);
  if (m) return m[2] === "nan" ? NaN : m[1] === "-" ? -Infinity : Infinity;
  if (t.includes("_")) {
    if (!separatorsBetweenDigits(t)) return undefined;
    t = t.replaceAll("_", "");
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return parseFloat(t);
  const hex = /^([+-]?)0x([0-9a-f]*)\.?([0-9a-f]*)p([+-]?\d+)$/.exec(t);
  if (hex === null || hex[2]! + hex[3]! === "") return undefined;
  // mantissa × 2^(exponent − 4 × fraction digits); Number() of the bigint rounds to nearest, the scaling is exact.
  const mantissa = Number(BigInt("0x" + (hex[2]! + hex[3]! || "0")));
  const v = mantissa * 2 ** (Number(hex[4]) - 4 * hex[3]!.length);
  return hex[1] === "-" ? -v : v;
}

/**
 * Whether each `_` of a number literal stands between two digits (a base prefix counting as a digit), the rule of
 * Go's strconv that float() follows: "1_000.5" is 1000.5, "1__0", "_1" and "1_.5" are not numbers.
 */
function separatorsBetweenDigits(t: string): boolean {
  let i = t[0] === "+" || t[0] === "-" ? 1 : 0;
  const hex = t.startsWith("0x", i);
  let last: "start" | "digit" | "_" | "other" = "start";
  if (hex || t.startsWith("0b", i) || t.startsWith("0o", i)) {
    i += 2;
    last = "digit";
  }
  for (; i < t.length; i++) {
    const c = t[i]!;
    if ((c >= "0" && c <= "9") || (hex && c >= "a" && c <= "f")) last = "digit";
    else if (c === "_") {
      if (last !== "digit") return false;
      last = "_";
    } else if (last === "_") return false;
    else last = "other";
  }
  return last !== "_";
}

/** The argument check of the builtins starlark-go writes by hand (chr, dir, ord, str, bytes): one positional. */
function exactlyOne(fn: string, a: Value[], k: [string, Value][], exactly = ""): void {
  if (k.length > 0) throw new StarError(`${fn} does not accept keyword arguments`);
  if (a.length !== 1) throw new StarError(`${fn}: got ${a.length} arguments, want ${exactly}1`);
}

/** How print and fail show a value: strings and bytes as their text, everything else as by str. */
function printed(v: Value): string {
  return v instanceof Bytes ? S.transcodeUTF8(v.s) : str(v);
}

/** A comparison whose failure is reported under the builtin's name, as starlark-go's min and max do. */
function compareNamed(name: string, op: "<" | ">", x: Value, y: Value): boolean {
  try {
    return compare(op, x, y);
  } catch (e) {
    if (e instanceof StarError) e.message = `${name}: ${e.message}`;
    throw e;
  }
}

function minMax(name: string, args: Value[], kwargs: [string, Value][], op: "<" | ">"): Value | Callbacks {
  if (args.length === 0) throw new StarError(`${name} requires at least one positional argument`);
  let [key] = unpackArgs(name, [], kwargs, ["key?"]);
  if (key !== undefined) key = wantCallable(name, '"key"', key);
  let es = args;
  if (args.length === 1) {
    const it = iterableElems(args[0]!);
    if (it === undefined) throw new StarError(`${name}: ${typeName(args[0]!)} value is not iterable`);
    es = it;
  }
  if (es.length === 0) throw new StarError(`${name}: argument is an empty sequence`);
  if (key !== undefined) return new Callbacks(extremumByKey(name, op, es, key));
  let best = es[0]!;
  for (let i = 1; i < es.length; i++) if (compareNamed(name, op, es[i]!, best)) best = es[i]!;
  return best;
}

/** min/max with key=: each key computed in order, compared as it comes, as starlark-go does. */
function* extremumByKey(name: string, op: "<" | ">", es: Value[], key: Value): Generator<CallRequest, Value, Value> {
  let best = es[0]!;
  let bestKey = yield { fn: key, args: [best] };
  for (let i = 1; i < es.length; i++) {
    const k = yield { fn: key, args: [es[i]!] };
    if (compareNamed(name, op, k, bestKey)) {
      best = es[i]!;
      bestKey = k;
    }
  }
  return best;
}

/** Every key first, in order, as starlark-go computes them, then one sort of the indices by key. */
function* sortedByKey(es: Value[], key: Value, reverse: boolean): Generator<CallRequest, Value, Value> {
  const keys: Value[] = [];
  for (const e of es) keys.push(yield { fn: key, args: [e] });
  const idx = sortIndices(keys, reverse);
  return new List(idx.map((i) => es[i]!));
}

/** The builtins that may call Starlark functions (key=); see withCallbacks. */
const callbackFns: Record<string, CallbackBody> = {
  max: (_t, a, k) => minMax("max", a, k, ">"),
  min: (_t, a, k) => minMax("min", a, k, "<"),
  sorted(_t, a, k) {
    const [x, key, rev] = unpackArgs("sorted", a, k, ["iterable", "key?", "reverse?"]);
    if (key !== undefined) wantCallable("sorted", paramLabel(k, "key"), key);
    const reverse = rev !== undefined && wantBool("sorted", paramLabel(k, "reverse"), rev);
    const all = iterate(x!, "sorted", "iterable");
    charge(all.length * SLOT_BYTES);
    const es = all.slice();
    if (key === undefined) return new List(sortValues(es, reverse));
    return new Callbacks(sortedByKey(es, key, reverse));
  },
};

const fns: Record<string, Fn> = {
  abs(_t, a, k) {
    positional("abs", a, k, 1, 1);
    const x = a[0]!;
    if (typeof x === "number" || typeof x === "bigint") return x < 0 ? intNeg(x) : x;
    if (x instanceof Float) return x.v < 0 || Object.is(x.v, -0) ? new Float(-x.v) : x;
    throw new StarError(`got ${typeName(x)}, want int or float`); // starlark-go names no function here
  },
  all(_t, a, k) {
    positional("all", a, k, 1, 1);
    for (const v of iterate(a[0]!, "all")) if (!truth(v)) return false;
    return true;
  },
  any(_t, a, k) {
    positional("any", a, k, 1, 1);
    for (const v of iterate(a[0]!, "any")) if (truth(v)) return true;
    return false;
  },
  bool(_t, a, k) {
    positional("bool", a, k, 0, 1);
    return a.length > 0 && truth(a[0]!);
  },
  bytes(_t, a, k) {
    exactlyOne("bytes", a, k, "exactly ");
    const x = a[0]!;
    if (x instanceof Bytes) return x;
    // Invalid UTF-8 in the string becomes the encoding of U+FFFD.
    if (typeof x === "string") return new Bytes(S.binaryOf(S.encodeUTF8(S.toHostString(x))));
    const es = iterableElems(x);
    if (es === undefined) throw new StarError(`bytes: got ${typeName(x)}, want string, bytes, or iterable of ints`);
    let s = "";
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      if (typeof e !== "number" && typeof e !== "bigint") throw new StarError(`bytes: at index ${i}, got ${typeName(e)}, want int`);
      if (e < 0 || e > 255) throw new StarError(`bytes: at index ${i}, ${e} out of range (want value in unsigned 8-bit range)`);
      s += String.fromCharCode(Number(e));
    }
    return new Bytes(s);
  },
  chr(_t, a, k) {
    exactlyOne("chr", a, k);
    const i = a[0]!;
    if (typeof i !== "number" && typeof i !== "bigint") throw new StarError(`chr: got ${typeName(i)}, want int`);
    if (i < 0) throw new StarError(`chr: Unicode code point ${i} out of range (<0)`);
    if (i > 0x10ffff) throw new StarError(`chr: Unicode code point U+${i.toString(16)} out of range (>0x10FFFF)`);
    const n = Number(i);
    return String.fromCodePoint(n >= 0xd800 && n <= 0xdfff ? 0xfffd : n);
  },
  dict(_t, a, k) {
    const d = new Dict();
    dictUpdate("dict", d, a, k);
    return d;
  },
  dir(_t, a, k) {
    exactlyOne("dir", a, k);
    return new List(attrNames(a[0]!));
  },
  enumerate(_t, a, k) {
    // Positional only in starlark-go: enumerate(xs, start=1) is an error there.
    positional("enumerate", a, k, 1, 2);
    const s = a.length < 2 ? 0 : wantInt("enumerate", "2", a[1]!);
    const es = iterate(a[0]!, "enumerate");
    charge(es.length * (SLOT_BYTES + TUPLE_BYTES));
    const out = new Array<Value>(es.length);
    for (let i = 0; i < es.length; i++) out[i] = new Tuple([s + i, es[i]!]);
    return new List(out);
  },
  fail(_t, a, k) {
    let sep = " ";
    for (const [name, v] of k) {
      if (name !== "sep") throw new StarError(`fail: unexpected keyword argument "${name}"`);
      sep = wantString("fail", '"sep"', v);
    }
    throw new StarError("fail: " + a.map(printed).join(sep));
  },
  float(_t, a, k) {
    // starlark-go's own messages for float (not the argument-unpacking ones).
    if (k.length > 0) throw new StarError("float does not accept keyword arguments");
    if (a.length > 1) throw new StarError(`float got ${a.length} arguments, wants 1`);
    if (a.length === 0) return new Float(0);
    const x = a[0]!;
    if (x instanceof Float) return x;
    if (typeof x === "number") return new Float(x + 0);
    if (typeof x === "bigint") {
      const f = Number(x);
      if (!Number.isFinite(f)) throw new StarError("int too large to convert to float");
      return new Float(f);
    }
    if (typeof x === "boolean") return new Float(x ? 1 : 0);
    if (typeof x === "string") {
      if (x === "") throw new StarError("float: empty string");
      const f = parseFloatLiteral(x);
      if (f !== undefined && !Number.isFinite(f) && !/inf|nan/i.test(x)) throw new StarError("floating-point number too large");
      if (f === undefined) throw new StarError(`invalid float literal: ${x}`);
      return new Float(f);
    }
    throw new StarError(`float got ${typeName(x)}, want number or string`);
  },
  getattr(_t, a, k) {
    positional("getattr", a, k, 2, 3);
    const name = wantString("getattr", "2", a[1]!);
    if (a.length === 3) {
      try {
        return getAttr(a[0]!, name);
      } catch (e) {
        if (e instanceof StarError) return a[2]!;
        throw e;
      }
    }
    try {
      return getAttr(a[0]!, name);
    } catch (e) {
      if (e instanceof StarError) e.message = `getattr: ${e.message}`;
      throw e;
    }
  },
  hasattr(_t, a, k) {
    positional("hasattr", a, k, 2, 2);
    return hasAttr(a[0]!, wantString("hasattr", "2", a[1]!));
  },
  hash(_t, a, k) {
    positional("hash", a, k, 1, 1);
    const x = a[0]!;
    // Strings hash as Java's String.hashCode (the spec); bytes as 32-bit FNV-1a, as starlark-go does.
    if (typeof x === "string") return S.javaHash(x);
    if (x instanceof Bytes) return S.fnv32a(x.s);
    throw new StarError(`hash: got ${typeName(x)}, want string or bytes`);
  },
  int(_t, a, k) {
    const [x, baseV] = unpackArgs("int", a, k, ["x", "base?"]);
    if (baseV !== undefined) {
      if (typeof x !== "string") throw new StarError("int: can't convert non-string with explicit base");
      if (typeof baseV !== "number" || (baseV | 0) !== baseV) throw new StarError(`int: for base, got ${typeName(baseV)}, want int`);
      const base = baseV;
      if (base !== 0 && (base < 2 || base > 36)) throw new StarError("int: base must be an integer >= 2 && <= 36");
      const v = parseIntLiteral(x, base);
      if (v === undefined) throw new StarError(`int: invalid literal with base ${base}: ${x}`);
      return v;
    }
    if (typeof x === "number" || typeof x === "bigint") return x;
    if (typeof x === "boolean") return x ? 1 : 0;
    if (x instanceof Float) {
      try {
        return floatToInt(x.v);
      } catch (e) {
        if (e instanceof StarError) e.message = "int: " + e.message;
        throw e;
      }
    }
    if (typeof x === "string") {
      const v = parseIntLiteral(x, 10);
      if (v === undefined) throw new StarError(`int: invalid literal with base 10: ${x}`);
      return v;
    }
    throw new StarError(`int: cannot convert ${typeName(x!)} to int`);
  },
  len(_t, a, k) {
    positional("len", a, k, 1, 1);
    const n = lenOf(a[0]!);
    if (n < 0) {
      const x = a[0]! as unknown as { len?: () => number };
      if (typeof x === "object" && typeof x.len === "function") return x.len();
      throw new StarError(`len: value of type ${typeName(a[0]!)} has no len`);
    }
    return n;
  },
  list(_t, a, k) {
    positional("list", a, k, 0, 1);
    const es = a.length ? iterate(a[0]!, "list") : [];
    charge(es.length * SLOT_BYTES);
    return new List(es.slice());
  },
  ord(_t, a, k) {
    exactlyOne("ord", a, k);
    const s = a[0]!;
    if (s instanceof Bytes) {
      if (s.s.length !== 1) throw new StarError(`ord: bytes has length ${s.s.length}, want 1`);
      return s.s.charCodeAt(0);
    }
    if (typeof s !== "string") throw new StarError(`ord: got ${typeName(s)}, want string or bytes`);
    const b = S.encodeUTF8(s);
    if (b.length === 0) throw new StarError("ord: string encodes 0 Unicode code points, want 1");
    const [r, n] = S.decodeRune(b, 0);
    if (n !== b.length) {
      let count = 0;
      for (let i = 0; i < b.length; count++) i += S.decodeRune(b, i)[1];
      throw new StarError(`ord: string encodes ${count} Unicode code points, want 1`);
    }
    return r;
  },
  print(t, a, k) {
    let sep = " ";
    for (const [name, v] of k) {
      if (name !== "sep") throw new StarError(`print: unexpected keyword argument "${name}"`);
      sep = wantString("print", '"sep"', v);
    }
    t.print(a.map(printed).join(sep));
    return None;
  },
  range(_t, a, k) {
    positional("range", a, k, 1, 3);
    const ints = a.map((v, i) => {
      // As starlark-go's positional unpacking of 64-bit ints reports them: by position.
      if (typeof v !== "number" && typeof v !== "bigint") throw new StarError(`range: for parameter ${i + 1}: got ${typeName(v)}, want int`);
      if (typeof v === "bigint" && !fitsInt64(v)) throw new StarError(`range: for parameter ${i + 1}: ${v} out of range (want value in signed 64-bit range)`);
      return v;
    });
    const [start, stop, step] = ints.length === 1 ? [0, ints[0]!, 1] : [ints[0]!, ints[1]!, ints[2] ?? 1];
    if (step === 0) throw new StarError("range: step argument must not be zero");
    return makeRange(start, stop, step);
  },
  repr(_t, a, k) {
    positional("repr", a, k, 1, 1);
    return repr(a[0]!);
  },
  reversed(_t, a, k) {
    positional("reversed", a, k, 1, 1);
    const es = iterate(a[0]!, "reversed");
    charge(es.length * SLOT_BYTES);
    return new List(es.slice().reverse());
  },
  set(_t, a, k) {
    positional("set", a, k, 0, 1);
    const s = new StarSet();
    if (a.length === 0) return s;
    try {
      for (const v of iterate(a[0]!, "set")) s.add(v);
    } catch (e) {
      if (e instanceof StarError && !e.message.startsWith("set: ")) e.message = `set: ${e.message}`; // an unhashable element
      throw e;
    }
    return s;
  },
  str(_t, a, k) {
    exactlyOne("str", a, k, "exactly ");
    const x = a[0]!;
    const s = x instanceof Bytes ? S.transcodeUTF8(x.s) : str(x);
    charge(STRING_BYTES + s.length);
    return s;
  },
  tuple(_t, a, k) {
    positional("tuple", a, k, 0, 1);
    if (a.length === 0) return new Tuple([]);
    if (a[0] instanceof Tuple) return a[0];
    const es = iterate(a[0]!, "tuple");
    charge(es.length * SLOT_BYTES);
    return new Tuple(es.slice());
  },
  type(_t, a, k) {
    if (k.length > 0) throw new StarError("type does not accept keyword arguments");
    if (a.length !== 1) throw new StarError(`type: got ${a.length} arguments, want exactly 1`);
    return typeName(a[0]!);
  },
  zip(_t, a, k) {
    if (k.length > 0) throw new StarError("zip does not accept keyword arguments");
    const seqs = a.map((x, i) => {
      const es = iterableElems(x);
      if (es === undefined) throw new StarError(`zip: argument #${i + 1} is not iterable: ${typeName(x)}`);
      return es;
    });
    const n = seqs.length === 0 ? 0 : Math.min(...seqs.map((s) => s.length));
    charge(n * (SLOT_BYTES + TUPLE_BYTES + seqs.length * SLOT_BYTES));
    const out = new Array<Value>(n);
    for (let i = 0; i < n; i++) out[i] = new Tuple(seqs.map((s) => s[i]!));
    return new List(out);
  },
};

/** The predeclared names every module sees. `set` is present only when the set option is on. */
export function universe(options: { set?: boolean } = {}): Map<string, Value> {
  const u = new Map<string, Value>();
  u.set("None", None);
  u.set("True", true);
  u.set("False", false);
  for (const [name, builtin] of UNIVERSE_BUILTINS) {
    if (name === "set" && !options.set) continue;
    u.set(name, builtin);
  }
  return u;
}

export const UNIVERSE_BUILTINS = new Map<string, Builtin>(
  [
    ...Object.entries(fns).map(([n, f]) => [n, new Builtin(n, f)] as const),
    ...Object.entries(callbackFns).map(([n, body]) => [n, withCallbacks(n, body)] as const),
  ].sort(([a], [b]) => (a < b ? -1 : 1)),
);

// One-argument fast paths for the builtins hot loops call most.
UNIVERSE_BUILTINS.get("str")!.fast1 = (x) =>
  typeof x === "string" ? x : typeof x === "number" ? String(x) : x instanceof Bytes ? S.transcodeUTF8(x.s) : str(x);
UNIVERSE_BUILTINS.get("len")!.fast1 = (x) => {
  if (x instanceof List || x instanceof Tuple) return x.elems.length;
  const n = lenOf(x);
  if (n < 0) return fns.len!(undefined as unknown as ThreadLike, [x], []);
  return n;
};
UNIVERSE_BUILTINS.get("type")!.fast1 = (x) => typeName(x);
UNIVERSE_BUILTINS.get("repr")!.fast1 = (x) => repr(x);

export { formatFloat };
