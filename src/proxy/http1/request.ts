/**
 * Request heads, parsed strictly (RFC 9112 §2–§7, RFC 9110 §5): lines end with CRLF and nothing else, field names
 * are tokens with no whitespace before the colon, values hold no CR, LF, NUL or other controls, no obs-fold, one
 * Host, and framing per RFC 9112 §6 (Transfer-Encoding and Content-Length together, unequal lengths, or a coding
 * list not ending in chunked are refused). What is refused gets a status and a short reason; what is accepted is
 * held as parsed values, and only those are ever written upstream.
 */
import { combineContentLength, CONFLICTING_LENGTH, HOST, INVALID_LENGTH, listTokens, REQUEST_VALUE, specialName, TARGET, TCHAR, trimmedSlice } from "./chars.ts";

const NO_TOKENS: string[] = [];

/** Largest request head (request line and fields); more is 431. */
export const MAX_REQUEST_HEAD = 64 * 1024;
/** Most field lines in one request head; more is 431. */
export const MAX_REQUEST_FIELDS = 256;
/** Longest request line; more is 414. */
export const MAX_REQUEST_LINE = 16 * 1024;

export interface RequestHead {
  readonly method: string;
  /** The path and query, origin-form ("/a/b?c"), with dot segments removed from the path. */
  readonly path: string;
  readonly query: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: number;
  /**
   * Field names as sent (validated tokens) and trimmed values, in order. `special[i]` is the lower-case name of a
   * field the proxy treats specially (see chars.ts specialName), "" for an ordinary end-to-end field.
   */
  readonly names: string[];
  readonly special: string[];
  readonly values: string[];
  /** The authority the request is for: the Host field, or the absolute-form target's ("" when neither). */
  readonly host: string;
  /** Body framing: a length (-1: none given), or chunked. */
  readonly contentLength: number;
  readonly chunked: boolean;
  /** Lower-case Connection tokens, joined over every Connection line. */
  readonly connection: readonly string[];
  /** The Upgrade value when the Connection field names upgrade, else null. */
  readonly upgrade: string | null;
  /** The client accepts trailers (TE: trailers). */
  readonly teTrailers: boolean;
  /** The head holds bytes above 0x7f (obs-text): it must be written as latin1 bytes, not as a JS string. */
  readonly highBytes: boolean;
}

export class RequestHeadError {
  constructor(
    readonly status: 400 | 405 | 414 | 431 | 501 | 505,
    readonly reason: string,
  ) {}
}

/**
 * Parse the head in `text` (latin1, up to but excluding the blank line's CRLF CRLF: `text` ends after the last
 * field line's content). Empty lines before the request line are refused, as strict parsers do.
 */
