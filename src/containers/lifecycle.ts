/**
 * The lifecycle core: one state machine per app makes its container exist exactly when needed.
 *
 * States: stopped → building → starting → ready → (paused →) stopping → stopped, and failed. The core owns the
 * state and single flight: every caller that arrives while the app is not ready joins the one start in progress,
 * with its own deadline and abort signal; the start itself runs on to completion whoever leaves. The policies live
 * in their own modules and the core only acts on their answers: provisioning (provision.ts), readiness and status
 * checks (readiness.ts), when to pause or stop an idle app (idle.ts) and the pause tier's mechanics (pause.ts),
 * what engine events from other servers mean (engine-events.ts), crash backoff (backoff.ts), cleanup (cleanup.ts);
 * replacing a running version is the manager's (replacement.ts, manager.ts). Only the ContainerEngine interface is
 * used, never an engine's client.
 */
import { CrashBackoff } from "./backoff.ts";
import { removeAppContainersNow, removeAppResources, type KeepVersion } from "./cleanup.ts";
import { EngineError, type ContainerEngine, type EngineEvent, type PullProgress, type Ulimit } from "./engine.ts";
import { interpretEngineEvent } from "./engine-events.ts";
import { idleAction, type IdleAction } from "./idle.ts";
import { collectContext } from "./context.ts";
import { containerName, imageHash, imageName, specHash } from "./naming.ts";
import { PauseTier, thawIfPaused, type PauseSubject } from "./pause.ts";
import { createAppContainer, ensureImage, publishedAddress, type Provision } from "./provision.ts";
import { checkStatus, probeOnce, waitUntilHealthy } from "./readiness.ts";
import { StartError } from "./start-error.ts";
import type { ContainerSpec } from "./spec.ts";

export type AppState = "stopped" | "building" | "starting" | "ready" | "paused" | "stopping" | "failed";

/** What the manager reports as it works, for the CLI to print and tests to observe. Never printed here. */
export type ContainerEvent =
  /** `candidate`: the state of a new version being prepared beside the one that serves (a reload, a dev rebuild). */
  | { type: "state"; appId: string; appName: string; state: AppState; previous: AppState; reason?: string; candidate?: true }
  | { type: "build-line"; appId: string; line: string }
  | { type: "pull-progress"; appId: string; progress: PullProgress }
  /** `url` is the container's published address (127.0.0.1:<host port>), not the app's URL through the proxy. */
  | { type: "ready"; appId: string; appName: string; url: string; coldStartMs: number; adopted: boolean }
  | { type: "idle-stop"; appId: string; idleSecs: number }
  /** The container was paused (idle) or woken from a pause by a request (`wakeMs`: the unpause took this long). */
  | { type: "idle-pause"; appId: string; idleSecs: number }
  | { type: "wake"; appId: string; wakeMs: number }
  /** Said once per manager: the engine cannot pause containers, so idle apps are stopped instead. */
  | { type: "pause-unavailable"; appId: string; reason: string }
  | { type: "crash"; appId: string; exitCode?: number; logTail: string }
  | { type: "crash-loop"; appId: string; retryInMs: number; failures: number }
  | { type: "removed"; appId: string; what: "container" | "image" | "volume"; name: string }
  /** An image that was to be removed stays: the engine kept refusing (`reason`, its last answer). */
  | { type: "kept"; appId: string; what: "image"; name: string; reason: string };

/**
 * Wraps each cold start (image, container, readiness) of an app. Servers sharing one registry make it exclusive
 * across them, so that the second one to start an app waits and then adopts the container the first one started.
 */
export type StartGuard = (appId: string, start: () => Promise<string>) => Promise<string>;

/** What every app of one manager shares. */
export interface ManagerContext {
  engine: ContainerEngine;
  emit: (e: ContainerEvent) => void;
  /** The manager's labels (owner), on everything it creates and the scope of what it cleans. */
  labels: Readonly<Record<string, string>>;
  runDir: string;
  stopTimeoutSecs: number;
  logTailLines: number;
  ulimits: readonly Ulimit[];
  startGuard: StartGuard;
  /** When another server sharing the containers last had a request for the app (epoch ms; 0: none). */
  peerActivity: ((appId: string) => Promise<number>) | undefined;
  /** Set once the engine refused to pause a container (no freezer, rootless): pausing is off from then on. */
  pauseUnavailable: boolean;
}

