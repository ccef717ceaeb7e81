/** Error mapping (502/503/504/500), holding through slow starts, and the one retry of idempotent requests. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { AppTable, createProxyServer, UpstreamError, type ProxyServer } from "../../src/proxy/index.ts";
import { FakeUpstream, route, startUpstream, waitFor } from "./helpers.ts";

let up: ReturnType<typeof startUpstream>;
let proxy: ProxyServer;
let apps: AppTable;
const fakes: Record<string, FakeUpstream> = {};

/** A port nothing listens on: bind one, note it, close it. */
function closedPort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

beforeAll(() => {
  up = startUpstream();
  apps = new AppTable();
  const mount = (path: string, fake: FakeUpstream) => {
    fakes[path] = fake;
    apps.add({ path, name: path.slice(1), routes: [route()], upstream: fake });
  };
  mount("/refused", new FakeUpstream(`http://127.0.0.1:${closedPort()}`));
  mount("/timeout", new FakeUpstream(up.url, 100, new UpstreamError("start-timeout", "no answer on / after 120 s")));
  mount("/failed", new FakeUpstream(up.url, 100, new UpstreamError("start-failed", "container exited with code 3", "line one\n<b>boom</b>")));
  mount("/busy", new FakeUpstream(up.url, 0, new UpstreamError("overloaded", "1000 requests already wait")));
  mount("/unapproved", new FakeUpstream(up.url, 0, new UpstreamError("not-approved", "proxy.in config is not approved")));
  mount("/badconf", new FakeUpstream(up.url, 0, new UpstreamError("config-error", "app.star:3:5: undefined: foo")));
  mount("/crash", new FakeUpstream(up.url, 0, undefined));
  fakes["/crash"]!.ensureReady = () => Promise.reject(new Error("engine socket closed"));
  apps.add({
    path: "/loaderr",
    name: "loaderr",
    routes: [route()],
    upstream: new FakeUpstream(up.url),
    loadError: { message: "needs approval for container.in config", fix: "run: clace-lite app approve /loaderr" },
  });
  mount("/slowstart", new FakeUpstream(up.url, 15_000));
  proxy = createProxyServer({ port: 0, apps });
});
afterAll(async () => {
  await proxy.stop(true);
  up.server.stop(true);
});

