/**
 * The apps of one server: registration (one lifecycle per app), the one engine event subscription that feeds
 * them, boot-time reconciliation, and the manager-wide operations (replace, upgrade, remove, stop all).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labelFilters, reconcileApps, type Reconciled } from "./cleanup.ts";
import type { ContainerEngine, EventSubscription, Ulimit } from "./engine.ts";
import { ContainerLifecycle, versionHashes, type AppContainer, type ContainerEvent, type ManagerContext, type StartGuard } from "./lifecycle.ts";
import { LABEL_APP, LABEL_MANAGED } from "./naming.ts";
import { previewUpgrade, replaceApp, upgradeApp, type AppRegistry, type Upgrade, type UpgradePreview } from "./replacement.ts";
import type { ContainerSpec } from "./spec.ts";

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

export const DEFAULT_ULIMITS: readonly Ulimit[] = Object.freeze([
  { Name: "nofile", Soft: 1024, Hard: 1024 },
  { Name: "nproc", Soft: 4096, Hard: 4096 },
]);

export class AppContainers {
  private readonly apps = new Map<string, ContainerLifecycle>();
  private readonly shared: ManagerContext;
  private subscription: EventSubscription | undefined;
  /** The replacement policy's view of this manager. */
  private readonly registry: AppRegistry = {
    get: (appId) => this.apps.get(appId),
    set: (app) => void this.apps.set(app.spec.appId, app),
    add: (spec) => this.register(spec),
    remove: (appId) => this.remove(appId),
    hashes: async (spec) => versionHashes(spec),
    candidate: (spec, hashes) => {
      const next = new ContainerLifecycle(spec, hashes, this.shared);
      next.candidate = true;
      return next;
    },
  };

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
  add(spec: ContainerSpec): Promise<AppContainer> {
    return this.register(spec);
  }

  private async register(spec: ContainerSpec): Promise<ContainerLifecycle> {
    const hashes = versionHashes(spec);
    const existing = this.apps.get(spec.appId);
    if (existing) {
      await existing.update(spec, hashes);
      return existing;
    }
    const app = new ContainerLifecycle(spec, hashes, this.shared);
    this.apps.set(spec.appId, app);
    return app;
  }

  /**
   * Replace an app with a new version without a gap (dev mode): the new version is built and started while the old
   * one keeps serving; once it is ready it takes over. When it fails, the old one keeps serving; the error is thrown.
   */
  replace(spec: ContainerSpec): Promise<AppContainer> {
    return replaceApp(this.registry, spec);
  }

  /** Bring in a new version before it takes over (`app reload`); says what changed. See replacement.ts. */
  upgrade(spec: ContainerSpec): Promise<Upgrade> {
    return upgradeApp(this.registry, spec);
  }

  /** What `upgrade(spec)` would do, found without building, starting or removing anything (a dry run). */
  preview(spec: ContainerSpec): Promise<UpgradePreview> {
    return previewUpgrade(this.registry, spec);
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
    const starting = [...this.apps.values()].filter((a) => a.state === "building" || a.state === "starting");
    await Promise.all(starting.map((a) => a.abandon().catch(() => {})));
  }

  /** Stop every running app (e.g. `server stop --stop-apps`). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.apps.values()].map((a) => a.stop("server stopping").catch(() => {})));
  }

  /** At boot: adopt or remember this manager's containers of known apps, remove what no known app needs (cleanup.ts). */
  reconcile(): Promise<Reconciled> {
    return reconcileApps(this.engine, this.scope, (appId) => this.apps.get(appId), (appId, what, name) => this.shared.emit({ type: "removed", appId, what, name }));
  }
}
