/**
 * Turning values into text: `str`, `repr` (with `[...]` for cycles), Go-style float formatting (`1.0`,
 * `1e+100`, `+inf`), `%` interpolation and `str.format`.
 */
import { StarError } from "./errors.ts";
import { Dict, StarSet } from "./hashtable.ts";
import { floatToInt, type Int } from "./int.ts";
import { quote, decodeUTF8, encodeUTF8, decodeRune } from "./strings.ts";
import { Builtin, Bytes, Float, List, Module, None, Range, Struct, Tuple, typeName, type Value } from "./value.ts";

/** Objects that print themselves (functions, host types). */
export interface Printable {
  toRepr(): string;
}

export function str(v: Value): string {
  if (typeof v === "string") return v;
  return repr(v);
}

export function repr(v: Value): string {
  switch (typeof v) {
    case "string":
      return quote(v);
    case "number":
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "True" : "False";
  }
  const out: string[] = [];
  writeValue(out, v, []);
  return out.join("");
}

function writeValue(out: string[], v: Value, path: object[]): void {
  switch (typeof v) {
    case "string":
      out.push(quote(v));
      return;
    case "number":
    case "bigint":
      out.push(v.toString());
      return;
    case "boolean":
      out.push(v ? "True" : "False");
      return;
  }
  if (v === None) {
    out.push("None");
    return;
  }
  if (v instanceof Float) {
    out.push(formatFloat(v.v, "g"));
    return;
  }
  if (v instanceof List || v instanceof Dict || v instanceof StarSet || v instanceof Tuple || v instanceof Struct) {
    if (path.includes(v)) {
      out.push(v instanceof List ? "[...]" : v instanceof Dict ? "{...}" : "...");
      return;
    }
    path.push(v);
    if (v instanceof List || v instanceof Tuple) {
      out.push(v instanceof List ? "[" : "(");
      const es = v.elems;
      for (let i = 0; i < es.length; i++) {
        if (i > 0) out.push(", ");
        writeValue(out, es[i]!, path);
      }
      out.push(v instanceof List ? "]" : es.length === 1 ? ",)" : ")");
    } else if (v instanceof Dict) {
      out.push("{");
      let first = true;
      for (const [k, x] of v.ht.entries()) {
        if (!first) out.push(", ");
        first = false;
        writeValue(out, k, path);
        out.push(": ");
        writeValue(out, x, path);
      }
      out.push("}");
    } else if (v instanceof StarSet) {
      out.push("set([");
      let first = true;
      for (const k of v.ht.keys()) {
        if (!first) out.push(", ");
        first = false;
        writeValue(out, k, path);
      }
      out.push("])");
    } else {
      const s = v as Struct;
      out.push(s.constructorName + "(");
      let first = true;
      for (const [k, f] of s.fields) {
        if (!first) out.push(", ");
        first = false;
        out.push(k + " = ");
        writeValue(out, f, path);
      }
      out.push(")");
    }
    path.pop();
    return;
  }
  if (v instanceof Range) {
    out.push(
      v.step !== 1 ? `range(${v.start}, ${v.stop}, ${v.step})` : v.start !== 0 ? `range(${v.start}, ${v.stop})` : `range(${v.stop})`,
    );
    return;
  }
  if (v instanceof Bytes) {
    out.push(bytesRepr(v.s));
    return;
  }
  if (v instanceof Builtin) {
    out.push(v.recv !== undefined ? `<built-in method ${v.name} of ${typeName(v.recv)} value>` : `<built-in function ${v.name}>`);
    return;
  }
  if (v instanceof Module) {
    out.push(`<module "${v.name}">`);
    return;
  }
  const p = v as unknown as Partial<Printable>;
  if (typeof p.toRepr === "function") {
    out.push(p.toRepr());
    return;
  }
  out.push(`<${typeName(v)}>`);
}

