/**
 * The front door: `Bun.listen` (plain or TLS) with every client connection handled here. Request heads are
 * parsed strictly by http1/request.ts; request bodies are followed by their framing (Content-Length, or chunked
 * decoded and written anew) so that the next pipelined request is found exactly where the client's bytes say;
 * one exchange runs at a time per connection, so answers leave in order. Every request on every connection
 * carries the client's address. Deadlines (request head, idle keep-alive, a stalled request body, the app's answer
 * head) are checked by one sweep per listener; a connection cap evicts idle and slow connections first.
 */
import type { Socket, TCPSocketListener } from "bun";
import { matchRoute, RESERVED_PREFIX, type AppTable } from "./app-table.ts";
import { clientErrorPage, errorAnswer, loadErrorPage, STATUS_TEXT, type ErrorPage, type LocalAnswer } from "./errors.ts";
import { acceptOf, Exchange, type ClientSide } from "./exchange.ts";
import { normaliseIp } from "./headers.ts";
import { chunk, ChunkedDecoder, LAST_CHUNK } from "./http1/chunked.ts";
import { MAX_REQUEST_HEAD, parseRequestHead, RequestHeadError, type RequestHead } from "./http1/request.ts";
import { Outbox, joined } from "./outbox.ts";

/** Deadlines and limits of a listener, in seconds where they are times. */
export interface FrontLimits {
  /** A request head must arrive whole within this (slowloris). */
  headerTimeout: number;
  /** An idle keep-alive connection is closed after this. */
  idleTimeout: number;
  /** A request body that sends nothing for this long is cut off. */
  bodyTimeout: number;
  /** The app's answer head must arrive within this after the request was sent (504); an app may set its own. */
  responseHeaderTimeout: number;
  /** Open client connections at most; see FrontListener.admit for what happens at the cap. */
  maxConnections: number;
}

/** What the proxy tells its host about refused requests and broken answers (the host logs them). */
export interface ProxyEvent {
  status: number;
  reason: string;
  client: string;
  method: string;
  path: string;
  app?: string;
}

/** One line of the access log: a request and how it was answered. */
export interface AccessEntry {
  /** When the exchange ended. */
  time: Date;
  client: string;
  method: string;
  /** Path and query as the client sent them (dot segments resolved). */
  target: string;
  /** The app's location ("/x", "app.localhost:/"), "" when no app took the request. */
  app: string;
  /** 0 when the client went away before any answer. */
  status: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
}

/** A handler for a path under RESERVED_PREFIX: Web-standard request in, response out. */
export type OwnEndpoint = (req: Request, client: { ip: string; trusted: boolean }) => Response | Promise<Response>;

export interface FrontOptions {
  hostname: string;
  port: number;
  proto: "http" | "https";
  tls?: { cert: string; key: string };
  apps: AppTable;
  limits: FrontLimits;
  /** A promise to wait for before routing (apps still loading), or undefined once open. */
  gate: () => Promise<unknown> | undefined;
  endpoints: ReadonlyMap<string, OwnEndpoint>;
  /** Which clients may see internals (log tails, the app list); default: those on loopback. */
  trusted?: (ip: string) => boolean;
  onEvent?: (event: ProxyEvent) => void;
  onAccess?: (entry: AccessEntry) => void;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");
/** Statuses the host hears of: the client's malformed or slow requests, and apps that failed to answer. */
const REPORTED = new Set([400, 405, 408, 413, 414, 431, 501, 502, 503, 504, 505]);
/** Pipelined bytes held while an exchange runs before the client is paused. */
const MAX_PIPELINED = 256 * 1024;
const SWEEP_MS = 500;

const enum State {
  Head,
  Busy,
  Tunnel,
  Closed,
}

export class FrontListener {
  readonly listener: TCPSocketListener<ClientConn>;
  readonly clients = new Set<ClientConn>();
  stopping = false;
  /** Coarse clock (epoch ms) for deadlines, advanced by the sweep and on connection events. */
  clock = Date.now();
  private sweepTimer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly options: FrontOptions) {
    const front = this;
    this.listener = Bun.listen<ClientConn>({
      hostname: options.hostname,
      port: options.port,
      tls: options.tls,
      socket: {
        open(socket) {
          socket.data = new ClientConn(socket, front);
          front.admit(socket.data);
        },
        data(socket, data) {
          socket.data.onData(data);
        },
        drain(socket) {
          socket.data.onDrain();
        },
        close(socket) {
          socket.data?.onClose();
        },
        error(socket) {
          socket.data?.onClose();
        },
      },
    });
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
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
    clearInterval(this.sweepTimer);
    this.listener.stop(force);
    for (const c of [...this.clients]) {
      if (force || c.state === State.Head) c.close(force);
    }
  }

