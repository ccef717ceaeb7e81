/**
 * The fast front end of the HTTP listener: `Bun.listen` parsing HTTP/1.1 request heads itself. Bun.serve costs
 * more per request than a proxy can afford (a Request and Response object each, header objects, and uncorked
 * writes for answers that resolve outside the request callback), so the common exchange is done here on raw
 * sockets: a bodiless GET/HEAD for a warm app on a plain-http route is written to a pooled upstream connection
 * with the same header rules as the rest of the proxy, and the answer's head is rewritten while its body bytes pass
 * through untouched (Content-Length, chunked or until-close framing, no body for HEAD/1xx/204/304).
 *
 * Everything else — request bodies, upgrades, Expect, HTTP/1.0, the server's own paths, unknown hosts, cold or
 * broken apps, anything unusual in the request — is relayed byte for byte to the regular Bun.serve listening on a
 * private loopback port, each relayed head carrying the client's address (peer.ts). A relayed connection stays
 * relayed. Pipelined requests are taken one at a time, so answers leave in order.
 */
import type { Socket, TCPSocketListener } from "bun";
import { matchRoute, RESERVED_PREFIX, type AppTable, type CompiledRoute, type MountedApp } from "./app-table.ts";
import { ChunkedScanner } from "./chunked.ts";
import { badGatewayPage, errorResponse } from "./errors.ts";
import { connectionNamed, forwardedLines, hostLine, isHopByHop, normaliseIp, upstreamRequestHeadFromList, type ForwardInfo } from "./headers.ts";
import { upstreamPath } from "./http-proxy.ts";
import { IdlePool, MAX_HEAD, poolsByOrigin } from "./idle-pool.ts";
import { PEER_HEADER, peerHeaderLine } from "./peer.ts";
import type { AppUpstream, ReadyUrlProbe } from "./upstream.ts";

/** Pipelined bytes buffered while an exchange runs before the client is paused. */
const MAX_PIPELINED = 256 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n");
/** responseHead's answer for a head that goes to the client as it came. */
const VERBATIM = "\0";
/** Where each header line of the response head being parsed starts and ends. */
const lineStarts: number[] = [];
const lineEnds: number[] = [];

export interface FastFrontOptions {
  hostname: string;
  port: number;
  apps: AppTable;
  /** The internal Bun.serve's port on 127.0.0.1. */
  relayPort: number;
  idleTimeout: number;
  /** True while requests must wait for the ready gate: everything is relayed then. */
  gated: () => boolean;
}

/**
 * Characters allowed as-is in a request target on the fast path. Anything else (and dot segments, "%2e",
 * backslashes) goes to Bun.serve, whose URL parser may rewrite it: the upstream must see the same path either way.
 */
const TARGET_OK = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&()*+,;=:@/?%") TARGET_OK[c.charCodeAt(0)] = 1;

/** Header scratch for the whole process: heads are parsed synchronously one at a time, so two arrays serve all. */
const names: string[] = [];
const values: string[] = [];

export class FastFront {
  readonly listener: TCPSocketListener<Client>;
  readonly clients = new Set<Client>();
  stopping = false;

  constructor(readonly options: FastFrontOptions) {
    // One handler set per listener, so that open() knows its front (Bun.listen gives sockets no listener link).
    const handlers = { ...clientHandlers, open: (socket: Socket<Client>) => void (socket.data = new Client(socket, this)) };
    this.listener = Bun.listen<Client>({ hostname: options.hostname, port: options.port, socket: handlers });
  }

  get port(): number {
    return this.listener.port;
  }

  get hostname(): string {
    return this.listener.hostname;
  }

  /** Stop listening; without `force`, connections close once their exchange in flight is over. */
  stop(force: boolean): void {
    this.stopping = true;
    this.listener.stop(force);
    for (const c of [...this.clients]) {
      if (force) c.socket.terminate();
      else if (!c.busy && c.relay === undefined) c.socket.end();
      else c.closeAfter = true;
    }
  }
}

const clientHandlers = {
  data(socket: Socket<Client>, data: Buffer) {
    socket.data.onData(data);
  },
  drain(socket: Socket<Client>) {
    socket.data.onDrain();
  },
  close(socket: Socket<Client>) {
    socket.data?.onClose();
  },
  error(socket: Socket<Client>) {
    socket.data?.onClose();
  },
  timeout(socket: Socket<Client>) {
    socket.data?.onTimeout();
  },
};

