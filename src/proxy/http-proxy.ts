/**
 * The streaming reverse proxy for one HTTP exchange: wait for a ready upstream (holding the request through a
 * cold start), send the request with its body streamed, and stream the answer back with the upstream's status and
 * encoding intact (a large body may reach the client chunked: Bun.serve frames streamed bodies itself). Idle accounting: the request counts from arrival until the upstream's headers; a
 * body still flowing after that counts as a stream until it ends or the client goes away.
 */
import type { Server } from "bun";
import type { CompiledRoute, MountedApp } from "./app-table.ts";
import { badGatewayPage, errorResponse, readinessErrorPage } from "./errors.ts";
import { H1Client, type H1Result } from "./h1-client.ts";
import { clientResponseHeaders, upstreamRequestHead, upstreamRequestHeaders, type ForwardInfo } from "./headers.ts";
import { relayedPeer } from "./peer.ts";
import { unwatch, watch, type Watched } from "./slow-watch.ts";
import type { AppUpstream, ReadyUrlProbe } from "./upstream.ts";

/** What the dispatcher hands over: the matched app and route, and the request split once. */
export interface ProxyExchange {
  req: Request;
  server: Server<unknown>;
  app: MountedApp;
  route: CompiledRoute;
  /** Request path without the query. */
  path: string;
  /** "?a=b" or "". */
  query: string;
  proto: string;
  /** The server's idle timeout, restored once the exchange is over (server.timeout(req, 0) sticks to the socket). */
  idleTimeout: number;
}

/** Answer for a client that went away: nobody reads it. */
const CLIENT_GONE_STATUS = 499;

export function proxyHttp(x: ProxyExchange): Response | Promise<Response> {
  const upstream = x.route.upstream;
  upstream.beginRequest();
  const base = readyUrl(upstream);
  if (base === undefined) return proxyAfterStart(x, upstream);
  return forward(x, upstream, base, false);
}

/** The cold path: hold the request until the upstream is ready. */
async function proxyAfterStart(x: ProxyExchange, upstream: AppUpstream): Promise<Response> {
  const { req, server } = x;
  // Bun closes a request that writes nothing for idleTimeout seconds, even while we await a cold start: lift it
  // for this exchange and restore it when the exchange ends (server.timeout(req, 0) sticks to the socket).
  server.timeout(req, 0);
  let base: string;
  try {
    base = await upstream.ensureReady(req.signal);
  } catch (err) {
    upstream.endRequest();
    server.timeout(req, x.idleTimeout);
    if (req.signal.aborted) return new Response(null, { status: CLIENT_GONE_STATUS });
    return errorResponse(readinessErrorPage(err, x.app.name), req.headers.get("accept"));
  }
  return forward(x, upstream, base, true);
}

/** `lifted`: the idle timeout was lifted already (cold path). */
function forward(x: ProxyExchange, upstream: AppUpstream, base: string, lifted: boolean): Response | Promise<Response> {
  const { req, server, route } = x;
  const headers = req.headers;
  const info: ForwardInfo = {
    clientIp: clientIp(server, req),
    proto: x.proto,
    host: headers.get("host") ?? "",
    prefix: x.app.prefix,
    preserveHost: route.preserveHost,
  };
  // Fast path: a bodiless request to a plain-http upstream goes through the pooled HTTP/1.1 client.
  if (req.body === null && base.startsWith("http://")) return proxyPooled(x, upstream, base, info, lifted);
  // Request bodies may take long to send: lift the idle timeout now.
  if (!lifted) server.timeout(req, 0);
  return proxyFetch(x, upstream, base, info);
}

async function proxyFetch(x: ProxyExchange, upstream: AppUpstream, base: string, info: ForwardInfo): Promise<Response> {
  const { req, server, route } = x;
  const method = req.method;
  const init: RequestInit & { decompress: boolean; duplex: "half" } = {
    method,
    headers: upstreamRequestHeaders(req.headers, info),
    body: req.body,
    duplex: "half",
    // Pass encoded bodies through untouched: Bun would otherwise decode them but keep Content-Encoding.
    decompress: false,
    redirect: "manual",
    signal: req.signal,
  };
  const target = base + upstreamPath(x.path, route) + x.query;

  let res: Response;
  try {
    // Bun's fetch itself retries a GET/HEAD exactly once when a pooled connection turns out to be closed, and never
    // a POST/PUT/PATCH (checked on 1.4.5; tests/proxy/errors.test.ts pins it): no retry of our own on top.
    res = await fetch(target, init);
  } catch (err) {
    return failed(x, upstream, err, true);
  }

  const headers = clientResponseHeaders(res.headers);
  addResponseHeaders(headers, x);
  const upstreamBody = res.body;
  if (upstreamBody === null || method === "HEAD") {
    if (upstreamBody !== null) upstreamBody.cancel().catch(ignore);
    upstream.endRequest();
    server.timeout(req, x.idleTimeout);
    return new Response(null, { status: res.status, statusText: res.statusText, headers });
  }
  upstream.openStream();
  upstream.endRequest();
  const relay = new BodyRelay(upstreamBody, upstream, server, req, x.idleTimeout);
  return new Response(new ReadableStream(relay), { status: res.status, statusText: res.statusText, headers });
}

