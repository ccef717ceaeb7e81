/**
 * The `json` module (starlark-go's lib/json): encode, decode (with `default=`), encode_indent and indent.
 * Dict keys are sorted on encoding, like starlark-go, so output is deterministic. Ints decode exactly.
 */
import { positional, unpackArgs, wantString } from "../values/args.ts";
import { StarError } from "../values/errors.ts";
import { compareStrings } from "../values/compare.ts";
import { formatFloat } from "../values/format.ts";
import { Dict } from "../values/hashtable.ts";
import { norm } from "../values/int.ts";
import { iterableElems } from "../values/ops.ts";
import { Builtin, Float, List, Module, None, Struct, Tuple, typeName, type Value } from "../values/value.ts";
import { isASCII } from "../values/strings.ts";

function quoteJSON(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else if (c >= 0xdc80 && c <= 0xdcff && !(i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff)) out += "\\ufffd";
    else out += s[i];
  }
  return out + '"';
}

function encode(v: Value, path: object[]): string {
  switch (typeof v) {
    case "string":
      return quoteJSON(v);
    case "number":
    case "bigint":
      return v.toString();
    case "boolean":
      return v ? "true" : "false";
  }
  if (v === None) return "null";
  if (v instanceof Float) {
    if (!Number.isFinite(v.v)) throw new StarError(`cannot encode non-finite float ${formatFloat(v.v, "g")}`);
    return formatFloat(v.v, "g");
  }
  if (path.includes(v)) throw new StarError(`cycle in JSON structure`);
  path.push(v);
  try {
    if (v instanceof Dict) {
      const entries: [string, Value][] = [];
      for (const [k, x] of v.ht.entries()) {
        if (typeof k !== "string") throw new StarError(`dict has ${typeName(k)} key, want string`);
        entries.push([k, x]);
      }
      entries.sort((a, b) => compareStrings(a[0], b[0]));
      return "{" + entries.map(([k, x]) => quoteJSON(k) + ":" + encode(x, path)).join(",") + "}";
    }
    if (v instanceof Struct) {
      return "{" + [...v.fields].map(([k, x]) => quoteJSON(k) + ":" + encode(x, path)).join(",") + "}";
    }
    if (v instanceof List || v instanceof Tuple) return "[" + v.elems.map((x) => encode(x, path)).join(",") + "]";
    const es = iterableElems(v);
    if (es !== undefined && typeName(v) !== "dict") return "[" + es.map((x) => encode(x, path)).join(",") + "]";
    throw new StarError(`cannot encode ${typeName(v)} as JSON`);
  } finally {
    path.pop();
  }
}

class Decoder {
  i = 0;
  constructor(readonly s: string) {}
  fail(msg: string): never {
    throw new StarError(`${msg}`);
  }
  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") this.i++;
      else break;
    }
  }
  value(): Value {
    this.ws();
    const s = this.s;
    if (this.i >= s.length) this.fail("unexpected end of file");
    const c = s[this.i]!;
    if (c === "{") {
      this.i++;
      const d = new Dict();
      this.ws();
      if (s[this.i] === "}") {
        this.i++;
        return d;
      }
      for (;;) {
        this.ws();
        if (s[this.i] !== '"') this.fail(`at offset ${this.i}, got ${this.tok()}, want string`);
        const k = this.string();
        this.ws();
        if (s[this.i] !== ":") this.fail(`at offset ${this.i}, got ${this.tok()}, want ':'`);
        this.i++;
        const v = this.value();
        d.ht.set(k, v);
        this.ws();
        if (s[this.i] === ",") {
          this.i++;
          continue;
        }
        if (s[this.i] === "}") {
          this.i++;
          return d;
        }
        this.fail(`at offset ${this.i}, got ${this.tok()}, want ',' or '}'`);
      }
    }
    if (c === "[") {
      this.i++;
      const out: Value[] = [];
      this.ws();
      if (s[this.i] === "]") {
        this.i++;
        return new List(out);
      }
      for (;;) {
        out.push(this.value());
        this.ws();
        if (s[this.i] === ",") {
          this.i++;
          continue;
        }
        if (s[this.i] === "]") {
          this.i++;
          return new List(out);
        }
        this.fail(`at offset ${this.i}, got ${this.tok()}, want ',' or ']'`);
      }
    }
    if (c === '"') return this.string();
    if (s.startsWith("true", this.i)) return (this.i += 4), true;
    if (s.startsWith("false", this.i)) return (this.i += 5), false;
    if (s.startsWith("null", this.i)) return (this.i += 4), None;
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    this.fail(`unexpected character ${JSON.stringify(c)}`);
  }
  tok(): string {
    return this.i >= this.s.length ? "end of file" : JSON.stringify(this.s[this.i]);
  }
  number(): Value {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i));
    if (!m) this.fail(`invalid number`);
    this.i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) return norm(BigInt(m[0]));
    return new Float(parseFloat(m[0]));
  }
  string(): string {
    const s = this.s;
    const start = this.i;
    this.i++;
    let out = "";
    for (;;) {
      if (this.i >= s.length) this.fail(`unexpected end of file in string`);
      const c = s[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === "\\") {
        const n = s[this.i + 1];
        const esc: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (n !== undefined && esc[n] !== undefined) {
          out += esc[n];
          this.i += 2;
          continue;
        }
        if (n === "u") {
          const h = s.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail(`invalid escape in string at offset ${this.i}`);
          out += String.fromCharCode(parseInt(h, 16));
          this.i += 6;
          continue;
        }
        this.fail(`invalid escape in string literal at offset ${start}`);
      }
      if (c.charCodeAt(0) < 0x20) this.fail(`control character in string at offset ${this.i}`);
      out += c;
      this.i++;
    }
  }
}

