/** Builds through the lifecycle manager: success, failure with the log tail, EXPOSE, .dockerignore, image reuse. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StartError } from "../../src/containers/index.ts";
import { DockerEngine, imageName, type AppContainers } from "../../src/containers/index.ts";
import { countingEngine } from "../fixtures/counting-engine.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxApp, busyboxImage, writeAppDir } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager } from "./helpers.ts";

const labels = suiteLabels("build");
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

test("builds an app from its folder and serves it", async () => {
  const dir = busyboxApp({ index: "built ok\n" });
  dirs.push(dir);
  const app = await manager.add(buildSpec(appId("ok"), dir));
  const url = await app.ensureReady();
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(await getText(url + "/")).toEqual({ status: 200, body: "built ok\n" });
  expect(app.state).toBe("ready");
}, 60_000);

test("a failing RUN step fails the build with the log tail naming the step", async () => {
  const dir = writeAppDir({ Containerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo about to fail && false\nEXPOSE 8080\n` });
  dirs.push(dir);
  const app = await manager.add(buildSpec(appId("fail"), dir));
  const err = await app.ensureReady().catch((e) => e);
  expect(err).toBeInstanceOf(StartError);
  expect((err as StartError).kind).toBe("start-failed");
  // Docker classic: "returned a non-zero code: 1"; BuildKit: "exit code: 1"; Podman: "exit status 1".
  expect((err as StartError).message).toMatch(/non-zero code: 1|exit status 1|exit code: 1/);
  expect((err as StartError).logTail).toContain("RUN echo about to fail && false");
  expect((err as StartError).logTail).toContain("about to fail");
  expect(app.state).toBe("failed");
}, 60_000);

test("an app on its EXPOSEd port (not 8080) is published and reached", async () => {
  const dir = busyboxApp({ port: 9090, index: "on 9090\n" });
  dirs.push(dir);
  const spec = buildSpec(appId("expose"), dir, { port: 9090 });
  const app = await manager.add(spec);
  const url = await app.ensureReady();
  expect((await getText(url + "/")).body).toBe("on 9090\n");
  const img = await engine.inspectImage(imageName(spec.appId, app.imageHash));
  expect(img?.exposedPorts).toContain("9090/tcp");
}, 60_000);

test(".dockerignore keeps files out of the context and out of the hash", async () => {
  const dir = busyboxApp({
    www: { "public.txt": "public\n", "secret.txt": "secret\n" },
    extra: { ".dockerignore": "# comment\nwww/secret.txt\nnotes/\n", "notes/todo.md": "x" },
  });
  dirs.push(dir);
  const app = await manager.add(buildSpec(appId("ignore"), dir));
  const url = await app.ensureReady();
  expect((await getText(url + "/public.txt")).status).toBe(200);
  expect((await getText(url + "/secret.txt")).status).toBe(404);
  const hash = app.hash;
  writeFileSync(join(dir, "notes/todo.md"), "changed");
  writeFileSync(join(dir, "www/secret.txt"), "changed");
  expect((await app.computeHashes()).hash).toBe(hash);
}, 60_000);

test("an unchanged app reuses its image (no build call); a changed one rebuilds and drops the old image", async () => {
  const dir = busyboxApp({ index: "v1\n" });
  dirs.push(dir);
  const id = appId("reuse");
  // A fresh engine object so the call counts are this test's alone.
  const counted = countingEngine(new DockerEngine({ socketPath: undefined, endpoint: engine.endpoint, ...engineTarget(engine) }));
  const m1 = recordingManager(counted, labels).manager;
  const a1 = await m1.add(buildSpec(id, dir));
  await a1.ensureReady();
  expect(counted.calls.build).toBe(1);
  await a1.stop();

  // Same source, a second manager (as after a restart): no build, same image name.
  const m2 = recordingManager(counted, labels).manager;
  const a2 = await m2.add(buildSpec(id, dir));
  expect(a2.imageHash).toBe(a1.imageHash);
  const url = await a2.ensureReady();
  expect(counted.calls.build).toBe(1);
  expect((await getText(url + "/")).body).toBe("v1\n");

  // Changed source: the update removes the old container and image, the next start builds once.
  const oldImage = imageName(id, a2.imageHash);
  writeFileSync(join(dir, "www/index.html"), "v2\n");
  await m2.add(buildSpec(id, dir));
  expect(await engine.inspectImage(oldImage)).toBeNull();
  const url2 = await a2.ensureReady();
  expect(counted.calls.build).toBe(2);
  expect((await getText(url2 + "/")).body).toBe("v2\n");
  expect((await engine.listContainers([`dev.clace-lite.app=${id}`], true)).length).toBe(1);
  m1.close();
  m2.close();
}, 60_000);

test("an unknown container option fails with a config error naming it", async () => {
  const dir = busyboxApp();
  dirs.push(dir);
  const app = await manager.add(buildSpec(appId("copt"), dir, { options: { "no-such-thing": "1" } }));
  const err = (await app.ensureReady().catch((e) => e)) as StartError;
  expect(err.kind).toBe("config-error");
  expect(err.message).toContain('"no-such-thing"');
}, 60_000);

function engineTarget(e: DockerEngine): { socketPath?: string; host?: string; port?: number } {
  const ep = e.endpoint;
  if (ep.startsWith("unix://")) return { socketPath: ep.slice(7) };
  const u = new URL(ep.replace(/^tcp:/, "http:"));
  return { host: u.hostname, port: Number(u.port) };
}
