/**
 * The engine-event policy on its own: what a pause, unpause, kill, die, oom or destroy event about an app's
 * container means, in the shapes Docker and Podman send them (Docker's kill names its signal; Podman's names none,
 * and a Podman stop sends no kill at all, only a die with status 0 or 143).
 */
import { describe, expect, test } from "bun:test";
import { interpretEngineEvent, KILL_THEN_DIE_MS, type EventContext } from "../../src/containers/engine-events.ts";
import type { EngineEvent } from "../../src/containers/index.ts";

const ID = "c0ffee";
const NOW = 1_000_000;

function ctx(over: Partial<EventContext> = {}): EventContext {
  return { state: "ready", containerId: ID, pauseOrWakeInFlight: false, killedAt: 0, engine: "docker", now: NOW, ...over };
}

function event(action: string, over: Partial<EngineEvent> = {}): EngineEvent {
  return { action, id: ID, name: "app", labels: {}, time: NOW, ...over };
}

describe("events about other containers", () => {
  test("an event about a container the app does not run now is ignored", () => {
    for (const action of ["pause", "unpause", "kill", "die", "oom", "destroy"]) {
      expect(interpretEngineEvent(ctx(), event(action, { id: "other" }))).toEqual({ kind: "ignore" });
    }
    expect(interpretEngineEvent(ctx({ containerId: undefined }), event("die", { exitCode: 1 }))).toEqual({ kind: "ignore" });
  });

  test("actions that say nothing about the app's life are ignored", () => {
    for (const action of ["start", "create", "attach", "exec_create", "health_status"]) {
      expect(interpretEngineEvent(ctx(), event(action))).toEqual({ kind: "ignore" });
    }
  });
});

describe("following another server's pause and wake", () => {
  test("a pause of a ready app is followed; of an app in any other state it is not", () => {
    expect(interpretEngineEvent(ctx(), event("pause"))).toEqual({ kind: "paused-elsewhere" });
    for (const state of ["paused", "starting", "stopping", "stopped"] as const) {
      expect(interpretEngineEvent(ctx({ state }), event("pause"))).toEqual({ kind: "ignore" });
    }
  });

  test("an unpause wakes a paused app, unless it is this server's own pause or wake in flight", () => {
    expect(interpretEngineEvent(ctx({ state: "paused" }), event("unpause"))).toEqual({ kind: "woken-elsewhere" });
    expect(interpretEngineEvent(ctx({ state: "paused", pauseOrWakeInFlight: true }), event("unpause"))).toEqual({ kind: "ignore" });
    expect(interpretEngineEvent(ctx({ state: "ready" }), event("unpause"))).toEqual({ kind: "ignore" });
  });
});

describe("Docker: a stop is a kill with SIGTERM (or the image's stop signal), then a die", () => {
  test("a kill naming a stop signal is remembered while the app serves; SIGKILL is not", () => {
    expect(interpretEngineEvent(ctx(), event("kill", { labels: { signal: "15" } }))).toEqual({ kind: "kill-seen" });
    expect(interpretEngineEvent(ctx({ state: "paused" }), event("kill", { labels: { signal: "3" } }))).toEqual({ kind: "kill-seen" });
    expect(interpretEngineEvent(ctx(), event("kill", { labels: { signal: "9" } }))).toEqual({ kind: "ignore" });
    expect(interpretEngineEvent(ctx({ state: "starting" }), event("kill", { labels: { signal: "15" } }))).toEqual({ kind: "ignore" });
  });

  test("a die soon after such a kill is a stop made elsewhere; later, or without one, it is a crash", () => {
    const killedAt = NOW - 1000;
    expect(interpretEngineEvent(ctx({ killedAt }), event("die", { exitCode: 143 }))).toEqual({ kind: "stopped-elsewhere" });
    expect(interpretEngineEvent(ctx({ killedAt: NOW - KILL_THEN_DIE_MS }), event("die", { exitCode: 143 }))).toEqual({ kind: "crashed", exitCode: 143 });
    expect(interpretEngineEvent(ctx(), event("die", { exitCode: 0 }))).toEqual({ kind: "crashed", exitCode: 0 });
    expect(interpretEngineEvent(ctx({ state: "paused" }), event("die", { exitCode: 137 }))).toEqual({ kind: "crashed", exitCode: 137 });
  });
});

describe("Podman: kills name no signal, and a stop sends only a die with status 0 or 143", () => {
  const podman = (over: Partial<EventContext> = {}) => ctx({ engine: "podman", ...over });

  test("a kill without a signal is not taken for a stop", () => {
    expect(interpretEngineEvent(podman(), event("kill"))).toEqual({ kind: "ignore" });
  });

  test("a die with the status of a graceful stop is a stop; any other status is a crash", () => {
    expect(interpretEngineEvent(podman(), event("die", { exitCode: 0 }))).toEqual({ kind: "stopped-elsewhere" });
    expect(interpretEngineEvent(podman({ state: "paused" }), event("die", { exitCode: 143 }))).toEqual({ kind: "stopped-elsewhere" });
    expect(interpretEngineEvent(podman(), event("die", { exitCode: 137 }))).toEqual({ kind: "crashed", exitCode: 137 });
    expect(interpretEngineEvent(podman(), event("die", { exitCode: 1 }))).toEqual({ kind: "crashed", exitCode: 1 });
  });
});

describe("crashes and removals", () => {
  test("a die or an oom while starting wakes the readiness wait; while serving it is a crash; otherwise nothing", () => {
    expect(interpretEngineEvent(ctx({ state: "starting" }), event("die", { exitCode: 1 }))).toEqual({ kind: "died-starting" });
    expect(interpretEngineEvent(ctx({ state: "starting" }), event("oom"))).toEqual({ kind: "died-starting" });
    expect(interpretEngineEvent(ctx(), event("oom"))).toEqual({ kind: "crashed" });
    for (const state of ["stopped", "stopping", "failed", "building"] as const) {
      expect(interpretEngineEvent(ctx({ state }), event("die", { exitCode: 1 }))).toEqual({ kind: "ignore" });
    }
  });

  test("a removal is a crash while serving; the container is forgotten unless a start is choosing one", () => {
    expect(interpretEngineEvent(ctx(), event("destroy"))).toEqual({ kind: "destroyed", crashed: true, forget: true });
    expect(interpretEngineEvent(ctx({ state: "stopped" }), event("destroy"))).toEqual({ kind: "destroyed", crashed: false, forget: true });
    expect(interpretEngineEvent(ctx({ state: "starting" }), event("destroy"))).toEqual({ kind: "destroyed", crashed: false, forget: false });
  });
});
