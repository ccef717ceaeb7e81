/**
 * Each app's connections to its upstream follow its proxy.max_idle_conns and proxy.idle_conn_timeout_secs, as the
 * upstream sees them: how many connections stay open after a burst, and when an idle one is closed. Every check
 * runs beside an app with the defaults in the same run, so a setting that was ignored shows as a difference.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { AppTable, createProxyServer, type PoolLimits, type ProxyServer } from "../../src/proxy/index.ts";
import { startCountingUpstream, type CountingUpstream } from "../fixtures/counting-upstream.ts";
import { FakeUpstream, route, waitFor } from "./helpers.ts";

const BURST = 6;
let proxy: ProxyServer | undefined;
const upstreams: CountingUpstream[] = [];

afterEach(async () => {
  await proxy?.stop(true);
  proxy = undefined;
  for (const up of upstreams.splice(0)) up.stop();
});

/** A proxy with one app per entry, each at /<name> in front of its own counting upstream. */
function serve(apps: Record<string, PoolLimits | undefined>): Record<string, CountingUpstream> {
  const table = new AppTable();
  const ups: Record<string, CountingUpstream> = {};
  for (const [name, limits] of Object.entries(apps)) {
    const up = startCountingUpstream();
    upstreams.push(up);
    ups[name] = up;
    table.add({ path: `/${name}`, routes: [route({ url: up.url })], upstream: new FakeUpstream("http://192.0.2.1:1"), upstreamPool: limits });
  }
  proxy = createProxyServer({ port: 0, apps: table });
  return ups;
}

/** `BURST` requests at once: the upstream holds them until all have arrived, so BURST connections are open. */
async function burst(name: string, up: CountingUpstream): Promise<void> {
  up.hold = BURST;
  const answers = await Promise.all(Array.from({ length: BURST }, () => fetch(`${proxy!.url}/${name}/`).then((r) => r.text())));
  expect(answers).toEqual(Array(BURST).fill("ok\n"));
  expect(up.accepted).toBe(BURST);
}

describe("proxy.max_idle_conns", () => {
  test("max_idle_conns=1 leaves one idle connection open after a burst; the default keeps them all", async () => {
    const ups = serve({ one: { maxIdleConns: 1 }, dflt: undefined });
    await Promise.all([burst("one", ups.one!), burst("dflt", ups.dflt!)]);
    expect(await waitFor(() => ups.one!.open === 1, 5000)).toBe(true);
    await Bun.sleep(300);
    expect(ups.one!.open).toBe(1);
    expect(ups.dflt!.open).toBe(BURST);
    // The one kept is reused: the next request opens nothing new.
    ups.one!.hold = 1;
    expect(await (await fetch(`${proxy!.url}/one/`)).text()).toBe("ok\n");
    expect(ups.one!.accepted).toBe(BURST);
  });

  test("max_idle_conns=0 keeps two, as Clace's transport does (Go's per-host default)", async () => {
    const ups = serve({ zero: { maxIdleConns: 0 } });
    await burst("zero", ups.zero!);
    expect(await waitFor(() => ups.zero!.open === 2, 5000)).toBe(true);
    await Bun.sleep(300);
    expect(ups.zero!.open).toBe(2);
  });
});

describe("proxy.idle_conn_timeout_secs", () => {
  test("an idle connection is closed after the timeout, not before; the default keeps it open longer", async () => {
    const ups = serve({ short: { idleConnTimeoutSecs: 1 }, dflt: undefined });
    const [a, b] = await Promise.all([fetch(`${proxy!.url}/short/`).then((r) => r.text()), fetch(`${proxy!.url}/dflt/`).then((r) => r.text())]);
    const answeredAt = performance.now();
    expect([a, b]).toEqual(["ok\n", "ok\n"]);
    expect(ups.short!.open).toBe(1);
    expect(await waitFor(() => ups.short!.open === 0, 8000)).toBe(true);
    // Closed by the proxy's timer: not before the second was up (a timer never fires early).
    expect(ups.short!.closes[0]! - answeredAt).toBeGreaterThanOrEqual(950);
    expect(ups.dflt!.open).toBe(1);
    // The next request to the short one opens a new connection.
    expect(await (await fetch(`${proxy!.url}/short/`)).text()).toBe("ok\n");
    expect(ups.short!.accepted).toBe(2);
  });

  test("0 keeps an idle connection until the app closes it", async () => {
    const ups = serve({ never: { idleConnTimeoutSecs: 0 } });
    expect(await (await fetch(`${proxy!.url}/never/`)).text()).toBe("ok\n");
    await Bun.sleep(1500);
    expect(ups.never!.open).toBe(1);
  });
});
