/** HTTPS beside HTTP: a self-signed localhost certificate generated offline and cached, or a provided one. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppTable, createProxyServer, loadTlsFiles, selfSignedTls, TlsSetupError } from "../../src/proxy/index.ts";
import { FakeUpstream, route, startUpstream } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "clace-lite-tls-"));
const up = startUpstream();
afterAll(() => {
  up.server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

test("serves HTTPS with a generated self-signed certificate, cached for the next start", async () => {
  const tls = await selfSignedTls(join(dir, "certs"));
  expect(tls.cert).toContain("BEGIN CERTIFICATE");
  const mtime = statSync(join(dir, "certs", "localhost.crt")).mtimeMs;
  const again = await selfSignedTls(join(dir, "certs"));
  expect(again.cert).toBe(tls.cert);
  expect(statSync(join(dir, "certs", "localhost.crt")).mtimeMs).toBe(mtime);

  const apps = new AppTable();
  apps.add({ path: "/", routes: [route()], upstream: new FakeUpstream(up.url) });
  const proxy = createProxyServer({ port: 0, httpsPort: 0, tls, apps });
  try {
    expect(proxy.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const port = new URL(proxy.httpsUrl!).port;
    const res = await fetch(`https://localhost:${port}/echo`, { tls: { ca: tls.cert } } as RequestInit);
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers["x-forwarded-proto"]).toBe("https");
    const plain = (await (await fetch(`${proxy.url}/echo`)).json()) as { headers: Record<string, string> };
    expect(plain.headers["x-forwarded-proto"]).toBe("http");
  } finally {
    await proxy.stop(true);
  }
});

test("a missing certificate file is a clear error", async () => {
  await expect(loadTlsFiles(join(dir, "nope.crt"), join(dir, "nope.key"))).rejects.toThrow(TlsSetupError);
});
