/**
 * The `json` module (starlark-go's lib/json): encode, decode (with `default=`), encode_indent and indent.
 * Dict keys are sorted on encoding, like starlark-go, so output is deterministic. Ints decode exactly.
 */
import { charge, STRING_BYTES } from "../values/budget.ts";
import { positional, unpackArgs, wantString } from "../values/args.ts";
import { StarError } from "../values/errors.ts";
import { compareStrings } from "../values/compare.ts";
import { formatFloat, goShortestG, repr } from "../values/format.ts";
import { Dict } from "../values/hashtable.ts";
import { norm } from "../values/int.ts";
import { iterableElems } from "../values/ops.ts";
import { Builtin, Bytes, Float, hasAttrs, List, Module, None, Tuple, typeName, type Value } from "../values/value.ts";
import { bytesMethods } from "../values/methods.ts";
import { bytesOf, decodeRune, decodeUTF8 } from "../values/strings.ts";
import { indentJSON, JSONSyntaxError } from "./json-indent.ts";

const HEX = "0123456789abcdef";

/** No control character and no byte past ASCII: Go quotes such a string with strconv.Quote (no HTML escaping). */
const PRINTABLE_ASCII = /^[\x20-\x7f]*$/;

/**
 * A JSON string literal as starlark-go writes it: printable ASCII is quoted plainly; anything else goes through
 * Go's encoding/json, which also escapes <, >, &, U+2028 and U+2029 and writes invalid UTF-8 as `\ufffd`.
 */
function quoteJSON(s: string): string {
  if (PRINTABLE_ASCII.test(s)) return '"' + s.replace(/["\\]/g, "\\$&").replace(/\x7f/g, "\\x7f") + '"'; // strconv.Quote's DEL
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22: out += '\\"'; continue;
      case 0x5c: out += "\\\\"; continue;
      case 10: out += "\\n"; continue;
      case 13: out += "\\r"; continue;
      case 9: out += "\\t"; continue;
      case 8: out += "\\b"; continue;
      case 12: out += "\\f"; continue;
    }
    if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += "\\u" + HEX[c >> 12]! + HEX[(c >> 8) & 15]! + HEX[(c >> 4) & 15]! + HEX[c & 15]!;
    } else if (c >= 0xdc80 && c <= 0xdcff && !(i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff)) {
      out += "\\ufffd"; // a raw byte that is not UTF-8: Go writes the escape, not the character
    } else out += s[i];
  }
  return out + '"';
}

/** An encoding error; the path to the failing value is prefixed on the way out, as starlark-go does. */
function encode(v: Value, path: object[], out: string[]): void {
  switch (typeof v) {
    case "string":
      out.push(quoteJSON(v));
      return;
    case "number":
    case "bigint":
      out.push(v.toString());
      return;
    case "boolean":
      out.push(v ? "true" : "false");
      return;
  }
  if (v === None) {
    out.push("null");
    return;
  }
  if (v instanceof Float) {
    if (!Number.isFinite(v.v)) throw new StarError(`cannot encode non-finite float ${formatFloat(v.v, "g")}`);
    out.push(goShortestG(v.v)); // Go's %g of the float64: 1.0 encodes as 1, 1e21 as 1e+21
    return;
  }
  if (path.includes(v)) throw new StarError(`cycle in JSON structure`);
  path.push(v);
  try {
    if (v instanceof Dict) {
      const entries = v.ht.entries();
      for (const [k] of entries) if (typeof k !== "string") throw new StarError(`dict has ${typeName(k)} key, want string`);
      entries.sort((a, b) => compareStrings(a[0] as string, b[0] as string));
      out.push("{");
      for (let i = 0; i < entries.length; i++) {
        const [k, x] = entries[i]!;
        out.push((i > 0 ? "," : "") + quoteJSON(k as string) + ":");
        within(`in dict key ${repr(k)}`, () => encode(x, path, out));
      }
      out.push("}");
      return;
    }
    const es = v instanceof List || v instanceof Tuple ? v.elems : iterableElems(v);
    if (es !== undefined) {
      out.push("[");
      for (let i = 0; i < es.length; i++) {
        if (i > 0) out.push(",");
        within(`at ${typeName(v)} index ${i}`, () => encode(es[i]!, path, out));
      }
      out.push("]");
      return;
    }
    if (hasAttrs(v)) {
      const names = v.attrNames().slice().sort(compareStrings);
      out.push("{");
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        out.push((i > 0 ? "," : "") + quoteJSON(name) + ":");
        within(`in field .${name}`, () => encode(v.attr(name)!, path, out));
      }
      out.push("}");
      return;
    }
    if (v instanceof Bytes) {
      // starlark-go's bytes have attributes (their methods) but are not iterable, so json.encode takes them for
      // an object of those attributes and fails at the first method
      const first = [...bytesMethods.keys()].sort(compareStrings)[0]!;
      throw new StarError(`in field .${first}: cannot encode builtin_function_or_method as JSON`);
    }
    throw new StarError(`cannot encode ${typeName(v)} as JSON`);
  } finally {
    path.pop();
  }
}