const HEX = "0123456789abcdef";
export function bytesRepr(s: string): string {
  let out = 'b"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      // Valid UTF-8 sequences print as their characters, like starlark-go.
      const b = new Uint8Array(4);
      let n = 0;
      for (; n < 4 && i + n < s.length; n++) b[n] = s.charCodeAt(i + n);
      const [r, size] = decodeRune(b.subarray(0, n), 0);
      if (r !== 0xfffd || size > 1) {
        out += quote(decodeUTF8(b, 0, size)).slice(1, -1);
        i += size - 1;
      } else out += "\\x" + HEX[c >> 4] + HEX[c & 15];
      continue;
    }
    out += quote(String.fromCharCode(c)).slice(1, -1);
  }
  return out + '"';
}

// ---- floats, Go style ----

/** Go's strconv.FormatFloat(f, conv, prec) for conv in eEfFgG; prec -1 means shortest for 'g'. */
export function formatFloat(f: number, conv: string): string {
  if (!Number.isFinite(f)) return Number.isNaN(f) ? "nan" : f > 0 ? "+inf" : "-inf";
  switch (conv) {
    case "g":
    case "G": {
      let s = goShortestG(f);
      if (conv === "G") s = s.toUpperCase();
      if (!s.includes(".") && !s.includes("e") && !s.includes("E")) s += ".0";
      return s;
    }
    case "e":
    case "E": {
      const s = formatE(f, 6);
      return conv === "E" ? s.toUpperCase() : s;
    }
    default:
      return formatF(f, 6);
  }
}

// Go rounds %e and %f correctly from the exact binary value with exact ties going to the even digit; JS's
// toFixed/toExponential round exact ties away from zero (0.125 -> "0.13" where Go prints "0.12"). So the
// digits are computed here exactly, with bigints.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** |f| as m * 2^q (f finite). */
function exactParts(f: number): [bigint, number] {
  f64[0] = f;
  const lo = u32[0]!,
    hi = u32[1]!;
  const exp = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exp === 0) return [m, -1074];
  m |= 1n << 52n;
  return [m, exp - 1075];
}

/** round(m * 2^q * 10^k) with ties to even. */
function scaledRound(m: bigint, q: number, k: number): bigint {
  let num = m,
    den = 1n;
  if (q >= 0) num <<= BigInt(q);
  else den <<= BigInt(-q);
  if (k >= 0) num *= 10n ** BigInt(k);
  else den *= 10n ** BigInt(-k);
  const quo = num / den;
  const twice = 2n * (num - quo * den);
  return twice > den || (twice === den && (quo & 1n) === 1n) ? quo + 1n : quo;
}

/** Go's strconv.FormatFloat(f, 'f', prec, 64) for finite f. */
export function formatF(f: number, prec: number): string {
  const neg = f < 0 || Object.is(f, -0);
  const [m, q] = exactParts(f);
  let d = scaledRound(m, q, prec).toString();
  if (prec > 0) {
    if (d.length <= prec) d = "0".repeat(prec - d.length + 1) + d;
    d = d.slice(0, d.length - prec) + "." + d.slice(d.length - prec);
  }
  return (neg ? "-" : "") + d;
}

/** Go's strconv.FormatFloat(f, 'e', prec, 64) for finite f. */
export function formatE(f: number, prec: number): string {
  const neg = f < 0 || Object.is(f, -0);
  let digits: string;
  let e = 0;
  if (f === 0) digits = "0".repeat(prec + 1);
  else {
    const [m, q] = exactParts(f);
    e = Math.floor(Math.log10(Math.abs(f)));
    const lo = 10n ** BigInt(prec),
      hi = lo * 10n;
    let n = scaledRound(m, q, prec - e);
    // log10 may be off by one near powers of ten, and rounding may carry into a new digit.
    if (n >= hi) n = scaledRound(m, q, prec - ++e);
    else if (n < lo) n = scaledRound(m, q, prec - --e);
    if (n >= hi) n = scaledRound(m, q, prec - ++e);
    digits = n.toString();
  }
  const mant = prec > 0 ? digits[0] + "." + digits.slice(1) : digits;
  const a = Math.abs(e);
  return (neg ? "-" : "") + mant + "e" + (e < 0 ? "-" : "+") + (a < 10 ? "0" + a : String(a));
}

