/**
 * Header rules of the reverse proxy, in one place for every request and answer: hop-by-hop fields and the fields
 * a Connection header names never cross (either way); framing fields are written by the proxy from what it
 * parsed; X-Forwarded-* say who asked and where the app is mounted; Host is the upstream's unless the route
 * preserves the client's. Both builders write complete HTTP/1.1 heads from parsed values only.
 */
import type { CompiledRoute } from "./app-table.ts";
import type { RequestHead } from "./http1/request.ts";
import type { ResponseHead } from "./http1/response.ts";

/** Hop-by-hop fields (RFC 9110 §7.6.1, plus the legacy ones Go's ReverseProxy also drops). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Request fields the proxy writes itself. */
const SET_ON_REQUEST = new Set(["host", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-prefix"]);

/** Connection tokens that are options, not field names. */
const CONNECTION_OPTIONS = new Set(["close", "keep-alive", "upgrade"]);

export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName) || lowerName.startsWith("proxy-");
}

/** Per-request facts the forwarded fields need. */
export interface ForwardInfo {
  /** The client's address, normalised (no ::ffff: prefix). */
  clientIp: string;
  /** "http" or "https": the listener the request came in on. */
  proto: string;
  /** The app's mount path ("" for an app at "/", which Clace does not announce). */
  prefix: string;
}

