/**
 * Starlark strings are sequences of UTF-8 bytes; we keep them as JS strings. Valid UTF-8 maps to ordinary
 * UTF-16; a byte that is not part of valid UTF-8 (e.g. the result of `"Й"[1:]`) is kept as the lone surrogate
 * U+DC00+byte ("surrogate escape"), so every byte string round-trips. All-ASCII strings, the common case, need no
 * conversion at all: their byte index is their JS index.
 */
import { charge, STRING_BYTES } from "./budget.ts";

const NON_ASCII = /[^\x00-\x7f]/;

export function isASCII(s: string): boolean {
  return !NON_ASCII.test(s);
}

/** Number of UTF-8 bytes of s. */
export function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n++;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else if (c >= 0xdc80 && c <= 0xdcff) n += 1; // escaped raw byte
    else n += 3;
  }
  return n;
}

/** Encodes s as UTF-8, turning escaped raw bytes back into themselves. */
export function encodeUTF8(s: string): Uint8Array {
  const out = new Uint8Array(byteLength(s));
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[j++] = c;
      continue;
    }
    if (c < 0x800) {
      out[j++] = 0xc0 | (c >> 6);
      out[j++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        out[j++] = 0xf0 | (cp >> 18);
        out[j++] = 0x80 | ((cp >> 12) & 63);
        out[j++] = 0x80 | ((cp >> 6) & 63);
        out[j++] = 0x80 | (cp & 63);
        continue;
      }
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      out[j++] = c - 0xdc00;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // other lone surrogate: not representable
    out[j++] = 0xe0 | (c >> 12);
    out[j++] = 0x80 | ((c >> 6) & 63);
    out[j++] = 0x80 | (c & 63);
  }
  return out;
}

