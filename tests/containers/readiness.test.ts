/**
 * Startup health as Clace decides it, against the real engine: ready only on HTTP 200 on the health path, redirects
 * followed; an app answering 500 while it starts is waited for, and one that never answers 200 fails the start.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { StartError, type AppContainers, type DockerEngine } from "../../src/containers/index.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage, writeAppDir } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager } from "./helpers.ts";

const labels = suiteLabels("readiness");
let engine: DockerEngine;
let manager: AppContainers;
const dirs: string[] = [];

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  manager = recordingManager(engine, labels).manager;
  await manager.start();
});

afterAll(async () => {
  manager?.close();
  await sweep(engine, labels);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

const cgi = (status: string, body: string, extra = "") =>
  `#!/bin/sh\nprintf 'Status: ${status}\\r\\n${extra}Content-Type: text/plain\\r\\n\\r\\n${body}\\n'\n`;

/**
 * busybox httpd with CGI: /cgi-bin/start redirects to /cgi-bin/health, which answers 500 until /tmp/ready exists
 * (made `readyAfter` seconds after boot; never when negative), then 200.
 */
function warmingApp(readyAfter: number): string {
  const dir = writeAppDir({
    Containerfile: [
      `FROM ${BUSYBOX_IMAGE}`,
      "COPY www /www",
      "EXPOSE 8080",
      `CMD ["/bin/sh", "-c", "${readyAfter >= 0 ? `(sleep ${readyAfter}; touch /tmp/ready) & ` : ""}exec httpd -f -p 8080 -h /www"]`,
      "",
    ].join("\n"),
    "www/cgi-bin/start": { content: cgi("302 Found", "moved", "Location: /cgi-bin/health\\r\\n"), mode: 0o755 },
    "www/cgi-bin/health": {
      content: `#!/bin/sh\nif [ -e /tmp/ready ]; then printf 'Status: 200 OK\\r\\n\\r\\nready\\n'; else printf 'Status: 500 Internal Server Error\\r\\n\\r\\nwarming\\n'; fi\n`,
      mode: 0o755,
    },
  });
  dirs.push(dir);
  return dir;
}

test("an app answering 500 at start is not ready until its health path answers 200 (through a redirect)", async () => {
  const app = await manager.add(buildSpec(appId("warm"), warmingApp(1.5), { healthPath: "/cgi-bin/start" }));
  const t0 = performance.now();
  const url = await app.ensureReady();
  const waited = (performance.now() - t0) / 1000;
  expect(waited).toBeGreaterThanOrEqual(1.4);
  expect(await getText(url + "/cgi-bin/health")).toEqual({ status: 200, body: "ready\n" });
}, 60_000);

test("an app that never answers 200 fails its start after health_attempts_after_startup, saying what it waited for", async () => {
  const app = await manager.add(
    buildSpec(appId("never"), warmingApp(-1), { healthPath: "/cgi-bin/start", settings: { healthAttemptsAfterStartup: 2, healthTimeoutSecs: 1 } }),
  );
  const t0 = performance.now();
  const err = (await app.ensureReady().catch((e) => e)) as StartError;
  expect(err).toBeInstanceOf(StartError);
  expect(err.kind).toBe("start-failed");
  expect(err.message).toContain("did not answer HTTP 200 on /cgi-bin/start within 2s");
  expect(err.message).toContain("container.health_attempts_after_startup");
  expect((performance.now() - t0) / 1000).toBeLessThan(10);
}, 60_000);