/** JS writes e+6; Go writes e+06. */
function fixExp(s: string): string {
  const i = s.indexOf("e");
  if (i < 0) return s;
  const sign = s[i + 1]!;
  const digits = s.slice(i + 2);
  return s.slice(0, i) + "e" + sign + (digits.length < 2 ? "0" + digits : digits);
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64) (fmt's %g) for finite f: shortest digits, no ".0" added. */
export function goShortestG(f: number): string {
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const e = f.toExponential(); // shortest round-trip digits
  const i = e.indexOf("e");
  const mant = e.slice(0, i);
  const exp = parseInt(e.slice(i + 1), 10);
  if (exp < -4 || exp >= 6) return fixExp(e); // Go uses %e from exponent 6 in shortest mode
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  let s: string;
  if (exp >= digits.length - 1) s = digits + "0".repeat(exp - digits.length + 1);
  else if (exp >= 0) s = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  else s = "0." + "0".repeat(-exp - 1) + digits;
  return (neg ? "-" : "") + s;
}

// ---- % interpolation ----

function asIntForFormat(v: Value, c: string): Int {
  if (typeof v === "number" || typeof v === "bigint") return v;
  try {
    if (v instanceof Float) return floatToInt(v.v);
  } catch (e) {
    if (e instanceof StarError) e.message = `%${c} format requires integer: ${e.message}`;
    throw e;
  }
  throw new StarError(`%${c} format requires integer: cannot convert ${typeName(v)} to int`);
}

function asFloatForFormat(v: Value, c: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Float) return v.v;
  throw new StarError(`%${c} format requires float, not ${typeName(v)}`);
}

function formatInt(x: Int, c: string): string {
  const neg = x < 0;
  const a = neg ? -x : x;
  let s: string;
  switch (c) {
    case "o": s = a.toString(8); break;
    case "x": s = a.toString(16); break;
    case "X": s = a.toString(16).toUpperCase(); break;
    default: s = a.toString();
  }
  return (neg ? "-" : "") + s;
}

// Templates with a single %d or %s and no other conversion, e.g. "k%d", are common in loops: cache their split.
const simpleTemplates = new Map<string, [string, string, string] | null>();

export function simpleTemplate(format: string): [string, string, string] | null {
  let t = simpleTemplates.get(format);
  if (t === undefined) {
    const m = /^([^%]*)%([ds])([^%]*)$/.exec(format);
    t = m ? [m[1]!, m[2]!, m[3]!] : null;
    if (simpleTemplates.size > 1000) simpleTemplates.clear();
    simpleTemplates.set(format, t);
  }
  return t;
}

