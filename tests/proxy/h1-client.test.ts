/** The pooled HTTP/1.1 client's framing against hand-written upstream answers. */
import { afterAll, expect, test } from "bun:test";
import { H1Client } from "../../src/proxy/h1-client.ts";

/** A raw upstream: the request target picks the canned answer; answers are written in small pieces. */
const answers: Record<string, string> = {
  "/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
  "/continue": "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
  "/close": "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
  "/notmodified": "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
  "/hop": "HTTP/1.1 200 OK\r\nConnection: X-Private\r\nX-Private: no\r\nKeep-Alive: timeout=5\r\nContent-Length: 3\r\n\r\nyes",
  "/small": `HTTP/1.1 200 OK\r\nContent-Length: ${10 * 1024}\r\n\r\n${"s".repeat(10 * 1024)}`,
  "/mid": `HTTP/1.1 200 OK\r\nContent-Length: ${30 * 1024}\r\n\r\n${"m".repeat(30 * 1024)}`,
  "/big": `HTTP/1.1 200 OK\r\nContent-Length: ${200 * 1024}\r\n\r\n${"b".repeat(200 * 1024)}`,
};
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    async data(sock, data) {
      const target = Buffer.from(data).toString().split(" ")[1]!;
      const answer = Buffer.from(answers[target] ?? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      // Split into pieces so that every parser state sees a boundary.
      for (let i = 0; i < answer.length; i += 7000) {
        sock.write(answer.subarray(i, Math.min(answer.length, i + 7000)));
        if (answer.length < 7000) break;
        await Bun.sleep(1);
      }
      if (target === "/close") sock.end();
    },
  },
});
afterAll(() => server.stop(true));

const client = new H1Client();
const origin = `http://127.0.0.1:${server.port}`;
const get = (target: string, method = "GET") =>
  client.request(origin, method, target, `host: 127.0.0.1:${server.port}\r\n`, new AbortController().signal);

test("chunked bodies are decoded and trailers dropped; the connection is reused", async () => {
  for (let i = 0; i < 3; i++) {
    const { response, streaming } = await get("/chunked");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-a")).toBe("1");
    expect(response.headers.get("transfer-encoding")).toBeNull();
    expect(await response.text()).toBe("hello, world");
    await streaming;
  }
});

test("1xx answers are skipped; 304 and HEAD have no body", async () => {
  const c = await get("/continue");
  expect(c.response.status).toBe(201);
  expect(await c.response.text()).toBe("ok");
  const n = await get("/notmodified");
  expect(n.response.status).toBe(304);
  expect(n.response.headers.get("etag")).toBe('"x"');
});

test("an HTTP/1.0 answer without length is read until the upstream closes", async () => {
  const { response } = await get("/close");
  expect(await response.text()).toBe("until close");
});

test("Connection-named and hop-by-hop response headers are dropped", async () => {
  const { response } = await get("/hop");
  expect(response.headers.get("x-private")).toBeNull();
  expect(response.headers.get("keep-alive")).toBeNull();
  expect(await response.text()).toBe("yes");
});

test("a large body streams and arrives complete", async () => {
  const { response, streaming } = await get("/big");
  expect(streaming).toBeDefined();
  const text = await response.text();
  expect(text.length).toBe(200 * 1024);
  expect(text).toBe("b".repeat(200 * 1024));
});

test("a known-length body that fits one write is collected across reads (length kept); a larger one streams", async () => {
  const small = await get("/small");
  expect(small.streaming).toBeUndefined();
  expect(small.response.headers.get("content-length")).toBe(String(10 * 1024));
  expect(await small.response.text()).toBe("s".repeat(10 * 1024));
  const mid = await get("/mid");
  expect(mid.streaming).toBeDefined();
  expect(await mid.response.text()).toBe("m".repeat(30 * 1024));
  await mid.streaming;
});

test("a refused connection rejects", async () => {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  await expect(client.request(`http://127.0.0.1:${port}`, "GET", "/", "host: x\r\n", new AbortController().signal)).rejects.toBeDefined();
});
