/**
 * HTTPS certificates: a self-signed one for `localhost` (as Clace serves https://localhost:25223/), generated with
 * the system's openssl without any network, and cached in a directory so that browsers see the same certificate
 * on every start.
 */
import { existsSync, mkdirSync } from "node:fs";
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
 * The cached self-signed certificate in `dir` (localhost.crt, localhost.key), generated on first use: EC P-256,
 * 10 years, subjectAltName localhost, 127.0.0.1 and ::1.
 */
export async function selfSignedTls(dir: string): Promise<TlsFiles> {
  const certPath = join(dir, "localhost.crt");
  const keyPath = join(dir, "localhost.key");
  if (existsSync(certPath) && existsSync(keyPath)) return loadTlsFiles(certPath, keyPath);
  const openssl = Bun.which("openssl");
  if (openssl === null) {
    throw new TlsSetupError("openssl is needed to generate a self-signed certificate (apt-get install openssl), or provide a certificate and key");
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const proc = Bun.spawn(
    [
      openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", keyPath, "-out", certPath, "-days", "3650", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new TlsSetupError(`openssl could not generate a certificate: ${stderr.trim()}`);
  return loadTlsFiles(certPath, keyPath);
}
