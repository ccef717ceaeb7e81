/**
 * Header rules of a reverse proxy: hop-by-hop headers never cross (in either direction), X-Forwarded-* tell the
 * app who asked and where it is mounted, and Host is the upstream's unless the route preserves it. Written as
 * plain loops over the header list with a Set lookup per name: this runs for every request.
 */
import { PEER_HEADER } from "./peer.ts";

/** Hop-by-hop headers (RFC 9110 §7.6.1, plus the legacy ones Go's ReverseProxy also drops). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Request headers the proxy sets itself. */
const REPLACED_ON_REQUEST = new Set(["host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-prefix", PEER_HEADER]);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith("proxy-");
}

/** Lower-case names listed in a Connection header ("keep-alive, x-foo" → ["keep-alive", "x-foo"]). */
export function connectionNamed(connection: string | null): string[] | undefined {
  if (connection === null || connection === "") return undefined;
  const names: string[] = [];
  for (const part of connection.split(",")) {
    const name = part.trim().toLowerCase();
    if (name !== "" && name !== "close" && name !== "keep-alive" && name !== "upgrade") names.push(name);
  }
  return names.length === 0 ? undefined : names;
}

/** Per-request facts the forwarded headers need. */
export interface ForwardInfo {
  /** The client's address, normalised (no ::ffff: prefix). */
  clientIp: string;
  /** "http" or "https": the listener the request came in on. */
  proto: string;
  /** The client's Host header ("" when it sent none). */
  host: string;
  /** The app's mount path ("" for an app at "/", which Clace does not announce). */
  prefix: string;
  /** Keep the client's Host (else the fetch sets the upstream's). */
  preserveHost: boolean;
}

/**
 * The headers sent upstream: the client's minus hop-by-hop and Connection-named ones, with X-Forwarded-* set
 * (For appended to what earlier proxies wrote) and Host kept only when the route preserves it.
 */
export function upstreamRequestHeaders(incoming: Headers, info: ForwardInfo): Headers {
  const out = new Headers();
  const named = connectionNamed(incoming.get("connection"));
  let priorFor: string | null = null;
  for (const [name, value] of incoming) {
    if (isHopByHop(name)) {
      // TE is hop-by-hop, but "trailers" in it says the client accepts trailers, which the upstream may use.
      if (name === "te" && value.toLowerCase().includes("trailers")) out.set("te", "trailers");
      continue;
    }
    if (REPLACED_ON_REQUEST.has(name)) {
      if (name === "x-forwarded-for") priorFor = value;
      continue;
    }
    if (named !== undefined && named.includes(name)) continue;
    out.append(name, value);
  }
  if (info.preserveHost && info.host !== "") out.set("host", info.host);
  out.set("x-forwarded-for", priorFor === null ? info.clientIp : `${priorFor}, ${info.clientIp}`);
  out.set("x-forwarded-proto", info.proto);
  if (info.host !== "") out.set("x-forwarded-host", info.host);
  if (info.prefix !== "") out.set("x-forwarded-prefix", info.prefix);
  return out;
}

/** The headers sent to the client: the upstream's minus hop-by-hop and Connection-named ones. */
export function clientResponseHeaders(upstream: Headers): Headers {
  const out = new Headers();
  const named = connectionNamed(upstream.get("connection"));
  for (const [name, value] of upstream) {
    if (isHopByHop(name)) continue;
    if (named !== undefined && named.includes(name)) continue;
    // Set-Cookie must stay separate values: Headers iteration yields each one on its own.
    out.append(name, value);
  }
  return out;
}

/** "::ffff:127.0.0.1" → "127.0.0.1"; other addresses unchanged. */
export function normaliseIp(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/**
 * The same rules as upstreamRequestHeaders, written straight into an HTTP/1.1 request head (header lines, ending
 * with the blank line's CRLF left to the caller) for the pooled client. `upstreamHost` is the Host to send when
 * the route does not preserve the client's.
 */
export function upstreamRequestHead(incoming: Headers, info: ForwardInfo, upstreamHost: string): string {
  const named = connectionNamed(incoming.get("connection"));
  let priorFor: string | null = null;
  let head = `host: ${info.preserveHost && info.host !== "" ? info.host : upstreamHost}\r\n`;
  for (const [name, value] of incoming) {
    if (isHopByHop(name)) {
      if (name === "te" && value.toLowerCase().includes("trailers")) head += "te: trailers\r\n";
      continue;
    }
    if (REPLACED_ON_REQUEST.has(name)) {
      if (name === "x-forwarded-for") priorFor = value;
      continue;
    }
    if (named !== undefined && named.includes(name)) continue;
    head += `${name}: ${value}\r\n`;
  }
  return head + forwardedLines(info, priorFor);
}

/**
 * upstreamRequestHead over a header list parsed from the wire (lower-case names, trimmed values) instead of a
 * Headers object, for the fast front end. `connection` is the Connection header's value (null when absent).
 */
export function upstreamRequestHeadFromList(names: readonly string[], values: readonly string[], count: number, connection: string | null, info: ForwardInfo, upstreamHost: string): string {
  const named = connectionNamed(connection);
  let priorFor: string | null = null;
  let head = hostLine(info, upstreamHost);
  for (let i = 0; i < count; i++) {
    const name = names[i]!;
    const value = values[i]!;
    if (isHopByHop(name)) {
      if (name === "te" && value.toLowerCase().includes("trailers")) head += "te: trailers\r\n";
      continue;
    }
    if (REPLACED_ON_REQUEST.has(name)) {
      // Several X-Forwarded-For lines read as one list, as Headers.get joins them.
      if (name === "x-forwarded-for") priorFor = priorFor === null ? value : `${priorFor}, ${value}`;
      continue;
    }
    if (named !== undefined && named.includes(name)) continue;
    head += `${name}: ${value}\r\n`;
  }
  return head + forwardedLines(info, priorFor);
}

/** The Host line sent upstream: the client's when the route preserves it, else the upstream's own. */
export function hostLine(info: ForwardInfo, upstreamHost: string): string {
  return `host: ${info.preserveHost && info.host !== "" ? info.host : upstreamHost}\r\n`;
}

/** The X-Forwarded-* lines; `priorFor` is what earlier proxies wrote in X-Forwarded-For (null: none). */
export function forwardedLines(info: ForwardInfo, priorFor: string | null): string {
  let lines = `x-forwarded-for: ${priorFor === null ? info.clientIp : `${priorFor}, ${info.clientIp}`}\r\nx-forwarded-proto: ${info.proto}\r\n`;
  if (info.host !== "") lines += `x-forwarded-host: ${info.host}\r\n`;
  if (info.prefix !== "") lines += `x-forwarded-prefix: ${info.prefix}\r\n`;
  return lines;
}
