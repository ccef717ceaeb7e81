/** The streaming reverse proxy against a plain Bun upstream: bodies, headers, statuses, aborts, accounting. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AppTable, createProxyServer, type ProxyServer } from "../../src/proxy/index.ts";
import { FakeUpstream, GZIP_BODY, rawRequest, route, startUpstream, waitFor } from "./helpers.ts";

let up: ReturnType<typeof startUpstream>;
let proxy: ProxyServer;
let fake: FakeUpstream;
let port: number;

// The echo upstream answers JSON of any shape.
const json = (res: Response): Promise<any> => res.json();

beforeAll(() => {
  up = startUpstream();
  fake = new FakeUpstream(up.url);
  const apps = new AppTable();
  apps.add({ path: "/app", name: "app", routes: [route()], upstream: fake });
  proxy = createProxyServer({ port: 0, apps });
  port = Number(new URL(proxy.url).port);
});
afterAll(async () => {
  await proxy.stop(true);
  up.server.stop(true);
});

describe("bodies", () => {
  test("gzip passes byte-identical with its Content-Encoding", async () => {
    const res = await fetch(`${proxy.url}/app/gzip`, { decompress: false, headers: { "accept-encoding": "gzip" } } as RequestInit);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.equals(Buffer.from(GZIP_BODY))).toBe(true);
    expect(res.headers.get("content-length")).toBe(String(GZIP_BODY.byteLength));
  });

  test("SSE events arrive as sent and promptly, not buffered", async () => {
    const t0 = Date.now();
    const res = await fetch(`${proxy.url}/app/sse`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const arrivals: { text: string; at: number }[] = [];
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push({ text: decoder.decode(value), at: Date.now() - t0 });
    }
    expect(arrivals.map((a) => a.text).join("")).toBe("data: event 0\n\ndata: event 1\n\ndata: event 2\n\n");
    // The first event is sent at once; the stream ends ~600 ms later. A buffering proxy would deliver all at the end.
    const firstEvent = arrivals[0]!;
    const last = arrivals[arrivals.length - 1]!;
    expect(firstEvent.text).toContain("event 0");
    expect(last.at - firstEvent.at).toBeGreaterThan(400);
  });

  test("a 20 MB upload streams: the upstream sees bytes before the client has sent them all", async () => {
    const total = 20 * 1024 * 1024;
    const chunk = new Uint8Array(256 * 1024).fill(97);
    let sent = 0;
    let finishedAt = 0;
    up.log.uploadFirstByteAt = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent >= total) {
          finishedAt = Date.now();
          return c.close();
        }
        // Slow down after the first 2 MB, so that a buffering proxy would be caught out.
        if (sent >= 2 * 1024 * 1024) await Bun.sleep(5);
        c.enqueue(chunk);
        sent += chunk.byteLength;
      },
    });
    const res = await fetch(`${proxy.url}/app/upload`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: total });
    expect(up.log.uploadFirstByteAt).toBeGreaterThan(0);
    expect(up.log.uploadFirstByteAt).toBeLessThan(finishedAt);
  });

  test("Set-Cookie headers stay separate", async () => {
    const res = await fetch(`${proxy.url}/app/cookies`);
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
  });
});

describe("headers", () => {
  test("hop-by-hop and Connection-named headers never reach the upstream", async () => {
    const res = await rawRequest(
      port,
      "GET /app/echo HTTP/1.1\r\nHost: localhost\r\nConnection: close, X-Secret\r\nX-Secret: s3cret\r\nKeep-Alive: timeout=5\r\n" +
        "TE: trailers, deflate\r\nProxy-Authorization: Basic abc\r\nProxy-Connection: keep-alive\r\nTrailer: X-T\r\nX-Kept: yes\r\n\r\n",
    );
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body.toString()).headers as Record<string, string>;
    for (const h of ["x-secret", "keep-alive", "proxy-authorization", "proxy-connection", "trailer", "upgrade"]) {
      expect(seen[h]).toBeUndefined();
    }
    expect(seen["connection"] === undefined || seen["connection"] === "keep-alive").toBe(true);
    expect(seen["te"]).toBe("trailers");
    expect(seen["x-kept"]).toBe("yes");
  });

  test("hop-by-hop and Connection-named headers from the upstream never reach the client", async () => {
    const res = await rawRequest(port, "GET /app/hop HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-private")).toBeUndefined();
    expect(res.headers.get("keep-alive")).toBeUndefined();
    expect(res.headers.get("proxy-authenticate")).toBeUndefined();
    expect(res.headers.get("x-public")).toEqual(["yes"]);
    expect(res.body.toString()).toBe("hop");
  });

  test("X-Forwarded-For holds the client (normalised), appended to an earlier proxy's", async () => {
    let seen = (await json(await fetch(`${proxy.url}/app/echo`))).headers;
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    seen = (await json(await fetch(`${proxy.url}/app/echo`, { headers: { "x-forwarded-for": "203.0.113.7" } }))).headers;
    expect(seen["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-host"]).toBe(`127.0.0.1:${port}`);
    expect(seen["x-forwarded-prefix"]).toBe("/app");
  });

  test("Host becomes the upstream's by default", async () => {
    const seen = await json(await fetch(`${proxy.url}/app/echo`, { headers: { host: "localhost" } }));
    expect(seen.host).toBe(new URL(up.url).host);
  });
});

describe("status codes", () => {
  for (const code of [200, 201, 204, 302, 304, 400, 404, 418, 500, 502, 503]) {
    test(`upstream ${code} passes through unchanged`, async () => {
      const res = await fetch(`${proxy.url}/app/status/${code}`, { redirect: "manual" });
      expect(res.status).toBe(code);
      if (code === 302) expect(res.headers.get("location")).toBe("/elsewhere");
      if (code !== 204 && code !== 304) expect(await res.text()).toBe(`status ${code}\n`);
      else await res.arrayBuffer();
    });
  }

  test("HEAD gets the upstream's headers and no body", async () => {
    const res = await rawRequest(port, "HEAD /app/gzip HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toEqual([String(GZIP_BODY.byteLength)]);
    expect(res.body.length).toBe(0);
  });

  test("methods, query strings and request bodies pass through", async () => {
    const res = await fetch(`${proxy.url}/app/echo/x?a=1&b=%20`, { method: "PUT", body: "payload" });
    const seen = await json(res);
    expect(seen.method).toBe("PUT");
    expect(seen.path).toBe("/echo/x?a=1&b=%20");
    expect(seen.body).toBe("payload");
  });
});

describe("client aborts", () => {
  test("a client abort mid-body cancels the upstream within 1 s", async () => {
    const before = up.log.cancelledStreams;
    const ac = new AbortController();
    const res = await fetch(`${proxy.url}/app/forever`, { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    const abortedAt = Date.now();
    ac.abort();
    await reader.read().catch(() => undefined);
    expect(await waitFor(() => up.log.cancelledStreams > before, 3000)).toBe(true);
    expect(up.log.streamCancelledAt - abortedAt).toBeLessThan(1000);
  });

  test("a client abort before the upstream answers aborts the upstream request within 1 s", async () => {
    const before = up.log.slowAborted;
    const ac = new AbortController();
    const pending = fetch(`${proxy.url}/app/slow`, { signal: ac.signal }).catch(() => undefined);
    await Bun.sleep(200);
    ac.abort();
    await pending;
    expect(await waitFor(() => up.log.slowAborted > before, 1000)).toBe(true);
  });
});

describe("idle accounting", () => {
  test("begin/end and open/close stay balanced for plain, streamed, SSE and aborted requests", async () => {
    await fetch(`${proxy.url}/app/echo`).then((r) => r.text());
    await fetch(`${proxy.url}/app/status/204`).then((r) => r.arrayBuffer());
    await fetch(`${proxy.url}/app/sse`).then((r) => r.text());
    const ac = new AbortController();
    const res = await fetch(`${proxy.url}/app/forever`, { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    // While the body still flows, the exchange counts as an open stream.
    expect(fake.opens - fake.closes).toBe(1);
    ac.abort();
    await reader.read().catch(() => undefined);
    const ac2 = new AbortController();
    const slow = fetch(`${proxy.url}/app/slow`, { signal: ac2.signal }).catch(() => undefined);
    await Bun.sleep(100);
    ac2.abort();
    await slow;
    expect(await waitFor(() => fake.active === 0, 3000)).toBe(true);
    expect(fake.begins).toBe(fake.ends);
    expect(fake.opens).toBe(fake.closes);
    expect(fake.begins).toBeGreaterThan(4);
  });
});

describe("requests with a body (the fetch path)", () => {
  test("hop-by-hop headers are stripped and X-Forwarded-For set on a POST too", async () => {
    const res = await rawRequest(
      port,
      "POST /app/echo HTTP/1.1\r\nHost: localhost\r\nConnection: close, X-Secret\r\nX-Secret: s3cret\r\nKeep-Alive: timeout=5\r\n" +
        "Content-Length: 4\r\nX-Kept: yes\r\n\r\nbody",
    );
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body.toString()) as { body: string; headers: Record<string, string> };
    expect(seen.body).toBe("body");
    expect(seen.headers["x-secret"]).toBeUndefined();
    expect(seen.headers["keep-alive"]).toBeUndefined();
    expect(seen.headers["x-kept"]).toBe("yes");
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  test("a streamed answer to a POST arrives promptly and a client abort cancels the upstream", async () => {
    const t0 = Date.now();
    const sse = await fetch(`${proxy.url}/app/sse`, { method: "POST", body: "x" });
    const reader = sse.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("event 0");
    expect(Date.now() - t0).toBeLessThan(300);
    await reader.cancel();

    const before = up.log.cancelledStreams;
    const ac = new AbortController();
    const res = await fetch(`${proxy.url}/app/forever`, { method: "POST", body: "x", signal: ac.signal });
    const r2 = res.body!.getReader();
    await r2.read();
    const abortedAt = Date.now();
    ac.abort();
    await r2.read().catch(() => undefined);
    expect(await waitFor(() => up.log.cancelledStreams > before, 3000)).toBe(true);
    expect(up.log.streamCancelledAt - abortedAt).toBeLessThan(1000);
    expect(await waitFor(() => fake.active === 0, 3000)).toBe(true);
    expect(fake.opens).toBe(fake.closes);
  });

  test("gzip passes byte-identical on the fetch path", async () => {
    const res = await fetch(`${proxy.url}/app/gzip`, { method: "POST", body: "x", decompress: false } as RequestInit);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(GZIP_BODY))).toBe(true);
  });
});
