/**
 * String and bytes literals: from source text (quotes, prefixes and escapes included) to their value, as
 * starlark-go's syntax/quote.go does it, with its error messages.
 *
 * A string literal's value is a JS string; its \x and octal escapes are ASCII only (`"\xff"` is an error, as in
 * starlark-go). A bytes literal's value is a binary string, one char (0..255) per byte.
 */

/** UTF-8 encoding of a JS string; a lone surrogate U+DC80..U+DCFF stands for the raw byte it escapes. */
function encodeUTF8(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c >= 0xdc80 && c <= 0xdcff) out.push(c - 0xdc00);
    else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
          continue;
        }
      }
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  return out;
}

/** Decodes UTF-8; each byte that is not part of a valid sequence becomes U+DC00+byte. */
function decodeUTF8(b: number[]): string {
  let out = "";
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    let n = 0;
    let cp = 0;
    let min = 0;
    if (c >= 0xc2 && c <= 0xdf) [n, cp, min] = [1, c & 31, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, cp, min] = [2, c & 15, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, cp, min] = [3, c & 7, 0x10000];
    let ok = n > 0 && i + n < b.length + 1;
    for (let k = 1; ok && k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 63);
    }
    if (ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp < 0xe000)) {
      out += String.fromCodePoint(cp);
      i += n + 1;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  "\\": 92,
  "'": 39,
  '"': 34,
};

/** Collects the pieces of a literal: text (as UTF-16) and raw bytes, turning them into the final value once. */
class Builder {
  private parts: (string | number)[] = [];
  private highByte = false;

  text(s: string): void {
    if (s.length > 0) this.parts.push(s);
  }
  byte(b: number): void {
    if (b >= 0x80) this.highByte = true;
    this.parts.push(b);
  }
  /** The value as a Starlark string (UTF-16 with surrogate-escaped stray bytes). */
  string(): string {
    if (!this.highByte) {
      let out = "";
      for (const p of this.parts) out += typeof p === "string" ? p : String.fromCharCode(p);
      return out;
    }
    return decodeUTF8(this.bytes());
  }
  /** The value as a binary string, one char per byte. */
  binary(): string {
    const b = this.bytes();
    let out = "";
    for (let i = 0; i < b.length; i++) out += String.fromCharCode(b[i]!);
    return out;
  }
  private bytes(): number[] {
    const out: number[] = [];
    for (const p of this.parts) {
      if (typeof p === "string") for (const c of encodeUTF8(p)) out.push(c);
      else out.push(p);
    }
    return out;
  }
}

const utf8 = new TextEncoder();
const utf8Lenient = new TextDecoder();

/**
 * The first `n` bytes of an escape (`\x41`, `\u0041`) in UTF-8, as starlark-go slices the literal, or null if the
 * literal ends sooner. The result is text: a character cut by the slice reads as U+FFFD.
 */
function escapeHead(rest: string, n: number): string | null {
  const head = rest.slice(0, n);
  if (/^[\x00-\x7f]*$/.test(head)) return head.length < n ? null : head;
  const bytes = utf8.encode(rest.slice(0, n)); // n characters make at least n bytes
  return bytes.length < n ? null : utf8Lenient.decode(bytes.subarray(0, n));
}

/** The hint of starlark-go's non-ASCII escape errors. */
function useU(n: number): string {
  const hex = n.toString(16).toUpperCase().padStart(4, "0");
  return `use \\u${hex} for the UTF-8 encoding of U+${hex}`;
}

function hexValue(s: string): number {
  return /^[0-9a-fA-F]+$/.test(s) ? parseInt(s, 16) : -1;
}

/**
 * The value of a quoted literal (`"a\n"`, `r'x'`, `b"\xff"`, `'''...'''`), or an error message. The text has
 * already been checked by the scanner to start and end with matching quotes.
 */
export function unquote(quoted: string): string | { error: string } {
  let raw = false;
  let isBytes = false;
  let k = 0;
  if (quoted.charCodeAt(k) === 114 /* r */) {
    raw = true;
    k++;
  }
  if (quoted.charCodeAt(k) === 98 /* b */) {
    isBytes = true;
    k++;
  }
  let q = quoted.slice(k);
  if (q.length < 2) return { error: "string literal too short" };
  const quote = q[0]!;
  if ((quote !== '"' && quote !== "'") || quote !== q[q.length - 1]) return { error: "string literal has invalid quotes" };
  if (q.length >= 6 && q[1] === quote && q[2] === quote && q.slice(0, 3) === q.slice(q.length - 3)) {
    q = q.slice(3, q.length - 3);
  } else {
    q = q.slice(1, q.length - 1);
  }

  // Fast path: nothing to interpret.
  if (raw || q.indexOf("\\") < 0) {
    if (!isBytes) return q;
    const b = new Builder();
    b.text(q);
    return b.binary();
  }

  const out = new Builder();
  let i = 0;
  while (i < q.length) {
    const j = q.indexOf("\\", i);
    if (j < 0) {
      out.text(q.slice(i));
      break;
    }
    out.text(q.slice(i, j));
    const rest = q.slice(j);
    if (rest.length === 1) return { error: "truncated escape sequence \\" };
    const e = rest[1]!;
    if (e === "\n") {
      // An escaped newline is ignored.
      i = j + 2;
      continue;
    }
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out.byte(simple);
      i = j + 2;
      continue;
    }
    if (e >= "0" && e <= "7") {
      // Octal escape: up to 3 digits, one byte.
      let n = e.charCodeAt(0) - 48;
      let m = 2;
      while (m < 4 && m < rest.length && rest[m]! >= "0" && rest[m]! <= "7") {
        n = n * 8 + (rest.charCodeAt(m) - 48);
        m++;
      }
      // A string's escapes stand for ASCII only (a code point above is written \u); bytes take any byte.
      if (!isBytes && n > 127) return { error: `non-ASCII octal escape \\${n.toString(8)} (${useU(n)})` };
      if (n >= 256) return { error: `invalid escape sequence \\${n.toString(8).padStart(3, "0")}` };
      out.byte(n);
      i = j + m;
      continue;
    }
    if (e === "x") {
      // Hex escape: exactly 2 digits, one byte.
      const head = escapeHead(rest, 4);
      if (head === null) return { error: `truncated escape sequence ${rest}` };
      const n = hexValue(head.slice(2));
      if (n < 0) return { error: `invalid escape sequence ${head}` };
      if (!isBytes && n > 127) return { error: `non-ASCII hex escape ${rest.slice(0, 4)} (${useU(n)})` };
      out.byte(n);
      i = j + 4;
      continue;
    }
    if (e === "u" || e === "U") {
      // A Unicode code point, 4 or 8 hex digits, encoded as UTF-8.
      const sz = e === "u" ? 6 : 10;
      const head = escapeHead(rest, sz);
      if (head === null) return { error: `truncated escape sequence ${rest}` };
      const n = hexValue(head.slice(2));
      if (n < 0) return { error: `invalid escape sequence ${head}` };
      if (n > 0x10ffff) {
        return { error: `code point out of range: ${rest.slice(0, sz)} (max \\U${n.toString(16).padStart(8, "0")})` };
      }
      if (n >= 0xd800 && n < 0xe000) {
        return { error: `invalid Unicode code point U+${n.toString(16).toUpperCase().padStart(4, "0")}` };
      }
      out.text(String.fromCodePoint(n));
      i = j + sz;
      continue;
    }
    return { error: `invalid escape sequence \\${String.fromCodePoint(rest.codePointAt(1)!)}` };
  }
  return isBytes ? out.binary() : out.string();
}
