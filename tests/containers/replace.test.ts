/**
 * Zero-downtime replacement (dev reloads): the running version serves until the new one is ready, then the old
 * container is removed; a new version that fails leaves the old one serving.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LABEL_APP, type AppContainers, type DockerEngine } from "../../src/containers/index.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager } from "./helpers.ts";

const labels = suiteLabels("replace");
let engine: DockerEngine;
const managers: AppContainers[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
});

afterAll(async () => {
  for (const m of managers) m.close();
  await sweep(engine, labels);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

test("the old version serves while the new one builds; then only the new one is left", async () => {
  const { manager } = recordingManager(engine, labels);
  managers.push(manager);
  const dir = busyboxApp({ index: "v1\n" });
  dirs.push(dir);
  const id = appId("replace");
  const first = await manager.add(buildSpec(id, dir));
  const oldUrl = await first.ensureReady();
  const oldContainer = first.currentContainerId;

  writeFileSync(join(dir, "www/index.html"), "v2\n");
  const replacing = manager.replace(buildSpec(id, dir));
  // While the new version builds and starts, the old one answers.
  expect(await getText(oldUrl)).toEqual({ status: 200, body: "v1\n" });
  const next = await replacing;
  expect(next).not.toBe(first);
  expect(await getText(await next.ensureReady())).toEqual({ status: 200, body: "v2\n" });
  const left = await engine.listContainers([`${LABEL_APP}=${id}`], true);
  expect(left.map((c) => c.id)).toEqual([next.currentContainerId!]);
  expect(left.map((c) => c.id)).not.toContain(oldContainer);
  expect(manager.get(id)).toBe(next);
}, 120_000);

test("a new version that fails to start is removed and the old one keeps serving", async () => {
  const { manager } = recordingManager(engine, labels);
  managers.push(manager);
  const dir = busyboxApp({ index: "stable\n" });
  dirs.push(dir);
  const id = appId("replacefail");
  const first = await manager.add(buildSpec(id, dir));
  const url = await first.ensureReady();
  // The new version's command exits at once.
  writeFileSync(join(dir, "Containerfile"), `FROM clace-lite-test/busybox:1\nEXPOSE 8080\nCMD ["/bin/busybox", "false"]\n`);
  await expect(manager.replace(buildSpec(id, dir))).rejects.toThrow(/exited/);
  expect(manager.get(id)).toBe(first);
  expect(await getText(url)).toEqual({ status: 200, body: "stable\n" });
  const left = await engine.listContainers([`${LABEL_APP}=${id}`], true);
  expect(left.map((c) => c.id)).toEqual([first.currentContainerId!]);
}, 120_000);
