/**
 * Answer heads from apps, parsed leniently where nginx, Go and curl are (lines may end with a bare LF, as CGI
 * scripts write them; a folded line joins the previous value; whitespace before a colon is dropped) and strictly
 * on framing: Content-Length must be digits and agree with itself, a chunked coding wins over a length (and the
 * connection is not reused after such an answer). Anything else that is not HTTP/1.x is a broken answer (502).
 */
import { combineContentLength, CONFLICTING_LENGTH, INVALID_LENGTH, listTokens, parseDigits, specialName, TCHAR, trimmedSlice } from "./chars.ts";

const NO_TOKENS: string[] = [];

/** Largest answer head; more is a broken answer. */
export const MAX_RESPONSE_HEAD = 64 * 1024;
/** Most field lines in an answer head. */
export const MAX_RESPONSE_FIELDS = 512;

export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  readonly minor: number;
  readonly names: string[];
  /** As RequestHead.special: the lower-case name of a field the proxy treats specially, else "". */
  readonly special: string[];
  readonly values: string[];
  /** -1 when no length was given. */
  readonly contentLength: number;
  readonly chunked: boolean;
  readonly connection: readonly string[];
  /** The upstream may keep the connection for another exchange (per version, Connection and framing). */
  readonly keepAlive: boolean;
  readonly highBytes: boolean;
}

export class ResponseHeadError {
  constructor(readonly reason: string) {}
}

/**
 * Where the head in buf[from..] ends: the offset just past its blank line (CRLF or LF line ends), or -1 when the
 * blank line has not arrived yet.
 */
export function findResponseHeadEnd(buf: Uint8Array, from: number): number {
  let lf = buf.indexOf(10, from);
  while (lf >= 0) {
    const next = buf[lf + 1];
    if (next === 10) return lf + 2;
    if (next === 13 && buf[lf + 2] === 10) return lf + 3;
    if (next === undefined || (next === 13 && lf + 2 >= buf.length)) return -1;
    lf = buf.indexOf(10, lf + 1);
  }
  return -1;
}

/** Parse a head (latin1 text including its final blank line). */
export function parseResponseHead(text: string): ResponseHead | ResponseHeadError {
  let lineEnd = text.indexOf("\n");
  if (lineEnd < 0) lineEnd = text.length;
  const statusLine = text.slice(0, text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd);
  if (!statusLine.startsWith("HTTP/1.") || statusLine.length < 12 || statusLine.charCodeAt(8) !== 32) {
    return new ResponseHeadError("the answer is not HTTP/1.x");
  }
  const minor = statusLine.charCodeAt(7) - 48;
  if (minor < 0 || minor > 9) return new ResponseHeadError("the answer is not HTTP/1.x");
  const status = parseDigits(statusLine.slice(9, 12));
  if (status < 100 || status > 999 || (statusLine.length > 12 && statusLine.charCodeAt(12) !== 32)) {
    return new ResponseHeadError("malformed status line");
  }
  const reason = statusLine.slice(13);
  for (let i = 0; i < reason.length; i++) {
    const c = reason.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return new ResponseHeadError("control character in the status line");
  }

  const names: string[] = [];
  const special: string[] = [];
  const values: string[] = [];
  let contentLength = -1;
  let codings: string[] | null = null;
  let connection: string[] = NO_TOKENS;
  let highBytes = false;

  let at = lineEnd + 1;
  for (;;) {
    let next = text.indexOf("\n", at);
    if (next < 0) next = text.length;
    const contentEnd = next > at && text.charCodeAt(next - 1) === 13 ? next - 1 : next;
    if (contentEnd === at) break; // the blank line
    for (let i = at; i < contentEnd; i++) {
      const c = text.charCodeAt(i);
      if (c === 0 || c === 13) return new ResponseHeadError(c === 0 ? "NUL in a header field" : "bare CR in a header field");
      if (c > 0x7f) highBytes = true;
    }
    const first = text.charCodeAt(at);
    if (first === 32 || first === 9) {
      // obs-fold: replaced by a space (RFC 9112 §5.2).
      if (values.length === 0) return new ResponseHeadError("a folded line before any header field");
      const cont = trimmedSlice(text, at, contentEnd);
      values[values.length - 1] = values[values.length - 1] + (cont === "" ? "" : ` ${cont}`);
    } else {
      const colon = text.indexOf(":", at);
      if (colon < 0 || colon >= contentEnd) return new ResponseHeadError("a header line without a colon");
      let nameEnd = colon;
      while (nameEnd > at && (text.charCodeAt(nameEnd - 1) === 32 || text.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
      if (nameEnd === at) return new ResponseHeadError("an empty header field name");
      for (let i = at; i < nameEnd; i++) if (TCHAR[text.charCodeAt(i)] !== 1) return new ResponseHeadError("malformed header field name");
      if (names.length === MAX_RESPONSE_FIELDS) return new ResponseHeadError(`more than ${MAX_RESPONSE_FIELDS} header fields`);
      const name = text.slice(at, nameEnd);
      names.push(name);
      special.push(specialName(name));
      values.push(trimmedSlice(text, colon + 1, contentEnd));
    }
    if (next >= text.length) break;
    at = next + 1;
  }

  for (let i = 0; i < special.length; i++) {
    const lower = special[i]!;
    if (lower === "") continue;
    const value = values[i]!;
    switch (lower) {
      case "content-length":
        contentLength = combineContentLength(value, contentLength);
        if (contentLength === INVALID_LENGTH) return new ResponseHeadError("invalid Content-Length");
        if (contentLength === CONFLICTING_LENGTH) return new ResponseHeadError("conflicting Content-Length values");
        break;
      case "transfer-encoding":
        codings = (codings ?? ([] as string[])).concat(listTokens(value));
        break;
      case "connection":
        connection = connection.concat(listTokens(value));
        break;
    }
  }
  const chunked = codings !== null && codings[codings.length - 1] === "chunked";
  let keepAlive = minor >= 1 ? !connection.includes("close") : connection.includes("keep-alive");
  if (codings !== null) {
    // A length beside a coding is dropped (RFC 9112 §6.3); such an answer is not trusted with the connection.
    if (contentLength >= 0) keepAlive = false;
    contentLength = -1;
    // A coding list not ending in chunked is delimited by the close.
    if (!chunked) keepAlive = false;
  }
  return { status, reason, minor, names, special, values, contentLength, chunked, connection, keepAlive, highBytes };
}
