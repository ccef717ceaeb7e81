/**
 * Two managers sharing one engine and one owner label, as servers on one registry do: the second adopts the
 * container the first started instead of starting another, and follows what the first does to it (a pause, a
 * wake, a stop) without taking a stop for a crash; a SIGKILL is still a crash.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { AppContainers, type ContainerEvent, type DockerEngine } from "../../src/containers/index.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager, until } from "./helpers.ts";

const labels = suiteLabels("shared-engine");
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

function pair() {
  const first = recordingManager(engine, labels);
  const second = recordingManager(engine, labels);
  managers.push(first.manager, second.manager);
  return [first, second] as const;
}

test("the second server adopts the running container and follows a pause, a wake and a stop made by the first", async () => {
  const [one, two] = pair();
  await Promise.all([one.manager.start(), two.manager.start()]);
  const dir = busyboxApp({ index: "shared\n" });
  dirs.push(dir);
  const spec = buildSpec(appId("shared"), dir, { settings: { idlePauseSecs: 0, idleShutdownSecs: 0 } });
  const a = await one.manager.add(spec);
  const b = await two.manager.add(spec);
  const url = await a.ensureReady();
  expect(await b.ensureReady()).toBe(url);
  expect(two.events.some((e) => e.type === "ready" && e.adopted)).toBe(true);

  // Paused elsewhere: the second follows, and a request through it wakes the container.
  await engine.pauseContainer(a.currentContainerId!);
  await until(() => b.state === "paused", 5000, "the second manager seeing the pause");
  expect(await b.ensureReady()).toBe(url);
  expect(b.state).toBe("ready");
  expect((await getText(url + "/")).body).toBe("shared\n");
  await until(() => a.state === "ready", 5000, "the first manager seeing the wake");

  // Stopped by the first: the second is stopped too, with no crash recorded; its next request starts it again.
  await a.stop("idle");
  await until(() => b.state === "stopped", 5000, "the second manager seeing the stop");
  expect(two.events.some((e) => e.type === "crash")).toBe(false);
  const again = await b.ensureReady();
  expect((await getText(again + "/")).body).toBe("shared\n");

  // A SIGKILL is a crash, whoever sent it.
  await engine.killContainer(b.currentContainerId!);
  await until(() => two.events.some((e) => e.type === "crash"), 5000, "the crash event");
}, 90_000);

test("an app another server still serves is not idled here; once no one has requests it is", async () => {
  const events: ContainerEvent[] = [];
  // When another server last had a request, as the shared registry would answer.
  let peerLastRequest = 0;
  const dir = busyboxApp({ index: "busy elsewhere\n" });
  dirs.push(dir);
  const spec = buildSpec(appId("peer-busy"), dir, { settings: { idlePauseSecs: 0, idleShutdownSecs: 1 } });
  const peered = new AppContainers(engine, {
    extraLabels: labels,
    onEvent: (e) => events.push(e),
    peerActivity: async () => peerLastRequest,
  });
  managers.push(peered);
  const app = await peered.add(spec);
  await app.ensureReady();
  const busyUntil = Date.now() + 3000;
  while (Date.now() < busyUntil) {
    peerLastRequest = Date.now();
    await Bun.sleep(200);
  }
  expect(app.state).toBe("ready");
  expect(events.some((e) => e.type === "idle-stop")).toBe(false);
  await until(() => app.state === "stopped", 6000, "the idle stop once the other server went quiet");
  expect(events.some((e) => e.type === "idle-stop")).toBe(true);
}, 60_000);
