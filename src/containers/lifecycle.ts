/**
 * The lazy lifecycle: one AppContainer per app makes its container exist exactly when needed.
 *
 * States: stopped → building → starting → ready → stopping → stopped, and failed. `ensureReady` is single-flight:
 * every caller that arrives while the app is not ready joins the one start in progress, with its own deadline and
 * abort signal; the start itself runs on to completion whoever leaves. Idle stop counts requests in flight and open
 * streams; crash detection listens to engine events and checks status on a timer. AppContainers holds the apps,
 * the one event subscription, and boot-time reconciliation. This module talks to the ContainerEngine interface only.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildOutputFilter } from "./build-output.ts";
import { collectContext, contextTar } from "./context.ts";
import { EngineError, type ContainerEngine, type EngineEvent, type EventSubscription, type PullProgress, type Ulimit } from "./engine.ts";
import {
  LABEL_APP,
  LABEL_APP_NAME,
  LABEL_HASH,
  LABEL_MANAGED,
  containerName,
  imageHash,
  imageName,
  specHash,
} from "./naming.ts";
import { mapOptions, mergeUlimits } from "./options.ts";
import { idleAction, type IdleAction } from "./idle.ts";
import { probeOnce } from "./readiness.ts";
import { StartError } from "./start-error.ts";
import type { ContainerSpec } from "./spec.ts";
import { planVolumes } from "./volumes.ts";

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
  | { type: "removed"; appId: string; what: "container" | "image" | "volume"; name: string };

export interface AppContainersOptions {
  onEvent?: (e: ContainerEvent) => void;
  /** Labels added to everything created, and the scope of reconcile() and the event subscription. */
  extraLabels?: Readonly<Record<string, string>>;
  /** Where rendered secret files live (one folder per app). */
  runDir?: string;
  /** The `t` of engine stop: seconds between SIGTERM and SIGKILL. */
  stopTimeoutSecs?: number;
  /** How many log lines a failure carries. */
  logTailLines?: number;
  /** Ulimits set on every container (Podman on these machines needs them explicitly; harmless on Docker). */
  ulimits?: readonly Ulimit[];
  /**
   * Wraps each cold start (image, container, readiness) of an app. Servers sharing one registry make it exclusive
   * across them, so that the second one to start an app waits and then adopts the container the first one started.
   */
  startGuard?: StartGuard;
  /**
   * When another server sharing the containers last had a request for the app (epoch ms; 0: none). Asked before
   * an idle app is paused or stopped, so that an app one server serves is not idled by another.
   */
  peerActivity?: (appId: string) => Promise<number>;
}

export type StartGuard = (appId: string, start: () => Promise<string>) => Promise<string>;

export const DEFAULT_ULIMITS: readonly Ulimit[] = Object.freeze([
  { Name: "nofile", Soft: 1024, Hard: 1024 },
  { Name: "nproc", Soft: 4096, Hard: 4096 },
]);

/** A die this soon after a kill signal that this manager did not send is a stop asked for elsewhere, not a crash. */
const KILL_THEN_DIE_MS = 15_000;
/** After this long ready, a container that dies is a fresh crash, not part of a crash loop. */
const STABLE_AFTER_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

interface Shared {
  engine: ContainerEngine;
  emit: (e: ContainerEvent) => void;
  labels: Readonly<Record<string, string>>;
  runDir: string;
  stopTimeoutSecs: number;
  logTailLines: number;
  ulimits: readonly Ulimit[];
  startGuard: StartGuard;
  peerActivity: ((appId: string) => Promise<number>) | undefined;
  /** Set once the engine refused to pause a container (no freezer, rootless): pausing is off from then on. */
  pauseUnavailable: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Turn anything thrown while starting into a StartError with its kind. */
function toStartError(err: unknown, appName: string): StartError {
  if (err instanceof StartError) return err;
  if (err instanceof EngineError) {
    const failure = err.kind === "bad-option" || err.kind === "config-error" ? "config-error" : "start-failed";
    const fix = err.fix ? ` (${err.fix})` : "";
    return new StartError(failure, `app ${appName}: ${err.message}${fix}`, err.logTail);
  }
  return new StartError("start-failed", `app ${appName}: ${(err as Error)?.message ?? String(err)}`);
}

/** One app's container, made ready on demand; the server hands it to the proxy as the app's upstream. */
export class AppContainer {
  private _spec: ContainerSpec;
  /** Names the container (source, env, volumes, options, port). */
  private _hash = "";
  /** Names the built image (source, container file, build args). */
  private imgHash = "";
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
  /** A pause in progress, and the one wake of a paused container that requests share. */
  private pausePromise: Promise<void> | undefined;
  private wakePromise: Promise<string> | undefined;
  private statusTimer: ReturnType<typeof setInterval> | undefined;
  private statusFailures = 0;
  private readyAt = 0;
  /**
   * Set by a die event while starting. The event may be a late one from the previous stop of the same container,
   * so it only makes the probe loop inspect at once; the inspect decides.
   */
  private inspectNow = false;
  /** When the engine last reported a stop signal sent to the container by someone other than this manager. */
  private killedAt = 0;
  private wakeProbe: (() => void) | undefined;
  private failures = 0;
  private lastFailureAt = 0;
  private lastFailure: StartError | undefined;
  private removed = false;
  /** The process is exiting (abandon): a start in progress is cut short rather than waited for. */
  private abandoned = false;
  private abandoning: Promise<void> | undefined;
  /** Why the start in progress was cancelled (a caller's overall deadline passed), checked by the probe loop. */
  private cancelReason: string | undefined;
  /** Aborts the build or pull of the start in progress when it is cancelled. */
  private startAbort = new AbortController();
  /** A new version prepared beside the serving one; it becomes the app's container once it takes over. */
  candidate = false;