function within(where: string, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof StarError) e.message = `${where}: ${e.message}`;
    throw e;
  }
}

function encodeJSON(v: Value): string {
  const out: string[] = [];
  encode(v, [], out);
  const text = out.join("");
  charge(STRING_BYTES + text.length);
  return text;
}

/** A decoding failure at a byte offset; rendered `at offset N, message` like starlark-go. */
class DecodeFail {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/** Go's %q of one byte (as a rune). */
function quoteByte(b: number): string {
  switch (b) {
    case 0x27: return "'\\''";
    case 0x5c: return "'\\\\'";
    case 7: return "'\\a'";
    case 8: return "'\\b'";
    case 12: return "'\\f'";
    case 10: return "'\\n'";
    case 13: return "'\\r'";
    case 9: return "'\\t'";
    case 11: return "'\\v'";
  }
  if (b < 0x20 || b === 0x7f) return "'\\x" + HEX[b >> 4]! + HEX[b & 15]! + "'";
  return "'" + String.fromCharCode(b) + "'";
}

/** The one-character escapes of JSON strings, by the byte after the backslash. */
const SIMPLE_ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: "\\", 0x2f: "/", 0x62: "\b", 0x66: "\f", 0x6e: "\n", 0x72: "\r", 0x74: "\t" };

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;

/** starlark-go's json.decode, over the UTF-8 bytes so offsets are byte offsets. */
class Decoder {
  i = 0;
  constructor(readonly b: Uint8Array) {}
  fail(msg: string): never {
    throw new DecodeFail(this.i, msg);
  }
  /** Skips white space; reports whether input remains. */
  skipSpace(): boolean {
    const b = this.b;
    for (; this.i < b.length; this.i++) {
      const c = b[this.i]!;
      if (c !== 0x20 && c !== 9 && c !== 10 && c !== 13) return true;
    }
    return false;
  }
  next(): number {
    if (this.skipSpace()) return this.b[this.i]!;
    this.fail("unexpected end of file");
  }
  parse(): Value {
    const b = this.b;
    const c = this.next();
    switch (c) {
      case 0x22:
        return this.string();
      case 0x6e: // n
        if (this.word("null")) return None;
        break;
      case 0x74: // t
        if (this.word("true")) return true;
        break;
      case 0x66: // f
        if (this.word("false")) return false;
        break;
      case 0x5b: {
        const elems: Value[] = [];
        this.i++;
        if (this.next() !== 0x5d) {
          for (;;) {
            elems.push(this.parse());
            const d = this.next();
            if (d !== 0x2c) {
              if (d !== 0x5d) this.fail(`got ${quoteByte(d)}, want ',' or ']'`);
              break;
            }
            this.i++;
          }
        }
        this.i++;
        return new List(elems);
      }
      case 0x7b: {
        const dict = new Dict();
        this.i++;
        if (this.next() !== 0x7d) {
          for (;;) {
            const key = this.parse();
            if (typeof key !== "string") this.fail(`got ${typeName(key)} for object key, want string`);
            const d = this.next();
            if (d !== 0x3a) this.fail(`after object key, got ${quoteByte(d)}, want ':' `);
            this.i++;
            dict.ht.set(key, this.parse());
            const e = this.next();
            if (e !== 0x2c) {
              if (e !== 0x7d) this.fail(`in object, got ${quoteByte(e)}, want ',' or '}'`);
              break;
            }
            this.i++;
          }
        }
        this.i++;
        return dict;
      }
      default:
        if (isDigit(c) || c === 0x2d) return this.number();
    }
    this.fail(`unexpected character ${quoteByte(b[this.i]!)}`);
  }
  word(w: string): boolean {
    for (let k = 0; k < w.length; k++) if (this.b[this.i + k] !== w.charCodeAt(k)) return false;
    this.i += w.length;
    return true;
  }
  number(): Value {
    const b = this.b;
    let isFloat = false;
    let j = this.i + 1;
    for (; j < b.length; j++) {
      const c = b[j]!;
      if (isDigit(c)) continue;
      if (c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) isFloat = true;
      else break;
    }
    const num = String.fromCharCode(...b.subarray(this.i, j));
    this.i = j;
    const digits = num[0] === "-" ? num.slice(1) : num;
    if (digits === "" || (digits[0] === "0" && digits.length > 1 && isDigit(digits.charCodeAt(1)))) this.fail(`invalid number: ${num}`);
    if (isFloat) {
      // Go's ParseFloat: decimal syntax only, and a value beyond the float range is an error, not infinity.
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) this.fail(`invalid number: ${num}`);
      const f = parseFloat(num);
      if (!Number.isFinite(f)) this.fail(`invalid number: ${num}`);
      return new Float(f);
    }
    if (!/^-?\d+$/.test(num)) this.fail(`invalid number: ${num}`);
    return norm(BigInt(num));
  }
  string(): string {
    const b = this.b;
    // Find the closing quote; a string with no escape and only ASCII is taken as is (control characters too).
    let safe = true,
      closed = false;
    let j = this.i + 1;
    for (; j < b.length; j++) {
      const c = b[j]!;
      if (c === 0x5c) {
        safe = false;
        j++;
      } else if (c === 0x22) {
        closed = true;
        j++;
        break;
      } else if (c >= 0x80) safe = false;
    }
    if (!closed) this.fail("unclosed string literal");
    const start = this.i;
    this.i = j;
    if (safe) return decodeUTF8(b, start + 1, j - 1);
    return this.unquote(start + 1, j - 1);
  }
  /** Go's encoding/json string unquoting of b[from:to]: escapes, U+FFFD for bad UTF-8 and lone surrogates. */
  unquote(from: number, to: number): string {
    const b = this.b;
    let out = "";
    let k = from;
    const hex4 = (at: number): number => {
      let v = 0;
      for (let q = at; q < at + 4; q++) {
        const c = b[q];
        const d = c === undefined ? -1 : c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
        if (d < 0) this.fail(`invalid character ${quoteByte(c ?? 0x22)} in \\u hexadecimal character escape`);
        v = v * 16 + d;
      }
      return v;
    };
    while (k < to) {
      const c = b[k]!;
      if (c === 0x5c) {
        const e = b[k + 1]!;
        const simple = SIMPLE_ESCAPES[e];
        if (simple !== undefined) {
          out += simple;
          k += 2;
          continue;
        }
        if (e !== 0x75) this.fail(`invalid character ${quoteByte(e)} in string escape code`);
        let r = hex4(k + 2);
        k += 6;
        if (r >= 0xd800 && r <= 0xdbff && b[k] === 0x5c && b[k + 1] === 0x75) {
          const lo = hex4(k + 2);
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            out += String.fromCharCode(r, lo);
            k += 6;
            continue;
          }
        }
        if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
        out += String.fromCharCode(r);
        continue;
      }
      if (c < 0x20) this.fail(`invalid character ${quoteByte(c)} in string literal`);
      if (c < 0x80) {
        out += String.fromCharCode(c);
        k++;
        continue;
      }
      const [r, n] = decodeRune(b, k);
      out += String.fromCodePoint(r);
      k += n;
    }
    return out;
  }
}

