/**
 * The benchmark's clace-lite proxy: one app at "/" with a fixed upstream, HTTP and (with TLS_CERT/TLS_KEY) HTTPS.
 * Run as its own process; prints "HTTP_PORT HTTPS_PORT" (0 when there is no HTTPS).
 */
import { readFileSync } from "node:fs";
import { AppTable, createProxyServer, FixedUpstream } from "../../src/proxy/index.ts";
import { CONTAINER_URL } from "../../src/runtime/app-config.ts";

const upstream = new FixedUpstream(process.env.UPSTREAM_URL!);
const apps = new AppTable();
apps.add({
  path: "/",
  routes: [{ path: "/", url: CONTAINER_URL, stripPath: "", preserveHost: false, stripApp: true, responseHeaders: {} }],
  upstream,
});
const tls = process.env.TLS_CERT ? { cert: readFileSync(process.env.TLS_CERT, "utf8"), key: readFileSync(process.env.TLS_KEY!, "utf8") } : undefined;
const proxy = createProxyServer({ port: 0, apps, tls, httpsPort: tls ? 0 : undefined });
process.stdout.write(`${new URL(proxy.url).port} ${proxy.httpsUrl ? new URL(proxy.httpsUrl).port : 0}\n`);