  constructor(
    spec: ContainerSpec,
    private readonly shared: Shared,
  ) {
    this._spec = spec;
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
  /** The upstream URL while ready. */
  get upstreamUrl(): string | undefined {
    return this.url;
  }
  get currentContainerId(): string | undefined {
    return this.containerId;
  }
  /** The image the container runs: the built one's name, or the image reference. */
  get imageRef(): string {
    return this._spec.image.kind === "build" ? imageName(this._spec.appId, this.imgHash) : this._spec.image.ref;
  }
  /** The last `lines` lines of the current container's log ("" without one). */
  async recentLogs(lines: number): Promise<string> {
    return this.containerId === undefined ? "" : this.shared.engine.logs(this.containerId, lines).catch(() => "");
  }
  get activity(): { inflight: number; streams: number; waiters: number } {
    return { inflight: this.inflight, streams: this.streams, waiters: this.waiters };
  }

  /** Compute the hashes (reads the build context). */
  async computeHashes(spec: ContainerSpec = this._spec): Promise<{ hash: string; imgHash: string }> {
    const source = spec.image.kind === "build" ? collectContext(spec.image.contextDirs, spec.image.containerFile).hash : spec.image.ref;
    return { hash: specHash(spec, source), imgHash: imageHash(spec, source) };
  }

  /** @internal set by the manager after computeHashes. */
  setHashes(h: { hash: string; imgHash: string }): void {
    this._hash = h.hash;
    this.imgHash = h.imgHash;
  }

  private labels(hash: string): Record<string, string> {
    return {
      ...this.shared.labels,
      [LABEL_MANAGED]: "true",
      [LABEL_APP]: this._spec.appId,
      [LABEL_APP_NAME]: this._spec.appName,
      [LABEL_HASH]: hash,
    };
  }

  private setState(state: AppState, reason?: string): void {
    const previous = this._state;
    if (previous === state) return;
    this._state = state;
    const event: ContainerEvent = { type: "state", appId: this._spec.appId, appName: this._spec.appName, state, previous, reason };
    if (this.candidate) event.candidate = true;
    this.shared.emit(event);
  }

  // ---- what the proxy calls (through the server's adapter) ----

  /** The upstream URL when ready, so the proxy's warm path needs no promise per request. */
  readyUrl(): string | undefined {
    return this._state === "ready" ? this.url : undefined;
  }

  ensureReady(signal?: AbortSignal): Promise<string> {
    if (this._state === "ready" && this.url !== undefined) return Promise.resolve(this.url);
    if (this._state === "paused") return this.waitFor(this.wake(), signal);
    if (this.removed) {
      return Promise.reject(new StartError("start-failed", `app ${this._spec.appName} has been removed`));
    }
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

  /**
   * Gives up the start in progress (the caller's overall limit passed): the probe loop stops at its next step, the
   * container is stopped, and the start fails with `reason` and the container's last log lines, which this returns.
   * Without a start in progress it returns undefined.
   */
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
      return err instanceof StartError ? err : toStartError(err, this._spec.appName);
    }
  }

  /** Builds or pulls the image without starting a container (a reload checks the new version builds). */
  async prepareImage(): Promise<{ built: boolean }> {
    const before = this._spec.image.kind === "build" ? await this.shared.engine.inspectImage(imageName(this._spec.appId, this.imgHash)) : null;
    try {
      await this.ensureImage();
    } finally {
      if (this._state === "building") this.setState("stopped");
    }
    return { built: this._spec.image.kind === "build" && !before };
  }

  private async runStart(): Promise<string> {
    this.cancelReason = undefined;
    this.startAbort = new AbortController();
    try {
      if (this.stopPromise) await this.stopPromise;
      this.checkBackoff();
      return await this.shared.startGuard(this._spec.appId, () => this.bringUp());
    } catch (err) {
      const e =
        this.cancelReason !== undefined && !(err instanceof StartError && err.kind === "start-timeout")
          ? new StartError("start-timeout", this.cancelReason, (err as { logTail?: string }).logTail ?? "")
          : toStartError(err, this._spec.appName);
      if (!e.backingOff) this.recordFailure(e);
      this.setState("failed", e.message);
      throw e;
    }
  }

