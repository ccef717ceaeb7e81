/**
 * Image apps against a real registry on 127.0.0.1: push through the Engine API, drop the local copy, then an
 * `image:` app pulls (with progress) and runs it; a refresh after a new push recreates the container.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { DockerEngine, collectContext, contextTar, parseImageRef, type AppContainers } from "../../src/containers/index.ts";
import { countingEngine } from "../fixtures/counting-engine.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { startRegistry, type TestRegistry } from "../fixtures/registry.ts";
import { appId, getText, imageSpec, recordingManager } from "./helpers.ts";

const labels = suiteLabels("pull");
let engine: DockerEngine;
let registry: TestRegistry;
let manager: AppContainers;
const dirs: string[] = [];
const refs: string[] = [];

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  registry = await startRegistry();
});

afterAll(async () => {
  manager?.close();
  await sweep(engine, labels);
  for (const r of refs) await engine.removeImage(r, true).catch(() => {});
  await registry?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Build a busybox page image, push it to the registry as `ref`, and remove the local copy. */
async function publish(ref: string, page: string): Promise<void> {
  const dir = busyboxApp({ index: page });
  dirs.push(dir);
  await engine.build({ context: contextTar(collectContext([dir], "Containerfile")), tag: ref, containerFile: "Containerfile", labels });
  await engine.push(ref);
  await engine.removeImage(ref, true);
  expect(await engine.inspectImage(ref)).toBeNull();
}

test("an image: app pulls from the registry with progress and runs", async () => {
  const ref = `${registry.host}/clace-lite-test/page:${process.pid}`;
  refs.push(ref);
  await publish(ref, "from the registry\n");

  const counted = countingEngine(engine);
  const rec = recordingManager(counted, labels);
  manager = rec.manager;
  await manager.start();
  const app = await manager.add(imageSpec(appId("pull"), ref));
  const url = await app.ensureReady();
  expect((await getText(url + "/")).body).toBe("from the registry\n");
  expect(counted.calls.pull).toBeGreaterThanOrEqual(1);
  const progress = rec.events.filter((e) => e.type === "pull-progress");
  expect(progress.length).toBeGreaterThan(0);
  expect(rec.events.some((e) => e.type === "state" && e.state === "building" && e.reason?.includes("pulling"))).toBe(true);

  // The registry gets a new image under the same tag while the machine still has the old one.
  const v1 = (await engine.inspectImage(ref))!.id;
  expect(await app.refresh()).toBe(false); // nothing new yet
  const oldContainer = app.currentContainerId;
  await publish(ref, "version two\n");
  const { repo, tag } = parseImageRef(ref);
  await engine.tagImage(v1, repo, tag);
  expect(await app.refresh()).toBe(true);
  const url2 = await app.ensureReady();
  expect((await getText(url2 + "/")).body).toBe("version two\n");
  expect(app.currentContainerId).not.toBe(oldContainer);
}, 120_000);

test("a missing image fails the start with the registry's answer", async () => {
  const rec = recordingManager(engine, labels);
  const app = await rec.manager.add(imageSpec(appId("missing"), `${registry.host}/clace-lite-test/nope:1`));
  const err = (await app.ensureReady().catch((e) => e)) as Error & { kind?: string };
  expect(err.kind).toBe("start-failed");
  expect(err.message).toMatch(/pull of .*nope:1 failed/);
  rec.manager.close();
}, 60_000);