/** The route's response_headers, with $url replaced by the request path. */
function addResponseHeaders(headers: Headers, x: ProxyExchange): void {
  const extra = x.route.responseHeaders;
  for (let i = 0; i < extra.length; i++) {
    const h = extra[i]!;
    headers.set(h.name, h.hasUrl ? h.value.replaceAll("$url", x.path) : h.value);
  }
}

/** One client for the process: its pools are per upstream host:port. */
const pooled = new H1Client();

/**
 * One exchange on the pooled client. Bun's idle timeout is lifted only when the exchange lasts (see
 * slow-watch.ts): a quick exchange never touches it, so there is nothing to restore either.
 */
class PooledExchange implements Watched {
  constructor(
    private readonly x: ProxyExchange,
    private readonly upstream: AppUpstream,
    private lifted: boolean,
  ) {
    if (!lifted) watch(this);
  }

  promote(): void {
    if (this.lifted) return;
    this.lifted = true;
    this.x.server.timeout(this.x.req, 0);
  }

  /** The exchange is over for Bun's idle timer: restore it if it was lifted, else stop watching. */
  settle(): void {
    if (this.lifted) this.x.server.timeout(this.x.req, this.x.idleTimeout);
    else unwatch(this);
  }

  answered(result: H1Result): Response {
    const res = result.response;
    if (this.x.route.responseHeaders.length > 0) addResponseHeaders(res.headers, this.x);
    const streaming = result.streaming;
    const upstream = this.upstream;
    if (streaming === undefined) {
      upstream.endRequest();
      this.settle();
    } else {
      upstream.openStream();
      upstream.endRequest();
      streaming.then(() => {
        upstream.closeStream();
        this.settle();
      });
    }
    return res;
  }

  failed(err: unknown): Response {
    this.settle();
    return failed(this.x, this.upstream, err, false);
  }
}

function proxyPooled(x: ProxyExchange, upstream: AppUpstream, base: string, info: ForwardInfo, lifted: boolean): Promise<Response> {
  const { req, route } = x;
  const slash = base.indexOf("/", 7);
  const origin = slash < 0 ? base : base.slice(0, slash);
  const basePath = slash < 0 ? "" : base.slice(slash);
  const exchange = new PooledExchange(x, upstream, lifted);
  return pooled
    .request(origin, req.method, basePath + upstreamPath(x.path, route) + x.query, upstreamRequestHead(req.headers, info, origin.slice(7)), req.signal)
    .then(
      (result) => exchange.answered(result),
      (err: unknown) => exchange.failed(err),
    );
}

/**
 * Pulls the upstream body chunk by chunk into the client response (nothing buffered beyond one chunk) and ends
 * the stream accounting exactly once: at the end of the body, on an upstream error, or when the client goes away.
 */
export class BodyRelay {
  private readonly reader: ChunkReader;
  private done = false;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly upstream: AppUpstream,
    private readonly server: Server<unknown>,
    private readonly req: Request,
    private readonly idleTimeout: number,
  ) {
    this.reader = body.getReader();
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let chunk: { done: boolean; value?: Uint8Array };
    try {
      chunk = await this.reader.read();
    } catch (err) {
      this.finish();
      controller.error(err);
      return;
    }
    if (chunk.done) {
      this.finish();
      controller.close();
    } else {
      controller.enqueue(chunk.value!);
    }
  }

  cancel(reason: unknown): void {
    this.finish();
    this.reader.cancel(reason).catch(ignore);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.upstream.closeStream();
    this.server.timeout(this.req, this.idleTimeout);
  }
}

/** The part of a stream reader the relay uses. */
interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

/** The request path as the upstream should see it: the app path and strip_path removed, always starting with "/". */
export function upstreamPath(path: string, route: CompiledRoute): string {
  let p = path;
  const app = route.stripApp;
  // The app matched on a segment boundary, so the app path is always a prefix here.
  if (app !== "") p = p.slice(app.length);
  const strip = route.stripPath;
  if (strip !== "" && p.startsWith(strip)) p = p.slice(strip.length);
  return p.charCodeAt(0) === 47 /* "/" */ ? p : `/${p}`;
}

export function clientIp(server: Server<unknown>, req: Request): string {
  // Relayed by the fast front end: the socket peer is the front end; the header names the client.
  const relayed = relayedPeer(req.headers);
  if (relayed !== "") return relayed;
  const address = server.requestIP(req)?.address ?? "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

function readyUrl(upstream: AppUpstream): string | undefined {
  const probe = upstream as Partial<ReadyUrlProbe>;
  return probe.readyUrl === undefined ? undefined : probe.readyUrl();
}

/** `restoreTimeout`: the idle timeout was lifted by the caller and is restored here. */
function failed(x: ProxyExchange, upstream: AppUpstream, err: unknown, restoreTimeout: boolean): Response {
  upstream.endRequest();
  if (restoreTimeout) x.server.timeout(x.req, x.idleTimeout);
  if (x.req.signal.aborted) return new Response(null, { status: CLIENT_GONE_STATUS });
  return errorResponse(badGatewayPage(x.app.name, err), x.req.headers.get("accept"));
}

function ignore(): void {}
