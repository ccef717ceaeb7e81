/**
 * The lazy lifecycle against the real engine: single-flight start, idle stop (and streams blocking it), restart on
 * a new port, slow starts waited for, boot failures reported fast with logs, crashes noticed and restarted,
 * adoption by a second manager, bounded waiting.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { StartError } from "../../src/containers/index.ts";
import { AppContainers, DEFAULT_ULIMITS, DockerEngine, LABEL_APP, type ContainerEngine, type EngineEvent } from "../../src/containers/index.ts";
import { countingEngine, type CountingEngine } from "../fixtures/counting-engine.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { busyboxApp, busyboxImage, pythonApp, pythonImage } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager, until } from "./helpers.ts";

const labels = suiteLabels("lifecycle");
let engine: DockerEngine;
const managers: AppContainers[] = [];
const dirs: string[] = [];

function manager(e: ContainerEngine = engine) {
  const r = recordingManager(e, labels);
  managers.push(r.manager);
  return r;
}

function freshEngine(): CountingEngine<DockerEngine> {
  const ep = engine.endpoint;
  return countingEngine(new DockerEngine({ endpoint: ep, socketPath: ep.slice("unix://".length), kind: engine.kind }));
}

beforeAll(async () => {
  engine = await testEngine();
  await Promise.all([busyboxImage(engine), pythonImage(engine)]);
});

afterAll(async () => {
  for (const m of managers) m.close();
  await sweep(engine, labels);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

test("50 concurrent ensureReady on a stopped app create and start exactly one container", async () => {
  const counted = freshEngine();
  const { manager: m } = manager(counted);
  await m.start();
  const dir = busyboxApp({ index: "once\n" });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("flight"), dir));
  // Build first, so that the count is about the start (the build is single-flight the same way).
  await app.ensureReady();
  await app.stop();
  const removed = await engine.listContainers([`${LABEL_APP}=${app.spec.appId}`], true);
  for (const c of removed) await engine.removeContainer(c.id);

  const starts: EngineEvent[] = [];
  const sub = engine.events([`${LABEL_APP}=${app.spec.appId}`], (e) => {
    if (e.action === "start") starts.push(e);
  });
  await sub.ready;
  const before = { create: counted.calls.create ?? 0, start: counted.calls.start ?? 0, build: counted.calls.build ?? 0 };
  const urls = await Promise.all(Array.from({ length: 50 }, () => app.ensureReady()));
  expect(new Set(urls).size).toBe(1);
  expect((counted.calls.create ?? 0) - before.create).toBe(1);
  expect((counted.calls.start ?? 0) - before.start).toBe(1);
  expect((counted.calls.build ?? 0) - before.build).toBe(0);
  const bodies = await Promise.all(urls.slice(0, 10).map((u) => getText(u + "/")));
  expect(bodies.every((b) => b.body === "once\n")).toBe(true);
  await Bun.sleep(300);
  sub.close();
  expect(starts.length).toBe(1);
}, 60_000);

test("stops after the idle period, not while a stream is open, and restarts on a new port", async () => {
  const { manager: m, events } = manager();
  await m.start();
  const dir = busyboxApp({ index: "idle\n" });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("idle"), dir, { settings: { idleShutdownSecs: 2 } }));
  const url1 = await app.ensureReady();

  // A stream held open for 2× the idle period keeps it running.
  app.beginRequest();
  app.openStream();
  app.endRequest();
  await Bun.sleep(4500);
  expect(app.state).toBe("ready");
  app.closeStream();
  const closedAt = Date.now();
  await until(() => app.state === "stopped", 6000, "idle stop");
  const stoppedAfter = Date.now() - closedAt;
  expect(stoppedAfter).toBeGreaterThanOrEqual(1900);
  expect(stoppedAfter).toBeLessThanOrEqual(2000 + 1000 + 1500); // idle + 1 s, plus the stop call on a busy host
  expect(events.some((e) => e.type === "state" && e.state === "stopping" && e.reason === "idle")).toBe(true);

  // A plain request in flight also blocks it.
  const url2 = await app.ensureReady();
  // Docker assigns a new host port on every start; Podman may hand the same one back. Either way it is re-read.
  if (engine.kind === "docker") expect(url2).not.toBe(url1);
  // On either engine the URL is the port the engine publishes now, read again after this start.
  const published = (await engine.inspectContainer(app.currentContainerId!))?.hostPorts["8080/tcp"];
  expect(url2).toBe(`http://127.0.0.1:${published}`);
  expect((await getText(url2 + "/")).body).toBe("idle\n");
  app.beginRequest();
  await Bun.sleep(3000);
  expect(app.state).toBe("ready");
  app.endRequest();
  await until(() => app.state === "stopped", 5000, "idle stop after the request ended");
}, 60_000);

test("a slow-starting app is waited for, and the wait ends soon after it listens", async () => {
  const { manager: m } = manager();
  await m.start();
  const dir = pythonApp({ env: { START_DELAY: "3" } });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("slow"), dir, { healthPath: "/health" }));
  // Build the image first so that the timing is about the start.
  await app.ensureReady();
  await app.stop();
  const t0 = Date.now();
  const url = await app.ensureReady();
  const waited = Date.now() - t0;
  expect(waited).toBeGreaterThanOrEqual(3000);
  expect(waited).toBeLessThan(3000 + 2500);
  expect((await getText(url + "/health")).body).toBe("health 200");
}, 60_000);

test("an app that exits at start fails its callers at once with its last log lines", async () => {
  const { manager: m } = manager();
  await m.start();
  const dir = pythonApp({ env: { EXIT_AT_START: "3" } });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("exit"), dir, { settings: { healthAttemptsAfterStartup: 60 } }));
  const t0 = Date.now();
  const errs = await Promise.all([app.ensureReady().catch((e) => e), app.ensureReady().catch((e) => e)]);
  const took = Date.now() - t0;
  for (const err of errs) {
    expect(err).toBeInstanceOf(StartError);
    expect((err as StartError).kind).toBe("start-failed");
    expect((err as StartError).message).toContain("exited with code 3");
    expect((err as StartError).logTail).toContain("fatal: EXIT_AT_START is set");
  }
  expect(errs[0]).toBe(errs[1]);
  expect(took).toBeLessThan(15_000); // includes the image build; far below the 60 s health budget
  // Again, now that the image exists: fails within a couple of seconds.
  const t1 = Date.now();
  const again = (await app.ensureReady().catch((e) => e)) as StartError;
  expect(again.kind).toBe("start-failed");
  expect(Date.now() - t1).toBeLessThan(8000);
}, 60_000);

test("a crash loop backs off and says so", async () => {
  const { manager: m, events } = manager();
  const dir = pythonApp({ env: { EXIT_AT_START: "1" } });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("loop"), dir));
  await app.ensureReady().catch(() => {});
  await app.ensureReady().catch(() => {});
  const err = (await app.ensureReady().catch((e) => e)) as StartError;
  expect(err.message).toContain("crash-looping");
  expect(err.logTail).toContain("fatal");
  expect(events.some((e) => e.type === "crash-loop")).toBe(true);
}, 60_000);

test("a container killed from outside is noticed and restarted on the next request", async () => {
  const { manager: m, events } = manager();
  await m.start();
  const dir = busyboxApp({ index: "phoenix\n" });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("kill"), dir));
  await app.ensureReady();
  const id = app.currentContainerId!;
  await engine.killContainer(id);
  const noticed = await until(() => app.state === "stopped", 3000, "the die event");
  expect(noticed).toBeLessThan(2000);
  await until(() => events.some((e) => e.type === "crash"), 2000, "the crash event");
  const url = await app.ensureReady();
  expect((await getText(url + "/")).body).toBe("phoenix\n");
  expect(app.currentContainerId).toBe(id);
}, 60_000);

test("a status check notices a dead container even without events", async () => {
  // No m.start(): no event subscription, so only the status timer can notice.
  const { manager: m } = manager();
  const dir = busyboxApp({ index: "status\n" });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("status"), dir, { settings: { statusCheckIntervalSecs: 1 } }));
  await app.ensureReady();
  await engine.killContainer(app.currentContainerId!);
  await until(() => app.state === "stopped", 4000, "the status check");
  const url = await app.ensureReady();
  expect((await getText(url + "/")).body).toBe("status\n");
}, 60_000);

test("a second manager (a restarted server) adopts the running container instead of starting another", async () => {
  const { manager: m1 } = manager();
  const dir = busyboxApp({ index: "adopt me\n" });
  dirs.push(dir);
  const spec = buildSpec(appId("adopt"), dir);
  const a1 = await m1.add(spec);
  const url = await a1.ensureReady();
  m1.close();

  const counted = freshEngine();
  const { manager: m2, events } = manager(counted);
  const a2 = await m2.add(spec);
  const result = await m2.reconcile();
  expect(result.adopted).toEqual([spec.appId]);
  expect(a2.state).toBe("ready");
  expect(await a2.ensureReady()).toBe(url);
  expect(counted.calls.create ?? 0).toBe(0);
  expect(counted.calls.start ?? 0).toBe(0);
  expect(events.some((e) => e.type === "ready" && e.adopted)).toBe(true);
  expect((await engine.listContainers([`${LABEL_APP}=${spec.appId}`], true)).length).toBe(1);
}, 60_000);

test("reconcile removes containers and images of apps it does not know", async () => {
  const { manager: m1 } = manager();
  const dir = busyboxApp({ index: "stale\n" });
  dirs.push(dir);
  const spec = buildSpec(appId("stale"), dir);
  const a1 = await m1.add(spec);
  await a1.ensureReady();
  m1.close();
  const { manager: m2 } = manager();
  const result = await m2.reconcile();
  expect(result.removedContainers.some((n) => n.includes(spec.appId))).toBe(true);
  expect((await engine.listContainers([`${LABEL_APP}=${spec.appId}`], true)).length).toBe(0);
  expect((await engine.listImages([`${LABEL_APP}=${spec.appId}`])).length).toBe(0);
}, 60_000);

test("beyond maxWaitingRequests callers are refused as overloaded; a short start deadline gives start-timeout", async () => {
  const { manager: m } = manager();
  const dir = pythonApp({ env: { START_DELAY: "2" } });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("queue"), dir, { settings: { maxWaitingRequests: 3, startTimeoutSecs: 1 } }));
  const waits = Array.from({ length: 5 }, () => app.ensureReady().catch((e) => e as StartError));
  const results = await Promise.all(waits);
  const kinds = results.map((r) => (r instanceof StartError ? r.kind : "ok"));
  expect(kinds.filter((k) => k === "overloaded").length).toBe(2);
  // The image build alone takes longer than 1 s here, so the three admitted callers time out.
  expect(kinds.filter((k) => k === "start-timeout").length).toBe(3);
  // The start goes on without them: the app becomes ready.
  await until(() => app.state === "ready", 20_000, "the start to finish");
}, 60_000);

test("a caller's abort signal ends only its own wait", async () => {
  const { manager: m } = manager();
  const dir = pythonApp({ env: { START_DELAY: "1" } });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("abort"), dir));
  const ac = new AbortController();
  const aborted = app.ensureReady(ac.signal).catch((e) => e);
  const other = app.ensureReady();
  ac.abort(new Error("client went away"));
  expect(((await aborted) as Error).message).toBe("client went away");
  expect(await other).toMatch(/^http:\/\/127\.0\.0\.1:/);
}, 60_000);

test("an image another app's container runs stays at the app's removal with that container (Podman's forced removal would take it), reported as kept", async () => {
  const { manager: m, events } = manager();
  await m.start();
  const dir = busyboxApp({ index: "kept\n" });
  dirs.push(dir);
  const app = await m.add(buildSpec(appId("kept"), dir));
  await app.ensureReady();
  const [image] = await engine.listImages([`${LABEL_APP}=${app.spec.appId}`]);
  expect(image).toBeDefined();
  // A container of another app running this app's image: no engine removes an image a running container uses.
  const other = await engine.createContainer({
    name: `clace-lite-test-kept-${process.pid}`,
    image: image!.id,
    env: {},
    labels: { ...labels, [LABEL_APP]: appId("kept-other") },
    port: 8080,
    binds: [],
    ulimits: DEFAULT_ULIMITS,
  });
  await engine.startContainer(other);
  await m.remove(app.spec.appId);
  const kept = events.filter((e) => e.type === "kept");
  expect(kept).toHaveLength(1);
  expect(kept[0]).toMatchObject({ appId: app.spec.appId, what: "image" });
  expect(events.some((e) => e.type === "removed" && e.what === "image")).toBe(false);
  expect((kept[0] as { reason: string }).reason).toContain(`clace-lite-test-kept-${process.pid}`);
  expect((await engine.listImages([`${LABEL_APP}=${app.spec.appId}`])).map((i) => i.id)).toEqual([image!.id]);
  // The other app's container was left alone (a forced image removal on Podman would have taken it).
  expect((await engine.inspectContainer(other))?.running).toBe(true);
  await engine.removeContainer(other);
  await engine.removeImage(image!.id, true);
}, 60_000);