/** One client connection. */
export class Client {
  /** Unparsed bytes (owned: never a view of Bun's read buffer). */
  buf: Buffer | undefined;
  /** An exchange is in flight (upstream, or an error answer being written). */
  busy = false;
  up: UpConn | undefined;
  relay: Relay | undefined;
  closeAfter = false;
  closed = false;
  paused = false;
  /** Bytes the socket did not take yet, in order. */
  out: Buffer[] | undefined;
  lastActive = performance.now();
  readonly ip: string;

  constructor(
    readonly socket: Socket<Client>,
    readonly front: FastFront,
  ) {
    this.ip = normaliseIp(socket.remoteAddress ?? "");
    socket.setNoDelay(true);
    socket.timeout(front.options.idleTimeout);
    front.clients.add(this);
  }

  onData(data: Buffer): void {
    const relay = this.relay;
    if (relay !== undefined) return relay.fromClient(data);
    if (this.busy || this.buf !== undefined) {
      this.buf = this.buf === undefined ? Buffer.from(data) : Buffer.concat([this.buf, data]);
      if (this.busy) {
        if (this.buf.length > MAX_PIPELINED && !this.paused) {
          this.paused = true;
          this.socket.pause();
        }
        return;
      }
      this.pump(this.buf, true);
      return;
    }
    this.pump(data, false);
  }

