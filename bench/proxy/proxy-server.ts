/**
 * The benchmark's clace-lite proxy: one app at "/" with a fixed upstream. Run as its own process.
 */
import { AppTable, createProxyServer, FixedUpstream } from "../../src/proxy/index.ts";
import { CONTAINER_URL } from "../../src/runtime/app-config.ts";

const upstream = new FixedUpstream(process.env.UPSTREAM_URL!);
const apps = new AppTable();
apps.add({
  path: "/",
  routes: [{ path: "/", url: CONTAINER_URL, stripPath: "", preserveHost: false, stripApp: true, responseHeaders: {} }],
  upstream,
});
const proxy = createProxyServer({ port: Number(process.env.PORT ?? 0), apps });
process.stdout.write(`${new URL(proxy.url).port}\n`);