/** The container and image hashes of one version of an app. */
export type VersionHashes = KeepVersion;

/** The hashes naming a spec's container and image (reads the build context). */
export function versionHashes(spec: ContainerSpec): VersionHashes {
  const source = spec.image.kind === "build" ? collectContext(spec.image.contextDirs, spec.image.containerFile).hash : spec.image.ref;
  return { hash: specHash(spec, source), imgHash: imageHash(spec, source) };
}

/** One app's container as the server and the proxy see it: made ready on demand, stopped when idle. */
export interface AppContainer {
  readonly spec: ContainerSpec;
  readonly state: AppState;
  /** Names the container (source, env, volumes, options, port). */
  readonly hash: string;
  /** Names the built image (source, container file, build args). */
  readonly imageHash: string;
  /** The upstream URL while ready. */
  readonly upstreamUrl: string | undefined;
  readonly currentContainerId: string | undefined;
  /** The image the container runs: the built one's name, or the image reference. */
  readonly imageRef: string;
  readonly activity: { inflight: number; streams: number; waiters: number };
  /** A new version prepared beside the serving one; it becomes the app's container once it takes over. */
  readonly candidate: boolean;
  /** The last `lines` lines of the current container's log ("" without one). */
  recentLogs(lines: number): Promise<string>;
  /** The hashes `spec` (default: the current one) would have (reads the build context). */
  computeHashes(spec?: ContainerSpec): Promise<VersionHashes>;
  /** The upstream URL when ready, so the proxy's warm path needs no promise per request. */
  readyUrl(): string | undefined;
  /** The upstream URL once ready: one start however many callers; each with its own deadline and signal. */
  ensureReady(signal?: AbortSignal): Promise<string>;
  beginRequest(): void;
  endRequest(): void;
  openStream(): void;
  closeStream(): void;
  /** Gives up the start in progress; returns its failure (with the container's last log lines), if one ran. */
  cancelStart(reason: string): Promise<StartError | undefined>;
  /** Builds or pulls the image without starting a container. */
  prepareImage(): Promise<{ built: boolean }>;
  /** Stops the container (kept for a fast restart). */
  stop(reason?: string): Promise<void>;
  /** Image apps: pull again; true when the tag now names another image (the next start recreates the container). */
  refresh(): Promise<boolean>;
  /** The process is exiting: a start in progress is cut short and the app's containers removed at once. */
  abandon(): Promise<void>;
}

/** Turn anything thrown while starting into a StartError with its kind. */
export function toStartError(err: unknown, appName: string): StartError {
  if (err instanceof StartError) return err;
  if (err instanceof EngineError) {
    const failure = err.kind === "bad-option" || err.kind === "config-error" ? "config-error" : "start-failed";
    const fix = err.fix ? ` (${err.fix})` : "";
    return new StartError(failure, `app ${appName}: ${err.message}${fix}`, err.logTail);
  }
  return new StartError("start-failed", `app ${appName}: ${(err as Error)?.message ?? String(err)}`);
}

/** The state machine of one app's container. The manager (manager.ts) creates, feeds and retires these. */
export class ContainerLifecycle implements AppContainer {
  private _spec: ContainerSpec;
  private _hash: string;
  private imgHash: string;
  private _state: AppState = "stopped";
  private containerId: string | undefined;
  private url: string | undefined;
  private startPromise: Promise<string> | undefined;
  private stopPromise: Promise<void> | undefined;
  private waiters = 0;
  private inflight = 0;
  private streams = 0;
  private lastActivity = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Made on the first pause: most apps of a server are stopped, and those carry nothing for it. */
  private pauseTierOnce: PauseTier | undefined;
  private statusTimer: ReturnType<typeof setInterval> | undefined;
  private statusFailures = 0;
  private readyAt = 0;
  /**
   * Set by a die event while starting. The event may be a late one from the previous stop of the same container,
   * so it only makes the readiness wait check the container at once; the check decides.
   */
  private dieSignal = false;
  /** When the engine last reported a stop signal sent to the container by someone other than this manager. */
  private killedAt = 0;
  private wakeProbe: (() => void) | undefined;
  private readonly backoff = new CrashBackoff();
  private removed = false;
  /** The process is exiting (abandon): a start in progress is cut short rather than waited for. */
  private abandoned = false;
  private abandoning: Promise<void> | undefined;
  /** Why the start in progress was cancelled (a caller's overall deadline passed), checked by the readiness wait. */
  private cancelReason: string | undefined;
  /** Aborts the build or pull of the start in progress when it is cancelled. */
  private startAbort = new AbortController();
  candidate = false;