  /** Take requests from `buf` while none is in flight. `owned`: buf is ours to keep. */
  private pump(buf: Buffer, owned: boolean): void {
    this.buf = undefined;
    while (!this.busy && !this.closed && this.relay === undefined) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > MAX_HEAD) return this.startRelay(buf);
        // A head still arriving counts as activity for the idle timeout.
        this.lastActive = performance.now();
        this.buf = owned ? buf : Buffer.from(buf);
        return;
      }
      if (!this.tryFast(buf, end)) return this.startRelay(buf);
      if (buf.length === end + 4) return;
      buf = buf.subarray(end + 4);
    }
    if (this.relay !== undefined) {
      this.relay.fromClient(buf);
      return;
    }
    if (buf.length > 0) this.buf = owned ? buf : Buffer.from(buf);
  }

  /** Parse the head in buf[0, end) and start the exchange on the fast path; false to relay it instead. */
  private tryFast(buf: Buffer, end: number): boolean {
    const front = this.front;
    if (front.options.gated() || front.stopping) return false;
    const head = buf.toString("latin1", 0, end);
    const sp1 = head.indexOf(" ");
    const method = head.slice(0, sp1);
    const isHead = method === "HEAD";
    if (!isHead && method !== "GET") return false;
    const lineEnd = head.indexOf("\r\n");
    const sp2 = head.lastIndexOf(" ", lineEnd < 0 ? head.length : lineEnd);
    if (sp2 <= sp1 + 1 || (lineEnd < 0 ? head.length : lineEnd) !== sp2 + 9 || !head.startsWith("HTTP/1.1", sp2 + 1)) return false;
    const target = head.slice(sp1 + 1, sp2);
    if (!plainTarget(target)) return false;

    let host: string | null = null;
    let accept: string | null = null;
    let connection: string | null = null;
    let priorFor: string | null = null;
    let te = false;
    // Header lines the upstream gets unchanged are copied in runs; only names that may need care are cut out and
    // compared, picked by first letter and length (host, accept, x-forwarded-*, hop-by-hop, body and upgrade ones).
    const block = lineEnd < 0 ? head.length : lineEnd + 2;
    let kept = "";
    let runStart = block;
    let at = block;
    while (at < head.length) {
      let next = head.indexOf("\r\n", at);
      if (next < 0) next = head.length;
      const colon = head.indexOf(":", at);
      if (colon <= at || colon > next) return false;
      const c0 = head.charCodeAt(at) | 0x20;
      const len = colon - at;
      const sp = head.indexOf(" ", at);
      // Folded lines and whitespace in or after a name are Bun.serve's to judge.
      if ((sp >= 0 && sp < colon) || head.charCodeAt(at) === 9 || head.charCodeAt(colon - 1) === 9) return false;
      if (
        (c0 === 104 && len === 4) ||
        (c0 === 97 && len === 6) ||
        (c0 === 99 && (len === 10 || len === 14)) ||
        (c0 === 101 && len === 6) ||
        (c0 === 107 && len === 10) ||
        c0 === 112 ||
        (c0 === 116 && (len === 2 || len === 7 || len === 17)) ||
        (c0 === 117 && len === 7) ||
        (c0 === 120 && len >= 15 && len <= 18)
      ) {
        const name = head.slice(at, colon).toLowerCase();
        let drop = true;
        switch (name) {
          case "host":
            if (host !== null) return false;
            host = head.slice(colon + 1, next).trim();
            break;
          case "accept":
            accept = head.slice(colon + 1, next).trim();
            drop = false;
            break;
          case "connection": {
            const value = head.slice(colon + 1, next).trim();
            connection = connection === null ? value : `${connection}, ${value}`;
            break;
          }
          case "x-forwarded-for": {
            const value = head.slice(colon + 1, next).trim();
            priorFor = priorFor === null ? value : `${priorFor}, ${value}`;
            break;
          }
          case "te":
            // TE is hop-by-hop, but "trailers" in it says the client accepts trailers, which the upstream may use.
            if (head.slice(colon + 1, next).toLowerCase().includes("trailers")) te = true;
            break;
          case "content-length":
          case "transfer-encoding":
          case "upgrade":
          case "expect":
          case PEER_HEADER:
            return false;
          case "x-forwarded-proto":
          case "x-forwarded-host":
          case "x-forwarded-prefix":
            break;
          default:
            drop = isHopByHop(name);
        }
        if (drop) {
          if (at > runStart) kept += head.slice(runStart, at);
          runStart = next + 2;
        }
      }
      at = next + 2;
    }
    if (runStart < head.length) kept += head.slice(runStart) + "\r\n";
    if (host === null) return false;

    const q = target.indexOf("?");
    const path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? "" : target.slice(q);
    if (path.startsWith(RESERVED_PREFIX) && (path.length === RESERVED_PREFIX.length || path.charCodeAt(RESERVED_PREFIX.length) === 47)) return false;
    const app = front.options.apps.match(host, path);
    if (app === undefined || app.loadError !== undefined) return false;
    if (app.redirectBarePath && path === app.prefix && app.prefix !== "") return false;
    const route = matchRoute(app, path);
    if (route === undefined) return false;
    const upstream = route.upstream;
    const probe = upstream as Partial<ReadyUrlProbe>;
    const base = probe.readyUrl === undefined ? undefined : probe.readyUrl();
    if (base === undefined || !base.startsWith("http://")) return false;

    if (connection !== null && hasToken(connection, "close")) this.closeAfter = true;
    const slash = base.indexOf("/", 7);
    const origin = slash < 0 ? base : base.slice(0, slash);
    const basePath = slash < 0 ? "" : base.slice(slash);
    const info: ForwardInfo = { clientIp: this.ip, proto: "http", host, prefix: app.prefix, preserveHost: route.preserveHost };
    const requestLine = method + " " + basePath + upstreamPath(path, route) + query + " HTTP/1.1\r\n";
    let text: string;
    if (connection !== null && connectionNamed(connection) !== undefined) {
      // Headers named by Connection must go too: the general (slower) builder over the whole list.
      const count = listHeaders(head, block);
      text = requestLine + upstreamRequestHeadFromList(names, values, count, connection, info, origin.slice(7)) + "\r\n";
    } else {
      text = requestLine + hostLine(info, origin.slice(7)) + (te ? "te: trailers\r\n" : "") + kept + forwardedLines(info, priorFor) + "\r\n";
    }
    this.busy = true;
    upstream.beginRequest();
    const pool = poolFor(origin);
    const conn = pool.take();
    // Bun writes strings as UTF-8: only an all-ASCII head (the norm) may go as the string itself.
    const ex = new Exchange(this, app, route, path, isHead, Buffer.byteLength(head, "utf8") === head.length ? text : Buffer.from(text, "latin1"), accept);
    if (conn !== undefined) conn.start(ex);
    else pool.connectFor(ex);
    return true;
  }

  private startRelay(buf: Buffer): void {
    // Bun.serve behind the relay times the connection from now on.
    this.socket.timeout(0);
    this.relay = new Relay(this, this.front.options.relayPort);
    this.relay.fromClient(buf);
  }

  /** Write to the client in order; false when the socket is backed up (the caller should pause its source). */
  send(bytes: Uint8Array): boolean {
    if (this.closed) return true;
    const out = this.out;
    if (out !== undefined) {
      out.push(Buffer.from(bytes));
      return false;
    }
    const written = this.socket.write(bytes);
    if (written >= bytes.length) return true;
    this.out = [Buffer.from(bytes.subarray(Math.max(written, 0)))];
    return false;
  }

  onDrain(): void {
    const out = this.out;
    if (out === undefined) return;
    while (out.length > 0) {
      const b = out[0]!;
      const written = this.socket.write(b);
      if (written < b.length) {
        out[0] = b.subarray(Math.max(written, 0));
        return;
      }
      out.shift();
    }
    this.out = undefined;
    this.up?.socket?.resume();
    this.relay?.resumeFromInternal();
    if (this.closeAfter && !this.busy && this.relay === undefined) this.socket.end();
  }

  /** The exchange in flight is over; carry on with the next pipelined request, or close. */
  exchangeDone(): void {
    this.busy = false;
    this.up = undefined;
    this.lastActive = performance.now();
    if (this.closed) return;
    if (this.closeAfter) {
      if (this.out === undefined) this.socket.end();
      return;
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    const buf = this.buf;
    if (buf !== undefined) this.pump(buf, true);
  }

  onTimeout(): void {
    if (this.closed) return;
    const idle = this.front.options.idleTimeout;
    if (idle <= 0) return;
    // Relayed connections are timed by Bun.serve behind the relay; an exchange in flight is exempt.
    if (this.relay !== undefined || this.busy) {
      this.socket.timeout(idle);
      return;
    }
    const left = idle * 1000 - (performance.now() - this.lastActive);
    if (left > 50) {
      this.socket.timeout(Math.max(1, Math.ceil(left / 1000)));
      return;
    }
    this.socket.end();
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.out = undefined;
    this.front.clients.delete(this);
    this.up?.clientGone();
    this.relay?.clientGone();
  }
}

