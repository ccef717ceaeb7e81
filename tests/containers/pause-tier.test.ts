/**
 * The pause tier's mechanics on their own (pause.ts), against the real engine: a pause freezes the container and
 * asks for the "paused" state first; many requests share one wake; a stop thaws first; an unpause that fails is
 * reported as a failure and falls back to a cold start. The app's state is a plain record here, not the lifecycle.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { AppContainers, DockerEngine, StartError, type AppState, type ContainerEvent } from "../../src/containers/index.ts";
import { PauseTier, thawIfPaused, type PauseSubject } from "../../src/containers/pause.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { appId, buildSpec, getText } from "./helpers.ts";

const labels = suiteLabels("pause-tier");
let engine: DockerEngine;
let manager: AppContainers;
let dir: string;

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  manager = new AppContainers(engine, { extraLabels: labels, stopTimeoutSecs: 1 });
  await manager.start();
  dir = busyboxApp({ index: "frozen and thawed\n" });
});

afterAll(async () => {
  manager.close();
  await sweep(engine, labels);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** A running container of the app's image (started by the manager, which leaves it alone: no idle tiers, no checks). */
async function runningContainer(name: string): Promise<{ id: string; url: string }> {
  const app = await manager.add(buildSpec(appId(name), dir, { settings: { idlePauseSecs: 0, idleShutdownSecs: 0, statusCheckIntervalSecs: 0 } }));
  const url = await app.ensureReady();
  return { id: app.currentContainerId!, url };
}

interface Recorded {
  subject: PauseSubject & { state: AppState };
  transitions: string[];
  failures: StartError[];
  coldStarts: number;
}

function recordingSubject(id: string, url: string): Recorded {
  const r: Recorded = {
    transitions: [],
    failures: [],
    coldStarts: 0,
    subject: {
      appId: "tier",
      appName: "tier",
      state: "ready",
      containerId: id,
      url,
      setState(state, reason) {
        r.subject.state = state;
        r.transitions.push(`${state}: ${reason}`);
      },
      resumed(reason) {
        r.subject.state = "ready";
        r.transitions.push(`resumed: ${reason}`);
      },
      unpauseFailed(reason, failure) {
        r.subject.state = "stopped";
        r.transitions.push(`stopped: ${reason}`);
        r.failures.push(failure);
      },
      async coldStart() {
        r.coldStarts++;
        return "http://192.0.2.1:1";
      },
      logTail: (cid) => engine.logs(cid, 5).catch(() => ""),
    },
  };
  return r;
}

function sharedWith(events: ContainerEvent[]) {
  return { engine, emit: (e: ContainerEvent) => void events.push(e), pauseUnavailable: false };
}

test("a pause freezes the container, saying so before the engine call; many requests share one wake", async () => {
  const { id, url } = await runningContainer("share");
  const r = recordingSubject(id, url);
  const events: ContainerEvent[] = [];
  const tier = new PauseTier(r.subject, sharedWith(events));

  const pausing = tier.pause(2_400);
  expect(r.subject.state).toBe("paused"); // before the engine answered: requests now take the wake path
  expect(tier.inFlight).toBe(true);
  await pausing;
  expect(tier.inFlight).toBe(false);
  expect((await engine.inspectContainer(id))?.status).toBe("paused");
  expect(events).toEqual([{ type: "idle-pause", appId: "tier", idleSecs: 2 }]);

  const urls = await Promise.all([tier.wake(), tier.wake(), tier.wake()]);
  expect(urls).toEqual([url, url, url]);
  expect(r.transitions).toEqual(["paused: idle for 2s", "resumed: woken by a request"]);
  expect(events.filter((e) => e.type === "wake").length).toBe(1);
  expect((await engine.inspectContainer(id))?.status).toBe("running");
  expect((await getText(url + "/")).body).toBe("frozen and thawed\n");
  expect(r.coldStarts).toBe(0);
}, 60_000);

test("a stop thaws first; a container found paused is thawed before adoption", async () => {
  const { id, url } = await runningContainer("thaw");
  const r = recordingSubject(id, url);
  const tier = new PauseTier(r.subject, sharedWith([]));
  await tier.pause(1_000);
  await tier.thaw(id);
  expect((await engine.inspectContainer(id))?.status).toBe("running");

  await engine.pauseContainer(id);
  expect(await thawIfPaused(engine, await engine.inspectContainer(id))).toBe(true);
  expect((await engine.inspectContainer(id))?.status).toBe("running");
  expect(await thawIfPaused(engine, await engine.inspectContainer(id))).toBe(false);
}, 60_000);

test("an unpause the engine refuses is a failure for the backoff, and the request gets a cold start", async () => {
  const { id, url } = await runningContainer("refused");
  const r = recordingSubject(id, url);
  r.subject.state = "paused"; // the app thinks so, but the container runs: the engine refuses to unpause it
  const tier = new PauseTier(r.subject, sharedWith([]));
  expect(await tier.wake()).toBe("http://192.0.2.1:1");
  expect(r.coldStarts).toBe(1);
  expect(r.transitions.length).toBe(1);
  expect(r.transitions[0]).toStartWith("stopped: could not unpause: ");
  expect(r.failures[0]?.kind).toBe("start-failed");
  expect(r.failures[0]?.message).toBe("app tier: unpausing failed");
}, 60_000);

test("an engine that cannot pause: pausing turns off for the manager, said once, and the app stays ready", async () => {
  const { id, url } = await runningContainer("nofreeze");
  const refusing = { ...sharedWith([]), engine: Object.assign(Object.create(engine) as DockerEngine, { pauseContainer: () => Promise.reject(new Error("no freezer here")) }) };
  const events: ContainerEvent[] = [];
  refusing.emit = (e) => void events.push(e);
  const first = recordingSubject(id, url);
  const second = recordingSubject(id, url);
  await new PauseTier(first.subject, refusing).pause(1_000);
  await new PauseTier(second.subject, refusing).pause(1_000);
  expect(refusing.pauseUnavailable).toBe(true);
  expect(events).toEqual([{ type: "pause-unavailable", appId: "tier", reason: "no freezer here" }]);
  expect(first.subject.state).toBe("ready");
  expect(first.transitions).toEqual(["paused: idle for 1s", "ready: the container could not be paused"]);
  expect((await engine.inspectContainer(id))?.status).toBe("running");
}, 60_000);
