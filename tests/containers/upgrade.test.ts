/**
 * `upgrade` (app reload): the new version is built before it takes over; a stopped app gets its new image built
 * first, a failing build changes nothing, and a first version that fails is tried again next time.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LABEL_APP, type AppContainers, type DockerEngine } from "../../src/containers/index.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager } from "./helpers.ts";

const labels = suiteLabels("upgrade");
let engine: DockerEngine;
const managers: AppContainers[] = [];
const dirs: string[] = [];
const BROKEN = `FROM ${BUSYBOX_IMAGE}\nRUN ["/bin/busybox", "false"]\nEXPOSE 8080\n`;

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
});

afterAll(async () => {
  for (const m of managers) m.close();
  await sweep(engine, labels);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

test("a stopped app: the new image is built first; a failing build leaves the old image and spec", async () => {
  const { manager, events } = recordingManager(engine, labels);
  managers.push(manager);
  const dir = busyboxApp({ index: "v1\n" });
  dirs.push(dir);
  const id = appId("upgrade");
  const app = await manager.add(buildSpec(id, dir));
  await app.ensureReady();
  await app.stop();
  const oldHash = app.imageHash;

  writeFileSync(join(dir, "Containerfile"), BROKEN);
  await expect(manager.upgrade(buildSpec(id, dir))).rejects.toThrow(/build/);
  expect(manager.get(id)).toBe(app);
  expect(app.imageHash).toBe(oldHash);
  expect((await engine.listImages([`${LABEL_APP}=${id}`])).length).toBe(1);
  // Its state changes were reported as the new version's, not the app's.
  expect(events.some((e) => e.type === "state" && e.candidate === true && e.state === "building")).toBe(true);
  expect(await getText(await app.ensureReady())).toEqual({ status: 200, body: "v1\n" });

  const fixed = busyboxApp({ index: "v2\n" });
  dirs.push(fixed);
  const upgraded = await manager.upgrade(buildSpec(id, fixed));
  expect(upgraded).toMatchObject({ containerChanged: true, imageBuilt: true, restarted: true });
  expect(await getText(await upgraded.container.ensureReady())).toEqual({ status: 200, body: "v2\n" });
  expect(await manager.upgrade(buildSpec(id, fixed))).toMatchObject({ containerChanged: false, imageBuilt: false, restarted: false });
}, 90_000);

test("a first version whose build fails is built again by the next upgrade", async () => {
  const { manager } = recordingManager(engine, labels);
  managers.push(manager);
  const dir = busyboxApp({ containerfile: BROKEN });
  dirs.push(dir);
  const id = appId("first");
  await expect(manager.upgrade(buildSpec(id, dir))).rejects.toThrow(/build/);
  expect(manager.get(id)).toBeUndefined();
  await expect(manager.upgrade(buildSpec(id, dir))).rejects.toThrow(/build/);
}, 60_000);