/** One request on the fast path. */
class Exchange {
  /** The one retry on a fresh connection was used. */
  retried = false;
  constructor(
    readonly client: Client,
    readonly app: MountedApp,
    readonly route: CompiledRoute,
    readonly path: string,
    readonly isHead: boolean,
    /** The request head for the upstream: a string when ASCII, else its latin1 bytes. */
    readonly request: string | Buffer,
    /** The client's Accept header: error pages are HTML for browsers. */
    readonly accept: string | null,
  ) {}

  get upstream(): AppUpstream {
    return this.route.upstream;
  }

  /** No answer could be had: endRequest and write a 502 (asynchronously: the page is a Response). */
  fail(err: unknown): void {
    const client = this.client;
    client.up = undefined;
    this.upstream.endRequest();
    if (client.closed) return;
    client.closeAfter = true;
    void writeResponse(client, errorResponse(badGatewayPage(this.app.name, err), this.accept));
  }
}

/** Serialise a whole Response (an error page) onto the client, then end the exchange. */
async function writeResponse(client: Client, res: Response): Promise<void> {
  const body = new Uint8Array(await res.arrayBuffer());
  let head = `HTTP/1.1 ${res.status} ${res.statusText || "Bad Gateway"}\r\n`;
  for (const [name, value] of res.headers) head += `${name}: ${value}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  const all = Buffer.allocUnsafe(Buffer.byteLength(head, "latin1") + body.length);
  const n = all.write(head, 0, "latin1");
  all.set(body, n);
  client.send(all);
  client.exchangeDone();
}

const enum Phase {
  Idle,
  Head,
  Length,
  Chunked,
  UntilClose,
}

/** One pooled upstream connection carrying at most one exchange. */
class UpConn {
  socket: Socket<UpConn> | undefined;
  ex: Exchange | undefined;
  phase = Phase.Idle;
  buf: Buffer | undefined;
  reused = false;
  closed = false;
  keepAlive = true;
  streaming = false;
  remaining = 0;
  readonly chunks = new ChunkedScanner();
  unsent: string | Buffer | undefined;

  constructor(readonly pool: Pool) {}

  start(ex: Exchange): void {
    this.ex = ex;
    ex.client.up = this;
    this.phase = Phase.Head;
    this.keepAlive = true;
    this.streaming = false;
    const socket = this.socket!;
    const request = ex.request;
    const written = socket.write(request);
    if (written < request.length) this.unsent = request.slice(Math.max(written, 0));
  }

  onDrain(): void {
    const rest = this.unsent;
    if (rest === undefined) return;
    const written = this.socket!.write(rest);
    this.unsent = written < rest.length ? rest.slice(Math.max(written, 0)) : undefined;
  }

  onData(data: Buffer): void {
    const ex = this.ex;
    if (ex === undefined || this.phase === Phase.Idle) {
      // Bytes with no exchange: the connection cannot be trusted any more.
      this.socket?.terminate();
      return;
    }
    if (this.phase === Phase.Head) {
      let buf = this.buf === undefined ? data : Buffer.concat([this.buf, data]);
      this.buf = undefined;
      for (;;) {
        const end = buf.indexOf(CRLFCRLF);
        if (end < 0) {
          if (buf.length > MAX_HEAD) return this.broken("response head too large");
          this.buf = Buffer.from(buf);
          return;
        }
        const head = this.responseHead(ex, buf.toString("latin1", 0, end));
        if (head === null) return;
        if (head === "") {
          // 1xx: the real answer follows.
          buf = buf.subarray(end + 4);
          if (buf.length === 0) return;
          continue;
        }
        this.answer(ex, head, buf, end + 4);
        return;
      }
    }
    const take = this.measure(data, 0);
    if (take < 0) return this.brokenBody(ex);
    const done = this.complete;
    const ok = take === 0 || ex.client.send(take === data.length ? data : data.subarray(0, take));
    if (done) this.finish(ex);
    else if (!ok) this.socket?.pause();
  }

  /**
   * Rewrite the upstream's head for the client: VERBATIM when it may go as it came (the common case: nothing to
   * drop or add, so the bytes pass with no copy), "" for a 1xx to skip, null when the exchange failed.
   */
  private responseHead(ex: Exchange, head: string): string | null {
    if (!head.startsWith("HTTP/1.")) {
      this.broken("not an HTTP/1.x response");
      return null;
    }
    let lineEnd = head.indexOf("\r\n");
    if (lineEnd < 0) lineEnd = head.length;
    const status = digit(head, 9) * 100 + digit(head, 10) * 10 + digit(head, 11);
    if (!(status >= 100 && status < 600) || head.charCodeAt(8) !== 32) {
      this.broken("bad status line");
      return null;
    }
    if (status < 200) {
      if (status === 101) {
        this.broken("unexpected protocol switch");
        return null;
      }
      return "";
    }
    const http10 = head.charCodeAt(7) === 48;
    const extra = ex.route.responseHeaders;
    const client = ex.client;
    let verbatim = !http10 && extra.length === 0;
    let contentLength = -1;
    let chunked = false;
    let connection: string | null = null;
    let count = 0;
    let at = lineEnd + 2;
    while (at < head.length) {
      let next = head.indexOf("\r\n", at);
      if (next < 0) next = head.length;
      const colon = head.indexOf(":", at);
      if (colon > at && colon < next) {
        lineStarts[count] = at;
        lineEnds[count] = next;
        // Only names that may need care are cut out and compared: by first letter and length.
        const c0 = head.charCodeAt(at) | 0x20;
        const len = colon - at;
        const last = head.charCodeAt(colon - 1);
        if (
          (c0 === 99 && (len === 10 || len === 14)) ||
          (c0 === 107 && len === 10) ||
          c0 === 112 ||
          (c0 === 116 && (len === 2 || len === 7 || len === 17)) ||
          (c0 === 117 && len === 7) ||
          last === 32 ||
          last === 9
        ) {
          const name = head.slice(at, colon).trim().toLowerCase();
          if (name === "content-length") {
            const n = Number(head.slice(colon + 1, next).trim());
            if (!Number.isSafeInteger(n) || n < 0 || (contentLength >= 0 && n !== contentLength)) {
              this.broken("bad content-length");
              return null;
            }
            contentLength = n;
          } else if (name === "transfer-encoding") {
            if (hasToken(head.slice(colon + 1, next), "chunked")) chunked = true;
          } else if (name === "connection") {
            const value = head.slice(colon + 1, next).trim();
            connection = connection === null ? value : `${connection}, ${value}`;
          }
          if (isHopByHop(name)) verbatim = false;
        }
        count++;
      } else {
        verbatim = false;
      }
      at = next + 2;
    }
    if (connection !== null ? hasToken(connection, "close") : http10) this.keepAlive = false;
    this.remaining = 0;
    if (ex.isHead || status === 204 || status === 304) {
      this.phase = Phase.Idle;
    } else if (chunked) {
      this.phase = Phase.Chunked;
      this.chunks.reset();
      if (contentLength >= 0) verbatim = false;
    } else if (contentLength >= 0) {
      this.phase = contentLength === 0 ? Phase.Idle : Phase.Length;
      this.remaining = contentLength;
    } else {
      // The body ends when the upstream closes: so must the client's connection, having no other framing.
      this.phase = Phase.UntilClose;
      this.keepAlive = false;
      client.closeAfter = true;
    }
    if (client.closeAfter) verbatim = false;
    if (verbatim) return VERBATIM;

    const named = connectionNamed(connection);
    let out = `HTTP/1.1 ${head.slice(9, lineEnd)}\r\n`;
    for (let i = 0; i < count; i++) {
      const start = lineStarts[i]!;
      const end = lineEnds[i]!;
      const name = head.slice(start, head.indexOf(":", start)).trim().toLowerCase();
      if (isHopByHop(name) && !(chunked && name === "transfer-encoding")) continue;
      if (named !== undefined && named.includes(name)) continue;
      if (chunked && name === "content-length") continue;
      if (extra.length > 0 && replacedBy(extra, name)) continue;
      out += name === "transfer-encoding" ? "transfer-encoding: chunked\r\n" : head.slice(start, end) + "\r\n";
    }
    for (let i = 0; i < extra.length; i++) {
      const h = extra[i]!;
      out += `${h.name}: ${h.hasUrl ? h.value.replaceAll("$url", ex.path) : h.value}\r\n`;
    }
    if (client.closeAfter) out += "connection: close\r\n";
    return out + "\r\n";
  }

  /** Send the head with whatever body bytes came along (buf from bodyAt on) in one write. */
  private answer(ex: Exchange, head: string, buf: Buffer, bodyAt: number): void {
    const upstream = ex.upstream;
    let take = 0;
    let done = true;
    if (this.phase !== Phase.Idle) {
      take = this.measure(buf, bodyAt);
      if (take < 0) {
        upstream.endRequest();
        return this.brokenBody(ex);
      }
      done = this.complete;
    } else if (buf.length > bodyAt) {
      // Bytes after a bodiless answer: the connection cannot be trusted any more.
      this.keepAlive = false;
    }
    let bytes: Buffer;
    if (head === VERBATIM) {
      const n = bodyAt + take;
      bytes = n === buf.length ? buf : buf.subarray(0, n);
    } else {
      const headBytes = Buffer.byteLength(head, "latin1");
      bytes = Buffer.allocUnsafe(headBytes + take);
      bytes.write(head, 0, "latin1");
      if (take > 0) bytes.set(buf.subarray(bodyAt, bodyAt + take), headBytes);
    }
    const ok = ex.client.send(bytes);
    if (done) {
      upstream.endRequest();
      this.finish(ex);
      return;
    }
    // Still flowing after the head: it counts as a stream from now on.
    this.streaming = true;
    upstream.openStream();
    upstream.endRequest();
    if (!ok) this.socket?.pause();
  }

  /** The body ended within the bytes measure() last looked at. */
  private complete = false;

  /** How many bytes of data (from `from`) belong to the body, setting `complete`; -1 when the framing is broken. */
  private measure(data: Buffer, from: number): number {
    const avail = data.length - from;
    this.complete = false;
    switch (this.phase) {
      case Phase.Length: {
        if (avail < this.remaining) {
          this.remaining -= avail;
          return avail;
        }
        if (avail > this.remaining) this.keepAlive = false;
        const take = this.remaining;
        this.remaining = 0;
        this.complete = true;
        return take;
      }
      case Phase.Chunked: {
        const end = this.chunks.scan(data, from);
        if (end === -2) return -1;
        if (end < 0) return avail;
        if (end < data.length) this.keepAlive = false;
        this.complete = true;
        return end - from;
      }
      default:
        return avail;
    }
  }

  /** Bytes already sent cannot be taken back: cut the client off rather than pass on a broken body. */
  private brokenBody(ex: Exchange): void {
    this.abort();
    ex.client.socket.terminate();
  }

  /** The answer is complete: hand the connection back (or close it) and let the client go on. */
  private finish(ex: Exchange): void {
    if (this.streaming) ex.upstream.closeStream();
    this.streaming = false;
    this.ex = undefined;
    this.phase = Phase.Idle;
    if (this.keepAlive && !this.closed && this.buf === undefined) this.pool.release(this);
    else this.socket?.end();
    ex.client.exchangeDone();
  }

  /** The client went away mid-exchange: the connection is mid-message and cannot be reused. */
  clientGone(): void {
    const ex = this.ex;
    if (ex === undefined) return;
    this.abort();
  }

  private abort(): void {
    const ex = this.ex;
    if (ex === undefined) return;
    this.ex = undefined;
    if (this.phase === Phase.Head) ex.upstream.endRequest();
    else if (this.streaming) ex.upstream.closeStream();
    this.streaming = false;
    this.phase = Phase.Idle;
    this.keepAlive = false;
    this.socket?.terminate();
  }

  private broken(message: string): void {
    const ex = this.ex;
    this.ex = undefined;
    this.phase = Phase.Idle;
    this.socket?.terminate();
    ex?.fail(new UpstreamError(`invalid response from the app: ${message}`, "EPROTO"));
  }

  onClose(err?: Error): void {
    this.closed = true;
    this.pool.forget(this);
    const ex = this.ex;
    if (ex === undefined) return;
    if (this.phase === Phase.UntilClose) {
      this.finish(ex);
      return;
    }
    this.ex = undefined;
    if (this.phase === Phase.Head) {
      this.phase = Phase.Idle;
      // Closed before any byte of the answer on a reused connection: stale; GET/HEAD get one fresh connection.
      if (this.reused && this.buf === undefined && !ex.retried && !ex.client.closed) {
        ex.retried = true;
        this.pool.connectFor(ex);
        return;
      }
      ex.fail(err ?? new UpstreamError("the app closed the connection", this.buf === undefined ? "ECONNRESET" : "EPROTO"));
      return;
    }
    // Mid-body: the client already has a head; all that is left is to cut it off.
    if (this.streaming) ex.upstream.closeStream();
    this.streaming = false;
    this.phase = Phase.Idle;
    ex.client.socket.terminate();
  }
}

class UpstreamError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "UpstreamClosedError";
  }
}

const upHandlers = {
  data(socket: Socket<UpConn>, data: Buffer) {
    socket.data.onData(data);
  },
  drain(socket: Socket<UpConn>) {
    socket.data.onDrain();
  },
  close(socket: Socket<UpConn>, err?: Error) {
    socket.data.onClose(err);
  },
  error(socket: Socket<UpConn>, err: Error) {
    socket.data.onClose(err);
  },
};

/** Idle connections to one upstream host:port. */
class Pool extends IdlePool<UpConn> {
  connectFor(ex: Exchange): void {
    const conn = new UpConn(this);
    Bun.connect<UpConn>({ hostname: this.hostname, port: this.port, data: conn, socket: upHandlers }).then(
      (socket) => {
        conn.socket = socket;
        socket.setNoDelay(true);
        if (ex.client.closed) {
          ex.upstream.endRequest();
          this.release(conn);
          return;
        }
        conn.start(ex);
      },
      (err: unknown) => {
        if (ex.client.closed) ex.upstream.endRequest();
        else ex.fail(err);
      },
    );
  }

  override release(conn: UpConn): void {
    conn.phase = Phase.Idle;
    super.release(conn);
  }
}

const poolFor = poolsByOrigin((hostname, port) => new Pool(hostname, port));

const enum RelayPhase {
  Head,
  Length,
  Chunked,
  Raw,
}

/**
 * A client connection handed to the internal Bun.serve. The request stream is followed just enough to find each
 * request head (bodies framed by Content-Length or chunked), so that every head gets the client's address and
 * loses any copy of that header the client sent. After an upgrade, or anything not understood, bytes pass raw.
 */
class Relay {
  socket: Socket<Relay> | undefined;
  /** Bytes for the internal server not written yet (before connect, or backed up). */
  pending: Buffer[] = [];
  phase = RelayPhase.Head;
  head: Buffer | undefined;
  remaining = 0;
  readonly chunks = new ChunkedScanner();
  closed = false;

  constructor(
    readonly client: Client,
    port: number,
  ) {
    Bun.connect<Relay>({ hostname: "127.0.0.1", port, data: this, socket: relayHandlers }).then(
      (socket) => {
        this.socket = socket;
        socket.setNoDelay(true);
        if (this.closed) {
          socket.end();
          return;
        }
        this.flush();
      },
      () => client.socket.terminate(),
    );
  }

  fromClient(data: Buffer): void {
    let buf = data;
    while (buf.length > 0) {
      switch (this.phase) {
        case RelayPhase.Raw:
          this.toInternal(buf);
          return;
        case RelayPhase.Length: {
          const n = Math.min(this.remaining, buf.length);
          this.toInternal(buf.subarray(0, n));
          this.remaining -= n;
          buf = buf.subarray(n);
          if (this.remaining === 0) this.phase = RelayPhase.Head;
          break;
        }
        case RelayPhase.Chunked: {
          const end = this.chunks.scan(buf, 0);
          if (end === -2) {
            this.phase = RelayPhase.Raw;
            break;
          }
          if (end < 0) {
            this.toInternal(buf);
            return;
          }
          this.toInternal(buf.subarray(0, end));
          buf = buf.subarray(end);
          this.phase = RelayPhase.Head;
          break;
        }
        case RelayPhase.Head: {
          const all = this.head === undefined ? buf : Buffer.concat([this.head, buf]);
          this.head = undefined;
          const end = all.indexOf(CRLFCRLF);
          if (end < 0) {
            if (all.length > MAX_HEAD) {
              // Bun.serve answers 431 for it.
              this.phase = RelayPhase.Raw;
              this.toInternal(all);
              return;
            }
            this.head = Buffer.from(all);
            return;
          }
          this.toInternal(this.rewriteHead(all.toString("latin1", 0, end)));
          buf = all.subarray(end + 4);
          break;
        }
      }
    }
  }

  /** Add the peer header (dropping a client's copy) and work out how the body is framed. */
  private rewriteHead(head: string): Buffer {
    let lineEnd = head.indexOf("\r\n");
    if (lineEnd < 0) lineEnd = head.length;
    let out = head.slice(0, lineEnd) + "\r\n";
    const method = head.slice(0, head.indexOf(" "));
    let length = 0;
    let chunked = false;
    let raw = method === "CONNECT";
    let at = lineEnd + 2;
    while (at < head.length) {
      let next = head.indexOf("\r\n", at);
      if (next < 0) next = head.length;
      const line = head.slice(at, next);
      at = next + 2;
      const colon = line.indexOf(":");
      if (colon > 0) {
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === PEER_HEADER) continue;
        if (name === "content-length") {
          const n = Number(value);
          if (Number.isSafeInteger(n) && n >= 0) length = n;
          else raw = true;
        } else if (name === "transfer-encoding") {
          chunked = true;
        } else if (name === "upgrade") {
          raw = true;
        }
      }
      out += line + "\r\n";
    }
    out += peerHeaderLine(this.client.ip) + "\r\n";
    if (raw) {
      this.phase = RelayPhase.Raw;
    } else if (chunked) {
      this.phase = RelayPhase.Chunked;
      this.chunks.reset();
    } else if (length > 0) {
      this.phase = RelayPhase.Length;
      this.remaining = length;
    }
    return Buffer.from(out, "latin1");
  }

  private toInternal(bytes: Buffer): void {
    const socket = this.socket;
    if (socket === undefined || this.pending.length > 0) {
      this.pending.push(Buffer.from(bytes));
      if (socket !== undefined) this.client.socket.pause();
      return;
    }
    const written = socket.write(bytes);
    if (written < bytes.length) {
      this.pending.push(Buffer.from(bytes.subarray(Math.max(written, 0))));
      this.client.socket.pause();
    }
  }

  /** The internal socket drained (or connected): write what waits, then let the client send more. */
  flush(): void {
    const socket = this.socket!;
    const pending = this.pending;
    while (pending.length > 0) {
      const b = pending[0]!;
      const written = socket.write(b);
      if (written < b.length) {
        pending[0] = b.subarray(Math.max(written, 0));
        return;
      }
      pending.shift();
    }
    if (!this.client.closed) this.client.socket.resume();
  }

  fromInternal(data: Buffer): void {
    if (!this.client.send(data)) this.socket?.pause();
  }

  resumeFromInternal(): void {
    this.socket?.resume();
  }

  internalClosed(): void {
    this.closed = true;
    const client = this.client;
    if (client.closed) return;
    if (client.out === undefined) client.socket.end();
    else client.closeAfter = true;
  }

  clientGone(): void {
    this.closed = true;
    this.socket?.end();
  }
}

const relayHandlers = {
  data(socket: Socket<Relay>, data: Buffer) {
    socket.data.fromInternal(data);
  },
  drain(socket: Socket<Relay>) {
    socket.data.flush();
  },
  close(socket: Socket<Relay>) {
    socket.data.internalClosed();
  },
  error(socket: Socket<Relay>) {
    socket.data.internalClosed();
  },
};

/** Lower-case names and trimmed values of the head's header lines (from `at`) into names/values; the count. */
function listHeaders(head: string, at: number): number {
  let count = 0;
  while (at < head.length) {
    let next = head.indexOf("\r\n", at);
    if (next < 0) next = head.length;
    const colon = head.indexOf(":", at);
    names[count] = head.slice(at, colon).toLowerCase();
    values[count] = head.slice(colon + 1, next).trim();
    count++;
    at = next + 2;
  }
  return count;
}

/** A target the fast path may pass on as it is (see TARGET_OK). */
function plainTarget(t: string): boolean {
  const n = t.length;
  if (n === 0 || t.charCodeAt(0) !== 47 || (n > 1 && t.charCodeAt(1) === 47)) return false;
  let inPath = true;
  for (let i = 0; i < n; i++) {
    const c = t.charCodeAt(i);
    if (c >= 128 || TARGET_OK[c] === 0) return false;
    if (c === 63) inPath = false;
    else if (inPath && (c === 46 ? t.charCodeAt(i - 1) === 47 : c === 37)) return false;
  }
  return true;
}

/** The decimal digit at `i`, or a large number that makes any status built from it invalid. */
function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : 1000;
}

/** A comma-separated header value lists `token` (case-insensitive). */
function hasToken(value: string, token: string): boolean {
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

function replacedBy(extra: CompiledRoute["responseHeaders"], name: string): boolean {
  for (let i = 0; i < extra.length; i++) if (extra[i]!.name.toLowerCase() === name) return true;
  return false;
}