  constructor(
    spec: ContainerSpec,
    hashes: VersionHashes,
    private readonly shared: ManagerContext,
  ) {
    this._spec = spec;
    this._hash = hashes.hash;
    this.imgHash = hashes.imgHash;
  }

  private get pauseTier(): PauseTier {
    return (this.pauseTierOnce ??= new PauseTier(this.pauseSubject(), this.shared));
  }

  /** The pause tier's view of this app, and the transitions it may ask for. */
  private pauseSubject(): PauseSubject {
    const core = this;
    return {
      get appId() {
        return core._spec.appId;
      },
      get appName() {
        return core._spec.appName;
      },
      get state() {
        return core._state;
      },
      get containerId() {
        return core.containerId;
      },
      get url() {
        return core.url;
      },
      setState: (state, reason) => this.setState(state, reason),
      resumed: (reason) => this.resumed(reason),
      unpauseFailed: (reason, failure) => {
        this.url = undefined;
        this.setState("stopped", reason);
        this.backoff.record(failure);
      },
      coldStart: () => this.ensureReady(),
      logTail: (id) => this.logTail(id),
    };
  }

  get spec(): ContainerSpec {
    return this._spec;
  }
  get state(): AppState {
    return this._state;
  }
  get hash(): string {
    return this._hash;
  }
  get imageHash(): string {
    return this.imgHash;
  }
  get upstreamUrl(): string | undefined {
    return this.url;
  }
  get currentContainerId(): string | undefined {
    return this.containerId;
  }
  get imageRef(): string {
    return this._spec.image.kind === "build" ? imageName(this._spec.appId, this.imgHash) : this._spec.image.ref;
  }
  async recentLogs(lines: number): Promise<string> {
    return this.containerId === undefined ? "" : this.shared.engine.logs(this.containerId, lines).catch(() => "");
  }
  get activity(): { inflight: number; streams: number; waiters: number } {
    return { inflight: this.inflight, streams: this.streams, waiters: this.waiters };
  }

  async computeHashes(spec: ContainerSpec = this._spec): Promise<VersionHashes> {
    return versionHashes(spec);
  }

  private setState(state: AppState, reason?: string): void {
    const previous = this._state;
    if (previous === state) return;
    this._state = state;
    const event: ContainerEvent = { type: "state", appId: this._spec.appId, appName: this._spec.appName, state, previous, reason };
    if (this.candidate) event.candidate = true;
    this.shared.emit(event);
  }

  private logTail(id: string): Promise<string> {
    return this.shared.engine.logs(id, this.shared.logTailLines).catch(() => "");
  }

  // ---- what the proxy calls (through the server's adapter) ----

  readyUrl(): string | undefined {
    return this._state === "ready" ? this.url : undefined;
  }

  ensureReady(signal?: AbortSignal): Promise<string> {
    if (this._state === "ready" && this.url !== undefined) return Promise.resolve(this.url);
    if (this._state === "paused") return this.waitFor(this.pauseTier.wake(), signal);
    if (this.removed) return Promise.reject(this.removedError());
    if (this._spec.lifetime === "command") {
      return Promise.reject(new StartError("config-error", `app ${this._spec.appName} has lifetime "command": it runs no service to proxy to`));
    }
    if (this.waiters >= this._spec.settings.maxWaitingRequests) {
      return Promise.reject(
        new StartError("overloaded", `app ${this._spec.appName} is starting and ${this.waiters} requests are already waiting for it`),
      );
    }
    if (!this.startPromise) {
      const p = this.runStart();
      this.startPromise = p;
      p.then(
        () => {},
        () => {},
      ).finally(() => {
        if (this.startPromise === p) this.startPromise = undefined;
      });
    }
    return this.waitFor(this.startPromise, signal);
  }

