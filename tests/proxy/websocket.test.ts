/** The WebSocket bridge: frames, subprotocols, close codes both ways, cold starts, accounting. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { AppTable, createProxyServer, type ProxyServer } from "../../src/proxy/index.ts";
import { FakeUpstream, route, startUpstream, waitFor } from "./helpers.ts";

let up: ReturnType<typeof startUpstream>;
let proxy: ProxyServer;
let fake: FakeUpstream;
let cold: FakeUpstream;
let wsBase: string;

beforeAll(() => {
  up = startUpstream();
  fake = new FakeUpstream(up.url);
  cold = new FakeUpstream(up.url, 1500);
  const apps = new AppTable();
  apps.add({ path: "/ws", routes: [route()], upstream: fake });
  apps.add({ path: "/cold", routes: [route()], upstream: cold });
  apps.add({ path: "/down", routes: [route({ url: "http://127.0.0.1:9" })], upstream: fake });
  proxy = createProxyServer({ port: 0, apps });
  wsBase = proxy.url.replace("http:", "ws:");
});
afterAll(async () => {
  await proxy.stop(true);
  up.server.stop(true);
});

/** A client that collects messages and its close event. */
function client(url: string, protocols?: string[]) {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const messages: (string | ArrayBuffer)[] = [];
  let closed: { code: number; reason: string } | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("websocket error"));
  });
  ws.onmessage = (e) => messages.push(e.data);
  ws.onclose = (e) => {
    closed = { code: e.code, reason: e.reason };
  };
  return { ws, messages, opened, closed: () => closed };
}

test("text and binary frames echo through the bridge", async () => {
  const c = client(`${wsBase}/ws/echo`);
  await c.opened;
  c.ws.send("hello");
  c.ws.send(new Uint8Array([1, 2, 3, 255]));
  const big = "x".repeat(200_000);
  c.ws.send(big);
  expect(await waitFor(() => c.messages.length === 3)).toBe(true);
  expect(c.messages[0]).toBe("hello");
  expect([...new Uint8Array(c.messages[1] as ArrayBuffer)]).toEqual([1, 2, 3, 255]);
  expect(c.messages[2]).toBe(big);
  c.ws.close(1000, "done");
  expect(await waitFor(() => c.closed() !== undefined)).toBe(true);
});

test("the upstream's chosen subprotocol is the one the client gets", async () => {
  const c = client(`${wsBase}/ws/echo`, ["chat.v1", "chat.v2"]);
  await c.opened;
  expect(c.ws.protocol).toBe("chat.v2");
  c.ws.send("protocol?");
  expect(await waitFor(() => c.messages.length === 1)).toBe(true);
  expect(c.messages[0]).toBe("protocol=chat.v2");
  c.ws.close();
});

test("an upstream close code and reason reach the client", async () => {
  const c = client(`${wsBase}/ws/echo`);
  await c.opened;
  c.ws.send("close:4001:bye from app");
  expect(await waitFor(() => c.closed() !== undefined)).toBe(true);
  expect(c.closed()).toEqual({ code: 4001, reason: "bye from app" });
});

test("a client close code and reason reach the upstream", async () => {
  const before = up.wsCloses.length;
  const c = client(`${wsBase}/ws/echo`);
  await c.opened;
  c.ws.close(4002, "bye from client");
  expect(await waitFor(() => up.wsCloses.length > before)).toBe(true);
  expect(up.wsCloses[up.wsCloses.length - 1]).toEqual({ code: 4002, reason: "bye from client" });
});

test("a handshake to a stopped app succeeds after the cold start", async () => {
  const t0 = Date.now();
  const c = client(`${wsBase}/cold/echo`);
  await c.opened;
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
  c.ws.send("after cold start");
  expect(await waitFor(() => c.messages.length === 1)).toBe(true);
  c.ws.close();
});

test("an upstream that refuses the connection fails the handshake", async () => {
  const res = await fetch(`${proxy.url}/down/`, {
    headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
  });
  expect(res.status).toBe(502);
});

test("open sockets count as streams; accounting is balanced after close", async () => {
  await waitFor(() => fake.active === 0 && cold.active === 0);
  const c = client(`${wsBase}/ws/echo`);
  await c.opened;
  expect(fake.opens - fake.closes).toBe(1);
  c.ws.close();
  expect(await waitFor(() => fake.active === 0)).toBe(true);
  expect(fake.begins).toBe(fake.ends);
  expect(fake.opens).toBe(fake.closes);
  expect(cold.opens).toBe(cold.closes);
});
