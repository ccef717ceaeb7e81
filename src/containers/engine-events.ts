/**
 * The engine-event policy: what an event about an app's container means for the app. Other servers share the
 * engine, so a pause, an unpause or a stop made by one of them (or by hand) reaches this server only as events;
 * it follows them, so that a request here wakes a paused app rather than waiting on a frozen one, and a stop made
 * elsewhere is not taken for a crash. A pure function of the app's state, the event and the last kill seen, so the
 * lifecycle core only acts on its answer.
 *
 * Docker and Podman report a stop differently. Docker names a kill's signal: a stop sends SIGTERM (or the image's
 * stop signal) first and then SIGKILL, while `docker kill` sends SIGKILL at once, as a crash would look. Podman's
 * kill events name no signal, and its stop emits no kill event at all, only a die: there a die with the status of
 * a graceful stop (0, or 143 after SIGTERM) is taken for a stop.
 */
import type { EngineEvent, EngineKind } from "./engine.ts";
import type { AppState } from "./lifecycle.ts";

/** A die this soon after a kill signal that this server did not send is a stop asked for elsewhere, not a crash. */
export const KILL_THEN_DIE_MS = 15_000;

/** What the lifecycle knows when an event arrives. */
export interface EventContext {
  state: AppState;
  /** The container the app runs now (events about any other one are stale). */
  containerId: string | undefined;
  /** A pause or a wake of this server's own is in flight: its own events are not another server's. */
  pauseOrWakeInFlight: boolean;
  /** When a stop signal from elsewhere was last seen for the container (epoch ms; 0: none since it became ready). */
  killedAt: number;
  engine: EngineKind;
  now: number;
}

export type EventAction =
  /** Not about the app's container, or nothing to follow. */
  | { kind: "ignore" }
  /** Another server paused the container: the app is paused here too. */
  | { kind: "paused-elsewhere" }
  /** Another server woke the container: the app is ready here again. */
  | { kind: "woken-elsewhere" }
  /** A stop signal sent by someone else: remember when, so that the die after it is read as a stop. */
  | { kind: "kill-seen" }
  /** Stopped by another server or by hand: stopped here, no crash counted. */
  | { kind: "stopped-elsewhere" }
  /** Died while starting: the readiness wait checks the container at once (the die may be a late one). */
  | { kind: "died-starting" }
  /** Died or was killed by the kernel while serving: a crash. */
  | { kind: "crashed"; exitCode?: number }
  /** Removed: a crash when it was serving; the app forgets the container unless a start is choosing a new one. */
  | { kind: "destroyed"; crashed: boolean; forget: boolean };

const IGNORE: EventAction = { kind: "ignore" };

/** A signal that asks a process to stop (SIGKILL is what a crash, an OOM kill or `docker kill` sends). */
function isStopSignal(e: EngineEvent): boolean {
  const signal = e.labels.signal; // Podman names none: its stops are read from the die's status
  return signal !== undefined && signal !== "9" && signal !== "KILL" && signal !== "SIGKILL";
}

/** The exit statuses of a graceful stop: the app exited on SIGTERM (143) or by itself with 0. */
function gracefulExit(exitCode: number | undefined): boolean {
  return exitCode === 0 || exitCode === 143;
}

/** What an engine event about an app's container means for the app. */
export function interpretEngineEvent(ctx: EventContext, e: EngineEvent): EventAction {
  if (e.id !== ctx.containerId) return IGNORE;
  const serving = ctx.state === "ready" || ctx.state === "paused";
  switch (e.action) {
    case "pause":
      return ctx.state === "ready" ? { kind: "paused-elsewhere" } : IGNORE;
    case "unpause":
      return ctx.state === "paused" && !ctx.pauseOrWakeInFlight ? { kind: "woken-elsewhere" } : IGNORE;
    case "kill":
      return serving && isStopSignal(e) ? { kind: "kill-seen" } : IGNORE;
    case "die": {
      const afterStopSignal = ctx.now - ctx.killedAt < KILL_THEN_DIE_MS;
      const podmanStop = ctx.engine === "podman" && gracefulExit(e.exitCode);
      if (serving && (afterStopSignal || podmanStop)) return { kind: "stopped-elsewhere" };
      return dieOrOom(ctx.state, e.exitCode);
    }
    case "oom":
      return dieOrOom(ctx.state, e.exitCode);
    case "destroy":
      return { kind: "destroyed", crashed: serving, forget: ctx.state !== "starting" };
    default:
      return IGNORE;
  }
}

function dieOrOom(state: AppState, exitCode: number | undefined): EventAction {
  if (state === "starting") return { kind: "died-starting" };
  if (state === "ready" || state === "paused") return exitCode === undefined ? { kind: "crashed" } : { kind: "crashed", exitCode };
  return IGNORE;
}