  /**
   * At the connection cap a new connection makes room: first the longest-idle keep-alive connection is closed,
   * else the one that has spent longest sending an incomplete head; when neither exists the new one gets 503.
   */
  private admit(conn: ClientConn): void {
    this.clients.add(conn);
    if (this.clients.size <= this.options.limits.maxConnections) return;
    let idle: ClientConn | undefined;
    let slow: ClientConn | undefined;
    for (const c of this.clients) {
      if (c === conn || c.state !== State.Head) continue;
      if (c.headSince === 0) {
        if (idle === undefined || c.idleSince < idle.idleSince) idle = c;
      } else if (slow === undefined || c.headSince < slow.headSince) {
        slow = c;
      }
    }
    const victim = idle ?? slow;
    if (victim !== undefined) victim.close(true);
    else conn.refuseAtCap();
  }

  private sweep(): void {
    const now = (this.clock = Date.now());
    const { headerTimeout, idleTimeout, bodyTimeout } = this.options.limits;
    for (const c of this.clients) {
      if (c.state === State.Head) {
        if (c.headSince > 0) {
          if (headerTimeout > 0 && now - c.headSince > headerTimeout * 1000) c.refuse(clientErrorPage(408, `the request head did not arrive within ${headerTimeout} s`));
        } else if (idleTimeout > 0 && now - c.idleSince > idleTimeout * 1000) {
          c.close(false);
        }
      } else if (c.state === State.Busy) {
        const ex = c.exchange;
        if (ex !== undefined && ex.responseDeadline > 0 && now >= ex.responseDeadline) ex.deadlinePassed();
        if (!c.bodyDone && bodyTimeout > 0 && now - c.lastData > bodyTimeout * 1000) c.bodyStalled(bodyTimeout);
      }
    }
  }
}

/** One client connection. */
export class ClientConn implements ClientSide {
  state = State.Head;
  readonly ip: string;
  readonly proto: "http" | "https";
  readonly trusted: boolean;
  wantsClose = false;
  exchange: Exchange | undefined;
  /** Unparsed bytes (owned: never a view of Bun's read buffer). */
  private buf: Buffer | undefined;
  private pumping = false;
  private paused = false;
  private closing = false;
  private readonly out = new Outbox();
  /** A streamed answer of the server's own in progress, and its wait for the socket to drain. */
  private ownStream: { cancel(): Promise<void> } | undefined;
  private drainWaiter: (() => void) | undefined;
  /** The current request's body: done, or what is left of it. */
  bodyDone = true;
  private bodyLeft = 0;
  private decoder: ChunkedDecoder | undefined;
  /** When the head being received started arriving (0: none in progress). */
  headSince = 0;
  idleSince: number;
  lastData: number;

  constructor(
    readonly socket: Socket<ClientConn>,
    readonly front: FrontListener,
  ) {
    this.ip = normaliseIp(socket.remoteAddress ?? "");
    this.proto = front.options.proto;
    this.trusted = (front.options.trusted ?? isLoopback)(this.ip);
    this.idleSince = this.lastData = front.clock;
    socket.setNoDelay(true);
  }

  onData(data: Buffer): void {
    this.lastData = this.front.clock;
    switch (this.state) {
      case State.Head: {
        const held = this.buf;
        this.buf = undefined;
        this.pump(held === undefined ? data : Buffer.concat([held, data]), held !== undefined);
        return;
      }
      case State.Busy: {
        let from = 0;
        if (!this.bodyDone) {
          from = this.readBody(data, 0);
          if (from < 0) return;
        }
        if (from < data.length) this.hold(data.subarray(from));
        return;
      }
      case State.Tunnel:
        this.exchange?.tunnelFromClient(data);
        return;
    }
  }

