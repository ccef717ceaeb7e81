/**
 * The front door's edge cases on raw keep-alive connections: heads split across packets, pipelining, chunked
 * answers re-framed, HEAD/304, Connection: close, a client leaving mid-body, and requests of every kind (a POST,
 * a WebSocket upgrade) on one connection, with X-Forwarded-For the client's on each.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { AppTable, createProxyServer, FixedUpstream, type ProxyServer } from "../../src/proxy/index.ts";
import { FakeUpstream, route, startUpstream, waitFor } from "./helpers.ts";

let up: ReturnType<typeof startUpstream>;
let raw: ReturnType<typeof rawUpstream>;
let proxy: ProxyServer;
let fake: FakeUpstream;
let port: number;

/** A hand-written upstream for framings Bun.serve never produces: chunk extensions and trailers, until-close. */
function rawUpstream() {
  return Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      async data(sock, data) {
        const text = Buffer.from(data).toString("latin1");
        const path = text.split(" ")[1]!;
        if (path === "/chunked") {
          // Sent in pieces that split the size line, the data and the trailer.
          const pieces = ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Up: 1\r\n\r\n5;ext=1\r", "\nhel", "lo\r\n6\r\n world\r\n0\r\nX-Trailer: t\r", "\n\r\n"];
          for (const p of pieces) {
            sock.write(p);
            sock.flush();
            await Bun.sleep(5);
          }
        } else if (path === "/until-close") {
          sock.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close");
          sock.end();
        } else if (path === "/not-modified") {
          sock.write("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
        } else {
          sock.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
      },
    },
  });
}

beforeAll(() => {
  up = startUpstream();
  raw = rawUpstream();
  fake = new FakeUpstream(up.url);
  // FakeUpstream has no readyUrl, so every request would wait on ensureReady: give it one, as warm apps have.
  (fake as unknown as { readyUrl: () => string }).readyUrl = () => up.url;
  const apps = new AppTable();
  apps.add({ path: "/app", name: "app", routes: [route()], upstream: fake });
  apps.add({ path: "/raw", name: "raw", routes: [route()], upstream: new FixedUpstream(`http://127.0.0.1:${raw.port}`) });
  proxy = createProxyServer({ port: 0, apps });
  port = Number(new URL(proxy.url).port);
});
afterAll(async () => {
  await proxy.stop(true);
  up.server.stop(true);
  raw.stop(true);
});

interface Answer {
  status: number;
  headers: Map<string, string>;
  /** The body as it came on the wire (chunked framing kept). */
  wire: Buffer;
}

/** A keep-alive client connection that reads answers one by one, framed by their headers. */
class Conn {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  closed = false;
  private constructor(readonly socket: Socket) {}

  static async open(): Promise<Conn> {
    let conn!: Conn;
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, d) {
          conn.buf = Buffer.concat([conn.buf, d]);
          conn.wake?.();
        },
        close() {
          conn.closed = true;
          conn.wake?.();
        },
      },
    });
    conn = new Conn(socket);
    return conn;
  }

  write(text: string): void {
    this.socket.write(text);
    this.socket.flush();
  }

  private async more(): Promise<void> {
    if (this.closed) throw new Error(`connection closed; have ${JSON.stringify(this.buf.toString())}`);
    await Promise.race([new Promise<void>((r) => (this.wake = r)), Bun.sleep(5000).then(() => Promise.reject(new Error("timed out")))]);
  }

  /** Read one answer; `head` for a HEAD request (no body whatever the headers say). */
  async read(head = false): Promise<Answer> {
    let end: number;
    while ((end = this.buf.indexOf("\r\n\r\n")) < 0) await this.more();
    const lines = this.buf.subarray(0, end).toString("latin1").split("\r\n");
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) headers.set(l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim());
    const status = Number(lines[0]!.split(" ")[1]);
    let at = end + 4;
    let bodyEnd = at;
    if (head || status === 204 || status === 304 || status === 101) {
      bodyEnd = at;
    } else if (headers.get("transfer-encoding") === "chunked") {
      for (;;) {
        const tail = this.buf.indexOf("\r\n0\r\n", at - 2);
        const trailerEnd = tail < 0 ? -1 : this.buf.indexOf("\r\n\r\n", tail + 3);
        if (trailerEnd >= 0) {
          bodyEnd = trailerEnd + 4;
          break;
        }
        await this.more();
      }
    } else if (headers.has("content-length")) {
      bodyEnd = at + Number(headers.get("content-length"));
      while (this.buf.length < bodyEnd) await this.more();
    } else {
      while (!this.closed) await this.more().catch(() => {});
      bodyEnd = this.buf.length;
    }
    const wire = Buffer.from(this.buf.subarray(at, bodyEnd));
    this.buf = this.buf.subarray(bodyEnd);
    return { status, headers, wire };
  }

  async waitClosed(ms = 3000): Promise<boolean> {
    return waitFor(() => this.closed, ms);
  }

  close(): void {
    this.socket.end();
  }
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
const echo = (a: Answer): any => JSON.parse((a.headers.get("transfer-encoding") === "chunked" ? dechunk(a.wire) : a.wire).toString());

