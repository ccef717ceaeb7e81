/**
 * One proxied exchange: wait for the app (holding the request through a cold start), send the parsed request
 * upstream re-serialized, stream its body as the client sends it, read the app's answer head leniently and write
 * it anew, relay the body with its framing rebuilt, and hand the connection back. After a 101 the two sockets
 * become a tunnel (WebSocket frames, close codes and backpressure pass as bytes).
 *
 * Activity accounting for idle stop lives here and only here: the exchange counts as a request from arrival to
 * the answer's head, then as an open stream while a body (or a tunnel) still flows, and is settled exactly once.
 */
import { type CompiledRoute, type MountedApp } from "./app-table.ts";
import { answerTimeoutPage, badGatewayPage, brokenAnswerPage, readinessErrorPage, type ErrorPage } from "./errors.ts";
import { clientResponseHead, Framing, type ForwardInfo, upstreamRequestHead } from "./headers.ts";
import { ChunkedDecoder } from "./http1/chunked.ts";
import { hasToken } from "./http1/chars.ts";
import type { RequestHead } from "./http1/request.ts";
import { findResponseHeadEnd, MAX_RESPONSE_HEAD, parseResponseHead } from "./http1/response.ts";
import { headWith, joined } from "./outbox.ts";
import type { AppMetrics, StreamKind } from "./metrics.ts";
import { UpstreamError, type AppUpstream, type ReadyUrlProbe } from "./upstream.ts";
import type { UpstreamConn, UpstreamOwner, UpstreamPool } from "./upstream-pool.ts";

/** Request body bytes held while the app starts, before the client is paused. */
const MAX_HELD_BODY = 256 * 1024;

/** What an exchange needs of the client connection it serves. */
export interface ClientSide {
  readonly ip: string;
  readonly proto: "http" | "https";
  /** The client may see internals (log tails): it is on loopback. */
  readonly trusted: boolean;
  /** The client asked to close after this exchange (Connection: close, or HTTP/1.0 without keep-alive). */
  readonly wantsClose: boolean;
  /** false when the socket is backed up; the exchange then gets clientDrained. A string must be ASCII. */
  send(bytes: Uint8Array | string): boolean;
  pauseReading(): void;
  resumeReading(): void;
  /** Every later byte from the client goes to tunnelFromClient. */
  startTunnel(): void;
  /** The answer is written and the request read: go on with the next request, or close when `close`. */
  exchangeDone(close: boolean): void;
  /** Write a whole answer of the proxy's own, then exchangeDone. */
  answerLocal(page: ErrorPage, accept: string | null, close: boolean): void;
  /** Cut the connection off (an answer is half written and cannot be completed). */
  abort(): void;
  /** The exchange is settled (answered, failed or abandoned): for the access log. */
  exchangeEnded(ex: Exchange): void;
}

const enum Phase {
  /** Waiting for the app to be ready, or for a connection. */
  Waiting,
  /** The request is (being) sent; no answer head yet. */
  AwaitHead,
  Body,
  Tunnel,
  Done,
}

const enum Count {
  None,
  Request,
  Stream,
  Settled,
}

export class Exchange implements UpstreamOwner {
  private phase = Phase.Waiting;
  private count = Count.None;
  private upstream!: AppUpstream;
  private app!: MountedApp;
  private route!: CompiledRoute;
  private up: UpstreamConn | undefined;
  private pool: UpstreamPool | undefined;
  /** The request head for the upstream (latin1), kept for the one retry on a fresh connection. */
  private requestHead = "";
  /** Body bytes that arrived before there was a connection (copies, once keepHeld has run). */
  private held: Uint8Array[] | undefined;
  private heldBytes = 0;
  /** `held` may hold views of the client's read buffer: valid only until the current data callback returns. */
  private heldViews = false;
  /** The client has sent the whole request body (true at once when there is none). */
  requestComplete: boolean;
  /** The whole request is written to the upstream. */
  private requestSent = false;
  private upgradeSent = false;
  private upBuf: Buffer | undefined;
  private gotAnswerBytes = false;
  private retried = false;
  private framing = Framing.None;
  private left = 0;
  private decoder: ChunkedDecoder | undefined;
  private upstreamKeepAlive = true;
  private closeClient = false;
  private controller: AbortController | undefined;
  /** The upstream's origin (lower case) and the client's, for Location rewriting; undefined to leave Location alone. */
  private upstreamOrigin: string | undefined;
  private clientOrigin = "";
  /** For the metrics and the access log. */
  readonly startedAt = performance.now();
  metrics: AppMetrics | undefined;
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  private streamKind: StreamKind = "body";
  private ended = false;
  /** Epoch ms by which the answer head must arrive (0: no deadline running). */
  responseDeadline = 0;
  private timeoutSecs = 0;

