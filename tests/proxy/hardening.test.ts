/**
 * The proxy's front door as an attacker meets it, on raw sockets. The upstream is a recording, bare-LF-tolerant
 * app (the kind that gets smuggled into: it reads a bare LF as a line end), so a request that slipped through
 * would show up in its log. Each vector is either refused by the proxy with a 4xx (the app sees nothing) or
 * reaches the app as exactly the requests the client's bytes mean, written anew. A seeded differential fuzz then
 * checks thousands of mutated requests against h11, a strict reference parser.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { AppTable, createProxyServer, FixedUpstream, type ProxyServer } from "../../src/proxy/index.ts";
import { route } from "./helpers.ts";

/** What the recording app saw: one entry per request it parsed (leniently), per connection. */
interface Seen {
  conn: number;
  head: string;
  body: Buffer;
}

/**
 * A lenient app: a head ends at a blank line (CRLF or bare LF), bodies are framed by Content-Length or chunked.
 * Each request is answered with its number; `close` makes it close after each answer. Paths: /silent never
 * answers, /sse streams for a while, /continue answers 100 first, /bare-lf and /bad-* send odd answers.
 */
function recordingApp(close = false) {
  const seen: Seen[] = [];
  let conns = 0;
  const sockets = new Set<Socket<{ id: number; buf: Buffer; sent100: boolean }>>();
  const server: TCPSocketListener<{ id: number; buf: Buffer; sent100: boolean }> = Bun.listen<{ id: number; buf: Buffer; sent100: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { id: ++conns, buf: Buffer.alloc(0), sent100: false };
        sockets.add(s);
      },
      close(s) {
        sockets.delete(s);
      },
      data(s, data) {
        s.data.buf = Buffer.concat([s.data.buf, data]);
        for (;;) {
          const req = takeRequest(s.data.buf);
          if (req === undefined) {
            const text = s.data.buf.toString("latin1");
            if (!s.data.sent100 && /^POST \/continue /.test(text) && /\r\n\r\n/.test(text) && /expect: 100-continue/i.test(text)) {
              s.data.sent100 = true;
              s.write("HTTP/1.1 100 Continue\r\n\r\n");
            }
            return;
          }
          s.data.buf = s.data.buf.subarray(req.used);
          seen.push({ conn: s.data.id, head: req.head, body: req.body });
          answer(s, req.head, seen.length, close);
        }
      },
    },
  });
  return { seen, server, sockets, url: `http://127.0.0.1:${server.port}` };
}