/** Length in bytes of the valid UTF-8 sequence starting at b[i], or 0 when b[i] starts no valid sequence. */
function seqLen(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return i + 1 < end && (b[i + 1]! & 0xc0) === 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (i + 2 >= end) return 0;
    const c1 = b[i + 1]!,
      c2 = b[i + 2]!;
    if ((c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80) return 0;
    if (c === 0xe0 && c1 < 0xa0) return 0;
    if (c === 0xed && c1 >= 0xa0) return 0; // surrogates are not valid UTF-8
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (i + 3 >= end) return 0;
    const c1 = b[i + 1]!,
      c2 = b[i + 2]!,
      c3 = b[i + 3]!;
    if ((c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80 || (c3 & 0xc0) !== 0x80) return 0;
    if (c === 0xf0 && c1 < 0x90) return 0;
    if (c === 0xf4 && c1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

/** Decodes UTF-8 bytes b[start:end]; invalid bytes become escaped raw bytes. */
export function decodeUTF8(b: Uint8Array, start = 0, end = b.length): string {
  let out = "";
  let chunk: number[] = [];
  for (let i = start; i < end; ) {
    const c = b[i]!;
    const n = seqLen(b, i, end);
    if (n === 1) {
      chunk.push(c);
      i++;
    } else if (n === 0) {
      chunk.push(0xdc00 + c);
      i++;
    } else {
      let cp: number;
      if (n === 2) cp = ((c & 31) << 6) | (b[i + 1]! & 63);
      else if (n === 3) cp = ((c & 15) << 12) | ((b[i + 1]! & 63) << 6) | (b[i + 2]! & 63);
      else cp = ((c & 7) << 18) | ((b[i + 1]! & 63) << 12) | ((b[i + 2]! & 63) << 6) | (b[i + 3]! & 63);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 1023));
      } else chunk.push(cp);
      i += n;
    }
    if (chunk.length > 4096) {
      out += String.fromCharCode(...chunk);
      chunk = [];
    }
  }
  return out + String.fromCharCode(...chunk);
}

/** Decodes one code point at byte offset i: [codepoint (0xFFFD when invalid), byte length]. */
export function decodeRune(b: Uint8Array, i: number): [number, number] {
  const n = seqLen(b, i, b.length);
  const c = b[i]!;
  if (n === 0) return [0xfffd, 1];
  if (n === 1) return [c, 1];
  if (n === 2) return [((c & 31) << 6) | (b[i + 1]! & 63), 2];
  if (n === 3) return [((c & 15) << 12) | ((b[i + 1]! & 63) << 6) | (b[i + 2]! & 63), 3];
  return [((c & 7) << 18) | ((b[i + 1]! & 63) << 12) | ((b[i + 2]! & 63) << 6) | (b[i + 3]! & 63), 4];
}

// A one-entry cache: loops that index the same long non-ASCII string avoid re-encoding it each time.
let cacheStr = "";
let cacheBytes: Uint8Array = new Uint8Array(0);

export function bytesOf(s: string): Uint8Array {
  if (s === cacheStr) return cacheBytes;
  const b = encodeUTF8(s);
  if (s.length > 16) {
    cacheStr = s;
    cacheBytes = b;
  }
  return b;
}

/** len(s) in bytes. */
export function strLen(s: string): number {
  return isASCII(s) ? s.length : byteLength(s);
}

/** s[i:j] by byte offsets (0 <= i <= j <= len). */
export function byteSlice(s: string, i: number, j: number): string {
  if (isASCII(s)) return s.slice(i, j);
  return decodeUTF8(bytesOf(s), i, j);
}

/** The byte offset of UTF-16 index k within s. */
export function byteOffset(s: string, k: number): number {
  return k === 0 ? 0 : byteLength(s.slice(0, k));
}

/** Concatenation that re-joins a multi-byte character split by byte slicing. */
export function concat(a: string, b: string): string {
  charge(STRING_BYTES + a.length + b.length);
  if (a.length && b.length) {
    const x = a.charCodeAt(a.length - 1),
      y = b.charCodeAt(0);
    if (x >= 0xdc80 && x <= 0xdcff && y >= 0xdc80 && y <= 0xdcff) return normalize(a + b);
  }
  return a + b;
}

/** Re-decodes a string whose escaped raw bytes might now form valid UTF-8. */
export function normalize(s: string): string {
  return decodeUTF8(encodeUTF8(s));
}

/** The string of bytes `bin` (one char per byte) with each invalid UTF-8 sequence replaced by U+FFFD, like Go's str(bytes). */
export function transcodeUTF8(bin: string): string {
  if (isASCII(bin)) return bin;
  return toHostString(decodeUTF8(binaryToBytes(bin)));
}

/** 32-bit FNV-1a over a one-char-per-byte string. */
export function fnv32a(bin: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bin.length; i++) h = Math.imul(h ^ bin.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Latin-1 style "binary string" (one char per byte) from bytes, used by the bytes type. */
export function binaryOf(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

export function binaryToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** Converts a string to the form shown outside Starlark (raw bytes become U+FFFD). */
export function toHostString(s: string): string {
  if (isASCII(s)) return s;
  return s.replace(/[\udc80-\udcff]/g, (m, off: number, whole: string) => {
    // A real surrogate pair's low half is preceded by a high surrogate: keep it.
    const prev = off > 0 ? whole.charCodeAt(off - 1) : 0;
    return prev >= 0xd800 && prev <= 0xdbff ? m : "\ufffd";
  });
}

const HEX = "0123456789abcdef";

/** Go's strconv.Quote-like quoting used by Starlark's repr. */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      if (c === 0x22) out += '\\"';
      else if (c === 0x5c) out += "\\\\";
      else out += s[i];
      continue;
    }
    switch (c) {
      case 7: out += "\\a"; continue;
      case 8: out += "\\b"; continue;
      case 12: out += "\\f"; continue;
      case 10: out += "\\n"; continue;
      case 13: out += "\\r"; continue;
      case 9: out += "\\t"; continue;
      case 11: out += "\\v"; continue;
    }
    if (c < 0x20 || c === 0x7f) {
      out += "\\x" + HEX[c >> 4] + HEX[c & 15];
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        out += isPrintable(cp) ? s[i]! + s[i + 1]! : "\\U" + cp.toString(16).padStart(8, "0");
        i++;
        continue;
      }
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      const b = c - 0xdc00;
      out += "\\x" + HEX[b >> 4] + HEX[b & 15];
      continue;
    }
    if (isPrintable(c)) out += s[i];
    else if (c < 0x10000) out += "\\u" + c.toString(16).padStart(4, "0");
  }
  return out + '"';
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]$/u;

