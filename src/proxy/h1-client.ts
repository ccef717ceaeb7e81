/**
 * A small HTTP/1.1 client on `Bun.connect` with pooled keep-alive connections: the proxy's fast path for requests
 * without a body to plain-http upstreams (the bulk of traffic). Bun's fetch costs more per request (header
 * objects, its own pool, a stream per body); here the request head is written as one string and a response with a
 * small known length is handed over as one buffer. Anything else the fast path does not take goes through fetch.
 *
 * Framing follows RFC 9112: no body for HEAD, 1xx, 204 and 304; otherwise chunked, Content-Length, or until the
 * upstream closes. Bodies that are chunked, large or close-delimited stream with backpressure (the socket is
 * paused while the client is slow).
 */
import type { Socket } from "bun";
import { connectionNamed, isHopByHop } from "./headers.ts";
import { IdlePool, MAX_HEAD, poolsByOrigin } from "./idle-pool.ts";
import { unwatch, watch, type Watched } from "./slow-watch.ts";

/**
 * A response is handed to Bun.serve outside the client request's own callback (it resolves from an upstream socket
 * event), where Bun writes it uncorked. Head plus body up to Bun's 16 KB cork buffer still leave in one write, with
 * Content-Length kept; above that Bun writes the status line and every header name, separator and value with its
 * own send (strace: 15 sends for a 20 KB answer, 5x the CPU). So a known-length answer whose head and body fit is
 * collected and handed over as one buffer; anything larger streams (Bun then writes the head and the first chunk
 * with one writev, in chunked framing), as do chunked and close-delimited bodies, with backpressure.
 */
const ONE_WRITE_LIMIT = 16 * 1024 - 512;

export class UpstreamClosedError extends Error {
  readonly code: string;
  constructor(message: string, code = "ECONNRESET") {
    super(message);
    this.name = "UpstreamClosedError";
    this.code = code;
  }
}

/** The parsed answer: a Response ready for the client, plus whether its body still streams. */
export interface H1Result {
  response: Response;
  /** Resolves when a streamed body has ended (or failed, or was cancelled); undefined for a complete response. */
  streaming: Promise<void> | undefined;
}

const enum Phase {
  Idle,
  Head,
  Length,
  Chunked,
  UntilClose,
  Done,
}

/** One upstream connection and the exchange it is carrying. */
class Conn implements Watched {
  socket: Socket<Conn> | undefined;
  phase = Phase.Idle;
  /** Bytes received and not yet consumed. */
  buf: Buffer | undefined;
  reused = false;
  closed = false;
  keepAlive = true;
  isHead = false;
  /** Body bytes still expected (Length) or left in the current chunk (Chunked). */
  remaining = 0;
  /** Chunked: waiting for the CRLF after a chunk's data. */
  chunkTail = false;
  collected: Uint8Array | undefined;
  collectedAt = 0;
  /** The request, kept for the one retry of a GET/HEAD on a pooled connection that turned out to be closed. */
  method = "";
  text = "";
  status = 0;
  statusText = "";
  headers: Headers | undefined;
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  resolve: ((r: H1Result) => void) | undefined;
  reject: ((e: unknown) => void) | undefined;
  streamDone: (() => void) | undefined;
  signal: AbortSignal | undefined;
  /** The abort listener is on the signal (the exchange lasted long enough to be promoted by the watch). */
  listening = false;
  unsent: string | undefined;

  constructor(readonly pool: Pool) {}

  onDrain(): void {
    const rest = this.unsent;
    if (rest === undefined) return;
    const written = this.socket!.write(rest);
    this.unsent = written < rest.length ? rest.slice(Math.max(written, 0)) : undefined;
  }

  /**
   * The exchange is still open a tick after it started: from now on a client that goes away cancels it. Until
   * then no listener is paid for (most exchanges end well before), and an abort that already happened is seen here.
   */
  promote(): void {
    const signal = this.signal;
    if (signal === undefined) return;
    if (signal.aborted) {
      this.handleEvent();
      return;
    }
    this.listening = true;
    signal.addEventListener("abort", this);
  }