function answer(s: Socket<unknown>, head: string, n: number, close: boolean): void {
  const path = head.split(" ")[1] ?? "";
  const conn = close ? "connection: close\r\n" : "";
  if (path.startsWith("/silent")) return;
  if (path.startsWith("/bare-lf")) {
    // A CGI script's answer: bare LF line ends, as `echo` writes them.
    s.write(`HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 5\n${conn.replace("\r\n", "\n")}\nhello`);
  } else if (path.startsWith("/bad-length")) {
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
  } else if (path.startsWith("/bad-status")) {
    s.write("SPDY/3 200 OK\r\n\r\n");
  } else if (path.startsWith("/sse")) {
    s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    let i = 0;
    const timer = setInterval(() => {
      i++;
      const event = `data: ${i}\n\n`;
      s.write(`${event.length.toString(16)}\r\n${event}\r\n`);
      if (i === 5) {
        s.write("0\r\n\r\n");
        clearInterval(timer);
      }
    }, 500);
  } else {
    const body = String(n);
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${conn}\r\n${body}`);
  }
  if (close) s.end();
}

/** Lenient parse of one request from buf: head, body and bytes used; undefined when incomplete. */
function takeRequest(buf: Buffer): { head: string; body: Buffer; used: number } | undefined {
  const text = buf.toString("latin1");
  const m = /\r?\n\r?\n/.exec(text);
  if (m === null) return undefined;
  const head = text.slice(0, m.index);
  let at = m.index + m[0].length;
  const cl = /^content-length:[ \t]*(\d+)/im.exec(head);
  if (/^transfer-encoding:.*chunked/im.test(head)) {
    const parts: Buffer[] = [];
    for (;;) {
      const lf = text.indexOf("\n", at);
      if (lf < 0) return undefined;
      const size = parseInt(text.slice(at, lf), 16);
      at = lf + 1;
      if (size === 0) {
        const end = text.indexOf("\n", at);
        if (end < 0) return undefined;
        return { head, body: Buffer.concat(parts), used: end + 1 };
      }
      if (at + size + 2 > buf.length) return undefined;
      parts.push(buf.subarray(at, at + size));
      at += size + 2;
    }
  }
  const n = cl === null ? 0 : Number(cl[1]);
  if (at + n > buf.length) return undefined;
  return { head, body: buf.subarray(at, at + n), used: at + n };
}

/** Send bytes on a fresh connection; resolve with everything received once the proxy closes or goes quiet. */
function talk(port: number, bytes: string | Buffer, opts: { quietMs?: number; maxMs?: number; pieces?: (string | Buffer)[]; gapMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  const quietMs = opts.quietMs ?? 150;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = (closed: boolean, s?: Socket<unknown>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(cap);
      s?.end();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed });
    };
    const cap = setTimeout(() => finish(false, sock), opts.maxMs ?? 5000);
    let sock: Socket<unknown> | undefined;
    const rearm = (s: Socket<unknown>) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false, s), quietMs);
    };
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        async open(s) {
          sock = s;
          if (opts.pieces !== undefined) {
            for (const p of opts.pieces) {
              s.write(p);
              await Bun.sleep(opts.gapMs ?? 10);
            }
          } else {
            s.write(bytes);
          }
          rearm(s);
        },
        data(s, d) {
          chunks.push(Buffer.from(d));
          rearm(s);
        },
        close() {
          finish(true);
        },
        error() {
          finish(true);
        },
      },
    });
  });
}

/** Status codes of every answer in a stream of answers (heads only; bodies skipped by their length). */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

let app: ReturnType<typeof recordingApp>;
let proxy: ProxyServer;
let port: number;

beforeAll(() => {
  app = recordingApp();
  const apps = new AppTable();
  apps.add({ path: "/", routes: [route({ preserveHost: true })], upstream: new FixedUpstream(app.url), responseHeaderTimeout: 1 });
  proxy = createProxyServer({ port: 0, apps, headerTimeout: 1, idleTimeout: 5 });
  port = Number(new URL(proxy.url).port);
});

afterAll(async () => {
  await proxy.stop(true);
  app.server.stop(true);
});

/** Run `bytes` and return what the app saw during it. */
async function run(bytes: string | Buffer, opts?: Parameters<typeof talk>[2]) {
  const before = app.seen.length;
  const res = await talk(port, bytes, opts);
  return { ...res, seen: app.seen.slice(before), statuses: statuses(res.text) };
}

const H = "Host: localhost\r\n";

describe("smuggling vectors are refused before the app sees anything", () => {
  const refused: [string, string, number][] = [
    ["bare LF inside a header value", `GET /a HTTP/1.1\r\n${H}X-A: 1\n\nGET /smuggled HTTP/1.1\nX-Forwarded-For: 6.6.6.6\r\n\r\n`, 400],
    ["bare LF through the Host value", `GET /a HTTP/1.1\r\nHost: localhost\n\nGET /smuggled HTTP/1.1\nX: y\r\n\r\n`, 400],
    ["NUL in a value", `GET /a HTTP/1.1\r\n${H}X-A: 1\u00002\r\n\r\n`, 400],
    ["bare CR in a value", `GET /a HTTP/1.1\r\n${H}X-A: 1\r2\r\n\r\n`, 400],
    ["two different Host fields", `GET /a HTTP/1.1\r\n${H}Host: evil\r\n\r\n`, 400],
    ["two equal Host fields", `GET /a HTTP/1.1\r\n${H}${H}\r\n`, 400],
    ["no Host in HTTP/1.1", "GET /a HTTP/1.1\r\nX: y\r\n\r\n", 400],
    ["Content-Length and Transfer-Encoding", `POST /a HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`, 400],
    ["unequal Content-Length fields", `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, 400],
    ["an unequal Content-Length list", `POST /a HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\nhello!`, 400],
    ["a malformed Content-Length", `POST /a HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, 400],
    ["Transfer-Encoding: chunked, identity", `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, 400],
    ["an unknown coding before chunked", `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501],
    ["Transfer-Encoding in HTTP/1.0", `POST /a HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
    ["obs-fold", `GET /a HTTP/1.1\r\n${H}X-A: 1\r\n 2\r\n\r\n`, 400],
    ["whitespace before the colon", `GET /a HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n`, 400],
    ["a space in the target", `GET /a b HTTP/1.1\r\n${H}\r\n`, 400],
    ["a fragment in the target", `GET /a#b HTTP/1.1\r\n${H}\r\n`, 400],
    ["HTTP/2.0", `GET /a HTTP/2.0\r\n${H}\r\n`, 505],
    ["a bare LF ending the request line", `GET /a HTTP/1.1\n${H}\r\n`, 400],
    ["a 70 KB head", `GET /a HTTP/1.1\r\n${H}X-Big: ${"a".repeat(70 * 1024)}\r\n\r\n`, 431],
    ["5,000 header fields", `GET /a HTTP/1.1\r\n${H}${"X: y\r\n".repeat(5000)}\r\n`, 431],
    ["CONNECT", `CONNECT localhost:80 HTTP/1.1\r\n${H}\r\n`, 405],
  ];
  for (const [name, bytes, status] of refused) {
    test(`${name} → ${status}, nothing forwarded, connection closed`, async () => {
      const r = await run(bytes);
      expect(r.statuses).toEqual([status]);
      expect(r.seen).toEqual([]);
      expect(r.closed).toBe(true);
    });
  }

  test("bad chunk lines → 400, and the app never gets a complete request", async () => {
    for (const body of ["zz\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n-1\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n", "5\nhello\n0\n\n", "5\r\nhelloXX0\r\n\r\n", "5 x\r\nhello\r\n0\r\n\r\n", "ffffffffffffffff\r\n"]) {
      const r = await run(`POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${body}GET /after HTTP/1.1\r\n${H}\r\n`);
      expect(r.seen).toEqual([]);
      expect(r.text.includes("HTTP/1.1 200")).toBe(false);
      expect(r.closed).toBe(true);
    }
  });
});