export function parseRequestHead(text: string): RequestHead | RequestHeadError {
  let at = 0;
  let lineEnd = text.indexOf("\r\n", at);
  if (lineEnd < 0) lineEnd = text.length;
  if (lineEnd - at > MAX_REQUEST_LINE) return new RequestHeadError(414, "request line too long");

  // request-line = method SP request-target SP HTTP-version
  const sp1 = text.indexOf(" ", at);
  if (sp1 <= at || sp1 >= lineEnd) return bad("malformed request line");
  const method = text.slice(at, sp1);
  for (let i = 0; i < method.length; i++) if (TCHAR[method.charCodeAt(i)] !== 1) return bad("malformed method");
  const sp2 = text.indexOf(" ", sp1 + 1);
  if (sp2 < 0 || sp2 >= lineEnd || sp2 === sp1 + 1) return bad("malformed request line");
  const rawTarget = text.slice(sp1 + 1, sp2);
  for (let i = 0; i < rawTarget.length; i++) if (TARGET[rawTarget.charCodeAt(i)] !== 1) return bad("invalid character in request target");
  const version = text.slice(sp2 + 1, lineEnd);
  let minor: number;
  if (version === "HTTP/1.1") minor = 1;
  else if (version === "HTTP/1.0") minor = 0;
  else if (/^HTTP\/\d\.\d$/.test(version)) return new RequestHeadError(505, `${version} is not supported`);
  else return bad("malformed HTTP version");
  if (method === "CONNECT") return new RequestHeadError(405, "CONNECT is not supported");

  const target = parseTarget(rawTarget, method);
  if (target instanceof RequestHeadError) return target;

  const names: string[] = [];
  const special: string[] = [];
  const values: string[] = [];
  let host: string | null = null;
  let hostCount = 0;
  let contentLength = -1;
  let lengthSeen = false;
  let codings: string[] | null = null;
  let connection: string[] = NO_TOKENS;
  let upgrade: string | null = null;
  let teTrailers = false;
  let highBytes = false;

  at = lineEnd + 2;
  while (at < text.length) {
    let next = text.indexOf("\r\n", at);
    if (next < 0) next = text.length;
    if (names.length === MAX_REQUEST_FIELDS) return new RequestHeadError(431, `more than ${MAX_REQUEST_FIELDS} header fields`);
    const first = text.charCodeAt(at);
    if (first === 32 || first === 9) return bad("obsolete line folding in a header field");
    // field-name ":" OWS field-value OWS
    let colon = at;
    while (colon < next && TCHAR[text.charCodeAt(colon)] === 1) colon++;
    if (colon === at || colon === next || text.charCodeAt(colon) !== 58) {
      const c = text.charCodeAt(colon);
      return bad(c === 32 || c === 9 ? "whitespace between a header field name and its colon" : "malformed header field name");
    }
    for (let i = colon + 1; i < next; i++) {
      const c = text.charCodeAt(i);
      if (REQUEST_VALUE[c] !== 1) return bad(c === 10 || c === 13 ? "bare CR or LF in a header field" : c === 0 ? "NUL in a header field" : "control character in a header field");
      if (c > 0x7f) highBytes = true;
    }
    const name = text.slice(at, colon);
    const lower = specialName(name);
    const value = trimmedSlice(text, colon + 1, next);
    if (lower !== "") switch (lower) {
      case "host":
        hostCount++;
        if (hostCount > 1) return bad("more than one Host header field");
        for (let i = 0; i < value.length; i++) if (HOST[value.charCodeAt(i)] !== 1) return bad("invalid Host header field");
        host = value;
        break;
      case "content-length":
        contentLength = combineContentLength(value, contentLength);
        if (contentLength === INVALID_LENGTH) return bad("invalid Content-Length");
        if (contentLength === CONFLICTING_LENGTH) return bad("conflicting Content-Length values");
        lengthSeen = true;
        break;
      case "transfer-encoding":
        codings = (codings ?? ([] as string[])).concat(listTokens(value));
        break;
      case "connection":
        connection = connection.concat(listTokens(value));
        break;
      case "upgrade":
        upgrade = upgrade === null ? value : `${upgrade}, ${value}`;
        break;
      case "te":
        if (listTokens(value).some((t) => t === "trailers" || t.startsWith("trailers;"))) teTrailers = true;
        break;
    }
    names.push(name);
    special.push(lower);
    values.push(value);
    at = next + 2;
  }

  let chunked = false;
  if (codings !== null) {
    if (minor === 0) return bad("Transfer-Encoding in an HTTP/1.0 request");
    if (lengthSeen) return bad("both Transfer-Encoding and Content-Length");
    if (codings[codings.length - 1] !== "chunked") return bad("Transfer-Encoding does not end with chunked");
    for (let i = 0; i < codings.length - 1; i++) {
      const c = codings[i]!;
      if (c === "chunked") return bad("chunked applied more than once");
      return new RequestHeadError(501, `transfer coding ${JSON.stringify(c)} is not supported`);
    }
    chunked = true;
  }
  if (minor === 1 && host === null) return bad("missing Host header field");
  const authority = target.authority ?? host ?? "";
  return {
    method,
    path: target.path,
    query: target.query,
    minor,
    names,
    special,
    values,
    host: authority,
    contentLength,
    chunked,
    connection,
    upgrade: connection.includes("upgrade") ? upgrade : null,
    teTrailers,
    highBytes,
  };
}

function bad(reason: string): RequestHeadError {
  return new RequestHeadError(400, reason);
}

interface Target {
  path: string;
  query: string;
  /** From an absolute-form target: it replaces the Host field (RFC 9112 §3.2.2). */
  authority: string | undefined;
}

/** origin-form or absolute-form (http/https); asterisk-form and authority-form are refused. */
function parseTarget(raw: string, method: string): Target | RequestHeadError {
  let authority: string | undefined;
  let rest = raw;
  if (raw.charCodeAt(0) !== 47 /* / */) {
    if (raw === "*") return bad(method === "OPTIONS" ? "asterisk-form (OPTIONS *) is not supported" : "asterisk-form target");
    const lower = raw.slice(0, 8).toLowerCase();
    const schemeEnd = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : -1;
    if (schemeEnd < 0) return bad("request target must be a path or an http(s) URL");
    let end = schemeEnd;
    while (end < raw.length && raw.charCodeAt(end) !== 47 && raw.charCodeAt(end) !== 63 && raw.charCodeAt(end) !== 35) end++;
    authority = raw.slice(schemeEnd, end);
    if (authority.includes("@")) return bad("userinfo in request target");
    for (let i = 0; i < authority.length; i++) if (HOST[authority.charCodeAt(i)] !== 1) return bad("invalid authority in request target");
    rest = raw.slice(end);
    if (rest === "" || rest.charCodeAt(0) === 63) rest = `/${rest}`;
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) return bad("fragment in request target");
  const q = rest.indexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  return { path: removeDotSegments(path), query: q < 0 ? "" : rest.slice(q), authority };
}

/**
 * RFC 3986 §5.2.4, with "%2e" counted as a dot: the route is decided on the path the app will see, so that
 * "/a/../b" or "/a/%2e%2e/b" cannot reach one app's routes through another's prefix.
 */
export function removeDotSegments(path: string): string {
  if (!path.includes(".") && !/%2e/i.test(path)) return path;
  const out: string[] = [];
  const segments = path.split("/");
  // segments[0] is "" (the path starts with "/").
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const plain = seg.replace(/%2e/gi, ".");
    const last = i === segments.length - 1;
    if (plain === ".") {
      if (last) out.push("");
    } else if (plain === "..") {
      out.pop();
      if (last) out.push("");
    } else {
      out.push(seg);
    }
  }
  return `/${out.join("/")}`;
}