  /** AbortSignal listener: the client went away, so the exchange and this connection are over. */
  handleEvent(): void {
    this.fail(new UpstreamClosedError("the client went away", "ABORT_ERR"));
    this.socket?.terminate();
  }

  start(text: string, method: string, signal: AbortSignal): Promise<H1Result> {
    const p = new Promise<H1Result>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.send(text, method, signal);
    return p;
  }

  /** Carry on an exchange whose promise already exists (the retry on a fresh connection). */
  adopt(resolve: (r: H1Result) => void, reject: (e: unknown) => void, text: string, method: string, signal: AbortSignal): void {
    if (signal.aborted) {
      this.pool.release(this);
      reject(new UpstreamClosedError("the client went away", "ABORT_ERR"));
      return;
    }
    this.resolve = resolve;
    this.reject = reject;
    this.send(text, method, signal);
  }

  private send(text: string, method: string, signal: AbortSignal): void {
    this.phase = Phase.Head;
    this.method = method;
    this.text = text;
    this.isHead = method === "HEAD";
    this.keepAlive = true;
    this.signal = signal;
    watch(this);
    const written = this.socket!.write(text);
    // A partial write leaves the rest for the drain handler.
    if (written < text.length) this.unsent = text.slice(Math.max(written, 0));
  }

  onData(data: Buffer): void {
    let buf = this.buf === undefined ? data : Buffer.concat([this.buf, data]);
    this.buf = undefined;
    while (buf.length > 0) {
      switch (this.phase) {
        case Phase.Head: {
          const end = buf.indexOf("\r\n\r\n");
          if (end < 0) {
            if (buf.length > MAX_HEAD) return this.protocolError("response head too large");
            this.buf = buf;
            return;
          }
          const head = buf.toString("latin1", 0, end);
          buf = buf.subarray(end + 4);
          if (!this.parseHead(head, end + 4)) return;
          break;
        }
        case Phase.Length: {
          const n = Math.min(this.remaining, buf.length);
          this.body(buf.subarray(0, n));
          this.remaining -= n;
          buf = buf.subarray(n);
          if (this.remaining === 0) this.finish();
          break;
        }
        case Phase.Chunked: {
          if (this.chunkTail) {
            if (buf.length < 2) {
              this.buf = buf;
              return;
            }
            buf = buf.subarray(2);
            this.chunkTail = false;
            continue;
          }
          if (this.remaining > 0) {
            const n = Math.min(this.remaining, buf.length);
            this.body(buf.subarray(0, n));
            this.remaining -= n;
            buf = buf.subarray(n);
            if (this.remaining === 0) this.chunkTail = true;
            continue;
          }
          const eol = buf.indexOf("\r\n");
          if (eol < 0) {
            this.buf = buf;
            return;
          }
          const size = parseInt(buf.toString("latin1", 0, eol), 16);
          if (Number.isNaN(size)) return this.protocolError("bad chunk size");
          if (size === 0) {
            // Last chunk: an empty line ends the message, or trailers (dropped) and then one.
            if (buf.length < eol + 4) {
              this.buf = buf;
              return;
            }
            let end = eol + 2;
            if (buf[end] !== 13 || buf[end + 1] !== 10) {
              end = buf.indexOf("\r\n\r\n", eol);
              if (end < 0) {
                this.buf = buf;
                return;
              }
              end += 2;
            }
            buf = buf.subarray(end + 2);
            this.finish();
            break;
          }
          this.remaining = size;
          buf = buf.subarray(eol + 2);
          break;
        }
        case Phase.UntilClose:
          this.body(buf);
          return;
        default:
          // Bytes with no exchange in progress: the connection cannot be trusted any more.
          this.socket?.terminate();
          return;
      }
    }
  }