describe("what a request means is what the app gets", () => {
  test("GET with a body: the length and the body are forwarded, and the next request is intact", async () => {
    const r = await run(`GET /g HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\n${H}\r\n`);
    expect(r.statuses).toEqual([200, 200]);
    expect(r.seen.map((s) => s.head.split(" ")[1])).toEqual(["/g", "/next"]);
    expect(r.seen[0]!.head).toMatch(/^content-length: 5$/im);
    expect(r.seen[0]!.body.toString()).toBe("hello");
  });

  test("equal Content-Length fields collapse to one", async () => {
    const r = await run(`POST /l HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5, 5\r\n\r\nhello`);
    expect(r.statuses).toEqual([200]);
    expect(r.seen[0]!.head.match(/content-length/gi)?.length).toBe(1);
    expect(r.seen[0]!.body.toString()).toBe("hello");
  });

  test("a chunked request body is re-framed: extensions and trailers dropped, data intact", async () => {
    const r = await run(`POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n`);
    expect(r.statuses).toEqual([200]);
    expect(r.seen[0]!.body.toString()).toBe("hello world");
    expect(r.seen[0]!.head).toMatch(/^transfer-encoding: chunked$/im);
  });

  test("Upgrade: h2c is dropped as hop-by-hop; later requests still carry the client's address", async () => {
    const r = await run(`GET /u HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\nGET /after HTTP/1.1\r\n${H}\r\n`);
    expect(r.statuses).toEqual([200, 200]);
    expect(r.seen[0]!.head).not.toMatch(/upgrade|http2-settings/i);
    expect(r.seen[1]!.head).toMatch(/^x-forwarded-for: 127\.0\.0\.1$/im);
  });

  test("pipelined requests with bodies are answered in order: POST+GET and GET, POST, GET", async () => {
    const a = await run(`POST /p1 HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcGET /p2 HTTP/1.1\r\n${H}\r\n`);
    expect(a.statuses).toEqual([200, 200]);
    expect(a.seen.map((s) => s.head.split(" ")[1])).toEqual(["/p1", "/p2"]);
    const b = await run(`GET /q1 HTTP/1.1\r\n${H}\r\nPOST /q2 HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nhiGET /q3 HTTP/1.1\r\n${H}\r\n`);
    expect(b.statuses).toEqual([200, 200, 200]);
    expect(b.seen.map((s) => s.head.split(" ")[1])).toEqual(["/q1", "/q2", "/q3"]);
    expect(b.seen[1]!.body.toString()).toBe("hi");
    // Each answer carries the number the app gave it, in request order.
    const bodies = b.text.split("\r\n\r\n").slice(1).map((x) => x.split("HTTP/1.1")[0]);
    expect(bodies.map(Number)).toEqual(b.seen.map((_, i) => app.seen.indexOf(b.seen[i]!) + 1));
  });

  test("an absolute-form target goes upstream in origin form with its authority as Host", async () => {
    const r = await run(`GET http://localhost/abs?x=1 HTTP/1.1\r\nHost: other\r\n\r\n`);
    expect(r.statuses).toEqual([200]);
    expect(r.seen[0]!.head.split("\r\n")[0]).toBe("GET /abs?x=1 HTTP/1.1");
    expect(r.seen[0]!.head).toMatch(/^host: localhost$/im);
  });

  test("dot segments are resolved before routing", async () => {
    const r = await run(`GET /a/b/../%2e%2e/c/./d HTTP/1.1\r\n${H}\r\n`);
    expect(r.seen[0]!.head.split("\r\n")[0]).toBe("GET /c/d HTTP/1.1");
  });

  test("HTTP/1.0: answered and closed, or kept alive when asked", async () => {
    const plain = await run(`GET /old HTTP/1.0\r\n\r\n`);
    expect(plain.statuses).toEqual([200]);
    expect(plain.closed).toBe(true);
    const kept = await run(`GET /old1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /old2 HTTP/1.0\r\n\r\n`);
    expect(kept.statuses).toEqual([200, 200]);
    expect(kept.text).toMatch(/connection: keep-alive/i);
  });

  test("Expect: 100-continue: the app's 100 reaches the client, which then sends the body", async () => {
    const r = await talk(port, "", { pieces: [`POST /continue HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 4\r\n\r\n`, "body"], gapMs: 200, quietMs: 600 });
    expect(statuses(r.text)).toEqual([100, 200]);
  });

  test("forwarded heads hold only parsed fields: one per line, CRLF, the proxy's X-Forwarded-*", async () => {
    const r = await run(`GET /f HTTP/1.1\r\n${H}X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil\r\nX-A:   spaced   \r\n\r\n`);
    const head = r.seen[0]!.head;
    expect(head.includes("\n") && !/[^\r]\n/.test(head)).toBe(true);
    expect(head).toMatch(/^x-a: spaced$/im);
    expect(head).toMatch(/^x-forwarded-for: 6\.6\.6\.6, 127\.0\.0\.1$/im);
    expect(head).toMatch(/^x-forwarded-host: localhost$/im);
    expect(head).not.toMatch(/evil/);
  });
});

