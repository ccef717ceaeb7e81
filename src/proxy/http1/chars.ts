/** Character classes of RFC 9110/9112, as lookup tables over byte values (latin1 char codes). */

/** tchar: the characters of a token (field names, methods, transfer codings). */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/**
 * Bytes allowed inside a request's field value: field-vchar, SP, HTAB and obs-text. CR, LF, NUL and the other
 * controls are refused: a byte one parser reads as data and the next as a line end is how requests get smuggled.
 */
export const REQUEST_VALUE = new Uint8Array(256);
REQUEST_VALUE[9] = 1;
for (let c = 0x20; c <= 0x7e; c++) REQUEST_VALUE[c] = 1;
for (let c = 0x80; c <= 0xff; c++) REQUEST_VALUE[c] = 1;

/** Bytes allowed in a request target: visible ASCII (RFC 3986 plus what browsers send unencoded). */
export const TARGET = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TARGET[c] = 1;

/** Bytes of a Host value: reg-name, IP literal and port (RFC 3986 §3.2.2). */
export const HOST = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%[]:") HOST[c.charCodeAt(0)] = 1;

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** Trim optional whitespace (SP, HTAB) at both ends of s[from, to). */
export function trimmedSlice(s: string, from: number, to: number): string {
  while (from < to && (s.charCodeAt(from) === 32 || s.charCodeAt(from) === 9)) from++;
  while (to > from && (s.charCodeAt(to - 1) === 32 || s.charCodeAt(to - 1) === 9)) to--;
  return s.slice(from, to);
}

/** A comma-separated list value as lower-case trimmed elements, empty ones dropped. */
export function listTokens(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const comma = value.indexOf(",", start);
    const end = comma < 0 ? value.length : comma;
    const item = trimmedSlice(value, start, end).toLowerCase();
    if (item !== "") out.push(item);
    if (comma < 0) return out;
    start = comma + 1;
  }
}

/** A comma-separated header value lists `token` (case-insensitive, exact element). */
export function hasToken(value: string, token: string): boolean {
  const v = value.toLowerCase();
  let at = v.indexOf(token);
  while (at >= 0) {
    const before = at === 0 ? 44 : v.charCodeAt(at - 1);
    const after = at + token.length >= v.length ? 44 : v.charCodeAt(at + token.length);
    if ((before === 44 || before === 32 || before === 9) && (after === 44 || after === 32 || after === 9)) return true;
    at = v.indexOf(token, at + 1);
  }
  return false;
}

/** 1*DIGIT as a number, or -1 (also beyond 2^53, where the length could not be exact). */
export function parseDigits(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The lower-case form of a field name the proxy may treat specially (framing, hop-by-hop, Host, Accept, Location,
 * X-Forwarded-*), or "" for an ordinary end-to-end field. Picked by first letter and length so that most names are
 * never lower-cased: this runs for every field of every request and answer.
 */
export function specialName(name: string): string {
  const len = name.length;
  switch (name.charCodeAt(0) | 0x20) {
    case 97: // a
      return len === 6 ? lowerIf(name, "accept") : "";
    case 99: // c
      return len === 10 ? lowerIf(name, "connection") : len === 14 ? lowerIf(name, "content-length") : "";
    case 104: // h
      return len === 4 ? lowerIf(name, "host") : "";
    case 107: // k
      return len === 10 ? lowerIf(name, "keep-alive") : "";
    case 108: // l
      return len === 8 ? lowerIf(name, "location") : "";
    case 112: // p: proxy-*
      return len >= 6 ? name.toLowerCase() : "";
    case 116: // t
      return len === 2 ? lowerIf(name, "te") : len === 7 ? lowerIf(name, "trailer") : len === 17 ? lowerIf(name, "transfer-encoding") : "";
    case 117: // u
      return len === 7 ? lowerIf(name, "upgrade") : "";
    case 120: // x: x-forwarded-*
      return len >= 15 && len <= 18 ? name.toLowerCase() : "";
    default:
      return "";
  }
}

function lowerIf(name: string, lower: string): string {
  return name === lower || name.toLowerCase() === lower ? lower : "";
}

/**
 * A Content-Length value (RFC 9112 §6.3: one length, or a list of equal ones) combined with `previous` (-1: none
 * seen yet): the length, INVALID_LENGTH for anything but digits, or CONFLICTING_LENGTH when lengths differ.
 */
export function combineContentLength(value: string, previous: number): number {
  let n = previous;
  for (const part of value.split(",")) {
    const v = parseDigits(trimmedSlice(part, 0, part.length));
    if (v < 0) return INVALID_LENGTH;
    if (n >= 0 && v !== n) return CONFLICTING_LENGTH;
    n = v;
  }
  return n;
}

export const INVALID_LENGTH = -2;
export const CONFLICTING_LENGTH = -3;