describe("error statuses", () => {
  test("upstream refusing the connection → 502", async () => {
    const res = await fetch(`${proxy.url}/refused/x`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("app refused did not answer");
  });

  test("cold-start deadline → 504 with Retry-After", async () => {
    const res = await fetch(`${proxy.url}/timeout/`);
    expect(res.status).toBe(504);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.text()).toContain("no answer on / after 120 s");
  });

  test("failed start → 503 with the reason; the log tail (escaped) only for text/html clients", async () => {
    const plain = await fetch(`${proxy.url}/failed/`);
    expect(plain.status).toBe(503);
    expect(plain.headers.get("retry-after")).toBe("5");
    const text = await plain.text();
    expect(text).toContain("container exited with code 3");
    expect(text).not.toContain("line one");
    const html = await fetch(`${proxy.url}/failed/`, { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(html.status).toBe(503);
    expect(html.headers.get("content-type")).toContain("text/html");
    const page = await html.text();
    expect(page).toContain("line one");
    expect(page).toContain("&#60;b&#62;boom");
  });

  test("clients off this machine see neither log tails nor the app list; health answers them", async () => {
    const outside = createProxyServer({ port: 0, apps: proxy.apps, trusted: () => false });
    try {
      const html = await fetch(`${outside.url}/failed/`, { headers: { accept: "text/html" } });
      expect(html.status).toBe(503);
      const page = await html.text();
      expect(page).toContain("container exited with code 3");
      expect(page).not.toContain("line one");
      const list = await fetch(`${outside.url}/_clace_lite/apps`);
      expect(list.status).toBe(403);
      expect(await list.text()).not.toContain("/failed");
      expect((await fetch(`${outside.url}/_clace_lite/health`)).status).toBe(200);
    } finally {
      await outside.stop(true);
    }
    const shared = createProxyServer({ port: 0, apps: proxy.apps, trusted: () => false, publicStatus: true });
    try {
      expect((await fetch(`${shared.url}/_clace_lite/apps`)).status).toBe(200);
    } finally {
      await shared.stop(true);
    }
  });

  test("overloaded → 503 with Retry-After", async () => {
    const res = await fetch(`${proxy.url}/busy/`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
  });

  test("unapproved or broken config → 500 naming the problem and the fix", async () => {
    const a = await fetch(`${proxy.url}/unapproved/`);
    expect(a.status).toBe(500);
    expect(await a.text()).toContain("clace-lite app approve unapproved");
    const b = await fetch(`${proxy.url}/badconf/`);
    expect(b.status).toBe(500);
    expect(await b.text()).toContain("app.star:3:5: undefined: foo");
    const c = await fetch(`${proxy.url}/loaderr/anything`);
    expect(c.status).toBe(500);
    const body = await c.text();
    expect(body).toContain("needs approval for container.in config");
    expect(body).toContain("run: clace-lite app approve /loaderr");
  });

  test("any other readiness failure → 503", async () => {
    const res = await fetch(`${proxy.url}/crash/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("engine socket closed");
  });

  test("accounting stays balanced across every failure", async () => {
    for (const fake of Object.values(fakes)) {
      if (fake === fakes["/slowstart"]) continue;
      expect(fake.begins).toBe(fake.ends);
      expect(fake.opens).toBe(fake.closes);
    }
  });
});

describe("holding through a cold start", () => {
  test("a request held 15 s through a slow start still succeeds (Bun's 10 s idle timeout lifted)", async () => {
    const t0 = Date.now();
    const res = await fetch(`${proxy.url}/slowstart/held?x=1`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { path: string }).path).toBe("/held?x=1");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15_000);
    const fake = fakes["/slowstart"]!;
    expect(fake.begins).toBe(fake.ends);
    expect(fake.opens).toBe(fake.closes);
  }, 30_000);
});

describe("retries", () => {
  /**
   * A raw HTTP/1.1 upstream that answers the first request on each connection with keep-alive, then drops the
   * connection when a second request arrives on it: the "reset pooled connection" case.
   */
  function droppingUpstream() {
    const seen: string[] = [];
    const perSocket = new Map<Socket, number>();
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(sock, data) {
          const text = Buffer.from(data).toString();
          const n = (perSocket.get(sock) ?? 0) + 1;
          perSocket.set(sock, n);
          seen.push(`${text.split(" ")[0]}#${n}`);
          if (n === 1) sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok");
          else sock.end();
        },
        close(sock) {
          perSocket.delete(sock);
        },
      },
    });
    return { server, seen, url: `http://127.0.0.1:${server.port}` };
  }

  test("GET gets exactly one retry on a reset pooled connection; POST is never retried", async () => {
    const dropping = droppingUpstream();
    const fake = new FakeUpstream(dropping.url);
    apps.add({ path: "/drop", routes: [route()], upstream: fake });
    try {
      expect((await fetch(`${proxy.url}/drop/a`)).status).toBe(200);
      // The pooled connection is reused and dropped; the retry on a new connection answers.
      const second = await fetch(`${proxy.url}/drop/b`);
      expect(second.status).toBe(200);
      expect(await second.text()).toBe("ok");
      expect(dropping.seen).toEqual(["GET#1", "GET#2", "GET#1"]);

      dropping.seen.length = 0;
      // The pool holds the connection the retry opened (it answered once): the POST reuses it, the upstream drops
      // it, and the POST is not sent again (repeating it could act twice).
      const post = await fetch(`${proxy.url}/drop/c`, { method: "POST", body: "data" });
      expect(dropping.seen).toEqual(["POST#2"]);
      expect(post.status).toBe(502);
      await waitFor(() => fake.active === 0);
      expect(fake.begins).toBe(fake.ends);
    } finally {
      apps.remove("", "/drop");
      dropping.server.stop(true);
    }
  });
});
