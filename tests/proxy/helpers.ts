/**
 * Test helpers for the proxy: a fake AppUpstream (delayed readiness, scripted failures, activity counters), plain
 * Bun upstreams on 127.0.0.1 ephemeral ports, a raw HTTP/1.1 client for header-level checks, and route builders.
 */
import type { Socket } from "bun";
import { CONTAINER_URL, type ProxyRoute } from "../../src/runtime/app-config.ts";
import type { AppUpstream, UpstreamError } from "../../src/proxy/index.ts";

/** An AppUpstream whose readiness the test controls; counts every accounting call. */
export class FakeUpstream implements AppUpstream {
  begins = 0;
  ends = 0;
  opens = 0;
  closes = 0;
  readyCalls = 0;

  constructor(
    public url: string,
    /** Milliseconds every ensureReady waits (a cold start). */
    public delayMs = 0,
    /** Thrown by ensureReady after the delay. */
    public failure: UpstreamError | undefined = undefined,
  ) {}

  async ensureReady(signal?: AbortSignal): Promise<string> {
    this.readyCalls++;
    if (this.delayMs > 0) await Bun.sleep(this.delayMs);
    signal?.throwIfAborted();
    if (this.failure !== undefined) throw this.failure;
    return this.url;
  }
  beginRequest(): void {
    this.begins++;
  }
  endRequest(): void {
    this.ends++;
  }
  openStream(): void {
    this.opens++;
  }
  closeStream(): void {
    this.closes++;
  }
  /** Requests and streams still counted as active. */
  get active(): number {
    return this.begins - this.ends + this.opens - this.closes;
  }
}

export function route(over: Partial<ProxyRoute> = {}): ProxyRoute {
  return { path: "/", url: CONTAINER_URL, stripPath: "", preserveHost: false, stripApp: true, responseHeaders: {}, ...over };
}

/** Poll until `cond` holds or `ms` pass; returns whether it held. */
export async function waitFor(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(10);
  }
  return cond();
}

export interface RawResponse {
  status: number;
  head: string;
  headers: Map<string, string[]>;
  body: Buffer;
}

/**
 * Send `request` (a full HTTP/1.1 request text, which must ask for Connection: close) over a fresh TCP
 * connection and return the parsed response once the server closes.
 */
export function rawRequest(port: number, request: string, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const split = all.indexOf("\r\n\r\n");
      if (split < 0) return reject(new Error(`no complete response head: ${JSON.stringify(all.toString())}`));
      const head = all.subarray(0, split).toString();
      const lines = head.split("\r\n");
      const headers = new Map<string, string[]>();
      for (const line of lines.slice(1)) {
        const c = line.indexOf(":");
        const name = line.slice(0, c).trim().toLowerCase();
        headers.set(name, [...(headers.get(name) ?? []), line.slice(c + 1).trim()]);
      }
      let body: Buffer = all.subarray(split + 4);
      if (headers.get("transfer-encoding")?.[0] === "chunked") body = dechunk(body);
      resolve({ status: Number(lines[0]!.split(" ")[1]), head, headers, body });
    };
    let sock: Socket | undefined;
    const timer = setTimeout(() => {
      sock?.end();
      finish();
    }, timeoutMs);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          sock = s;
          s.write(request);
        },
        data(_s, d) {
          chunks.push(Buffer.from(d));
        },
        close: finish,
        error(_s, err) {
          if (!settled) reject(err);
        },
      },
    }).catch(reject);
  });
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString(), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Bytes of a gzip body the tests compare byte for byte. */
export const GZIP_BODY = Bun.gzipSync(Buffer.from("hello, compressed world\n".repeat(200)));

/** What the test upstream remembers about the requests it saw. */
export interface UpstreamLog {
  lastHeaders: Record<string, string>;
  uploadFirstByteAt: number;
  uploadBytes: number;
  cancelledStreams: number;
  streamCancelledAt: number;
  slowAborted: number;
}