export function decodeJSON(s: string): Value {
  const d = new Decoder(bytesOf(s));
  try {
    const v = d.parse();
    if (d.skipSpace()) d.fail(`unexpected character ${quoteByte(d.b[d.i]!)} after value`);
    return v;
  } catch (e) {
    if (e instanceof DecodeFail) throw new StarError(`at offset ${e.offset}, ${e.message}`);
    throw e;
  }
}

function prefixed<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StarError && !e.message.startsWith(name)) e.message = `${name}: ${e.message}`;
    throw e;
  }
}

/** `f(x, *, prefix="", indent="\t")`: one positional argument and two keyword-only strings. */
function indentArgs(fn: string, a: Value[], k: [string, Value][]): [Value, string, string] {
  const [prefix, indent] = unpackArgs(fn, [], k, ["prefix?", "indent?"]);
  positional(fn, a, [], 1, 1);
  return [a[0]!, prefix === undefined ? "" : wantString(fn, '"prefix"', prefix), indent === undefined ? "\t" : wantString(fn, '"indent"', indent)];
}

export const jsonModule = new Module("json", {
  encode: new Builtin("json.encode", (_t, a, k) => {
    positional("json.encode", a, k, 1, 1);
    return prefixed("json.encode", () => encodeJSON(a[0]!));
  }),
  decode: new Builtin("json.decode", (_t, a, k) => {
    // As starlark-go: decode(x, default?) where x may not be named.
    const [s, dflt] = unpackArgs("json.decode", a, k, ["x", "default?"]);
    if (a.length < 1) throw new StarError("json.decode: unexpected keyword argument x");
    if (typeof s !== "string") throw new StarError(`json.decode: for parameter x: got ${typeName(s!)}, want string`);
    try {
      return prefixed("json.decode", () => decodeJSON(s));
    } catch (e) {
      if (dflt !== undefined && e instanceof StarError) return dflt;
      throw e;
    }
  }),
  encode_indent: new Builtin("json.encode_indent", (_t, a, k) => {
    const [x, prefix, indent] = indentArgs("json.encode_indent", a, k);
    const compact = prefixed("json.encode_indent", () => encodeJSON(x));
    return indentJSON(compact, prefix, indent);
  }),
  indent: new Builtin("json.indent", (_t, a, k) => {
    const [x, prefix, indent] = indentArgs("json.indent", a, k);
    if (typeof x !== "string") throw new StarError(`json.indent: for parameter 1: got ${typeName(x)}, want string`);
    try {
      return indentJSON(x, prefix, indent);
    } catch (e) {
      if (e instanceof JSONSyntaxError) throw new StarError(`json.indent: ${e.message}`);
      throw e;
    }
  }),
});