describe("answers from apps", () => {
  test("a bare-LF answer head (as CGI scripts write) is accepted and re-written with CRLF", async () => {
    const r = await run(`GET /bare-lf HTTP/1.1\r\n${H}\r\n`);
    expect(r.statuses).toEqual([200]);
    expect(r.text).toContain("Content-Type: text/plain\r\n");
    expect(r.text.endsWith("\r\n\r\nhello")).toBe(true);
  });

  test("conflicting Content-Length from the app → 502 saying so", async () => {
    const r = await run(`GET /bad-length HTTP/1.1\r\n${H}\r\n`);
    expect(r.statuses).toEqual([502]);
    expect(r.text).toContain("conflicting Content-Length");
  });

  test("an answer that is not HTTP → 502 saying so", async () => {
    const r = await run(`GET /bad-status HTTP/1.1\r\n${H}\r\n`);
    expect(r.statuses).toEqual([502]);
    expect(r.text).toContain("not HTTP/1.x");
  });
});

describe("deadlines", () => {
  test("a dripped head is cut off by the head deadline with 408", async () => {
    const started = Date.now();
    const r = await talk(port, "", { pieces: ["GET /drip HTTP/1.1\r\n", ...Array.from({ length: 30 }, () => "X: y\r\n")], gapMs: 100, maxMs: 6000, quietMs: 4000 });
    expect(r.closed).toBe(true);
    expect(statuses(r.text)).toEqual([408]);
    expect(Date.now() - started).toBeLessThan(3500);
  });

  test("an app that never answers gets 504 after its answer deadline", async () => {
    const r = await run(`GET /silent HTTP/1.1\r\n${H}\r\n`, { quietMs: 3000, maxMs: 4000 });
    expect(r.statuses).toEqual([504]);
    expect(r.text).toContain("did not answer within 1 s");
  });

  test("an SSE stream longer than both deadlines arrives whole", async () => {
    const r = await run(`GET /sse HTTP/1.1\r\n${H}\r\n`, { quietMs: 1500, maxMs: 6000 });
    for (let i = 1; i <= 5; i++) expect(r.text).toContain(`data: ${i}\n\n`);
    expect(r.text).toContain("0\r\n\r\n");
  });

  test("a request body that stops sending is cut off after the body deadline", async () => {
    const slow = createProxyServer({ port: 0, apps: proxy.apps, bodyTimeout: 1 });
    try {
      const started = Date.now();
      const r = await talk(Number(new URL(slow.url).port), `POST /slow-body HTTP/1.1\r\n${H}Content-Length: 100\r\n\r\nonly a part`, { quietMs: 4000, maxMs: 5000 });
      expect(r.closed).toBe(true);
      expect(Date.now() - started).toBeLessThan(3500);
    } finally {
      await slow.stop(true);
    }
  });

  test("at the connection cap, slow heads are evicted and a normal request is served", async () => {
    const capped = createProxyServer({ port: 0, apps: proxy.apps, maxConnections: 8, headerTimeout: 30 });
    const p = Number(new URL(capped.url).port);
    const drips: Socket<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      drips.push(await Bun.connect({ hostname: "127.0.0.1", port: p, socket: { data() {} } }));
      drips[i]!.write("GET /drip HTTP/1.1\r\n");
    }
    const r = await talk(p, `GET /served HTTP/1.1\r\n${H}\r\n`);
    expect(statuses(r.text)).toEqual([200]);
    for (const d of drips) d.end();
    await capped.stop(true);
  });
});