  private recordFailure(e: StartError): void {
    const now = Date.now();
    this.failures++;
    this.lastFailureAt = now;
    this.lastFailure = e;
  }

  /** A crash loop backs off: after two failures in a row, wait 1 s, 2 s, 4 s ... (at most 30 s) between tries. */
  private checkBackoff(): void {
    if (this.failures < 2) return;
    const wait = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 2));
    const left = this.lastFailureAt + wait - Date.now();
    if (left <= 0) return;
    this.shared.emit({ type: "crash-loop", appId: this._spec.appId, retryInMs: left, failures: this.failures });
    throw new StartError(
      "start-failed",
      `app ${this._spec.appName} is crash-looping (${this.failures} failures in a row); next try in ${Math.ceil(left / 1000)}s. Last failure: ${this.lastFailure?.message ?? "unknown"}`,
      this.lastFailure?.logTail ?? "",
      true,
    );
  }

  private async ensureImage(): Promise<{ ref: string; id: string }> {
    const { engine } = this.shared;
    const spec = this._spec;
    if (spec.image.kind === "build") {
      const ref = imageName(spec.appId, this.imgHash);
      const existing = await engine.inspectImage(ref);
      if (existing) return { ref, id: existing.id };
      this.setState("building");
      const source = spec.image;
      const ctx = collectContext(source.contextDirs, source.containerFile);
      const labels = this.labels(this.imgHash);
      const build = () => {
        const output = new BuildOutputFilter(Object.keys(labels));
        return engine.build({
          context: contextTar(ctx),
          tag: ref,
          containerFile: source.containerFile,
          buildArgs: source.buildArgs,
          labels,
          signal: this.startAbort.signal,
          onLine: (line) => {
            const shown = output.line(line);
            if (shown !== null) this.shared.emit({ type: "build-line", appId: spec.appId, line: shown });
          },
        });
      };
      try {
        return { ref, id: (await build()).imageId };
      } catch (err) {
        // The classic builder's cache can hit an image that is being removed at that moment; one retry rebuilds it.
        if (!(err instanceof EngineError && /unknown parent image|No such image/i.test(err.message))) throw err;
        return { ref, id: (await build()).imageId };
      }
    }
    const ref = spec.image.ref;
    let info = await engine.inspectImage(ref);
    if (!info) {
      this.setState("building", `pulling ${ref}`);
      await engine.pull(ref, (progress) => this.shared.emit({ type: "pull-progress", appId: spec.appId, progress }), this.startAbort.signal);
      info = await engine.inspectImage(ref);
      if (!info) throw new EngineError("pull-failed", `pulled ${ref} but the engine does not show it`);
    }
    return { ref, id: info.id };
  }

  private async createContainer(imageRef: string): Promise<string> {
    const { engine } = this.shared;
    const spec = this._spec;
    const opts = mapOptions(spec.options);
    const volumes = planVolumes(spec, this.shared.runDir);
    for (const v of volumes) {
      if (v.create && !(await engine.inspectVolume(v.create))) {
        await engine.createVolume(v.create, { ...this.shared.labels, [LABEL_MANAGED]: "true", [LABEL_APP]: spec.appId });
      }
    }
    const name = containerName(spec.appId, this._hash);
    try {
      return await engine.createContainer({
        name,
        image: imageRef,
        env: { ...opts.env, ...spec.env },
        labels: { ...opts.labels, ...this.labels(this._hash) },
        port: spec.port,
        binds: volumes.map((v) => v.bind),
        user: opts.user,
        workingDir: opts.workingDir,
        hostConfig: opts.hostConfig,
        config: opts.config,
        ulimits: mergeUlimits(this.shared.ulimits, opts.ulimits),
      });
    } catch (err) {
      // Another server process created it first: use theirs.
      if (err instanceof EngineError && err.kind === "conflict") {
        const info = await engine.inspectContainer(name);
        if (info) return info.id;
      }
      throw err;
    }
  }

  private async bringUp(): Promise<string> {
    const { engine } = this.shared;
    const spec = this._spec;
    const t0 = performance.now();
    const image = await this.ensureImage();
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
    if (info?.status === "paused") await engine.unpauseContainer(info.id).catch(() => {});
    const id = info ? info.id : await this.createContainer(image.ref);
    this.containerId = id;
    if (this.abandoned) {
      // Created while the process was shutting down: it must not outlive it.
      await engine.removeContainer(id).catch(() => {});
      throw this.removedError();
    }
    this.inspectNow = false;
    // Running already: started by another server sharing the engine (or left running by this one): adopted.
    const adopted = info?.running === true;
    if (!adopted) await engine.startContainer(id);
    const url = `${spec.scheme}://${await this.readHostPort(id)}`;
    await this.waitHealthy(url, id);
    this.becomeReady(url, performance.now() - t0, adopted);
    return url;
  }

  /**
   * The "address:port" the container answers on. The host port is assigned at start and changes on every start; the
   * binding may lag the start briefly.
   */
  private async readHostPort(id: string): Promise<string> {
    const key = `${this._spec.port}/tcp`;
    for (let i = 0; ; i++) {
      const info = await this.shared.engine.inspectContainer(id);
      if (!info) throw new EngineError("not-found", `the container of app ${this._spec.appName} disappeared while starting`);
      const port = info.hostPorts[key];
      if (port) return `${info.hostAddress ?? "127.0.0.1"}:${port}`;
      if (!info.running && info.status !== "created") throw await this.diedError(id, info.exitCode);
      if (i >= 100) throw new EngineError("api", `the engine published no host port for ${key} after start`);
      await sleep(i < 10 ? 10 : 50);
    }
  }

  private async diedError(id: string, exitCode?: number): Promise<StartError> {
    const logs = await this.shared.engine.logs(id, this.shared.logTailLines).catch(() => "");
    const code = exitCode !== undefined ? ` with code ${exitCode}` : "";
    return new StartError("start-failed", `app ${this._spec.appName}: the container exited${code} while starting`, logs.trimEnd());
  }

  /**
   * Probe every ~25 ms at first, backing off to 250 ms, for healthAttemptsAfterStartup × 1 s (Clace probes that
   * many times, once a second). A die event wakes the loop at once; an inspect every ~250 ms covers lost events.
   */
  private async waitHealthy(url: string, id: string): Promise<void> {
    const s = this._spec.settings;
    const budgetMs = Math.max(1, s.healthAttemptsAfterStartup) * 1000;
    const deadline = Date.now() + budgetMs;
    const probeTimeout = Math.max(100, s.healthTimeoutSecs * 1000);
    let delay = 25;
    let lastInspect = Date.now();
    for (;;) {
      if (this.abandoned) throw this.removedError();
      if (this.cancelReason === undefined && (await probeOnce(url, this._spec.healthPath, Math.min(probeTimeout, Math.max(100, deadline - Date.now()))))) return;
      if (Date.now() >= deadline || this.cancelReason !== undefined) {
        const logs = await this.shared.engine.logs(id, this.shared.logTailLines).catch(() => "");
        await this.shared.engine.stopContainer(id, this.shared.stopTimeoutSecs).catch(() => {});
        throw new StartError(
          this.cancelReason === undefined ? "start-failed" : "start-timeout",
          this.cancelReason ??
            `app ${this._spec.appName} did not answer HTTP 200 on ${this._spec.healthPath} within ${budgetMs / 1000}s (container port ${this._spec.port}); set the path with health= in container.config or --conf container.health_url, the wait with --conf container.health_attempts_after_startup`,
          logs.trimEnd(),
        );
      }
      if (this.takeInspectNow() || Date.now() - lastInspect >= 250) {
        lastInspect = Date.now();
        const info = await this.shared.engine.inspectContainer(id);
        if (!info || !info.running) throw await this.diedError(id, info?.exitCode);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wakeProbe = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wakeProbe = undefined;
      delay = Math.min(250, Math.round(delay * 1.5));
    }
  }

  private takeInspectNow(): boolean {
    const v = this.inspectNow;
    this.inspectNow = false;
    return v;
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

  // ---- idle stop ----

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
    if (this.wakePromise !== undefined) return void this.nextIdle(0);
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
    if (action.kind === "pause") void this.pause(idleFor);
    else if (action.kind === "stop") {
      this.shared.emit({ type: "idle-stop", appId: this._spec.appId, idleSecs: Math.round(idleFor / 1000) });
      void this.stop("idle").catch(() => {});
    }
  }

  /**
   * Pause an idle container. The state turns "paused" before the engine call, so that a request arriving meanwhile
   * takes the wake path (which waits for the pause) instead of being sent to a container being frozen.
   */
  private async pause(idleFor: number): Promise<void> {
    const id = this.containerId;
    if (id === undefined) return;
    this.setState("paused", `idle for ${Math.round(idleFor / 1000)}s`);
    const p = this.shared.engine.pauseContainer(id);
    this.pausePromise = p.catch(() => {});
    try {
      await p;
      this.shared.emit({ type: "idle-pause", appId: this._spec.appId, idleSecs: Math.round(idleFor / 1000) });
    } catch (err) {
      // No freezer (rootless, some nested setups): idle apps are stopped as before; said once.
      if (!this.shared.pauseUnavailable) {
        this.shared.pauseUnavailable = true;
        this.shared.emit({ type: "pause-unavailable", appId: this._spec.appId, reason: (err as Error).message });
      }
      if (this._state === "paused") this.setState("ready", "the container could not be paused");
    } finally {
      this.pausePromise = undefined;
    }
    if (this._state === "paused" || this._state === "ready") {
      const action = this.nextIdle(Date.now() - this.lastActivity);
      if (action.kind === "stop") void this.stop("idle").catch(() => {});
    }
  }

  /**
   * Wake a paused container for a request: unpause it, and it answers at once (it never stopped, so there is no
   * readiness wait). One wake however many requests arrive; a wake that fails falls back to a cold start.
   */
  private wake(): Promise<string> {
    this.wakePromise ??= (async () => {
      try {
        if (this.pausePromise) await this.pausePromise;
        if (this._state !== "paused" || this.containerId === undefined || this.url === undefined) return await this.ensureReady();
        const started = performance.now();
        try {
          await this.shared.engine.unpauseContainer(this.containerId);
        } catch (err) {
          const logs = await this.shared.engine.logs(this.containerId, this.shared.logTailLines).catch(() => "");
          this.url = undefined;
          this.setState("stopped", `could not unpause: ${(err as Error).message}`);
          this.recordFailure(new StartError("start-failed", `app ${this._spec.appName}: unpausing failed`, logs));
          return await this.ensureReady();
        }
        this.lastActivity = Date.now();
        this.setState("ready", "woken by a request");
        this.shared.emit({ type: "wake", appId: this._spec.appId, wakeMs: performance.now() - started });
        this.nextIdle(0);
        return this.url;
      } finally {
        this.wakePromise = undefined;
      }
    })();
    return this.wakePromise;
  }

  // ---- crash detection ----

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
    const info = await this.shared.engine.inspectContainer(id).catch(() => undefined);
    if (this._state !== "ready" || this.containerId !== id) return;
    if (info === undefined) return; // engine hiccup: try again next time
    if (!info || !info.running) return this.markCrashed(id, info?.exitCode);
    const ok = await probeOnce(this.url, this._spec.healthPath, this._spec.settings.healthTimeoutSecs * 1000);
    if (this._state !== "ready") return;
    if (ok) {
      this.statusFailures = 0;
      return;
    }
    this.statusFailures++;
    if (this.statusFailures >= Math.max(1, this._spec.settings.statusHealthAttempts)) {
      // Clace's behaviour: an app that stops answering its health check is stopped; the next request restarts it.
      const logs = await this.shared.engine.logs(id, this.shared.logTailLines).catch(() => "");
      this.recordFailure(new StartError("start-failed", `app ${this._spec.appName} stopped answering its health check`, logs));
      this.shared.emit({ type: "crash", appId: this._spec.appId, logTail: logs });
      void this.stop("health check failed").catch(() => {});
    }
  }

  private async markCrashed(id: string, exitCode?: number): Promise<void> {
    if (this.containerId !== id || (this._state !== "ready" && this._state !== "paused")) return;
    this.clearTimers();
    this.url = undefined;
    if (Date.now() - this.readyAt >= STABLE_AFTER_MS) this.failures = 0;
    this.setState("stopped", `container exited${exitCode !== undefined ? ` with code ${exitCode}` : ""}`);
    const logs = await this.shared.engine.logs(id, this.shared.logTailLines).catch(() => "");
    this.recordFailure(new StartError("start-failed", `app ${this._spec.appName}: the container exited (code ${exitCode ?? "?"})`, logs));
    this.shared.emit({ type: "crash", appId: this._spec.appId, exitCode, logTail: logs });
  }

  /** @internal called by the manager for engine events about this app's containers. */
  onEngineEvent(e: EngineEvent): void {
    if (e.id !== this.containerId) return;
    // Another server sharing the engine paused, woke or stopped the container: follow it, so that a request
    // here wakes it rather than waiting on a frozen app, and a stop is not taken for a crash.
    if (e.action === "pause" && this._state === "ready") {
      clearTimeout(this.idleTimer);
      this.setState("paused", "paused by another server");
      this.nextIdle(Date.now() - this.lastActivity);
      return;
    }
    if (e.action === "unpause" && this._state === "paused" && this.wakePromise === undefined && this.pausePromise === undefined) {
      this.lastActivity = Date.now();
      this.setState("ready", "woken by another server");
      this.nextIdle(0);
      return;
    }
    // A stop (SIGTERM or the image's stop signal first) rather than `kill`, whose SIGKILL is a crash as any other.
    if (e.action === "kill" && e.labels.signal !== "9" && (this._state === "ready" || this._state === "paused")) {
      this.killedAt = Date.now();
      return;
    }
    if (e.action === "die" && Date.now() - this.killedAt < KILL_THEN_DIE_MS && (this._state === "ready" || this._state === "paused")) {
      this.clearTimers();
      this.url = undefined;
      this.setState("stopped", "stopped by another server or by hand");
      return;
    }
    if (e.action === "die" || e.action === "oom") {
      if (this._state === "starting") {
        this.inspectNow = true;
        this.wakeProbe?.();
      } else if (this._state === "ready" || this._state === "paused") {
        void this.markCrashed(e.id, e.exitCode);
      }
    } else if (e.action === "destroy") {
      if (this._state === "ready" || this._state === "paused") void this.markCrashed(e.id, e.exitCode);
      if (this._state !== "starting") this.containerId = undefined;
    }
  }

  // ---- stop, update, remove ----

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
        if (paused) {
          // Thawed first: Podman does not stop a frozen container, and its SIGTERM must reach the app.
          await this.pausePromise;
          await this.shared.engine.unpauseContainer(id).catch(() => {});
        }
        await this.shared.engine.stopContainer(id, this.shared.stopTimeoutSecs);
      } finally {
        if (Date.now() - this.readyAt >= STABLE_AFTER_MS) this.failures = 0;
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
    if (info?.status === "paused") {
      // Paused when the server stopped: thawed, then adopted like a running one.
      await this.shared.engine.unpauseContainer(id).catch(() => {});
      info = await this.shared.engine.inspectContainer(id);
    }
    const port = info?.hostPorts[`${this._spec.port}/tcp`];
    if (!info?.running || !port) return false;
    const url = `${this._spec.scheme}://${info.hostAddress ?? "127.0.0.1"}:${port}`;
    if (!(await probeOnce(url, this._spec.healthPath, this._spec.settings.healthTimeoutSecs * 1000))) return false;
    if (this._state !== "stopped") return false;
    this.becomeReady(url, 0, true);
    return true;
  }

  /** @internal a known stopped container found at boot. */
  knowContainer(id: string): void {
    if (!this.containerId) this.containerId = id;
  }

  /**
   * Remove what belongs to this app: its containers, and the images it built. With `keep`, the current
   * container/image hashes survive (an update removing only superseded ones).
   */
  async removeResources(keep?: { hash: string; imgHash: string }, volumes = false): Promise<void> {
    const { engine } = this.shared;
    const scope = [`${LABEL_MANAGED}=true`, `${LABEL_APP}=${this._spec.appId}`, ...labelFilters(this.shared.labels)];
    for (const c of await engine.listContainers(scope, true)) {
      if (keep && c.labels[LABEL_HASH] === keep.hash) continue;
      await engine.removeContainer(c.id);
      if (c.id === this.containerId) this.containerId = undefined;
      this.shared.emit({ type: "removed", appId: this._spec.appId, what: "container", name: c.name });
    }
    for (const img of await engine.listImages(scope)) {
      if (keep && img.labels[LABEL_HASH] === keep.imgHash) continue;
      await engine.removeImage(img.id, true).catch(() => {});
      this.shared.emit({ type: "removed", appId: this._spec.appId, what: "image", name: img.repoTags[0] ?? img.id });
    }
    if (volumes) {
      for (const v of await engine.listVolumes(scope)) {
        await engine.removeVolume(v.name).catch(() => {});
        this.shared.emit({ type: "removed", appId: this._spec.appId, what: "volume", name: v.name });
      }
    }
  }

  /** Take a new spec. A changed hash stops the old container and removes what the new one does not need. */
  async update(spec: ContainerSpec, hashes: { hash: string; imgHash: string }): Promise<boolean> {
    const changed = hashes.hash !== this._hash || hashes.imgHash !== this.imgHash;
    if (!changed) {
      this._spec = spec;
      return false;
    }
    await this.stop("app updated");
    this._spec = spec;
    this.setHashes(hashes);
    this.containerId = undefined;
    this.failures = 0;
    this.setState("stopped", "app updated");
    await this.removeResources(hashes);
    return true;
  }

  /** Image apps: pull again; when the tag now names another image, the next start recreates the container. */
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
    this.abandoning ??= this.removeForExit();
    return this.abandoning;
  }

  private async removeForExit(): Promise<void> {
    this.removed = true;
    this.abandoned = true;
    this.clearTimers();
    this.wakeProbe?.();
    const { engine } = this.shared;
    const scope = [`${LABEL_MANAGED}=true`, `${LABEL_APP}=${this._spec.appId}`, ...labelFilters(this.shared.labels)];
    await Promise.all(
      (await engine.listContainers(scope, true)).map(async (c) => {
        await engine.removeContainer(c.id);
        this.shared.emit({ type: "removed", appId: this._spec.appId, what: "container", name: c.name });
      }),
    );
    this.containerId = undefined;
  }

  private removedError(): StartError {
    return new StartError("start-failed", `app ${this._spec.appName} has been removed`);
  }

  /** @internal the app is being deleted. */
  async destroy(volumes: boolean): Promise<void> {
    this.removed = true;
    await this.stop("app removed").catch(() => {});
    this.clearTimers();
    await this.removeResources(undefined, volumes);
  }

  /** @internal replaced by a new version that is ready: stop, and remove all but the new version's resources. */
  async retire(keep: { hash: string; imgHash: string }): Promise<void> {
    this.removed = true;
    await this.stop("replaced by a new version").catch(() => {});
    this.clearTimers();
    await this.removeResources(keep);
  }

  /** @internal the manager is closing: timers only, containers keep running (adopted at next boot). */
  detach(): void {
    this.clearTimers();
  }
}

