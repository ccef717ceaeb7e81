/**
 * The idle policy: what to do with an app's container after it has been idle for a while. Two tiers: first the
 * container is paused (`container.idle_pause_secs`: it keeps its memory but uses no CPU, and wakes in tens of
 * milliseconds without a readiness wait), later it is stopped (`container.idle_shutdown_secs`, Clace's key: a
 * cold start then). A pure function of the settings and the idle time, so the lifecycle only acts on its answer;
 * pausing and waking the container are the pause tier's (pause.ts).
 */
import type { ContainerSettings } from "./spec.ts";

export type IdleAction =
  /** Nothing yet: look again after `ms`. */
  | { kind: "wait"; ms: number }
  | { kind: "pause" }
  | { kind: "stop" }
  /** No idle tier applies (both off, or paused with stopping off). */
  | { kind: "never" };

/**
 * `idleForMs`: time since the last request or stream ended (0 while one is open). `paused`: the container is paused
 * already. `canPause`: the engine can pause containers.
 */
export function idleAction(settings: Pick<ContainerSettings, "idlePauseSecs" | "idleShutdownSecs">, idleForMs: number, paused: boolean, canPause: boolean): IdleAction {
  const stopMs = settings.idleShutdownSecs > 0 ? settings.idleShutdownSecs * 1000 : 0;
  // Pausing applies only when it comes before the stop (or there is no stop).
  const pauseMs = canPause && !paused && settings.idlePauseSecs > 0 && (stopMs === 0 || settings.idlePauseSecs * 1000 < stopMs) ? settings.idlePauseSecs * 1000 : 0;
  if (stopMs > 0 && idleForMs >= stopMs) return { kind: "stop" };
  if (pauseMs > 0 && idleForMs >= pauseMs) return { kind: "pause" };
  const next = Math.min(pauseMs > 0 ? pauseMs - idleForMs : Infinity, stopMs > 0 ? stopMs - idleForMs : Infinity);
  return next === Infinity ? { kind: "never" } : { kind: "wait", ms: next };
}