  constructor(
    readonly client: ClientSide,
    readonly head: RequestHead,
  ) {
    this.requestComplete = !head.chunked && head.contentLength <= 0;
  }

  get finished(): boolean {
    return this.phase === Phase.Done;
  }

  /** The client has (part of) an answer head: a later failure can only cut the connection off. */
  get answerStarted(): boolean {
    return this.phase === Phase.Body || this.phase === Phase.Tunnel;
  }

  get appName(): string | undefined {
    return this.app?.name;
  }

  /** The app's location, as metrics and the access log name it ("" when no app took the request). */
  get appLabel(): string {
    return this.app?.label ?? "";
  }

  /** The app this request is for, when the proxy answers for it without starting (load error, redirect). */
  assign(app: MountedApp): void {
    this.app = app;
    this.metrics = app.metrics;
  }

  /** Proxy to the route's upstream. `timeoutSecs`: the answer-head deadline. */
  start(app: MountedApp, route: CompiledRoute, timeoutSecs: number): void {
    this.app = app;
    this.route = route;
    this.metrics = app.metrics;
    this.timeoutSecs = timeoutSecs;
    const upstream = route.upstream;
    this.upstream = upstream;
    upstream.beginRequest();
    this.count = Count.Request;
    const base = (upstream as Partial<ReadyUrlProbe>).readyUrl?.();
    if (base !== undefined) return this.connect(base);
    const controller = new AbortController();
    this.controller = controller;
    upstream.ensureReady(controller.signal).then(
      (url) => {
        this.controller = undefined;
        if (this.phase === Phase.Waiting) this.connect(url);
      },
      (err: unknown) => {
        this.controller = undefined;
        if (this.phase === Phase.Waiting) this.fail(readinessErrorPage(err, this.app.name), err instanceof UpstreamError ? err.failure : "start-failed");
      },
    );
  }

  private connect(base: string): void {
    const slash = base.indexOf("/", base.indexOf("//") + 2);
    const origin = slash < 0 ? base : base.slice(0, slash);
    const basePath = slash < 0 ? "" : base.slice(slash);
    const head = this.head;
    const route = this.route;
    const info: ForwardInfo = { clientIp: this.client.ip, proto: this.client.proto, prefix: this.app.prefix };
    this.upgradeSent = isWebSocketUpgrade(head);
    const text = upstreamRequestHead(head, basePath + upstreamPath(head.path, route) + head.query, route, info, origin.slice(origin.indexOf("//") + 2), this.upgradeSent);
    this.requestHead = text;
    if (head.host !== "") {
      this.upstreamOrigin = origin.toLowerCase();
      this.clientOrigin = `${this.client.proto}://${head.host}`;
    }
    const pool = this.app.pools.for(origin);
    this.pool = pool;
    const conn = pool.take(this);
    if (conn !== undefined) this.attach(conn);
    else this.connectFresh();
  }

  private connectFresh(): void {
    this.pool!.connect(this).then(
      (conn) => this.attach(conn),
      (err: unknown) => {
        if (this.phase === Phase.Waiting) this.fail(badGatewayPage(this.app.name, err), "connect");
      },
    );
  }

  private attach(conn: UpstreamConn): void {
    if (this.phase !== Phase.Waiting) {
      // The client went away meanwhile: the connection was never used.
      this.pool!.release(conn);
      return;
    }
    this.up = conn;
    this.phase = Phase.AwaitHead;
    const held = this.held;
    this.held = undefined;
    this.heldBytes = 0;
    this.heldViews = false;
    const head = this.requestHead;
    // An ASCII head without a body goes as the string itself (no Buffer to make); else head and body in one buffer.
    const bytes = held === undefined && !this.head.highBytes ? head : headWith(head, held ?? []);
    if (!conn.send(bytes)) this.client.pauseReading();
    else this.client.resumeReading();
    if (this.requestComplete) this.requestWritten();
  }