function dechunk(wire: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = wire.indexOf("\r\n", at);
    const size = parseInt(wire.subarray(at, eol).toString(), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(wire.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

describe("one connection, many shapes", () => {
  test("a head split across packets is parsed once whole", async () => {
    const c = await Conn.open();
    const text = get("/app/split?q=1", "X-Custom: yes\r\n");
    for (const part of [text.slice(0, 3), text.slice(3, 20), text.slice(20, text.length - 1), text.slice(text.length - 1)]) {
      c.write(part);
      await Bun.sleep(10);
    }
    const a = await c.read();
    expect(a.status).toBe(200);
    expect(echo(a).path).toBe("/split?q=1");
    expect(echo(a).headers["x-custom"]).toBe("yes");
    c.close();
  });

  test("pipelined requests are answered in order on one connection", async () => {
    const c = await Conn.open();
    c.write(get("/app/one") + get("/app/status/204") + get("/app/two") + get("/app/three"));
    expect(echo(await c.read()).path).toBe("/one");
    expect((await c.read()).status).toBe(204);
    expect(echo(await c.read()).path).toBe("/two");
    expect(echo(await c.read()).path).toBe("/three");
    c.close();
  });

  test("a chunked body is re-framed (extensions dropped, trailers kept), and the connection carries on", async () => {
    const c = await Conn.open();
    c.write(get("/raw/chunked"));
    const a = await c.read();
    expect(a.status).toBe(200);
    expect(a.headers.get("x-up")).toBe("1");
    // The framing is written anew from what was parsed: sizes without extensions, the trailer field kept.
    expect(a.wire.toString()).toBe("5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    c.write(get("/raw/chunked"));
    expect((await c.read()).wire.toString()).toContain("hello");
    c.close();
  });

  test("HEAD and 304 have no body; an until-close body ends the client connection", async () => {
    const c = await Conn.open();
    c.write(`HEAD /app/x HTTP/1.1\r\nHost: localhost\r\n\r\n` + get("/raw/not-modified") + get("/app/after"));
    const h = await c.read(true);
    expect(h.status).toBe(200);
    expect(Number(h.headers.get("content-length"))).toBeGreaterThan(0);
    const nm = await c.read();
    expect(nm.status).toBe(304);
    expect(nm.headers.get("etag")).toBe('"x"');
    expect(echo(await c.read()).path).toBe("/after");
    c.write(get("/raw/until-close"));
    const u = await c.read();
    expect(u.headers.get("connection")).toBe("close");
    expect(u.wire.toString()).toBe("until close");
    expect(await c.waitClosed()).toBe(true);
  });

  test("Connection: close from the client is answered, then the connection closes", async () => {
    const c = await Conn.open();
    c.write(get("/app/bye", "Connection: close\r\n"));
    const a = await c.read();
    expect(a.status).toBe(200);
    expect(a.headers.get("connection")).toBe("close");
    expect(echo(a).headers.connection).toBeUndefined();
    expect(await c.waitClosed()).toBe(true);
  });

  test("hop-by-hop and Connection-named headers are dropped both ways; X-Forwarded-* and Host are the proxy's", async () => {
    const c = await Conn.open();
    c.write(get("/app/h", "Keep-Alive: 5\r\nProxy-Authorization: x\r\nTE: trailers, gzip\r\nX-Forwarded-Proto: ftp\r\nX-Kept: 1\r\n"));
    const h = echo(await c.read()).headers;
    expect(h["keep-alive"]).toBeUndefined();
    expect(h["proxy-authorization"]).toBeUndefined();
    expect(h.te).toBe("trailers");
    expect(h["x-kept"]).toBe("1");
    expect(h.host).toBe(new URL(up.url).host);
    expect(h["x-forwarded-proto"]).toBe("http");
    expect(h["x-forwarded-host"]).toBe("localhost");
    expect(h["x-forwarded-prefix"]).toBe("/app");
    c.write(get("/app/h2", "Connection: keep-alive, X-Private\r\nX-Private: secret\r\nX-Kept: 2\r\n"));
    const h2 = echo(await c.read()).headers;
    expect(h2["x-private"]).toBeUndefined();
    expect(h2["x-kept"]).toBe("2");
    c.write(get("/app/hop"));
    const r = await c.read();
    expect(r.headers.get("x-public")).toBe("yes");
    for (const gone of ["keep-alive", "connection", "x-private", "proxy-authenticate"]) expect(r.headers.has(gone)).toBe(false);
    c.close();
  });

  test("a client leaving mid-body cancels the upstream stream; accounting balances", async () => {
    const before = up.log.cancelledStreams;
    const c = await Conn.open();
    c.write(get("/app/forever"));
    await Bun.sleep(200);
    c.socket.terminate();
    expect(await waitFor(() => up.log.cancelledStreams > before)).toBe(true);
    expect(await waitFor(() => fake.active === 0)).toBe(true);
  });
});

describe("mixed requests on one connection", () => {
  test("a POST after a GET on one keep-alive connection is relayed and answered", async () => {
    const c = await Conn.open();
    c.write(get("/app/first"));
    expect(echo(await c.read()).path).toBe("/first");
    // Not pipelined behind the POST: Bun.serve (1.4.5) closes a connection whose next request arrives while an
    // async handler still runs for one with a body, with or without the front end.
    c.write(`POST /app/post HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello`);
    const p = echo(await c.read());
    expect(p.method).toBe("POST");
    expect(p.body).toBe("hello");
    c.write(get("/app/third"));
    expect(echo(await c.read()).path).toBe("/third");
    c.close();
  });

  test("a WebSocket upgrade after a GET on one keep-alive connection is relayed", async () => {
    const c = await Conn.open();
    c.write(get("/app/first"));
    expect((await c.read()).status).toBe(200);
    c.write(
      "GET /app/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    const a = await c.read();
    expect(a.status).toBe(101);
    expect(a.headers.get("sec-websocket-accept")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    c.close();
  });

  test("X-Forwarded-For is the client's on every request of a connection, with and without a body", async () => {
    const c = await Conn.open();
    const spoof = "X-Forwarded-For: 1.2.3.4\r\n";
    c.write(get("/app/fast", "X-Forwarded-For: 1.2.3.4\r\n"));
    const fast = echo(await c.read()).headers;
    expect(fast["x-forwarded-for"]).toBe("1.2.3.4, 127.0.0.1");
    c.write(get("/app/spoofed-get", spoof));
    const g = echo(await c.read()).headers;
    expect(g["x-forwarded-for"]).toBe("1.2.3.4, 127.0.0.1");
    c.write(`POST /app/post HTTP/1.1\r\nHost: localhost\r\n${spoof}Content-Length: 2\r\n\r\nhi`);
    const p = echo(await c.read()).headers;
    expect(p["x-forwarded-for"]).toBe("1.2.3.4, 127.0.0.1");
    c.close();
  });

  test("an oversized request head gets 431; unknown paths 404", async () => {
    const c = await Conn.open();
    c.write(get("/nowhere"));
    expect((await c.read()).status).toBe(404);
    c.close();
    const big = await Conn.open();
    big.write(get("/app/x", `X-Big: ${"a".repeat(70 * 1024)}\r\n`));
    expect((await big.read()).status).toBe(431);
    big.close();
  });
});