/** `format % args`. */
export function interpolate(format: string, args: Value): string {
  if (typeof args === "number" || typeof args === "string") {
    const t = simpleTemplate(format);
    if (t !== null && (t[1] === "s" || typeof args === "number")) return t[0] + String(args) + t[2];
  }
  // As starlark-go: every conversion but %% counts one argument, a keyed one too, and the count must use up a
  // tuple of arguments (or the single non-tuple one, a mapping included).
  let out = "";
  let argIndex = 0;
  const tupleArgs = args instanceof Tuple ? args.elems : undefined;
  const nargs = tupleArgs !== undefined ? tupleArgs.length : 1;
  let index = 0;
  for (;;) {
    const j = format.indexOf("%", index);
    if (j < 0) {
      out += format.slice(index);
      break;
    }
    out += format.slice(index, j);
    let i = j + 1;
    if (format[i] === "%") {
      out += "%";
      index = i + 1;
      continue;
    }
    let arg: Value;
    if (format[i] === "(") {
      const close = format.indexOf(")", i);
      if (close < 0) throw new StarError("incomplete format key");
      const key = format.slice(i + 1, close);
      i = close + 1;
      if (!(args instanceof Dict)) throw new StarError("format requires a mapping");
      const v = args.ht.get(key);
      if (v === undefined) throw new StarError(`key not found: ${key}`);
      arg = v;
    } else {
      if (argIndex >= nargs) throw new StarError("not enough arguments for format string");
      arg = tupleArgs !== undefined ? tupleArgs[argIndex]! : args;
    }
    if (i >= format.length) throw new StarError("incomplete format");
    const c = format[i]!;
    switch (c) {
      case "s":
        out += str(arg);
        break;
      case "r":
        out += repr(arg);
        break;
      case "d":
      case "i":
      case "o":
      case "x":
      case "X":
        out += formatInt(asIntForFormat(arg, c), c);
        break;
      case "e":
      case "E":
      case "f":
      case "g":
      case "G":
        out += formatFloat(asFloatForFormat(arg, c), c);
        break;
      case "F": {
        // Go's strconv.FormatFloat knows no 'F' and writes "%F"; starlark-go prints what it returns
        const f = asFloatForFormat(arg, c);
        out += Number.isFinite(f) ? "%F" : formatFloat(f, "g");
        break;
      }
      case "c":
        if (typeof arg === "string") {
          const b = encodeUTF8(arg);
          if (b.length === 0 || decodeRune(b, 0)[1] !== b.length) throw new StarError(`%c format requires a single-character string`);
          out += arg;
        } else if (typeof arg === "number" || typeof arg === "bigint") {
          if (arg < 0 || arg > 0x10ffff) throw new StarError(`%c format requires a valid Unicode code point, got ${arg}`);
          const cp = Number(arg);
          out += String.fromCodePoint(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
        } else throw new StarError(`%c format requires int or single-character string, not ${typeName(arg)}`);
        break;
      default: {
        // starlark-go reports the conversion's first byte, as a rune (Latin-1 for a non-ASCII character)
        throw new StarError(`unknown conversion %${String.fromCharCode(encodeUTF8(format[i]!)[0]!)}`);
      }
    }
    argIndex++;
    index = i + 1;
  }
  if (argIndex < nargs) throw new StarError("too many arguments for format string");
  return out;
}

/** `S.format(*args, **kwargs)`. */
export function strFormat(format: string, args: Value[], kwargs: [string, Value][]): string {
  let out = "";
  let auto = 0;
  let manual = false;
  let autoUsed = false;
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch === "}") {
      if (format[i + 1] === "}") {
        out += "}";
        i++;
        continue;
      }
      throw new StarError("format: single '}' in format");
    }
    if (ch !== "{") {
      out += ch;
      continue;
    }
    if (format[i + 1] === "{") {
      out += "{";
      i++;
      continue;
    }
    const close = format.indexOf("}", i);
    if (close < 0) throw new StarError("format: unmatched '{' in format");
    // "name", "name:spec", "name!conv" or "name!conv:spec", split as starlark-go does.
    const field = format.slice(i + 1, close);
    i = close;
    let name = field,
      conv = "s",
      spec = "";
    const bang = field.indexOf("!");
    const rest = bang < 0 ? field : field.slice(bang + 1);
    if (bang >= 0) name = field.slice(0, bang);
    const colon = rest.indexOf(":");
    if (bang >= 0) conv = colon < 0 ? rest : rest.slice(0, colon);
    else if (colon >= 0) name = field.slice(0, colon);
    if (colon >= 0) spec = rest.slice(colon + 1);
    let arg: Value;
    if (name === "") {
      if (manual) throw new StarError("format: cannot switch from manual field specification to automatic field numbering");
      autoUsed = true;
      if (auto >= args.length) throw new StarError("format: tuple index out of range");
      arg = args[auto++]!;
    } else if (/^[0-9]+$/.test(name)) {
      if (autoUsed) throw new StarError("format: cannot switch from automatic field numbering to manual field specification");
      manual = true;
      const n = parseInt(name, 10);
      if (n >= args.length) throw new StarError("format: tuple index out of range");
      arg = args[n]!;
    } else {
      const kv = kwargs.find((p) => p[0] === name);
      if (kv === undefined) {
        if (name.includes(".")) throw new StarError(`format: attribute syntax x.y is not supported in replacement fields: ${name}`);
        if (name.includes("[")) throw new StarError(`format: element syntax a[i] is not supported in replacement fields: ${name}`);
        if (name.includes("{")) throw new StarError("format: nested replacement fields not supported");
        throw new StarError(`format: keyword ${name} not found`);
      }
      arg = kv[1];
    }
    if (spec !== "") throw new StarError(`format spec features not supported in replacement fields: ${spec}`);
    if (conv !== "s" && conv !== "r") throw new StarError(`format: unknown conversion ${quote(conv)}`);
    out += conv === "r" ? repr(arg) : str(arg);
  }
  return out;
}

export { decodeUTF8 };