  /**
   * Request body from the client, re-framed by the connection. `transient`: the pieces are views the caller
   * promises to follow with keepHeld() before its data callback returns (the body that came with the head, which
   * a warm exchange writes together with the head at once, so the copy is skipped).
   */
  requestBody(pieces: Uint8Array[], done: boolean, transient = false): void {
    if (done) this.requestComplete = true;
    for (let i = 0; i < pieces.length; i++) this.bytesIn += pieces[i]!.length;
    if (this.phase === Phase.Done) return;
    const up = this.up;
    if (up === undefined || this.phase === Phase.Waiting) {
      const held = (this.held ??= []);
      for (const p of pieces) {
        held.push(transient ? p : Buffer.from(p));
        this.heldBytes += p.length;
      }
      if (transient && pieces.length > 0) this.heldViews = true;
      if (this.heldBytes > MAX_HELD_BODY) this.client.pauseReading();
      return;
    }
    if (pieces.length > 0 && !up.send(joined(pieces))) this.client.pauseReading();
    if (done) this.requestWritten();
  }

  /** Copy held views that were not written at once: the read buffer they point into is about to be reused. */
  keepHeld(): void {
    if (!this.heldViews) return;
    this.heldViews = false;
    const held = this.held;
    if (held !== undefined) for (let i = 0; i < held.length; i++) held[i] = Buffer.from(held[i]!);
  }

  /** The whole request is on its way: the answer-head deadline starts now (a slow upload is not the app's fault). */
  private requestWritten(): void {
    this.requestSent = true;
    if (this.phase === Phase.AwaitHead && this.timeoutSecs > 0) this.responseDeadline = Date.now() + this.timeoutSecs * 1000;
  }

  /** Called by the front's sweep when responseDeadline has passed. */
  deadlinePassed(): void {
    if (this.phase !== Phase.AwaitHead) return;
    this.responseDeadline = 0;
    this.up?.destroy();
    this.up = undefined;
    this.fail(answerTimeoutPage(this.app.name, this.timeoutSecs), "answer-timeout");
  }

  tunnelFromClient(data: Buffer): void {
    if (this.up !== undefined && !this.up.send(data)) this.client.pauseReading();
  }

  clientDrained(): void {
    this.up?.socket?.resume();
  }

  onUpDrain(): void {
    this.client.resumeReading();
  }

  onUpData(data: Buffer): void {
    this.gotAnswerBytes = true;
    switch (this.phase) {
      case Phase.AwaitHead:
        return this.onAnswerHead(this.upBuf === undefined ? data : Buffer.concat([this.upBuf, data]));
      case Phase.Body:
        return this.relayBody(data, 0);
      case Phase.Tunnel:
        if (!this.sendOut(data)) this.up?.socket?.pause();
        return;
      default:
        this.up?.destroy();
    }
  }