  /** One caller's wait: its own deadline and abort signal; the start goes on without it. */
  private waitFor(start: Promise<string>, signal?: AbortSignal): Promise<string> {
    this.waiters++;
    const secs = this._spec.settings.startTimeoutSecs;
    return new Promise<string>((resolve, reject) => {
      let done = false;
      const finish = () => {
        done = true;
        this.waiters--;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const timer = setTimeout(() => {
        if (done) return;
        finish();
        reject(new StartError("start-timeout", `app ${this._spec.appName} did not become ready within ${secs}s`));
      }, secs * 1000);
      const onAbort = () => {
        if (done) return;
        finish();
        reject(signal!.reason ?? new DOMException("aborted", "AbortError"));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      start.then(
        (url) => {
          if (done) return;
          finish();
          resolve(url);
        },
        (err) => {
          if (done) return;
          finish();
          reject(err);
        },
      );
    });
  }

  beginRequest(): void {
    this.inflight++;
  }
  endRequest(): void {
    if (this.inflight > 0) this.inflight--;
    this.lastActivity = Date.now();
  }
  openStream(): void {
    this.streams++;
  }
  closeStream(): void {
    if (this.streams > 0) this.streams--;
    this.lastActivity = Date.now();
  }

  // ---- start ----

  async cancelStart(reason: string): Promise<StartError | undefined> {
    const start = this.startPromise;
    if (!start) return undefined;
    this.cancelReason = reason;
    this.startAbort.abort();
    this.wakeProbe?.();
    try {
      await start;
      return undefined;
    } catch (err) {
      return toStartError(err, this._spec.appName);
    }
  }

  async prepareImage(): Promise<{ built: boolean }> {
    const before = this._spec.image.kind === "build" ? await this.shared.engine.inspectImage(imageName(this._spec.appId, this.imgHash)) : null;
    try {
      await ensureImage(this.provision());
    } finally {
      if (this._state === "building") this.setState("stopped");
    }
    return { built: this._spec.image.kind === "build" && !before };
  }

  private provision(): Provision {
    const { appId } = this._spec;
    return {
      engine: this.shared.engine,
      spec: this._spec,
      hash: this._hash,
      imgHash: this.imgHash,
      managerLabels: this.shared.labels,
      runDir: this.shared.runDir,
      ulimits: this.shared.ulimits,
      signal: this.startAbort.signal,
      onBuilding: (reason) => this.setState("building", reason),
      onBuildLine: (line) => this.shared.emit({ type: "build-line", appId, line }),
      onPullProgress: (progress) => this.shared.emit({ type: "pull-progress", appId, progress }),
    };
  }

  private async runStart(): Promise<string> {
    this.cancelReason = undefined;
    this.startAbort = new AbortController();
    try {
      if (this.stopPromise) await this.stopPromise;
      const refusal = this.backoff.refusal(this._spec.appName);
      if (refusal) {
        this.shared.emit({ type: "crash-loop", appId: this._spec.appId, retryInMs: refusal.retryInMs, failures: refusal.failures });
        throw refusal.error;
      }
      return await this.shared.startGuard(this._spec.appId, () => this.bringUp());
    } catch (err) {
      const e =
        this.cancelReason !== undefined && !(err instanceof StartError && err.kind === "start-timeout")
          ? new StartError("start-timeout", this.cancelReason, (err as { logTail?: string }).logTail ?? "")
          : toStartError(err, this._spec.appName);
      if (!e.backingOff) this.backoff.record(e);
      this.setState("failed", e.message);
      throw e;
    }
  }

  private async bringUp(): Promise<string> {
    const { engine } = this.shared;
    const spec = this._spec;
    const t0 = performance.now();
    const provision = this.provision();
    const image = await ensureImage(provision);
    if (this.removed) throw this.removedError();
    this.setState("starting");
    let info = this.containerId ? await engine.inspectContainer(this.containerId) : null;
    if (!info) info = await engine.inspectContainer(containerName(spec.appId, this._hash));
    if (info && spec.image.kind === "image" && info.imageId !== image.id) {
      // The tag now names another image (a refresh pulled a new digest): recreate.
      await engine.removeContainer(info.id);
      this.shared.emit({ type: "removed", appId: spec.appId, what: "container", name: info.name });
      info = null;
    }
    if (this.cancelReason !== undefined) throw new StartError("start-timeout", this.cancelReason);
    // Paused by another server sharing the engine while this one had it stopped: thawed, then adopted.
    await thawIfPaused(engine, info);
    const id = info ? info.id : await createAppContainer(provision, image.ref);
    this.containerId = id;
    if (this.abandoned) {
      // Created while the process was shutting down: it must not outlive it.
      await engine.removeContainer(id).catch(() => {});
      throw this.removedError();
    }
    this.dieSignal = false;
    // Running already: started by another server sharing the engine (or left running by this one): adopted.
    const adopted = info?.running === true;
    if (!adopted) await engine.startContainer(id);
    const url = `${spec.scheme}://${await publishedAddress(engine, id, spec, (exitCode) => this.diedError(id, exitCode))}`;
    await this.waitHealthy(url, id);
    this.becomeReady(url, performance.now() - t0, adopted);
    return url;
  }

  private async diedError(id: string, exitCode?: number): Promise<StartError> {
    const logs = await this.logTail(id);
    const code = exitCode !== undefined ? ` with code ${exitCode}` : "";
    return new StartError("start-failed", `app ${this._spec.appName}: the container exited${code} while starting`, logs.trimEnd());
  }

  /** Waits for the app's first 200 (readiness.ts); a start that runs out of time or is cancelled stops the container. */
  private async waitHealthy(url: string, id: string): Promise<void> {
    const s = this._spec.settings;
    const budgetMs = Math.max(1, s.healthAttemptsAfterStartup) * 1000;
    const outcome = await waitUntilHealthy(
      { url, healthPath: this._spec.healthPath, budgetMs, probeTimeoutMs: Math.max(100, s.healthTimeoutSecs * 1000) },
      {
        interrupted: () => (this.abandoned ? this.removedError() : undefined),
        cancelled: () => this.cancelReason !== undefined,
        checkAlive: async () => {
          const info = await this.shared.engine.inspectContainer(id);
          if (!info || !info.running) throw await this.diedError(id, info?.exitCode);
        },
        takeDieSignal: () => {
          const v = this.dieSignal;
          this.dieSignal = false;
          return v;
        },
        pause: (ms) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, ms);
            this.wakeProbe = () => {
              clearTimeout(t);
              resolve();
            };
          }).finally(() => (this.wakeProbe = undefined)),
      },
    );
    if (outcome === "ready") return;
    const logs = await this.logTail(id);
    await this.shared.engine.stopContainer(id, this.shared.stopTimeoutSecs).catch(() => {});
    if (outcome === "cancelled") throw new StartError("start-timeout", this.cancelReason ?? "the start was cancelled", logs.trimEnd());
    throw new StartError(
      "start-failed",
      `app ${this._spec.appName} did not answer HTTP 200 on ${this._spec.healthPath} within ${budgetMs / 1000}s (container port ${this._spec.port}); set the path with health= in container.config or --conf container.health_url, the wait with --conf container.health_attempts_after_startup`,
      logs.trimEnd(),
    );
  }

  private becomeReady(url: string, coldStartMs: number, adopted: boolean): void {
    this.url = url;
    this.readyAt = Date.now();
    this.lastActivity = Date.now();
    this.statusFailures = 0;
    this.killedAt = 0;
    this.setState("ready");
    this.shared.emit({ type: "ready", appId: this._spec.appId, appName: this._spec.appName, url, coldStartMs, adopted });
    this.nextIdle(0);
    this.armStatus();
  }

  // ---- idle: the policy (idle.ts) says wait, pause or stop ----

  private armIdle(ms: number): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.idleCheck(), Math.max(10, ms));
    (this.idleTimer as { unref?: () => void }).unref?.();
  }

  /** Arm the idle timer for what the policy says after `idleForMs` idle; returns the policy's answer. */
  private nextIdle(idleForMs: number): IdleAction {
    const action = idleAction(this._spec.settings, idleForMs, this._state === "paused", !this.shared.pauseUnavailable);
    if (action.kind === "wait") this.armIdle(action.ms);
    return action;
  }

  /** One timer per ready or paused app: requests only touch counters and a timestamp, never the timer. */
  private idleCheck(): void {
    this.idleTimer = undefined;
    if (this._state !== "ready" && this._state !== "paused") return;
    // An open request or stream: the app is not idle (a paused app has none: waking it is a request).
    if (this._state === "ready" && (this.inflight > 0 || this.streams > 0)) return void this.nextIdle(0);
    if (this.pauseTierOnce?.isWaking) return void this.nextIdle(0);
    const idleFor = Date.now() - this.lastActivity;
    const paused = this._state === "paused";
    if (this.shared.peerActivity && idleAction(this._spec.settings, idleFor, paused, !this.shared.pauseUnavailable).kind !== "wait") {
      return void this.idleCheckWithPeers();
    }
    this.idleActOn(idleFor);
  }

  /** Idle here: asks when other servers last had a request for the app, and idles it only when they did not since. */
  private async idleCheckWithPeers(): Promise<void> {
    // A registry that does not answer: the app is taken as busy elsewhere, and asked about again later.
    const peer = await this.shared.peerActivity!(this._spec.appId).catch(() => Date.now());
    if (this.idleTimer !== undefined || (this._state !== "ready" && this._state !== "paused")) return;
    if (this._state === "ready" && (this.inflight > 0 || this.streams > 0)) return void this.nextIdle(0);
    this.idleActOn(Date.now() - Math.max(this.lastActivity, Math.min(peer, Date.now())));
  }

  private idleActOn(idleFor: number): void {
    const action = this.nextIdle(idleFor);
    if (action.kind === "pause") void this.pauseIdle(idleFor);
    else if (action.kind === "stop") {
      this.shared.emit({ type: "idle-stop", appId: this._spec.appId, idleSecs: Math.round(idleFor / 1000) });
      void this.stop("idle").catch(() => {});
    }
  }

  /** Pause the idle container (pause.ts); when the engine cannot pause, the stop tier may be due already. */
  private async pauseIdle(idleFor: number): Promise<void> {
    await this.pauseTier.pause(idleFor);
    if (this._state === "paused" || this._state === "ready") {
      const action = this.nextIdle(Date.now() - this.lastActivity);
      if (action.kind === "stop") void this.stop("idle").catch(() => {});
    }
  }

  /** Answering again after a pause (woken here or by another server): the idle clock starts afresh. */
  private resumed(reason: string): void {
    this.lastActivity = Date.now();
    this.setState("ready", reason);
    this.nextIdle(0);
  }

  // ---- crash detection: status checks (readiness.ts) and engine events ----

  private armStatus(): void {
    clearInterval(this.statusTimer);
    const secs = this._spec.settings.statusCheckIntervalSecs;
    if (secs <= 0) return;
    this.statusTimer = setInterval(() => void this.statusCheck(), secs * 1000);
    (this.statusTimer as { unref?: () => void }).unref?.();
  }

  private clearTimers(): void {
    clearTimeout(this.idleTimer);
    clearInterval(this.statusTimer);
    this.idleTimer = undefined;
    this.statusTimer = undefined;
  }

  private async statusCheck(): Promise<void> {
    if (this._state !== "ready" || !this.containerId || !this.url) return;
    const id = this.containerId;
    const verdict = await checkStatus(() => this.shared.engine.inspectContainer(id).catch(() => undefined), {
      url: this.url,
      healthPath: this._spec.healthPath,
      probeTimeoutMs: this._spec.settings.healthTimeoutSecs * 1000,
    });
    if (this._state !== "ready" || this.containerId !== id) return;
    if (verdict.kind === "unknown") return; // engine hiccup: try again next time
    if (verdict.kind === "exited") return this.markCrashed(id, verdict.exitCode);
    if (verdict.kind === "healthy") {
      this.statusFailures = 0;
      return;
    }
    this.statusFailures++;
    if (this.statusFailures >= Math.max(1, this._spec.settings.statusHealthAttempts)) {
      // Clace's behaviour: an app that stops answering its health check is stopped; the next request restarts it.
      const logs = await this.logTail(id);
      this.backoff.record(new StartError("start-failed", `app ${this._spec.appName} stopped answering its health check`, logs));
      this.shared.emit({ type: "crash", appId: this._spec.appId, logTail: logs });
      void this.stop("health check failed").catch(() => {});
    }
  }

  private async markCrashed(id: string, exitCode?: number): Promise<void> {
    if (this.containerId !== id || (this._state !== "ready" && this._state !== "paused")) return;
    this.clearTimers();
    this.url = undefined;
    this.backoff.ranSince(this.readyAt);
    this.setState("stopped", `container exited${exitCode !== undefined ? ` with code ${exitCode}` : ""}`);
    const logs = await this.logTail(id);
    this.backoff.record(new StartError("start-failed", `app ${this._spec.appName}: the container exited (code ${exitCode ?? "?"})`, logs));
    this.shared.emit({ type: "crash", appId: this._spec.appId, exitCode, logTail: logs });
  }

  /** An engine event about one of this app's containers (the manager routes them by label); engine-events.ts says what it means. */
  onEngineEvent(e: EngineEvent): void {
    const action = interpretEngineEvent(
      {
        state: this._state,
        containerId: this.containerId,
        pauseOrWakeInFlight: this.pauseTierOnce?.inFlight ?? false,
        killedAt: this.killedAt,
        engine: this.shared.engine.kind,
        now: Date.now(),
      },
      e,
    );
    switch (action.kind) {
      case "ignore":
        return;
      case "paused-elsewhere":
        clearTimeout(this.idleTimer);
        this.setState("paused", "paused by another server");
        this.nextIdle(Date.now() - this.lastActivity);
        return;
      case "woken-elsewhere":
        return this.resumed("woken by another server");
      case "kill-seen":
        this.killedAt = Date.now();
        return;
      case "stopped-elsewhere":
        this.clearTimers();
        this.url = undefined;
        this.setState("stopped", "stopped by another server or by hand");
        return;
      case "died-starting":
        this.dieSignal = true;
        this.wakeProbe?.();
        return;
      case "crashed":
        void this.markCrashed(e.id, action.exitCode);
        return;
      case "destroyed":
        if (action.crashed) void this.markCrashed(e.id, e.exitCode);
        if (action.forget) this.containerId = undefined;
        return;
    }
  }

  // ---- stop, adopt, update, remove ----

  /** Stop the container (kept for a fast restart). Waits for a start in progress first (unless abandoned). */
  async stop(reason = "stop requested"): Promise<void> {
    if (this.startPromise && !this.abandoned) await this.startPromise.catch(() => {});
    if (this.stopPromise) return this.stopPromise;
    const id = this.containerId;
    this.clearTimers();
    this.url = undefined;
    const paused = this._state === "paused";
    if (!id || (this._state !== "ready" && this._state !== "failed" && !paused)) {
      if (this._state === "ready" || this._state === "failed") this.setState("stopped", reason);
      return;
    }
    const p = (async () => {
      this.setState("stopping", reason);
      try {
        if (paused) await this.pauseTier.thaw(id);
        await this.shared.engine.stopContainer(id, this.shared.stopTimeoutSecs);
      } finally {
        this.backoff.ranSince(this.readyAt);
        this.setState("stopped", reason);
      }
    })();
    this.stopPromise = p;
    try {
      await p;
    } finally {
      this.stopPromise = undefined;
    }
  }

  /** Adopt a running container found at boot: ready at once when it answers its health check. */
  async adopt(id: string): Promise<boolean> {
    this.containerId = id;
    let info = await this.shared.engine.inspectContainer(id);
    // Paused when the server stopped: thawed, then adopted like a running one.
    if (await thawIfPaused(this.shared.engine, info)) info = await this.shared.engine.inspectContainer(id);
    const port = info?.hostPorts[`${this._spec.port}/tcp`];
    if (!info?.running || !port) return false;
    const url = `${this._spec.scheme}://${info.hostAddress ?? "127.0.0.1"}:${port}`;
    if (!(await probeOnce(url, this._spec.healthPath, this._spec.settings.healthTimeoutSecs * 1000))) return false;
    if (this._state !== "stopped") return false;
    this.becomeReady(url, 0, true);
    return true;
  }

  /** A stopped container of this version found at boot: the next start starts it instead of creating one. */
  knowContainer(id: string): void {
    if (!this.containerId) this.containerId = id;
  }

  /**
   * Remove what belongs to this app: its containers, and the images it built. With `keep`, that version's
   * container and image survive (an update removing only superseded ones).
   */
  async removeResources(keep?: VersionHashes, volumes = false): Promise<void> {
    const removed = await removeAppResources(this.shared.engine, this._spec.appId, this.shared.labels, this.reportRemoved, { keep, volumes, kept: this.reportKept });
    if (this.containerId !== undefined && removed.includes(this.containerId)) this.containerId = undefined;
  }

  private readonly reportRemoved = (appId: string, what: "container" | "image" | "volume", name: string): void =>
    this.shared.emit({ type: "removed", appId, what, name });

  private readonly reportKept = (appId: string, name: string, reason: string): void =>
    this.shared.emit({ type: "kept", appId, what: "image", name, reason });

  /** Take a new spec. A changed hash stops the old container and removes what the new one does not need. */
  async update(spec: ContainerSpec, hashes: VersionHashes): Promise<boolean> {
    const changed = hashes.hash !== this._hash || hashes.imgHash !== this.imgHash;
    if (!changed) {
      this._spec = spec;
      return false;
    }
    await this.stop("app updated");
    this._spec = spec;
    this._hash = hashes.hash;
    this.imgHash = hashes.imgHash;
    this.containerId = undefined;
    this.backoff.reset();
    this.setState("stopped", "app updated");
    await this.removeResources(hashes);
    return true;
  }

  async refresh(): Promise<boolean> {
    const spec = this._spec;
    if (spec.image.kind !== "image") return false;
    const ref = spec.image.ref;
    const before = (await this.shared.engine.inspectImage(ref))?.id;
    await this.shared.engine.pull(ref, (progress) => this.shared.emit({ type: "pull-progress", appId: spec.appId, progress }));
    const after = (await this.shared.engine.inspectImage(ref))?.id;
    if (before === after) return false;
    await this.stop("image changed");
    if (this.containerId) {
      await this.shared.engine.removeContainer(this.containerId);
      this.containerId = undefined;
    }
    return true;
  }

  /**
   * The process is exiting: cut a start in progress short instead of waiting for it (no container is created or
   * started for this app from now on) and remove this app's containers at once, running or not. Images stay.
   */
  abandon(): Promise<void> {
    // One removal however often it is asked for: a second signal waits for the one in flight (the engine refuses
    // a second removal of the same container, and leaving mid-removal can cancel it).
    this.abandoning ??= (async () => {
      this.removed = true;
      this.abandoned = true;
      this.clearTimers();
      this.wakeProbe?.();
      await removeAppContainersNow(this.shared.engine, this._spec.appId, this.shared.labels, this.reportRemoved);
      this.containerId = undefined;
    })();
    return this.abandoning;
  }

  private removedError(): StartError {
    return new StartError("start-failed", `app ${this._spec.appName} has been removed`);
  }

  /** The app is being deleted (with its volumes when asked). */
  async destroy(volumes: boolean): Promise<void> {
    this.removed = true;
    await this.stop("app removed").catch(() => {});
    this.clearTimers();
    await this.removeResources(undefined, volumes);
  }

  /** Replaced by a new version that is ready: stop, and remove all but the new version's resources. */
  async retire(keep: VersionHashes): Promise<void> {
    this.removed = true;
    await this.stop("replaced by a new version").catch(() => {});
    this.clearTimers();
    await this.removeResources(keep);
  }

  /** The manager is closing: timers only, containers keep running (adopted at next boot). */
  detach(): void {
    this.clearTimers();
  }
}
