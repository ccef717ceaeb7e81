/**
 * /_clace_lite/metrics and the access log: the text passes `promtool check metrics` (Debian's prometheus package),
 * counters move with the requests made, histogram buckets are cumulative, the open-stream gauge follows an SSE
 * stream, failures to reach an app are counted by kind, and every exchange gives one access entry that matches it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { AppTable, createProxyServer, FixedUpstream, type AccessEntry, type ProxyServer } from "../../src/proxy/index.ts";
import { route, startUpstream, waitFor } from "./helpers.ts";

let up: ReturnType<typeof startUpstream>;
let proxy: ProxyServer;
const access: AccessEntry[] = [];

beforeAll(() => {
  up = startUpstream();
  const apps = new AppTable();
  apps.add({ path: "/app", name: "app", routes: [route()], upstream: new FixedUpstream(up.url) });
  apps.add({ path: "/down", name: "down", routes: [route()], upstream: new FixedUpstream("http://127.0.0.1:9") });
  proxy = createProxyServer({
    port: 0,
    apps,
    onAccess: (e) => access.push(e),
    metrics: () => [{ name: "clace_lite_apps", help: "Apps by state.", samples: [['state="running"', 1]] }],
  });
});

afterAll(async () => {
  await proxy.stop(true);
  up.server.stop(true);
});

async function scrape(): Promise<string> {
  const res = await fetch(`${proxy.url}/_clace_lite/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  return res.text();
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no sample ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

test("counters move with requests; the histogram is cumulative; bytes and failures are counted", async () => {
  const before = await scrape();
  const ok0 = sample(before, 'clace_lite_http_requests_total{app="/app",status_class="2xx"}');
  const count0 = sample(before, 'clace_lite_http_request_duration_seconds_count{app="/app"}');
  const in0 = sample(before, 'clace_lite_http_received_bytes_total{app="/app"}');
  for (let i = 0; i < 3; i++) expect((await fetch(`${proxy.url}/app/x${i}`)).status).toBe(200);
  expect((await fetch(`${proxy.url}/app/status/404`)).status).toBe(404);
  expect((await fetch(`${proxy.url}/app/upload`, { method: "POST", body: "x".repeat(5000) })).status).toBe(200);
  expect((await fetch(`${proxy.url}/down/`)).status).toBe(502);
  expect((await fetch(`${proxy.url}/nowhere`)).status).toBe(404);

  const after = await scrape();
  expect(sample(after, 'clace_lite_http_requests_total{app="/app",status_class="2xx"}') - ok0).toBe(4);
  expect(sample(after, 'clace_lite_http_requests_total{app="/app",status_class="4xx"}')).toBeGreaterThanOrEqual(1);
  expect(sample(after, 'clace_lite_http_requests_total{app="/down",status_class="5xx"}')).toBeGreaterThanOrEqual(1);
  expect(sample(after, 'clace_lite_upstream_errors_total{app="/down",kind="connect"}')).toBeGreaterThanOrEqual(1);
  expect(sample(after, 'clace_lite_http_requests_total{app="",status_class="4xx"}')).toBeGreaterThanOrEqual(1);
  const count = sample(after, 'clace_lite_http_request_duration_seconds_count{app="/app"}');
  expect(count - count0).toBe(5);
  expect(sample(after, 'clace_lite_http_received_bytes_total{app="/app"}') - in0).toBe(5000);
  expect(sample(after, 'clace_lite_http_sent_bytes_total{app="/app"}')).toBeGreaterThan(0);
  // Buckets never decrease, and +Inf holds every observation.
  const buckets = after.split("\n").filter((l) => l.startsWith('clace_lite_http_request_duration_seconds_bucket{app="/app"'));
  const values = buckets.map((l) => Number(l.split(" ")[1]));
  for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
  expect(buckets.at(-1)).toContain('le="+Inf"');
  expect(values.at(-1)).toBe(count);
  expect(sample(after, 'clace_lite_apps{state="running"}')).toBe(1);
  expect(sample(after, "clace_lite_open_connections")).toBeGreaterThanOrEqual(1);
});

test("the open-stream gauge counts an SSE answer while it flows", async () => {
  const res = await fetch(`${proxy.url}/app/sse`);
  const reader = res.body!.getReader();
  await reader.read();
  expect(sample(await scrape(), 'clace_lite_open_streams{app="/app",kind="body"}')).toBe(1);
  while (!(await reader.read()).done) {}
  expect(await waitFor(() => true)).toBe(true);
  let open = 1;
  for (let i = 0; i < 50 && open !== 0; i++) {
    open = sample(await scrape(), 'clace_lite_open_streams{app="/app",kind="body"}');
    if (open !== 0) await Bun.sleep(20);
  }
  expect(open).toBe(0);
});

test("promtool check metrics accepts the text", async () => {
  const promtool = Bun.which("promtool") ?? (existsSync("/usr/bin/promtool") ? "/usr/bin/promtool" : null);
  if (promtool === null) throw new Error("promtool is missing: apt-get install prometheus (tests/fixtures/apt-packages.txt lists it)");
  const text = await scrape();
  const proc = Bun.spawn([promtool, "check", "metrics"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(text);
  await proc.stdin.end();
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(`${out}${err}`.trim()).toBe("");
  expect(code).toBe(0);
});

test("one access entry per exchange, matching the request and its answer", async () => {
  access.length = 0;
  await fetch(`${proxy.url}/app/logged?q=1`);
  await fetch(`${proxy.url}/app/upload`, { method: "POST", body: "abc" });
  await fetch(`${proxy.url}/nowhere-else`);
  await waitFor(() => access.length >= 3);
  const [get, post, missing] = access;
  expect(get).toMatchObject({ client: "127.0.0.1", method: "GET", target: "/app/logged?q=1", app: "/app", status: 200, bytesIn: 0 });
  expect(get!.bytesOut).toBeGreaterThan(0);
  expect(get!.durationMs).toBeGreaterThanOrEqual(0);
  expect(post).toMatchObject({ method: "POST", target: "/app/upload", app: "/app", status: 200, bytesIn: 3 });
  expect(missing).toMatchObject({ method: "GET", target: "/nowhere-else", app: "", status: 404 });
});

test("an endpoint of the server's own can stream events (for live pages); prefix endpoints serve sub paths", async () => {
  const apps = new AppTable();
  let cancelled = false;
  const events = createProxyServer({
    port: 0,
    apps,
    endpoints: new Map([
      [
        "/_clace_lite/events",
        () => {
          let i = 0;
          return new Response(
            new ReadableStream({
              async pull(c) {
                if (i > 0) await Bun.sleep(50);
                c.enqueue(new TextEncoder().encode(`data: ${i++}\n\n`));
              },
              cancel() {
                cancelled = true;
              },
            }),
            { headers: { "content-type": "text/event-stream" } },
          );
        },
      ],
      ["/_clace_lite/page/", (req: Request) => new Response(`page for ${new URL(req.url).pathname}`)],
    ]),
  });
  try {
    const res = await fetch(`${events.url}/_clace_lite/events`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("data: 2")) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain("data: 0\n\ndata: 1\n\n");
    await reader.cancel();
    expect(await waitFor(() => cancelled)).toBe(true);
    expect(await (await fetch(`${events.url}/_clace_lite/page/apps/x`)).text()).toBe("page for /_clace_lite/page/apps/x");
  } finally {
    await events.stop(true);
  }
});
