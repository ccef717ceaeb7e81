/**
 * The pause tier against the real engine (Docker, and Podman in CI): an idle app is paused first and stopped
 * later; a request to a paused app is answered by the same container without a start or a readiness wait; an open
 * stream keeps it running; stop, removal and a new manager's adoption handle a paused container.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { AppContainers, DockerEngine, LABEL_APP } from "../../src/containers/index.ts";
import { idleAction } from "../../src/containers/idle.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager, until } from "./helpers.ts";

const labels = suiteLabels("pause");
let engine: DockerEngine;
const managers: AppContainers[] = [];
const dirs: string[] = [];

function manager() {
  const r = recordingManager(engine, labels);
  managers.push(r.manager);
  return r;
}

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
});

afterAll(async () => {
  for (const m of managers) m.close();
  await sweep(engine, labels);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

test("the idle policy: pause first, stop later; pausing only before the stop; off with 0", () => {
  const s = { idlePauseSecs: 60, idleShutdownSecs: 180 };
  expect(idleAction(s, 0, false, true)).toEqual({ kind: "wait", ms: 60_000 });
  expect(idleAction(s, 60_000, false, true)).toEqual({ kind: "pause" });
  expect(idleAction(s, 70_000, true, true)).toEqual({ kind: "wait", ms: 110_000 });
  expect(idleAction(s, 180_000, true, true)).toEqual({ kind: "stop" });
  expect(idleAction(s, 60_000, false, false)).toEqual({ kind: "wait", ms: 120_000 });
  expect(idleAction({ idlePauseSecs: 0, idleShutdownSecs: 180 }, 100_000, false, true)).toEqual({ kind: "wait", ms: 80_000 });
  expect(idleAction({ idlePauseSecs: 200, idleShutdownSecs: 180 }, 0, false, true)).toEqual({ kind: "wait", ms: 180_000 });
  expect(idleAction({ idlePauseSecs: 5, idleShutdownSecs: 0 }, 5_000, false, true)).toEqual({ kind: "pause" });
  expect(idleAction({ idlePauseSecs: 5, idleShutdownSecs: 0 }, 5_000, true, true)).toEqual({ kind: "never" });
});

test("idle → paused → a request is answered by the same container at once → idle → paused → stopped", async () => {
  const { manager: m, events } = manager();
  await m.start();
  const dir = busyboxApp({ index: "paused app\n" });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("tier"), dir, { settings: { idlePauseSecs: 1, idleShutdownSecs: 4 } }));
  const url = await app.ensureReady();
  const id = app.currentContainerId!;
  await until(() => app.state === "paused", 4000, "the pause");
  expect((await engine.inspectContainer(id))?.status).toBe("paused");
  expect(app.readyUrl()).toBeUndefined();

  // A request wakes it: the same container at the same address, no start and no health check in between.
  const before = events.length;
  const t0 = performance.now();
  const woke = await app.ensureReady();
  const wakeMs = performance.now() - t0;
  expect(woke).toBe(url);
  expect(app.currentContainerId).toBe(id);
  expect((await getText(url + "/")).body).toBe("paused app\n");
  const since = events.slice(before);
  expect(since.some((e) => e.type === "state" && (e.state === "starting" || e.state === "building"))).toBe(false);
  expect(since.some((e) => e.type === "wake")).toBe(true);
  expect(wakeMs).toBeLessThan(1000);

  // Idle again: paused again, then stopped at the shutdown period.
  await until(() => app.state === "paused", 4000, "the second pause");
  await until(() => app.state === "stopped", 8000, "the stop after the pause");
  expect((await engine.inspectContainer(id))?.running).toBe(false);
  expect(events.filter((e) => e.type === "idle-pause").length).toBe(2);
  expect(events.some((e) => e.type === "idle-stop")).toBe(true);
}, 60_000);

test("an open stream keeps the app running: never paused while it lasts", async () => {
  const { manager: m } = manager();
  await m.start();
  const dir = busyboxApp({ index: "streaming\n" });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("stream"), dir, { settings: { idlePauseSecs: 1, idleShutdownSecs: 30 } }));
  await app.ensureReady();
  app.openStream();
  await Bun.sleep(2500);
  expect(app.state).toBe("ready");
  app.closeStream();
  await until(() => app.state === "paused", 4000, "the pause once the stream ended");
}, 30_000);

test("stop and removal handle a paused container; a new manager adopts a paused one, thawed", async () => {
  const { manager: m } = manager();
  await m.start();
  const dir = busyboxApp({ index: "adopt me\n" });
  dirs.push(dir);
  const spec = buildSpec(appId("adopt"), dir, { settings: { idlePauseSecs: 1, idleShutdownSecs: 60 } });
  const app = await m.add(spec);
  await app.ensureReady();
  await until(() => app.state === "paused", 4000, "the pause");
  const id = app.currentContainerId!;

  // A server restart: a new manager finds the paused container and adopts it.
  m.close();
  const { manager: next, events: nextEvents } = manager();
  await next.start();
  const again = await next.add(spec);
  await next.reconcile();
  // Thawed and adopted as ready; with a 1 s pause period a slow engine may have paused it again since, so the
  // event says it, not the state.
  expect(nextEvents.some((e) => e.type === "ready" && e.adopted)).toBe(true);
  expect(["ready", "paused"]).toContain(again.state);
  expect(again.currentContainerId).toBe(id);
  expect((await getText((await again.ensureReady()) + "/")).body).toBe("adopt me\n");

  // Paused again, then stopped by a command (thawed first), then removed with nothing left.
  await until(() => again.state === "paused", 4000, "the pause under the new manager");
  await again.stop("stop requested");
  expect(again.state).toBe("stopped");
  expect((await engine.inspectContainer(id))?.running).toBe(false);
  await until(() => again.state === "stopped", 1000, "stopped");
  await again.ensureReady();
  await until(() => again.state === "paused", 4000, "a pause before removal");
  await next.remove(spec.appId);
  expect(await engine.listContainers([`${LABEL_APP}=${spec.appId}`], true)).toEqual([]);
}, 60_000);

test("an engine that cannot pause: said once, and idle apps are stopped as before", async () => {
  // The real engine, except that its freezer is missing (as on some rootless setups).
  const frozenOut = new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop === "pauseContainer") return () => Promise.reject(new Error("pause is not supported here"));
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const r = recordingManager(frozenOut, labels);
  managers.push(r.manager);
  await r.manager.start();
  const dir = busyboxApp({ index: "no freezer\n" });
  dirs.push(dir);
  const app = await r.manager.add(buildSpec(appId("nofreeze"), dir, { settings: { idlePauseSecs: 1, idleShutdownSecs: 3 } }));
  const second = await r.manager.add(buildSpec(appId("nofreeze2"), dir, { settings: { idlePauseSecs: 1, idleShutdownSecs: 3 } }));
  await Promise.all([app.ensureReady(), second.ensureReady()]);
  await until(() => app.state === "stopped" && second.state === "stopped", 10_000, "idle stops without pausing");
  expect(r.events.filter((e) => e.type === "pause-unavailable").length).toBe(1);
  expect(r.events.some((e) => e.type === "idle-pause")).toBe(false);
}, 30_000);
