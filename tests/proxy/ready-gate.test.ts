import { expect, test } from "bun:test";
import { AppTable, createProxyServer, FixedUpstream } from "../../src/proxy/index.ts";

test("requests that arrive while the apps are still loading wait for them instead of answering 404", async () => {
  const upstream = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("loaded app") });
  const table = new AppTable();
  let loaded!: () => void;
  const server = createProxyServer({ port: 0, apps: table, ready: new Promise<void>((resolve) => (loaded = resolve)) });
  try {
    const early = fetch(server.url + "/");
    await Bun.sleep(100);
    // Mounted after the request arrived, before the gate opens.
    const url = `http://127.0.0.1:${upstream.port}`;
    table.add({ path: "/", routes: [{ path: "/", url, stripPath: "", preserveHost: false, stripApp: true, responseHeaders: {} }], upstream: new FixedUpstream(url) });
    loaded();
    const res = await early;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("loaded app");
    // Once open, requests go straight through.
    expect(await (await fetch(server.url + "/")).text()).toBe("loaded app");
  } finally {
    await server.stop(true);
    upstream.stop(true);
  }
});