/** A plain Bun upstream with the endpoints the tests use. */
export function startUpstream() {
  const log: UpstreamLog = { lastHeaders: {}, uploadFirstByteAt: 0, uploadBytes: 0, cancelledStreams: 0, streamCancelledAt: 0, slowAborted: 0 };
  const server = Bun.serve<{ protocol: string }>({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 30,
    async fetch(req, srv) {
      const url = new URL(req.url);
      const p = url.pathname;
      log.lastHeaders = Object.fromEntries(req.headers);
      if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
        const offered = req.headers.get("sec-websocket-protocol") ?? "";
        const chosen = offered.split(",").map((s) => s.trim()).find((s) => s === "chat.v2") ?? "";
        return srv.upgrade(req, { data: { protocol: chosen }, headers: chosen ? { "sec-websocket-protocol": chosen } : {} })
          ? undefined
          : new Response("upgrade failed", { status: 400 });
      }
      if (p.startsWith("/status/")) {
        const code = Number(p.slice(8));
        return new Response(code === 204 || code === 304 ? null : `status ${code}\n`, {
          status: code,
          statusText: "Custom Reason",
          headers: code === 302 ? { location: "/elsewhere" } : {},
        });
      }
      switch (p) {
        case "/gzip":
          return new Response(GZIP_BODY, { headers: { "content-encoding": "gzip", "content-type": "text/plain" } });
        case "/sse": {
          let i = 0;
          return new Response(
            new ReadableStream({
              async pull(c) {
                if (i === 3) return c.close();
                if (i > 0) await Bun.sleep(300);
                c.enqueue(new TextEncoder().encode(`data: event ${i++}\n\n`));
              },
            }),
            { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
          );
        }
        case "/forever":
          return new Response(
            new ReadableStream({
              async pull(c) {
                await Bun.sleep(20);
                c.enqueue(new Uint8Array(1024));
              },
              cancel() {
                log.cancelledStreams++;
                log.streamCancelledAt = Date.now();
              },
            }),
            { headers: { "content-type": "application/octet-stream" } },
          );
        case "/slow": {
          // Answers after 5 s unless the request is aborted first.
          const aborted = new Promise<boolean>((resolve) => req.signal.addEventListener("abort", () => resolve(true)));
          if (await Promise.race([aborted, Bun.sleep(5000).then(() => false)])) {
            log.slowAborted++;
            return new Response("aborted");
          }
          return new Response("slow done");
        }
        case "/upload": {
          let n = 0;
          for await (const chunk of req.body!) {
            if (n === 0) log.uploadFirstByteAt = Date.now();
            n += chunk.byteLength;
            log.uploadBytes = n;
          }
          return Response.json({ bytes: n });
        }
        case "/hop":
          return new Response("hop", {
            headers: { "keep-alive": "timeout=5", connection: "x-private", "x-private": "secret", "proxy-authenticate": "Basic", "x-public": "yes" },
          });
        case "/cookies": {
          const h = new Headers();
          h.append("set-cookie", "a=1; Path=/");
          h.append("set-cookie", "b=2; Path=/");
          return new Response("cookies", { headers: h });
        }
        default:
          return Response.json({
            method: req.method,
            path: p + url.search,
            host: req.headers.get("host"),
            headers: Object.fromEntries(req.headers),
            body: req.body === null ? "" : await req.text(),
          });
      }
    },
    websocket: {
      message(ws, msg) {
        if (typeof msg === "string" && msg.startsWith("close:")) {
          const [, code, reason] = msg.split(":");
          ws.close(Number(code), reason);
          return;
        }
        if (msg === "protocol?") return void ws.send(`protocol=${ws.data.protocol}`);
        ws.send(msg);
      },
      close(ws, code, reason) {
        closes.push({ code, reason });
      },
    },
  });
  const closes: { code: number; reason: string }[] = [];
  return { server, url: `http://127.0.0.1:${server.port}`, log, wsCloses: closes };
}