function isPrintable(cp: number): boolean {
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

/**
 * Java's String.hashCode over the UTF-16 transcoding, as the spec defines hash(str). A byte that is not part of
 * valid UTF-8 (kept here as U+DC80+byte) transcodes to U+FFFD.
 */
export function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff && !(i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff)) c = 0xfffd;
    h = (Math.imul(h, 31) + c) | 0;
  }
  return h;
}

// ---- Go's per-rune case mapping (unicode.ToUpper/ToLower/ToTitle) ----
// JS's toUpperCase/toLowerCase apply Unicode's full, context-sensitive mappings ("ß" -> "SS", final sigma,
// "İ" -> "i̇"). Go maps each rune on its own by the simple mappings; JS's result for one code point is that simple
// mapping whenever it is one code point. The exceptions (a simple mapping exists, the full one is longer) are
// the Greek letters with ypogegrammeni and U+0130.

/** Simple upper (and title) case of the Greek letters whose full mapping splits off an iota. */
function greekIotaUpper(cp: number): number {
  if ((cp >= 0x1f80 && cp <= 0x1f87) || (cp >= 0x1f90 && cp <= 0x1f97) || (cp >= 0x1fa0 && cp <= 0x1fa7)) return cp + 8;
  if (cp === 0x1fb3 || cp === 0x1fc3 || cp === 0x1ff3) return cp + 9;
  return cp;
}

/** `mapped` (JS's full mapping of rune c) when it is one code point, else Go's simple mapping by `simple`. */
function mapRune(c: string, cp: number, mapped: string, simple: (cp: number) => number): string {
  if (mapped.length === 1 || (mapped.length === 2 && mapped.codePointAt(0)! > 0xffff)) return mapped;
  return String.fromCodePoint(simple(cp));
}

export function upperRune(c: string): string {
  return mapRune(c, c.codePointAt(0)!, c.toUpperCase(), greekIotaUpper);
}

export function lowerRune(c: string): string {
  return mapRune(c, c.codePointAt(0)!, c.toLowerCase(), (cp) => (cp === 0x130 ? 0x69 : cp));
}

/** The digraphs whose title case differs from their upper case (Ǆǅǆ -> ǅ, Ǉǈǉ -> ǈ, Ǌǋǌ -> ǋ, Ǳǲǳ -> ǲ). */
const TITLE_DIGRAPHS: Record<string, string> = {
  "\u01c4": "\u01c5", "\u01c5": "\u01c5", "\u01c6": "\u01c5",
  "\u01c7": "\u01c8", "\u01c8": "\u01c8", "\u01c9": "\u01c8",
  "\u01ca": "\u01cb", "\u01cb": "\u01cb", "\u01cc": "\u01cb",
  "\u01f1": "\u01f2", "\u01f2": "\u01f2", "\u01f3": "\u01f2",
};

export function titleRune(c: string): string {
  return TITLE_DIGRAPHS[c] ?? upperRune(c);
}

export function upperString(s: string): string {
  if (isASCII(s)) return s.toUpperCase();
  let out = "";
  for (const c of s) out += upperRune(c);
  return out;
}

export function lowerString(s: string): string {
  if (isASCII(s)) return s.toLowerCase();
  let out = "";
  for (const c of s) out += lowerRune(c);
  return out;
}
