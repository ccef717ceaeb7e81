/**
 * HTTPS certificates: a self-signed one for `localhost` and `*.localhost` (as Clace serves https://localhost:25223/), generated with
 * the system's openssl without any network, and cached in a directory so that browsers see the same certificate
 * on every start.
 */
import { existsSync, mkdirSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import type { TlsFiles } from "./server.ts";

export class TlsSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TlsSetupError";
  }
}

/** Read a certificate and key the user provided. */
export async function loadTlsFiles(certPath: string, keyPath: string): Promise<TlsFiles> {
  for (const p of [certPath, keyPath]) {
    if (!existsSync(p)) throw new TlsSetupError(`TLS file ${p} does not exist`);
  }
  return { cert: await Bun.file(certPath).text(), key: await Bun.file(keyPath).text() };
}

/**
 * The names the self-signed certificate covers. `*.localhost` is there for clients that take a wildcard under a
 * one-label domain; OpenSSL and Node do not, so the app domains known when the certificate is made are named
 * one by one as well (app.localhost).
 */
function selfSignedNames(domains: readonly string[]): string[] {
  const names = ["DNS:localhost", "DNS:*.localhost", "IP:127.0.0.1", "IP:::1"];
  for (const d of domains) if (d && /^[A-Za-z0-9.-]+$/.test(d) && !names.includes(`DNS:${d}`)) names.push(`DNS:${d.toLowerCase()}`);
  return names;
}

/** True when a cached certificate covers every wanted name (one made before an app domain was added does not). */
function coversNames(certPem: string, wanted: readonly string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const alt = (cert.subjectAltName ?? "").split(",").map((n) => n.trim());
    return wanted.every((n) => (n.startsWith("IP:") ? cert.checkIP(n.slice(3)) !== undefined : alt.includes(n)));
  } catch {
    return false;
  }
}

/**
 * The cached self-signed certificate in `dir` (localhost.crt, localhost.key), generated on first use and again when
 * it does not cover a wanted name: EC P-256, 10 years, subjectAltName localhost, *.localhost, 127.0.0.1, ::1 and
 * each of `domains` (the app domains, e.g. app.localhost).
 */
export async function selfSignedTls(dir: string, domains: readonly string[] = []): Promise<TlsFiles> {
  const certPath = join(dir, "localhost.crt");
  const keyPath = join(dir, "localhost.key");
  const names = selfSignedNames(domains);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cached = await loadTlsFiles(certPath, keyPath);
    if (coversNames(cached.cert, names)) return cached;
  }
  const openssl = Bun.which("openssl");
  if (openssl === null) {
    throw new TlsSetupError("openssl is needed to generate a self-signed certificate (apt-get install openssl), or provide a certificate and key");
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const proc = Bun.spawn(
    [
      openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", keyPath, "-out", certPath, "-days", "3650", "-subj", "/CN=localhost",
      "-addext", `subjectAltName=${names.join(",")}`,
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new TlsSetupError(`openssl could not generate a certificate: ${stderr.trim()}`);
  return loadTlsFiles(certPath, keyPath);
}
