/**
 * The pause tier's mechanics, beside the idle policy (idle.ts) that says when to pause: freezing an idle container,
 * waking it for a request, thawing it before a stop, and thawing one found paused before it is adopted. A paused
 * container keeps its memory and its published port, so a wake is an unpause and no readiness wait. One pause and
 * one wake at a time per app, which every request arriving meanwhile shares; the state transitions stay the core's
 * (lifecycle.ts), asked for through `PauseSubject`.
 */
import type { ContainerEngine, ContainerInfo } from "./engine.ts";
import type { AppState, ManagerContext } from "./lifecycle.ts";
import { StartError } from "./start-error.ts";

/** What the pause tier reads of one app and the transitions it asks the lifecycle core for. */
export interface PauseSubject {
  readonly appId: string;
  readonly appName: string;
  readonly state: AppState;
  readonly containerId: string | undefined;
  readonly url: string | undefined;
  setState(state: AppState, reason: string): void;
  /** The container answers again: ready, with the idle clock started afresh. */
  resumed(reason: string): void;
  /** The container could not be unpaused: stopped, and the failure counts toward the crash backoff. */
  unpauseFailed(reason: string, failure: StartError): void;
  /** A cold start: what a wake falls back to when there is nothing (left) to unpause. */
  coldStart(): Promise<string>;
  logTail(id: string): Promise<string>;
}

export class PauseTier {
  /** A pause in progress, and the one wake of a paused container that requests share. */
  private pausing: Promise<void> | undefined;
  private waking: Promise<string> | undefined;

  constructor(
    private readonly app: PauseSubject,
    private readonly shared: Pick<ManagerContext, "engine" | "emit" | "pauseUnavailable">,
  ) {}

  /** A pause or a wake of this server's own is in flight (its engine events are not another server's). */
  get inFlight(): boolean {
    return this.pausing !== undefined || this.waking !== undefined;
  }

  /** A request is waking the app: it is not idle. */
  get isWaking(): boolean {
    return this.waking !== undefined;
  }

  /**
   * Pause an idle container. The state turns "paused" before the engine call, so that a request arriving meanwhile
   * takes the wake path (which waits for the pause) instead of being sent to a container being frozen. An engine
   * that cannot pause (no freezer, rootless) turns pausing off for every app of the manager, said once.
   */
  async pause(idleFor: number): Promise<void> {
    const id = this.app.containerId;
    if (id === undefined) return;
    const idleSecs = Math.round(idleFor / 1000);
    this.app.setState("paused", `idle for ${idleSecs}s`);
    const p = this.shared.engine.pauseContainer(id);
    this.pausing = p.catch(() => {});
    try {
      await p;
      this.shared.emit({ type: "idle-pause", appId: this.app.appId, idleSecs });
    } catch (err) {
      if (!this.shared.pauseUnavailable) {
        this.shared.pauseUnavailable = true;
        this.shared.emit({ type: "pause-unavailable", appId: this.app.appId, reason: (err as Error).message });
      }
      if (this.app.state === "paused") this.app.setState("ready", "the container could not be paused");
    } finally {
      this.pausing = undefined;
    }
  }

  /**
   * Wake a paused container for a request: unpause it, and it answers at once (it never stopped, so there is no
   * readiness wait). One wake however many requests arrive; a wake that fails falls back to a cold start.
   */
  wake(): Promise<string> {
    this.waking ??= (async () => {
      try {
        if (this.pausing) await this.pausing;
        const { containerId: id, url } = this.app;
        if (this.app.state !== "paused" || id === undefined || url === undefined) return await this.app.coldStart();
        const started = performance.now();
        try {
          await this.shared.engine.unpauseContainer(id);
        } catch (err) {
          const logs = await this.app.logTail(id);
          this.app.unpauseFailed(`could not unpause: ${(err as Error).message}`, new StartError("start-failed", `app ${this.app.appName}: unpausing failed`, logs));
          return await this.app.coldStart();
        }
        this.app.resumed("woken by a request");
        this.shared.emit({ type: "wake", appId: this.app.appId, wakeMs: performance.now() - started });
        return url;
      } finally {
        this.waking = undefined;
      }
    })();
    return this.waking;
  }

  /** Before a stop: thawed first, since Podman does not stop a frozen container and the app's SIGTERM must reach it. */
  async thaw(id: string): Promise<void> {
    await this.pausing;
    await this.shared.engine.unpauseContainer(id).catch(() => {});
  }
}

/**
 * A container found paused (left so by a server that stopped, or paused by another one sharing the engine) is
 * thawed before it is adopted. True when it was paused.
 */
export async function thawIfPaused(engine: Pick<ContainerEngine, "unpauseContainer">, info: ContainerInfo | null | undefined): Promise<boolean> {
  if (info?.status !== "paused") return false;
  await engine.unpauseContainer(info.id).catch(() => {});
  return true;
}