describe("redirects", () => {
  test("a Location naming the upstream's own address is rewritten to the address the client used", async () => {
    const redirecting = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => {
        const path = new URL(req.url).pathname;
        const self = `http://${req.headers.get("host")}`;
        if (path.endsWith("/elsewhere")) return new Response(null, { status: 302, headers: { location: "http://example.test/x" } });
        if (path.endsWith("/relative")) return new Response(null, { status: 302, headers: { location: "/y" } });
        return new Response(null, { status: 302, headers: { location: `${self}/app/next?q=1` } });
      },
    });
    const apps = new AppTable();
    apps.add({ path: "/app", routes: [route({ stripApp: false })], upstream: new FixedUpstream(`http://127.0.0.1:${redirecting.port}`) });
    const p = createProxyServer({ port: 0, apps });
    const port = Number(new URL(p.url).port);
    try {
      const own = await talk(port, `GET /app/start HTTP/1.1\r\nHost: apps.localhost:${port}\r\nConnection: close\r\n\r\n`);
      expect(own.text).toMatch(new RegExp(`^location: http://apps\\.localhost:${port}/app/next\\?q=1\\r$`, "im"));
      const other = await talk(port, `GET /app/elsewhere HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      expect(other.text).toMatch(/^location: http:\/\/example\.test\/x\r$/im);
      const relative = await talk(port, `GET /app/relative HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      expect(relative.text).toMatch(/^location: \/y\r$/im);
    } finally {
      await p.stop(true);
      redirecting.stop(true);
    }
  });
});