export function decodeJSON(s: string): Value {
  const d = new Decoder(s);
  const v = d.value();
  d.ws();
  if (d.i < s.length) d.fail(`unexpected character ${JSON.stringify(s[d.i])} after value`);
  return v;
}

function reindent(compact: string, prefix: string, indent: string): string {
  // Re-print a compact JSON text with indentation, like Go's json.Indent.
  let out = "";
  let depth = 0;
  let inStr = false;
  const nl = (): string => "\n" + prefix + indent.repeat(depth);
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i]!;
    if (inStr) {
      out += c;
      if (c === "\\") out += compact[++i];
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") continue;
    if (c === '"') {
      inStr = true;
      out += c;
    } else if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      let j = i + 1;
      while (j < compact.length && /\s/.test(compact[j]!)) j++;
      if (compact[j] === close) {
        out += c + close;
        i = j;
        continue;
      }
      depth++;
      out += c + nl();
    } else if (c === "}" || c === "]") {
      depth--;
      out += nl() + c;
    } else if (c === ",") out += "," + nl();
    else if (c === ":") out += ": ";
    else out += c;
  }
  return out;
}

function prefixed<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StarError && !e.message.startsWith(name)) e.message = `${name}: ${e.message}`;
    throw e;
  }
}

export const jsonModule = new Module("json", {
  encode: new Builtin("json.encode", (_t, a, k) => {
    positional("json.encode", a, k, 1, 1);
    return prefixed("json.encode", () => encode(a[0]!, []));
  }),
  decode: new Builtin("json.decode", (_t, a, k) => {
    const [x, dflt] = unpackArgs("json.decode", a, k, ["x", "default?"]);
    const s = wantString("json.decode", "x", x!);
    try {
      return prefixed("json.decode", () => decodeJSON(s));
    } catch (e) {
      if (dflt !== undefined && e instanceof StarError) return dflt;
      throw e;
    }
  }),
  encode_indent: new Builtin("json.encode_indent", (_t, a, k) => {
    const [x, prefix, indent] = unpackArgs("json.encode_indent", a, k, ["x", "prefix?", "indent?"]);
    const compact = prefixed("json.encode_indent", () => encode(x!, []));
    return reindent(compact, prefix === undefined ? "" : wantString("json.encode_indent", "prefix", prefix), indent === undefined ? "\t" : wantString("json.encode_indent", "indent", indent));
  }),
  indent: new Builtin("json.indent", (_t, a, k) => {
    const [x, prefix, indent] = unpackArgs("json.indent", a, k, ["str", "prefix?", "indent?"]);
    const s = wantString("json.indent", "str", x!);
    prefixed("json.indent", () => decodeJSON(s));
    return reindent(s, prefix === undefined ? "" : wantString("json.indent", "prefix", prefix), indent === undefined ? "\t" : wantString("json.indent", "indent", indent));
  }),
});

void isASCII;