  /** Parse and start requests from `buf` while none is in flight. `owned`: buf is not a view of Bun's buffer. */
  private pump(buf: Buffer, owned: boolean): void {
    this.pumping = true;
    // Offsets into buf rather than views of it: a view is an object per request on the hot path.
    let at = 0;
    try {
      while (at < buf.length) {
        if (this.state !== State.Head) {
          this.hold(at === 0 ? buf : buf.subarray(at));
          return;
        }
        if (this.headSince === 0) this.headSince = this.front.clock;
        const end = buf.indexOf(CRLFCRLF, at);
        if (end < 0 || end - at > MAX_REQUEST_HEAD) {
          if (buf.length - at > MAX_REQUEST_HEAD) return this.refuse(clientErrorPage(431, `the request head is larger than ${MAX_REQUEST_HEAD / 1024} KiB`));
          const rest = at === 0 ? buf : buf.subarray(at);
          this.buf = owned ? rest : Buffer.from(rest);
          return;
        }
        const head = parseRequestHead(buf.toString("latin1", at, end));
        if (head instanceof RequestHeadError) return this.refuse(clientErrorPage(head.status, head.reason));
        this.headSince = 0;
        const used = this.begin(head, buf, end + 4);
        if (used < 0) return;
        at = end + 4 + used;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Keep bytes that belong to later requests (or to a tunnel about to start). */
  private hold(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.buf = this.buf === undefined ? Buffer.from(bytes) : Buffer.concat([this.buf, bytes]);
    if (this.buf.length > MAX_PIPELINED) this.pauseReading();
  }

  /** Start the exchange for `head`, reading what of its body is in buf[from..]; the bytes it used, or -1. */
  private begin(head: RequestHead, buf: Buffer, from: number): number {
    this.state = State.Busy;
    this.wantsClose = this.front.stopping || (head.minor === 1 ? head.connection.includes("close") : !head.connection.includes("keep-alive"));
    const ex = new Exchange(this, head);
    this.exchange = ex;
    this.bodyDone = ex.requestComplete;
    if (head.chunked) (this.decoder ??= new ChunkedDecoder(true, true)).reset();
    else this.bodyLeft = Math.max(head.contentLength, 0);
    // Body bytes that came with the head go with it (one write upstream), as views until routed.
    const used = this.bodyDone || from === buf.length ? 0 : this.readBody(buf, from, true);
    if (used < 0) return -1;
    const gate = this.front.options.gate();
    if (gate === undefined) this.route(ex, head);
    else void gate.then(() => ex.finished || this.state === State.Closed || this.route(ex, head));
    ex.keepHeld();
    return used;
  }

  /** Feed body bytes data[from..] to the exchange; how many were body, or -1 when the framing broke. */
  private readBody(data: Buffer, from: number, transient = false): number {
    const ex = this.exchange!;
    if (this.decoder !== undefined && ex.head.chunked) {
      const pieces: Uint8Array[] = [];
      const end = this.decoder.decode(data, from, pieces);
      if (end === -2) {
        this.bodyBroken(clientErrorPage(400, `invalid chunked body: ${this.decoder.error}`));
        return -1;
      }
      const done = end >= 0;
      if (done) this.bodyDone = true;
      ex.requestBody(pieces, done, transient);
      return (done ? end : data.length) - from;
    }
    const take = Math.min(this.bodyLeft, data.length - from);
    this.bodyLeft -= take;
    const done = this.bodyLeft === 0;
    if (done) this.bodyDone = true;
    ex.requestBody(take > 0 ? [data.subarray(from, from + take)] : [], done, transient);
    return take;
  }

  /** The one route decision: the server's own paths, then the app by Host and path, then the app's route. */
  private route(ex: Exchange, head: RequestHead): void {
    const path = head.path;
    if (path.startsWith(RESERVED_PREFIX) && (path.length === RESERVED_PREFIX.length || path.charCodeAt(RESERVED_PREFIX.length) === 47)) {
      return this.ownEndpoint(ex, head);
    }
    const close = !ex.requestComplete;
    const app = this.front.options.apps.match(head.host, path);
    if (app === undefined) return this.answerLocal(notFoundPage(path), acceptOf(head), close);
    ex.assign(app);
    if (app.loadError !== undefined) return this.answerLocal(loadErrorPage(app.loadError, app.name), acceptOf(head), close);
    if (app.redirectBarePath && path === app.prefix && app.prefix !== "") {
      return this.writeAnswer({ status: 308, headers: [["location", `${path}/${head.query}`]], body: "" }, close);
    }
    const route = matchRoute(app, path);
    if (route === undefined) return this.answerLocal(notFoundPage(path), acceptOf(head), close);
    ex.start(app, route, app.responseHeaderTimeout ?? this.front.options.limits.responseHeaderTimeout);
  }

  private ownEndpoint(ex: Exchange, head: RequestHead): void {
    const close = !ex.requestComplete;
    const handler = findEndpoint(this.front.options.endpoints, head.path);
    if (handler === undefined) return this.answerLocal(notFoundPage(head.path), acceptOf(head), close);
    const headers = new Headers();
    for (let i = 0; i < head.names.length; i++) headers.append(head.names[i]!, head.values[i]!);
    const url = `${this.proto}://${head.host || "localhost"}${head.path}${head.query}`;
    const current = () => this.state === State.Busy && this.exchange === ex;
    Promise.resolve()
      .then(() => handler(new Request(url, { method: head.method, headers }), { ip: this.ip, trusted: this.trusted }))
      .then(async (res) => {
        if (!current()) return void res.body?.cancel();
        // An event stream is written as it comes; anything else is read whole and sent with its length.
        if (res.body !== null && (res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return this.streamAnswer(ex, res, close);
        const answer = { status: res.status, headers: [...res.headers], body: new Uint8Array(await res.arrayBuffer()) };
        if (current()) this.writeAnswer(answer, close);
      })
      .catch((err: unknown) => current() && this.answerLocal(clientErrorPage(500, String((err as Error)?.message ?? err)), null, true));
  }

  /** Write a streamed answer of the server's own (status page events): chunked to HTTP/1.1, until close to 1.0. */
  private async streamAnswer(ex: Exchange, res: Response, close: boolean): Promise<void> {
    const chunked = ex.head.minor === 1;
    const shut = close || this.wantsClose || this.front.stopping || !chunked;
    let text = `HTTP/1.1 ${res.status} ${STATUS_TEXT[res.status] ?? ""}\r\n`;
    for (const [name, value] of res.headers) {
      const lower = name.toLowerCase();
      if (lower !== "content-length" && lower !== "connection" && lower !== "transfer-encoding") text += `${name}: ${value}\r\n`;
    }
    text += `${chunked ? "transfer-encoding: chunked\r\n" : ""}${shut ? "connection: close\r\n" : ""}\r\n`;
    this.send(Buffer.from(text, "latin1"));
    ex.status = res.status;
    const reader = res.body!.getReader();
    this.ownStream = reader;
    try {
      while (ex.head.method !== "HEAD") {
        const { done, value } = await reader.read();
        if (done || this.state !== State.Busy || this.exchange !== ex) break;
        ex.bytesOut += value.length;
        if (!this.send(chunked ? joined(chunk(value)) : value)) await new Promise<void>((resolve) => (this.drainWaiter = resolve));
      }
    } finally {
      this.ownStream = undefined;
      void reader.cancel().catch(() => {});
    }
    if (this.state !== State.Busy || this.exchange !== ex) return;
    if (chunked && ex.head.method !== "HEAD") this.send(LAST_CHUNK);
    ex.end();
    this.exchangeDone(shut);
  }

  send(bytes: Uint8Array | string): boolean {
    if (this.state === State.Closed) return true;
    return this.out.send(this.socket, bytes);
  }

  pauseReading(): void {
    if (this.paused || this.state === State.Closed) return;
    this.paused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.paused || this.state === State.Closed) return;
    if (this.buf !== undefined && this.buf.length > MAX_PIPELINED && this.state === State.Busy) return;
    this.paused = false;
    this.socket.resume();
  }

  startTunnel(): void {
    this.state = State.Tunnel;
    const held = this.buf;
    this.buf = undefined;
    if (held !== undefined) this.exchange?.tunnelFromClient(held);
    this.resumeReading();
  }

  exchangeDone(close: boolean): void {
    this.exchange = undefined;
    if (this.state === State.Closed) return;
    if (close || this.wantsClose || this.front.stopping) {
      this.close(false);
      return;
    }
    this.state = State.Head;
    this.idleSince = this.front.clock = Date.now();
    this.headSince = 0;
    this.resumeReading();
    const held = this.buf;
    if (!this.pumping && held !== undefined) {
      this.buf = undefined;
      this.pump(held, true);
    }
  }

  answerLocal(page: ErrorPage, accept: string | null, close: boolean): void {
    this.report(page);
    this.writeAnswer(errorAnswer(page, accept, this.trusted), close);
  }

  /** Write an answer of the proxy's own (no body for HEAD), then end the exchange. */
  private writeAnswer(answer: LocalAnswer, close: boolean): void {
    const method = this.exchange?.head.method;
    const body = typeof answer.body === "string" ? Buffer.from(answer.body, "utf8") : answer.body;
    const shut = close || this.wantsClose || this.front.stopping;
    let text = `HTTP/1.1 ${answer.status} ${STATUS_TEXT[answer.status] ?? ""}\r\n`;
    for (const [name, value] of answer.headers) {
      const lower = name.toLowerCase();
      if (lower === "content-length" || lower === "connection" || lower === "transfer-encoding") continue;
      text += `${name}: ${value}\r\n`;
    }
    text += `content-length: ${body.length}\r\n${shut ? "connection: close\r\n" : ""}\r\n`;
    const head = Buffer.from(text, "latin1");
    const bytes = method === "HEAD" || body.length === 0 ? head : joined([head, body]);
    this.send(bytes);
    const ex = this.exchange;
    if (ex !== undefined) {
      (ex.metrics ?? this.front.options.apps.metrics.unrouted).answered(answer.status, (performance.now() - ex.startedAt) / 1000);
      ex.status = answer.status;
      ex.bytesOut += bytes.length;
      ex.end();
    }
    this.exchangeDone(shut);
  }

  /** A request refused before any exchange: answer and close (`logged`: its access line is written already). */
  refuse(page: ErrorPage, logged = false): void {
    this.report(page);
    if (this.state === State.Closed) return;
    this.front.options.apps.metrics.unrouted.answered(page.status, 0);
    if (!logged) this.access({ time: new Date(), client: this.ip, method: "", target: "", app: "", status: page.status, durationMs: 0, bytesIn: 0, bytesOut: 0 });
    const answer = errorAnswer(page, null, this.trusted);
    const body = Buffer.from(answer.body as string, "utf8");
    let text = `HTTP/1.1 ${page.status} ${STATUS_TEXT[page.status] ?? ""}\r\n`;
    for (const [name, value] of answer.headers) text += `${name}: ${value}\r\n`;
    text += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
    this.buf = undefined;
    this.send(joined([Buffer.from(text, "latin1"), body]));
    this.close(false);
  }

  /** Over the connection cap with nothing to evict. */
  refuseAtCap(): void {
    this.refuse({ status: 503, title: "Service Unavailable", detail: "too many open connections", retryAfter: true });
  }

  private bodyBroken(page: ErrorPage): void {
    const ex = this.exchange;
    this.bodyDone = true;
    if (ex !== undefined && !ex.answerStarted) {
      ex.status = page.status;
      ex.requestBroken();
      this.exchange = undefined;
      this.refuse(page, true);
    } else {
      this.report(page);
      ex?.requestBroken();
      this.abort();
    }
  }

  bodyStalled(seconds: number): void {
    this.bodyBroken(clientErrorPage(408, `the request body sent nothing for ${seconds} s`));
  }

  /** Close the connection: at once (`force`), or after what is queued has been written. */
  close(force: boolean): void {
    if (this.state === State.Closed) return;
    if (force) return this.abort();
    this.closing = true;
    this.state = State.Closed;
    this.exchange?.clientGone();
    if (!this.out.pending) this.socket.end();
  }

  abort(): void {
    const wasClosed = this.state === State.Closed && !this.closing;
    this.state = State.Closed;
    this.exchange?.clientGone();
    if (!wasClosed) this.socket.terminate();
  }

  onDrain(): void {
    if (!this.out.flush(this.socket)) return;
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter?.();
    if (this.closing) this.socket.end();
    else this.exchange?.clientDrained();
  }

  onClose(): void {
    this.state = State.Closed;
    void this.ownStream?.cancel().catch(() => {});
    this.drainWaiter?.();
    this.closing = false;
    this.out.clear();
    this.front.clients.delete(this);
    const ex = this.exchange;
    this.exchange = undefined;
    ex?.clientGone();
  }

  exchangeEnded(ex: Exchange): void {
    if (this.front.options.onAccess === undefined) return;
    const head = ex.head;
    this.access({
      time: new Date(),
      client: this.ip,
      method: head.method,
      target: head.path + head.query,
      app: ex.appLabel,
      status: ex.status,
      durationMs: performance.now() - ex.startedAt,
      bytesIn: ex.bytesIn,
      bytesOut: ex.bytesOut,
    });
  }

  private access(entry: AccessEntry): void {
    this.front.options.onAccess?.(entry);
  }

  /** Tell the host about refused requests (400, 408, 413 and up) and answers the app failed to give (502–504). */
  private report(page: ErrorPage): void {
    const onEvent = this.front.options.onEvent;
    if (onEvent === undefined || !REPORTED.has(page.status)) return;
    const head = this.exchange?.head;
    onEvent({ status: page.status, reason: page.detail, client: this.ip, method: head?.method ?? "", path: head?.path ?? "", app: this.exchange?.appName });
  }
}

/** The endpoint for `path`: an exact match, else the longest key ending in "/" that `path` starts with. */
function findEndpoint(endpoints: ReadonlyMap<string, OwnEndpoint>, path: string): OwnEndpoint | undefined {
  const exact = endpoints.get(path);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  for (const key of endpoints.keys()) {
    if (key.endsWith("/") && path.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : endpoints.get(best);
}

function notFoundPage(path: string): ErrorPage {
  return { status: 404, title: "Not Found", detail: `no app serves ${path}` };
}

/** 127.0.0.0/8 and ::1: the machine itself. */
export function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}
