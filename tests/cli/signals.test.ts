/**
 * Signals during a cold start (real engine): `serve` and `server start` cut the start short on SIGTERM and exit
 * within 5 s with the starting container removed; a second signal exits at once after a bounded removal attempt.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { LABEL_APP, LABEL_MANAGED, type ContainerEngine } from "../../src/containers/index.ts";
import { defaultAppId, parseAppLocation } from "../../src/runtime/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { CliProcess, CONTAINER_APP_STAR, runCli, tempHome } from "./helpers.ts";

let engine: ContainerEngine;
let home: string;
const dirs: string[] = [];
/** Apps whose built images the suite removes at the end (serve keeps an app's image for its next run). */
const appIds: string[] = [];

/** An app whose container takes 60 s before it answers: any signal arrives during its cold start. */
function slowApp(): string {
  const dir = busyboxApp({
    extra: { "app.star": CONTAINER_APP_STAR },
    containerfile: [
      `FROM ${BUSYBOX_IMAGE}`,
      "COPY www /www",
      "EXPOSE 8080",
      'CMD ["/bin/busybox", "sh", "-c", "sleep 60; exec /bin/busybox httpd -f -p 8080 -h /www"]',
      "",
    ].join("\n"),
  });
  dirs.push(dir);
  return dir;
}

async function containersOfServe(dir: string) {
  const where = parseAppLocation("/", "localhost");
  const appId = defaultAppId({ source: dir, domain: where.domain, path: where.path });
  if (!appIds.includes(appId)) appIds.push(appId);
  return engine.listContainers([`${LABEL_MANAGED}=true`, `${LABEL_APP}=${appId}`], true);
}

/** Starts serve, sends one request to begin the cold start, and waits until the container exists. */
async function serveColdStarting(dir: string): Promise<CliProcess> {
  const serve = new CliProcess(["serve", dir, "--approve", "--port", "0"], { CL_HOME: home });
  const [, url] = (await serve.waitFor(/at (http:\/\/[\d.]+:\d+\/)/)) as unknown as [string, string];
  void fetch(url).catch(() => {});
  const deadline = Date.now() + 60_000;
  while ((await containersOfServe(dir)).length === 0) {
    if (Date.now() > deadline) throw new Error(`no container appeared\n${serve.stdout}${serve.stderr}`);
    await Bun.sleep(100);
  }
  await Bun.sleep(300);
  return serve;
}

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  home = tempHome();
});

afterAll(async () => {
  for (const appId of appIds) {
    for (const c of await engine.listContainers([`${LABEL_APP}=${appId}`], true)) await engine.removeContainer(c.id);
    for (const img of await engine.listImages([`${LABEL_APP}=${appId}`])) await engine.removeImage(img.id, true).catch(() => {});
  }
  rmSync(home, { recursive: true, force: true });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("signals during a cold start", () => {
  test("SIGTERM cuts the start short: serve exits within 5 s and its container is gone", async () => {
    const dir = slowApp();
    const serve = await serveColdStarting(dir);
    try {
      const t0 = Date.now();
      serve.signal("SIGTERM");
      const code = await serve.exited();
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(code).toBe(143);
      expect(await containersOfServe(dir)).toEqual([]);
    } finally {
      await serve.stop();
    }
  }, 120_000);

  test("a second signal exits at once, after a bounded removal attempt", async () => {
    const dir = slowApp();
    const serve = await serveColdStarting(dir);
    try {
      const t0 = Date.now();
      serve.signal("SIGTERM");
      await Bun.sleep(20);
      serve.signal("SIGTERM");
      await serve.exited();
      expect(Date.now() - t0).toBeLessThan(2500);
      expect(await containersOfServe(dir)).toEqual([]);
    } finally {
      await serve.stop();
    }
  }, 120_000);

  test("server start: SIGTERM during an app's cold start exits within 5 s and removes the half-started container", async () => {
    const dir = slowApp();
    const serverHome = tempHome();
    const server = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], { CL_HOME: serverHome });
    try {
      const [, base] = (await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//)) as unknown as [string, string];
      expect((await runCli(["app", "create", "--approve", dir, "/slow"], { CL_HOME: serverHome })).code).toBe(0);
      const apps = JSON.parse((await runCli(["app", "list", "--format", "json"], { CL_HOME: serverHome })).stdout) as { id: string }[];
      const appId = apps[0]!.id;
      appIds.push(appId);
      void fetch(`${base}/slow/`).catch(() => {});
      const listed = () => engine.listContainers([`${LABEL_MANAGED}=true`, `${LABEL_APP}=${appId}`], true);
      const deadline = Date.now() + 60_000;
      while ((await listed()).length === 0) {
        if (Date.now() > deadline) throw new Error(`no container appeared\n${server.stdout}${server.stderr}`);
        await Bun.sleep(100);
      }
      await Bun.sleep(300);
      const t0 = Date.now();
      server.signal("SIGTERM");
      await server.exited();
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(await listed()).toEqual([]);
    } finally {
      await server.stop();
      rmSync(serverHome, { recursive: true, force: true });
    }
  }, 120_000);
});