function labelFilters(labels: Readonly<Record<string, string>>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

/** What `AppContainers.upgrade` did. */
export interface Upgrade {
  /** The app's container now (a new one when a running app was replaced). */
  container: AppContainer;
  /** The container's spec or image changed (false: the new version needs the same container). */
  containerChanged: boolean;
  /** A new image was built for the new version. */
  imageBuilt: boolean;
  /** A running container was replaced by the new version. */
  restarted: boolean;
}

/** What `AppContainers.upgrade` would do (`preview`). */
export interface UpgradePreview {
  /** The new version needs another container (its spec or image differs). */
  containerChanged: boolean;
  /** The new version needs another image (a build, or another image reference). */
  imageChanged: boolean;
  /** A container is ready now, so it would be replaced once the new one is ready (else: a new one on the next request). */
  running: boolean;
}

/** The apps of one server: registration, events, reconciliation at boot. */
export class AppContainers {
  private readonly apps = new Map<string, AppContainer>();
  private readonly shared: Shared;
  private subscription: EventSubscription | undefined;

  constructor(
    readonly engine: ContainerEngine,
    opts: AppContainersOptions = {},
  ) {
    const onEvent = opts.onEvent;
    this.shared = {
      engine,
      emit: onEvent
        ? (e) => {
            try {
              onEvent(e);
            } catch {
              // A listener's failure must not break the lifecycle.
            }
          }
        : () => {},
      labels: { ...opts.extraLabels },
      runDir: opts.runDir ?? join(tmpdir(), "clace-lite-run"),
      stopTimeoutSecs: opts.stopTimeoutSecs ?? 2,
      logTailLines: opts.logTailLines ?? 50,
      ulimits: opts.ulimits ?? DEFAULT_ULIMITS,
      startGuard: opts.startGuard ?? ((_appId, start) => start()),
      peerActivity: opts.peerActivity,
      pauseUnavailable: false,
    };
  }

  /** Label filters for everything this manager owns. */
  get scope(): string[] {
    return [`${LABEL_MANAGED}=true`, ...labelFilters(this.shared.labels)];
  }

  /** Start watching engine events (die, destroy) for our containers. */
  async start(): Promise<void> {
    if (this.subscription) return;
    this.subscription = this.engine.events(this.scope, (e) => {
      const appId = e.labels[LABEL_APP];
      if (appId) this.apps.get(appId)?.onEngineEvent(e);
    });
    await this.subscription.ready;
  }

  /** Stop watching; containers keep running and are adopted by the next manager. */
  close(): void {
    this.subscription?.close();
    this.subscription = undefined;
    for (const app of this.apps.values()) app.detach();
  }

  /** Register an app, or update it (removing what the new spec no longer needs). */
  async add(spec: ContainerSpec): Promise<AppContainer> {
    const existing = this.apps.get(spec.appId);
    if (existing) {
      const hashes = await existing.computeHashes(spec);
      await existing.update(spec, hashes);
      return existing;
    }
    const app = new AppContainer(spec, this.shared);
    app.setHashes(await app.computeHashes(spec));
    this.apps.set(spec.appId, app);
    return app;
  }

  /**
   * Replace an app with a new version without a gap (dev mode, zero-downtime reloads): the new version is built and
   * started while the old one keeps serving; once it is ready it takes over and the old one is stopped and removed.
   * When the new version fails, it is removed and the old one keeps serving; the error is thrown.
   */
  async replace(spec: ContainerSpec): Promise<AppContainer> {
    const old = this.apps.get(spec.appId);
    if (!old || old.state !== "ready") return this.add(spec);
    const hashes = await old.computeHashes(spec);
    if (hashes.hash === old.hash && hashes.imgHash === old.imageHash) return this.add(spec);
    const next = new AppContainer(spec, this.shared);
    next.candidate = true;
    next.setHashes(hashes);
    try {
      await next.ensureReady();
    } catch (err) {
      await next.stop("the new version failed; the previous version keeps serving").catch(() => {});
      await next.removeResources({ hash: old.hash, imgHash: old.imageHash }).catch(() => {});
      throw err;
    }
    next.candidate = false;
    this.apps.set(spec.appId, next);
    await old.retire(hashes);
    return next;
  }

  /**
   * Bring in a new version of an app before it takes over (`app reload`): a running app gets the new version built
   * and started beside it and switched once ready (replace); a stopped one gets the new image built first, then
   * takes the new spec. When the new version fails, nothing changes (the old one keeps serving) and the error is
   * thrown. Says what changed.
   */
  async upgrade(spec: ContainerSpec): Promise<Upgrade> {
    const old = this.apps.get(spec.appId);
    if (!old) {
      const app = await this.add(spec);
      try {
        const { built } = await app.prepareImage();
        return { container: app, containerChanged: true, imageBuilt: built, restarted: false };
      } catch (err) {
        // Not kept: the next upgrade must try the build again rather than find this spec already registered.
        await this.remove(spec.appId).catch(() => {});
        throw err;
      }
    }
    const hashes = await old.computeHashes(spec);
    const imageChanged = hashes.imgHash !== old.imageHash;
    if (!imageChanged && hashes.hash === old.hash) {
      await this.add(spec);
      return { container: old, containerChanged: false, imageBuilt: false, restarted: false };
    }
    const builds = spec.image.kind === "build";
    if (old.state === "ready") {
      const next = await this.replace(spec);
      return { container: next, containerChanged: true, imageBuilt: builds && imageChanged, restarted: true };
    }
    const next = new AppContainer(spec, this.shared);
    next.candidate = true;
    next.setHashes(hashes);
    let built: boolean;
    try {
      ({ built } = await next.prepareImage());
    } catch (err) {
      await next.removeResources({ hash: old.hash, imgHash: old.imageHash }).catch(() => {});
      throw err;
    }
    await this.add(spec);
    return { container: old, containerChanged: true, imageBuilt: built, restarted: false };
  }

  /** What `upgrade(spec)` would do, found without building, starting or removing anything (a dry run). */
  async preview(spec: ContainerSpec): Promise<UpgradePreview> {
    const old = this.apps.get(spec.appId);
    if (!old) return { containerChanged: true, imageChanged: true, running: false };
    const hashes = await old.computeHashes(spec);
    const imageChanged = hashes.imgHash !== old.imageHash;
    return { containerChanged: imageChanged || hashes.hash !== old.hash, imageChanged, running: old.state === "ready" };
  }

  get(appId: string): AppContainer | undefined {
    return this.apps.get(appId);
  }

  list(): AppContainer[] {
    return [...this.apps.values()];
  }

  /** Delete an app: stop and remove its containers and built images (and its volumes when asked). */
  async remove(appId: string, opts: { volumes?: boolean } = {}): Promise<void> {
    const app = this.apps.get(appId);
    if (!app) return;
    this.apps.delete(appId);
    await app.destroy(opts.volumes ?? false);
  }

  /**
   * The server is exiting: starts in progress are cut short and their containers removed (a half-started
   * container is not worth adopting); ready ones keep running, to be adopted at the next start.
   */
  async abandonStarts(): Promise<void> {
    const starting = this.list().filter((a) => a.state === "building" || a.state === "starting");
    await Promise.all(starting.map((a) => a.abandon().catch(() => {})));
  }

  /** Stop every running app (e.g. `server stop --stop-apps`). */
  async stopAll(): Promise<void> {
    await Promise.all(this.list().map((a) => a.stop("server stopping").catch(() => {})));
  }

  /**
   * At boot: adopt running containers of known apps with the current hash, remember stopped ones, and remove
   * containers and built images that no known app needs (unknown apps, superseded hashes).
   */
  async reconcile(): Promise<{ adopted: string[]; removedContainers: string[]; removedImages: string[] }> {
    const adopted: string[] = [];
    const removedContainers: string[] = [];
    const removedImages: string[] = [];
    for (const c of await this.engine.listContainers(this.scope, true)) {
      const app = this.apps.get(c.labels[LABEL_APP] ?? "");
      if (app && c.labels[LABEL_HASH] === app.hash) {
        if (c.state === "running" || c.state === "paused") {
          if (await app.adopt(c.id)) adopted.push(app.spec.appId);
        } else {
          app.knowContainer(c.id);
        }
        continue;
      }
      await this.engine.removeContainer(c.id);
      removedContainers.push(c.name);
      this.shared.emit({ type: "removed", appId: c.labels[LABEL_APP] ?? "", what: "container", name: c.name });
    }
    for (const img of await this.engine.listImages(this.scope)) {
      const app = this.apps.get(img.labels[LABEL_APP] ?? "");
      if (app && img.labels[LABEL_HASH] === app.imageHash) continue;
      try {
        await this.engine.removeImage(img.id, false);
        removedImages.push(img.repoTags[0] ?? img.id);
        this.shared.emit({ type: "removed", appId: img.labels[LABEL_APP] ?? "", what: "image", name: img.repoTags[0] ?? img.id });
      } catch {
        // In use by a container we do not own: leave it.
      }
    }
    return { adopted, removedContainers, removedImages };
  }
}
