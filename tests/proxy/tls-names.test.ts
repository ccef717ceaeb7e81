/** The self-signed certificate names what apps are served on: localhost, *.localhost and the app domains given. */
import { afterAll, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfSignedTls } from "../../src/proxy/index.ts";

const dir = mkdtempSync(join(tmpdir(), "clace-lite-tls-names-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A TLS handshake to 127.0.0.1 with `servername`, checked by Node's own host name rules against the certificate. */
async function verifies(cert: string, key: string, servername: string): Promise<boolean> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", tls: { cert, key }, fetch: () => new Response("ok") });
  try {
    return await new Promise<boolean>((resolve) => {
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, servername, ca: cert }, () => {
        socket.end();
        resolve(socket.authorized);
      });
      socket.on("error", () => resolve(false));
    });
  } finally {
    server.stop(true);
  }
}

test("covers *.localhost and the app domains; a cached certificate without a new domain is made again", async () => {
  const first = await selfSignedTls(join(dir, "certs"));
  const alt = new X509Certificate(first.cert).subjectAltName ?? "";
  expect(alt).toContain("DNS:localhost");
  expect(alt).toContain("DNS:*.localhost");
  expect(await verifies(first.cert, first.key, "localhost")).toBe(true);
  const withApp = await selfSignedTls(join(dir, "certs"), ["app.localhost"]);
  expect(withApp.cert).not.toBe(first.cert);
  expect(await verifies(withApp.cert, withApp.key, "app.localhost")).toBe(true);
  expect(await verifies(withApp.cert, withApp.key, "localhost")).toBe(true);
  // Covered already: the cached one is kept.
  expect((await selfSignedTls(join(dir, "certs"), ["app.localhost"])).cert).toBe(withApp.cert);
});