  private onAnswerHead(buf: Buffer): void {
    this.upBuf = undefined;
    for (;;) {
      const end = findResponseHeadEnd(buf, 0);
      if (end < 0) {
        if (buf.length > MAX_RESPONSE_HEAD) return this.broken("the answer head is too large");
        this.upBuf = Buffer.from(buf);
        return;
      }
      const original = buf.toString("latin1", 0, end);
      const res = parseResponseHead(original);
      if (!("status" in res)) return this.broken(res.reason);
      const head = this.head;
      const client = this.client;
      if (res.status < 200) {
        if (res.status === 101) {
          if (!this.upgradeSent) return this.broken("a protocol switch the client did not ask for");
          this.responseDeadline = 0;
          this.phase = Phase.Tunnel;
          this.toStream();
          const text = clientResponseHead(res, this.route, { framing: Framing.None, close: false, keepAlive10: false, upgrade: true, path: head.path });
          client.startTunnel();
          this.answeredWith(101);
          if (!this.sendOut(headWith(text, [buf.subarray(end)]))) this.up?.socket?.pause();
          return;
        }
        // Interim answers (100 Continue, 103 Early Hints) go on to HTTP/1.1 clients.
        if (head.minor === 1) {
          this.sendOut(Buffer.from(clientResponseHead(res, undefined, { framing: Framing.None, close: false, keepAlive10: false, upgrade: false, path: head.path }), "latin1"));
        }
        if (end === buf.length) return;
        buf = buf.subarray(end);
        continue;
      }
      this.responseDeadline = 0;
      this.answeredWith(res.status);
      this.upstreamKeepAlive = res.keepAlive;
      let close = client.wantsClose;
      if (head.method === "HEAD" || res.status === 204 || res.status === 304) {
        this.framing = Framing.None;
      } else if (res.chunked) {
        this.framing = head.minor === 1 ? Framing.Chunked : Framing.Close;
        this.decoder = new ChunkedDecoder(false, head.minor === 1);
      } else if (res.contentLength >= 0) {
        this.framing = Framing.Length;
        this.left = res.contentLength;
      } else {
        this.framing = Framing.Close;
        this.upstreamKeepAlive = false;
      }
      if (this.framing === Framing.Close) close = true;
      // A body the client has not finished sending leaves the connection mid-message: close it after the answer.
      if (!this.requestComplete) close = true;
      this.closeClient = close;
      const text = clientResponseHead(res, this.route, {
        framing: this.framing,
        close,
        keepAlive10: head.minor === 0 && !close,
        upgrade: false,
        path: head.path,
        upstreamOrigin: this.upstreamOrigin,
        clientOrigin: this.clientOrigin,
      });
      this.phase = Phase.Body;
      if (this.framing === Framing.Length && this.left === buf.length - end && text === original) {
        // The whole answer is in this read and its head written anew is byte for byte what came: pass the read
        // buffer itself (no copy, no allocation: the common small answer).
        this.left = 0;
        this.sendOut(buf);
        return this.complete();
      }
      if (this.framing === Framing.None) {
        if (end < buf.length) this.upstreamKeepAlive = false;
        this.sendOut(res.highBytes ? Buffer.from(text, "latin1") : text);
        return this.complete();
      }
      return this.relayBody(buf, end, text);
    }
  }

  /** Relay answer body bytes data[from..], after `head` (the answer head's text) when it is the first write. */
  private relayBody(data: Buffer, from: number, head?: string): void {
    let ended = false;
    let out: Uint8Array | string | undefined;
    if (this.framing === Framing.Length) {
      const take = Math.min(this.left, data.length - from);
      this.left -= take;
      if (this.left === 0) {
        ended = true;
        if (from + take < data.length) this.upstreamKeepAlive = false;
      }
      if (head !== undefined) {
        // Head and the body bytes that came with it in one buffer, copied straight from the read buffer.
        const bytes = Buffer.allocUnsafe(head.length + take);
        bytes.write(head, 0, "latin1");
        data.copy(bytes, head.length, from, from + take);
        out = bytes;
      } else if (take > 0) {
        out = from === 0 && take === data.length ? data : data.subarray(from, from + take);
      }
    } else {
      const pieces: Uint8Array[] = [];
      if (this.decoder !== undefined) {
        const end = this.decoder.decode(data, from, pieces);
        if (end === -2) return this.brokenBody(head === undefined ? pieces : [headWith(head, pieces)]);
        if (end >= 0) {
          ended = true;
          if (end < data.length) this.upstreamKeepAlive = false;
        }
      } else if (data.length > from) {
        pieces.push(from === 0 ? data : data.subarray(from));
      }
      if (head !== undefined) out = headWith(head, pieces);
      else if (pieces.length > 0) out = joined(pieces);
    }
    const ok = out === undefined || this.sendOut(out);
    if (ended) return this.complete();
    if (this.count === Count.Request) this.toStream();
    if (!ok) this.up?.socket?.pause();
  }

  /** The answer is complete on the client's side. */
  private complete(): void {
    const up = this.up;
    this.up = undefined;
    if (up !== undefined) {
      if (this.upstreamKeepAlive && this.requestSent && this.upBuf === undefined) this.pool!.release(up);
      else up.destroy();
    }
    this.end();
    this.client.exchangeDone(this.closeClient);
  }

  onUpClose(err: Error | undefined): void {
    this.up = undefined;
    switch (this.phase) {
      case Phase.AwaitHead: {
        // Closed before any answer on a reused connection: it was stale. A request without a body is sent
        // once more on a fresh connection (only GET and HEAD: repeating anything else could act twice).
        const m = this.head.method;
        if (!this.gotAnswerBytes && !this.retried && (m === "GET" || m === "HEAD") && this.held === undefined && this.head.contentLength <= 0 && !this.head.chunked) {
          this.retried = true;
          this.phase = Phase.Waiting;
          this.connectFresh();
          return;
        }
        this.fail(badGatewayPage(this.app.name, err ?? closedError(this.gotAnswerBytes)), "closed");
        return;
      }
      case Phase.Body:
        if (this.framing === Framing.Close && this.decoder === undefined) return this.complete();
        // Mid-body: the client already has a head; all that is left is to cut it off.
        this.end();
        this.client.abort();
        return;
      case Phase.Tunnel:
        this.end();
        this.client.abort();
        return;
    }
  }

