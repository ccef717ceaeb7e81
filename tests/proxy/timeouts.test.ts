/**
 * Bun's idle timeout on the warm path: a slow upstream answer outlives it (the timeout is lifted once the exchange
 * lasts), and a keep-alive connection left idle afterwards is still closed (the timeout is restored). Uses a proxy
 * with a 2 s idle timeout so that the cases run in seconds.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { AppTable, createProxyServer, FixedUpstream, type ProxyServer } from "../../src/proxy/index.ts";
import { route, startUpstream } from "./helpers.ts";

const IDLE = 2;
let up: ReturnType<typeof startUpstream>;
let proxy: ProxyServer;

beforeAll(() => {
  up = startUpstream();
  const apps = new AppTable();
  apps.add({ path: "/", name: "app", routes: [route()], upstream: new FixedUpstream(up.url) });
  proxy = createProxyServer({ port: 0, apps, idleTimeout: IDLE });
});
afterAll(async () => {
  await proxy.stop(true);
  up.server.stop(true);
});

/** A raw keep-alive client connection: send requests, collect what comes back, note when the server closes it. */
async function rawClient(server: ProxyServer = proxy) {
  const port = Number(new URL(server.url).port);
  const state = { text: "", closedAt: 0 };
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        state.text += Buffer.from(d).toString("latin1");
      },
      close() {
        state.closedAt = Date.now();
      },
    },
  });
  return { socket, state };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(20);
  }
  return cond();
}

test("an upstream answering after 5 s outlives a 2 s idle timeout; the idle connection then closes", async () => {
  const { socket, state } = await rawClient();
  const t0 = Date.now();
  socket.write("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
  expect(await until(() => state.text.includes("slow done"), 9000)).toBe(true);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(4900);
  expect(state.text.startsWith("HTTP/1.1 200")).toBe(true);
  expect(state.closedAt).toBe(0);
  // The timeout was restored: left idle, the connection is closed by the server (Bun checks in coarse steps).
  const answeredAt = Date.now();
  expect(await until(() => state.closedAt > 0, 12_000)).toBe(true);
  expect(state.closedAt - answeredAt).toBeGreaterThanOrEqual((IDLE - 1) * 1000);
}, 30_000);

test("after quick exchanges an idle keep-alive connection still closes", async () => {
  const { socket, state } = await rawClient();
  for (let i = 1; i <= 3; i++) {
    socket.write(`GET /quick${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expect(await until(() => state.text.split("HTTP/1.1 200").length === i + 1, 3000)).toBe(true);
  }
  expect(await until(() => state.closedAt > 0, 12_000)).toBe(true);
}, 20_000);

test("a request held behind the ready gate is answered, and its connection still closes when idle", async () => {
  let open!: () => void;
  const apps = new AppTable();
  apps.add({ path: "/", name: "app", routes: [route()], upstream: new FixedUpstream(up.url) });
  const gated = createProxyServer({ port: 0, apps, idleTimeout: IDLE, ready: new Promise<void>((resolve) => (open = resolve)) });
  try {
    const { socket, state } = await rawClient(gated);
    socket.write("GET /gated HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await Bun.sleep(100);
    open();
    expect(await until(() => state.text.startsWith("HTTP/1.1 200"), 3000)).toBe(true);
    expect(await until(() => state.closedAt > 0, 12_000)).toBe(true);
  } finally {
    await gated.stop(true);
  }
}, 20_000);