  /** Parse the status line and headers; returns false when the exchange ended (error or no body). */
  private parseHead(head: string, headBytes: number): boolean {
    const lines = head.split("\r\n");
    const statusLine = lines[0]!;
    if (!statusLine.startsWith("HTTP/1.")) {
      this.protocolError("not an HTTP/1.x response");
      return false;
    }
    const status = Number(statusLine.slice(9, 12));
    if (status >= 100 && status < 200) return true; // 100/103: the real answer follows.
    const http10 = statusLine.charCodeAt(7) === 48; /* "0" */
    let contentLength = -1;
    let chunked = false;
    let connection: string | null = null;
    const headers = new Headers();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") contentLength = Number(value);
      else if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
      else if (name === "connection") connection = value;
      if (isHopByHop(name)) continue;
      headers.append(name, value);
    }
    if (connection !== null) {
      const named = connectionNamed(connection);
      if (named !== undefined) for (const n of named) headers.delete(n);
      if (connection.toLowerCase().includes("close")) this.keepAlive = false;
    } else if (http10) {
      this.keepAlive = false;
    }
    this.status = status;
    this.statusText = statusLine.slice(13);
    this.headers = headers;
    if (this.isHead || status === 204 || status === 304) {
      this.respond(null, undefined);
      this.finish();
      return false;
    }
    if (chunked) {
      this.phase = Phase.Chunked;
      this.remaining = 0;
      this.chunkTail = false;
      this.openStream();
    } else if (contentLength >= 0) {
      if (contentLength === 0) {
        this.respond(null, undefined);
        this.finish();
        return false;
      }
      this.phase = Phase.Length;
      this.remaining = contentLength;
      if (headBytes + contentLength <= ONE_WRITE_LIMIT) {
        this.collected = new Uint8Array(contentLength);
        this.collectedAt = 0;
      } else {
        this.openStream();
      }
    } else {
      this.phase = Phase.UntilClose;
      this.keepAlive = false;
      this.openStream();
    }
    return true;
  }

  private openStream(): void {
    let streamDone!: () => void;
    const streaming = new Promise<void>((resolve) => {
      streamDone = resolve;
    });
    this.streamDone = streamDone;
    const body = new ReadableStream<Uint8Array>(new StreamSource(this), { highWaterMark: 4 });
    this.respond(body, streaming);
  }

  private respond(body: ReadableStream<Uint8Array> | Uint8Array | null, streaming: Promise<void> | undefined): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    this.reject = undefined;
    resolve?.({ response: new Response(body, { status: this.status, statusText: this.statusText, headers: this.headers }), streaming });
  }

  private body(chunk: Buffer): void {
    const collected = this.collected;
    if (collected !== undefined) {
      collected.set(chunk, this.collectedAt);
      this.collectedAt += chunk.length;
      return;
    }
    const c = this.controller;
    if (c === undefined) return;
    // Copy: the socket reuses its read buffer.
    c.enqueue(new Uint8Array(chunk));
    if ((c.desiredSize ?? 1) <= 0) this.socket?.pause();
  }

  resumeReading(): void {
    this.socket?.resume();
  }

  /** The body (or the whole bodiless answer) is complete. */
  private finish(): void {
    const collected = this.collected;
    if (collected !== undefined) {
      this.collected = undefined;
      this.respond(collected, undefined);
    }
    this.controller?.close();
    this.endExchange();
    if (this.keepAlive && !this.closed && this.buf === undefined) this.pool.release(this);
    else this.socket?.end();
  }

  private endExchange(): void {
    this.phase = Phase.Done;
    this.controller = undefined;
    if (this.listening) {
      this.listening = false;
      this.signal?.removeEventListener("abort", this);
    } else {
      unwatch(this);
    }
    this.signal = undefined;
    const done = this.streamDone;
    this.streamDone = undefined;
    done?.();
  }

  /** The stream's consumer went away. */
  cancelled(): void {
    if (this.phase === Phase.Done || this.phase === Phase.Idle) return;
    this.controller = undefined;
    this.endExchange();
    this.socket?.terminate();
  }

  private protocolError(message: string): void {
    this.fail(new UpstreamClosedError(`invalid response from the app: ${message}`, "EPROTO"));
    this.socket?.terminate();
  }

  fail(err: unknown): void {
    if (this.phase === Phase.Done || this.phase === Phase.Idle) return;
    if (this.retryable(err)) {
      // The pooled connection was closed before any byte of the answer: GET and HEAD get one fresh connection.
      const resolve = this.resolve!;
      const reject = this.reject!;
      const { text, method } = this;
      const signal = this.signal!;
      this.resolve = undefined;
      this.reject = undefined;
      this.endExchange();
      this.pool.connect().then((fresh) => fresh.adopt(resolve, reject, text, method, signal), reject);
      return;
    }
    const reject = this.reject;
    this.resolve = undefined;
    this.reject = undefined;
    reject?.(err);
    try {
      this.controller?.error(err);
    } catch {}
    this.collected = undefined;
    this.endExchange();
  }

  private retryable(err: unknown): boolean {
    if (!this.reused || this.phase !== Phase.Head || this.buf !== undefined || this.resolve === undefined) return false;
    if (this.method !== "GET" && this.method !== "HEAD") return false;
    if (this.signal === undefined || this.signal.aborted) return false;
    const code = (err as { code?: unknown } | null)?.code;
    return code === "ECONNRESET" || code === "EPIPE";
  }

  onClose(): void {
    this.closed = true;
    this.pool.forget(this);
    if (this.phase === Phase.UntilClose) {
      this.controller?.close();
      this.endExchange();
      return;
    }
    // Closed before any byte of the answer: on a pooled connection this is the stale-connection case (retryable).
    const before = this.phase === Phase.Head && this.buf === undefined;
    this.fail(new UpstreamClosedError("the app closed the connection", before ? "ECONNRESET" : "EPROTO"));
  }
}