  /** The client went away: stop waiting, drop the upstream connection (it is mid-message), settle. */
  clientGone(): void {
    if (this.phase === Phase.Done) return;
    this.controller?.abort();
    this.up?.destroy();
    this.up = undefined;
    this.end();
  }

  /** A request body the client framed wrongly, after it reached the upstream: nothing on either side can be trusted. */
  requestBroken(): void {
    this.up?.destroy();
    this.up = undefined;
    this.end();
  }

  private broken(reason: string): void {
    this.up?.destroy();
    this.up = undefined;
    this.fail(brokenAnswerPage(this.app.name, reason), "invalid-answer");
  }

  private brokenBody(pieces: Uint8Array[]): void {
    // The head is out already: pass what was good, then cut the client off.
    if (pieces.length > 0) this.sendOut(joined(pieces));
    this.up?.destroy();
    this.up = undefined;
    this.end();
    this.client.abort();
  }

  /** No answer from the app (`kind` says why, for the metrics): the proxy answers with `page`. */
  private fail(page: ErrorPage, kind: string): void {
    this.metrics?.upstreamError(kind);
    this.up?.destroy();
    this.up = undefined;
    // The client connection writes the page and settles this exchange (end) with the page's status.
    this.client.answerLocal(page, acceptOf(this.head), !this.requestComplete);
    this.end();
  }

  private toStream(): void {
    if (this.count !== Count.Request) return;
    this.count = Count.Stream;
    this.metrics?.streamOpened(this.phase === Phase.Tunnel ? "websocket" : "body");
    this.streamKind = this.phase === Phase.Tunnel ? "websocket" : "body";
    this.upstream.openStream();
    this.upstream.endRequest();
  }

  /** Write to the client, counting the bytes. */
  private sendOut(bytes: Uint8Array | string): boolean {
    this.bytesOut += bytes.length;
    return this.client.send(bytes);
  }

  /** The answer's status, and the time to its head, for the metrics and the access log. */
  answeredWith(status: number): void {
    this.status = status;
    const now = performance.now();
    this.metrics?.answered(status, (now - this.startedAt) / 1000, now);
  }

  /** Settles the exchange exactly once: activity accounting, the stream gauge, the access log. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.phase = Phase.Done;
    this.responseDeadline = 0;
    this.held = undefined;
    if (this.count === Count.Request) this.upstream.endRequest();
    else if (this.count === Count.Stream) {
      this.upstream.closeStream();
      this.metrics?.streamClosed(this.streamKind);
    }
    this.count = Count.Settled;
    if (this.metrics !== undefined) {
      this.metrics.receivedBytes += this.bytesIn;
      this.metrics.sentBytes += this.bytesOut;
    }
    this.client.exchangeEnded(this);
  }
}

function closedError(gotBytes: boolean): Error & { code: string } {
  return Object.assign(new Error(gotBytes ? "the app closed the connection mid-answer" : "the app closed the connection without answering"), { code: gotBytes ? "EPROTO" : "ECONNRESET" });
}

/** A WebSocket handshake: GET with Connection: upgrade and Upgrade naming websocket. Other upgrades are dropped. */
function isWebSocketUpgrade(head: RequestHead): boolean {
  return head.upgrade !== null && head.method === "GET" && hasToken(head.upgrade, "websocket");
}

export function acceptOf(head: RequestHead): string | null {
  const i = head.special.indexOf("accept");
  return i < 0 ? null : head.values[i]!;
}

/** The request path as the upstream sees it: the app path and strip_path removed, always starting with "/". */
export function upstreamPath(path: string, route: CompiledRoute): string {
  let p = path;
  // The app matched on a segment boundary, so the app path is always a prefix here.
  if (route.stripApp !== "") p = p.slice(route.stripApp.length);
  const strip = route.stripPath;
  if (strip !== "" && p.startsWith(strip)) p = p.slice(strip.length);
  return p.charCodeAt(0) === 47 /* "/" */ ? p : `/${p}`;
}