/** "::ffff:127.0.0.1" → "127.0.0.1"; other addresses unchanged. */
export function normaliseIp(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** A field named by a Connection header (`name` as sent): dropped by the proxy. */
function connectionNamed(connection: readonly string[], name: string): boolean {
  let lower: string | undefined;
  for (let i = 0; i < connection.length; i++) {
    const t = connection[i]!;
    if (CONNECTION_OPTIONS.has(t)) continue;
    lower ??= name.toLowerCase();
    if (t === lower) return true;
  }
  return false;
}

/**
 * The request head for the upstream: request line, Host, the client's end-to-end fields, framing, the WebSocket
 * upgrade when `upgrade` is set, and X-Forwarded-* (For appended to what earlier proxies wrote).
 */
export function upstreamRequestHead(req: RequestHead, target: string, route: CompiledRoute, info: ForwardInfo, upstreamHost: string, upgrade: boolean): string {
  let head = `${req.method} ${target} HTTP/1.1\r\nhost: ${route.preserveHost && req.host !== "" ? req.host : upstreamHost}\r\n`;
  const { names, special, values, connection } = req;
  let priorFor: string | null = null;
  for (let i = 0; i < names.length; i++) {
    const lower = special[i]!;
    if (lower !== "" && (isHopByHop(lower) || SET_ON_REQUEST.has(lower))) {
      // Several X-Forwarded-For lines read as one list.
      if (lower === "x-forwarded-for") priorFor = priorFor === null ? values[i]! : `${priorFor}, ${values[i]!}`;
      continue;
    }
    if (connection.length > 0 && connectionNamed(connection, names[i]!)) continue;
    head += `${names[i]!}: ${values[i]!}\r\n`;
  }
  if (req.chunked) head += "transfer-encoding: chunked\r\n";
  else if (req.contentLength >= 0) head += `content-length: ${req.contentLength}\r\n`;
  // TE is hop-by-hop, but "trailers" says the client accepts trailers, which the upstream may use.
  if (req.teTrailers) head += "te: trailers\r\n";
  if (upgrade) head += `connection: upgrade\r\nupgrade: ${req.upgrade}\r\n`;
  head += `x-forwarded-for: ${priorFor === null ? info.clientIp : `${priorFor}, ${info.clientIp}`}\r\nx-forwarded-proto: ${info.proto}\r\n`;
  if (req.host !== "") head += `x-forwarded-host: ${req.host}\r\n`;
  if (info.prefix !== "") head += `x-forwarded-prefix: ${info.prefix}\r\n`;
  return `${head}\r\n`;
}

/** How the proxy frames an answer's body towards the client. */
export const enum Framing {
  /** No body follows (HEAD, 1xx, 204, 304): a Content-Length the app sent is kept as it describes the resource. */
  None,
  Length,
  Chunked,
  /** Delimited by closing the connection. */
  Close,
}

export interface AnswerShape {
  framing: Framing;
  /** Say "connection: close" (the client connection ends after this answer). */
  close: boolean;
  /** An HTTP/1.0 client kept alive: say "connection: keep-alive". */
  keepAlive10: boolean;
  /** A 101 answer: keep the Upgrade field and say "connection: upgrade". */
  upgrade: boolean;
  /** The request path, for `$url` in the route's response headers. */
  path: string;
  /**
   * A Location naming the upstream itself ("http://127.0.0.1:32788/x", what an app behind a rewritten Host
   * builds) is rewritten to the address the client used, as nginx's proxy_redirect default does.
   */
  upstreamOrigin?: string;
  clientOrigin?: string;
}

/**
 * The answer head for the client, from the app's parsed head. Framing fields are written where the app had them
 * (with the proxy's values), so that a canonical head written anew is byte for byte the app's.
 */
export function clientResponseHead(res: ResponseHead, route: CompiledRoute | undefined, shape: AnswerShape): string {
  let head = `HTTP/1.1 ${res.status} ${res.reason}\r\n`;
  const { names, special, values, connection } = res;
  const extra = route === undefined ? EMPTY : route.responseHeaders;
  const framing = shape.framing;
  let upgradeValue = "";
  let wroteLength = false;
  let wroteChunked = false;
  for (let i = 0; i < names.length; i++) {
    const lower = special[i]!;
    if (lower !== "") {
      if (lower === "content-length") {
        // Kept on HEAD/304 answers too: there it describes the resource, not this message.
        if (!wroteLength && (framing === Framing.Length || framing === Framing.None) && res.contentLength >= 0) head += `${names[i]!}: ${res.contentLength}\r\n`;
        wroteLength = true;
        continue;
      }
      if (lower === "transfer-encoding") {
        if (!wroteChunked && framing === Framing.Chunked) head += `${names[i]!}: chunked\r\n`;
        wroteChunked = true;
        continue;
      }
      if (isHopByHop(lower)) {
        if (lower === "upgrade") upgradeValue = values[i]!;
        continue;
      }
      if (lower === "location" && shape.upstreamOrigin !== undefined) {
        head += `${names[i]!}: ${rewriteLocation(values[i]!, shape.upstreamOrigin, shape.clientOrigin!)}\r\n`;
        continue;
      }
    }
    if (connection.length > 0 && connectionNamed(connection, names[i]!)) continue;
    if (extra.length > 0 && replacedBy(extra, names[i]!.toLowerCase())) continue;
    head += `${names[i]!}: ${values[i]!}\r\n`;
  }
  if (framing === Framing.Length && !wroteLength) head += `content-length: ${res.contentLength}\r\n`;
  if (framing === Framing.Chunked && !wroteChunked) head += "transfer-encoding: chunked\r\n";
  for (let i = 0; i < extra.length; i++) {
    const h = extra[i]!;
    head += `${h.name}: ${h.hasUrl ? h.value.replaceAll("$url", shape.path) : h.value}\r\n`;
  }
  if (shape.upgrade) head += `connection: upgrade\r\nupgrade: ${upgradeValue}\r\n`;
  else if (shape.close) head += "connection: close\r\n";
  else if (shape.keepAlive10) head += "connection: keep-alive\r\n";
  return `${head}\r\n`;
}

const EMPTY: CompiledRoute["responseHeaders"] = [];

function replacedBy(extra: CompiledRoute["responseHeaders"], lowerName: string): boolean {
  for (let i = 0; i < extra.length; i++) if (extra[i]!.lowerName === lowerName) return true;
  return false;
}

/** `value` with the upstream's origin replaced by the client's, when it starts with it (on a path boundary). */
export function rewriteLocation(value: string, upstreamOrigin: string, clientOrigin: string): string {
  const n = upstreamOrigin.length;
  if (value.length < n || value.slice(0, n).toLowerCase() !== upstreamOrigin) return value;
  const next = value.charCodeAt(n);
  if (value.length > n && next !== 47 && next !== 63 && next !== 35) return value;
  return clientOrigin + value.slice(n);
}