class StreamSource {
  constructor(private readonly conn: Conn) {}
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.conn.controller = controller;
  }
  pull(): void {
    this.conn.resumeReading();
  }
  cancel(): void {
    this.conn.cancelled();
  }
}

const socketHandlers = {
  data(socket: Socket<Conn>, data: Buffer) {
    socket.data.onData(data);
  },
  close(socket: Socket<Conn>) {
    socket.data.onClose();
  },
  drain(socket: Socket<Conn>) {
    socket.data.onDrain();
  },
  error(socket: Socket<Conn>, err: Error) {
    socket.data.fail(err);
  },
};

/** Pooled connections to one upstream host:port. */
class Pool extends IdlePool<Conn> {
  async connect(): Promise<Conn> {
    const conn = new Conn(this);
    conn.socket = await Bun.connect<Conn>({ hostname: this.hostname, port: this.port, data: conn, socket: socketHandlers });
    conn.socket.setNoDelay(true);
    return conn;
  }

  override release(conn: Conn): void {
    conn.phase = Phase.Idle;
    super.release(conn);
  }
}

/** Pools by "host:port"; the fast path only serves plain http upstreams. */
export class H1Client {
  private readonly poolFor = poolsByOrigin((hostname, port) => new Pool(hostname, port));

  /**
   * Send a bodiless request. `origin` is "http://host:port" and `head` the request head without the request line.
   * Resolves once the response head arrived; GET and HEAD get one retry when a pooled connection was closed
   * before any answer came.
   */
  request(origin: string, method: string, target: string, head: string, signal: AbortSignal): Promise<H1Result> {
    const pool = this.poolFor(origin);
    const text = method + " " + target + " HTTP/1.1\r\n" + head + "\r\n";
    // The warm path stays synchronous up to the socket write: one promise per exchange, settled by the parser.
    const conn = pool.take();
    if (conn !== undefined) return conn.start(text, method, signal);
    return pool.connect().then((fresh) => fresh.start(text, method, signal));
  }
}
