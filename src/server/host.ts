/**
 * The host of one app or many: keeps the registry, the container lifecycle and the proxy's app table in step.
 * `serve` and `check` give it an in-memory registry with their one app; `server start` the stored one (start.ts).
 *
 * Every app in the store is loaded (runtime → AppConfig), its container registered with the lifecycle manager,
 * and mounted in the proxy. An app that fails to load or needs approval stays mounted with its error, so
 * requests get a 500 that says what is wrong and how to fix it. Operations are the admin API's (types.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { LABEL_APP, type AppContainer, type AppContainers } from "../containers/index.ts";
import {
  AppPathError,
  auditAppIsolated,
  compileAppGlob,
  describePermission,
  describeReach,
  EMPTY_METADATA,
  formatAppLocation,
  loadAppIsolated,
  locationsOverlap,
  materializeSource,
  parseAppLocation,
  reachDiff,
  RuntimeError,
  SourceError,
  uncoveredReach,
  type AppConfig,
  type AppLocation,
  type AppMetadata,
  type AppRecord,
  type AppStore,
  type Approval,
  type EvalLimits,
  type LoadOptions,
} from "../runtime/index.ts";
import type { AppTable } from "../proxy/index.ts";
import { NO_CONTAINER, ownUpstream, recordingActivity } from "./upstreams.ts";
import { watchSource, type SourceWatcher } from "./watch.ts";
import type { ActivityTracker } from "./activity.ts";
import { sweepAppLeftovers } from "./leftovers.ts";
import { followRegistry, publishActivity } from "./registry-sync.ts";
import type { StatusSource } from "./status-page.ts";
import { displayState, statusDetail, statusRow, type AppView } from "./status-view.ts";
import { serverIdentity, type HomePaths } from "./home.ts";
import { applyMetadataUpdate, describeSettingsChange, type MetadataUpdate } from "./metadata-update.ts";
import {
  HostError,
  type AppHostOperations,
  type AppStatus,
  type CreateAppRequest,
  type DryRunOption,
  type ParamStatus,
  type ReloadOutcome,
} from "./types.ts";

const NOTHING_APPROVED: Approval = Object.freeze({ loads: [], permissions: [] });

interface LoadedApp {
  record: AppRecord;
  config: AppConfig | null;
  container: AppContainer | null;
  error: string;
  /** How to fix `error`. */
  fix: string;
  needsApproval: boolean;
  /** What failed to load or start, as thrown (a one-app host without a registry refuses to start on it). */
  cause: unknown;
  /** Epoch ms of the last request, 0 when none since the server started. */
  lastRequestMs: number;
  /** Requests since the host started. */
  requests: number;
  watcher?: SourceWatcher;
}

/** An app as the host has mounted it, for a caller that serves one (serve, check). */
export type MountedApp = Readonly<Pick<LoadedApp, "record" | "config" | "container" | "error" | "fix" | "needsApproval" | "cause" | "requests">>;

/** A dev-mode reload: the new version serves, or the error that kept the previous one serving. */
export type DevReloadOutcome = { ok: true } | { ok: false; error: string };

export interface AppHostOptions {
  store: AppStore;
  /** The container manager, connected on first use: a host whose apps have no container needs no engine. */
  containers: () => Promise<AppContainers>;
  table: AppTable;
  paths: HomePaths;
  defaultDomain: string;
  /** Server-wide app-config defaults (the config file's [app_config]); an app's --conf wins. */
  confDefaults: Readonly<Record<string, string>>;
  /** The URL apps are served under, for messages ("http://localhost:25222"). */
  baseUrl: (domain: string) => string;
  onShutdown: () => Promise<void>;
  log: (line: string) => void;
  /** Time and memory budgets of config evaluation (defaults: the runtime's). */
  evalLimits?: Partial<EvalLimits>;
  /** What each app's container did over time (fed with the containers' events), for the status page and list. */
  activity?: ActivityTracker;
  /**
   * "stored": an app serves with the approval in its record (a registry's apps). "audit-all": whatever an app asks
   * for is approved (`serve --approve`).
   */
  approval?: "stored" | "audit-all";
  /** The command that approves the app at `location`, named in "needs approval" answers. */
  approveCommand?: (location: string) => string;
  /** How long boot waits for app configs before serving the apps that are loaded (default 1 s). */
  bootWaitMs?: number;
  /** Remove copies of sources under `paths.appsDir` that no stored app uses, at boot (a registry's host). */
  sweepSources?: boolean;
  /** Dev-mode reloads, for the caller to report; without it they are logged. */
  onDevReload?: (location: string, outcome: DevReloadOutcome) => void;
}

/** How long boot waits for app configs before serving the apps that are loaded. */
const BOOT_LOAD_WAIT_MS = 1000;

function newAppId(): string {
  return `app_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
}

function messageOf(err: unknown): string {
  if (err instanceof RuntimeError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The message, the fix and the log lines that explain a failure, for a person reading the CLI's output. */
function explain(err: unknown): string {
  // A Starlark error's detail has the source line, a caret and the backtrace.
  let text = err instanceof RuntimeError && err.detail ? err.detail.trimEnd() : messageOf(err);
  const fix = err instanceof RuntimeError ? err.fix : undefined;
  if (fix) text += `\nfix: ${fix}`;
  const tail = (err as { logTail?: string } | null)?.logTail?.trimEnd();
  if (tail) text += `\nlast lines:\n${tail.split("\n").slice(-20).join("\n")}`;
  return text;
}

/** What people see of an app's config, to tell whether a reload changed it (the container is compared by hash). */
function configSummary(config: AppConfig | null): string {
  if (!config) return "";
  const { name, routes, params, permissions, settings } = config;
  return JSON.stringify({ name, routes, params, permissions, settings });
}

/** Refuses a location that is taken, or that overlaps an app in its domain (two apps may not share a prefix). */
function refuseClash(existing: readonly AppRecord[], where: AppLocation): void {
  const clash = existing.find((e) => locationsOverlap(e, where));
  if (!clash) return;
  const at = formatAppLocation(where);
  if (clash.domain === where.domain && clash.path === where.path) {
    throw new HostError(
      "conflict",
      `an app already exists at ${at}; to pick up changes to its source run \`clace-lite app reload ${at}\`, to change a param \`clace-lite param update NAME VALUE ${at}\`, its spec or options \`clace-lite app update-metadata ...\`, or to replace it \`clace-lite app delete ${at}\` first`,
    );
  }
  throw new HostError(
    "conflict",
    `${at} overlaps the app at ${formatAppLocation(clash)}; two apps may not share a path prefix in one domain: choose another path, or delete that app first`,
  );
}

/** What a dry run says of an app's container. */
function describeContainer(config: AppConfig): string[] {
  const c = config.container;
  if (!c) return ["no container"];
  const image = c.image.kind === "build" ? `an image built from its ${c.image.containerFile}` : `the image ${c.image.ref}`;
  return [`container: ${image}, port ${c.port}, started on the first request`];
}

/** Why a new version that needs approval is refused, and what to run, per command. */
function approvalNeeded(location: string, why: string, options: SwitchOptions): string {
  const dry = options.dryRun;
  switch (options.kind) {
    case "reload":
      return `the new version ${dry ? "would need" : "needs"} approval, so the previous one ${dry ? "would keep" : "keeps"} serving.\n${why}\nreview the change, then run: clace-lite app reload --approve ${location}`;
    case "approve":
      return `the waiting change still does not load as approved:\n${why}`;
    case "update":
      return (
        `the change ${dry ? "would need" : "needs"} approval, so the app keeps its current settings and version.\n${why}\n` +
        `review it, then run: clace-lite app approve ${location} (${dry ? "it would apply" : "it applies"} the waiting change), or repeat the command with --approve`
      );
  }
}

/** The pending change as settings of the record (what `app approve` applies). */
function withPending(record: AppRecord): AppRecord {
  const pending = record.metadata.pending;
  if (!pending) return record;
  const { spec, conf, copts, cargs, cvols } = pending;
  return { ...record, spec, metadata: { ...record.metadata, conf, copts, cargs, cvols, pending: null } };
}

/** A reload's new version was refused: the message says why and what to run. */
class ReloadRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReloadRefused";
  }
}

/** Which command brings an app to a new version: its messages and what a refusal keeps. */
type SwitchKind = "reload" | "update" | "approve";

interface SwitchOptions {
  /** Approve what the new version asks for (--approve). */
  approve: boolean;
  dryRun: boolean;
  kind: SwitchKind;
}

/** The approval as lines for people ("load proxy.in", a permission). */
function approvalLines(approved: AppMetadata["approved"] | undefined): string[] {
  return [...(approved?.loads ?? []).map((l) => `load ${l}`), ...(approved?.permissions ?? []).map(describePermission)];
}

/** What `app approve` would add to or take from an approval. */
function approvalPlan(before: AppMetadata, after: AppMetadata): string[] {
  const was = new Set(approvalLines(before.approved));
  const will = approvalLines(after.approved);
  const plan = [
    ...will.filter((l) => !was.has(l)).map((l) => `approve ${l}`),
    ...[...was].filter((l) => !will.includes(l)).map((l) => `no longer approve ${l}`),
    ...reachDiff(before.approved?.reach, after.approved?.reach ?? []).map((d) => `reach ${d}`),
  ];
  return plan.length ? plan : ["nothing new to approve: the approval would stay as it is"];
}

export class AppHost implements AppHostOperations {
  private readonly apps = new Map<string, LoadedApp>();
  /** The registry version (updatedAt) of each app this server has mounted or is mounting. */
  private readonly versions = new Map<string, string>();
  private following: { close(): Promise<void> } | undefined;
  /** Container removals of apps deleted through another server, finished before this host stops. */
  private readonly removals = new Set<Promise<void>>();
  private stopPublishing: (() => void) | undefined;
  /** The container manager once connected; undefined while no app has needed one. */
  private manager: AppContainers | undefined;
  private connecting: Promise<AppContainers> | undefined;

  constructor(private readonly opts: AppHostOptions) {}

  /** The container manager, connected on first use (a failed connection is tried again next time). */
  containers(): Promise<AppContainers> {
    this.connecting ??= this.opts.containers().then(
      (manager) => (this.manager = manager),
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return this.connecting;
  }

  /**
   * Loads every stored app, then reconciles containers (adopting running ones) and starts watching events. Configs
   * are evaluated in workers side by side. Boot waits for them a short while only: an app whose config is still
   * being evaluated then answers "still loading" until it is mounted, and the rest of boot (reconcile, events)
   * follows once every load is done, so one slow app.star never holds the other apps' requests.
   */
  async boot(): Promise<void> {
    const records = await this.opts.store.list();
    if (this.opts.sweepSources ?? true) {
      for (const line of sweepAppLeftovers(this.opts.paths.appsDir, new Map(records.map((r) => [r.id, r.sourceDir])))) this.opts.log(line);
    }
    const loads = Promise.all(records.map((record) => this.mountRecord(record)));
    const waitMs = this.opts.bootWaitMs ?? BOOT_LOAD_WAIT_MS;
    const slow = waitMs === Infinity ? (await loads, false) : await Promise.race([loads.then(() => false), Bun.sleep(waitMs).then(() => true)]);
    if (!slow) return this.finishBoot();
    for (const record of records) if (!this.apps.has(record.id)) this.mountLoading(record);
    this.opts.log("some app configs are still being evaluated; those apps are served once loaded");
    void loads.then(() => this.finishBoot()).catch((err) => this.opts.log(`boot failed: ${messageOf(err)}`));
  }

  /** An app whose config is still being evaluated at boot: requests get a 500 saying so, until it is mounted. */
  private mountLoading(record: AppRecord): void {
    this.opts.table.replace({
      domain: record.domain,
      path: record.path,
      name: formatAppLocation(record),
      routes: [],
      upstream: NO_CONTAINER,
      loadError: { message: "the app's config is still being evaluated (the server has just started)", fix: "retry in a few seconds" },
    });
  }

  private async finishBoot(): Promise<void> {
    // Not connected: no app has a container, and nothing of this host's can be running.
    const containers = this.manager;
    if (containers) {
      const result = await containers.reconcile();
      if (result.adopted.length) this.opts.log(`adopted running containers of ${result.adopted.length} app(s)`);
      if (result.removedContainers.length) this.opts.log(`removed ${result.removedContainers.length} stale container(s)`);
      await containers.start();
    }
    if (this.opts.store.sharedOwner !== undefined) this.following = await this.followSharedRegistry();
    if (this.opts.store.activity !== undefined) {
      this.stopPublishing = publishActivity(this.opts.store.activity, serverIdentity(this.opts.paths), () => this.requestActivity(), this.opts.log);
    }
  }

  /** When each app last had a request here: now while one is in flight or a stream is open. */
  private *requestActivity(): Iterable<[string, number]> {
    const now = Date.now();
    for (const [id, app] of this.apps) {
      const busy = app.container !== null && (app.container.activity.inflight > 0 || app.container.activity.streams > 0);
      yield [id, busy ? now : app.lastRequestMs];
    }
  }

  /** Several servers on one registry: what is created, changed or deleted through another one is followed here. */
  private followSharedRegistry(): Promise<{ close(): Promise<void> }> {
    return followRegistry(
      this.opts.store,
      {
        versionOf: (id) => this.versions.get(id),
        knownIds: () => [...this.apps.keys()],
        remount: async (record) => {
          const previous = this.apps.get(record.id);
          const location = formatAppLocation(record);
          try {
            // A running app keeps serving until the new version (started by the server that reloaded it) is adopted.
            await this.mountRecord(record, { replace: previous?.container?.state === "ready" });
            this.opts.log(`${location}: ${previous ? "changed" : "created"} through another server, ${previous ? "reloaded" : "mounted"}`);
          } catch (err) {
            this.opts.log(`${location}: changed through another server, but the new version failed here; still serving the previous one: ${messageOf(err)}`);
          }
        },
        unmount: async (id) => {
          const app = this.apps.get(id);
          this.versions.delete(id);
          if (!app) return;
          app.watcher?.close();
          this.opts.table.remove(app.record.domain, app.record.path);
          this.apps.delete(id);
          rmSync(join(this.opts.paths.appsDir, id), { recursive: true, force: true });
          this.opts.log(`${formatAppLocation(app.record)}: deleted through another server`);
          // The deleting server removed the containers first; one started here meanwhile goes too. Not awaited
          // here: the changes that follow in the queue need not wait for a busy engine.
          const removal = this.manager?.remove(id).catch((err) => this.opts.log(`${formatAppLocation(app.record)}: removing its containers: ${messageOf(err)}`));
          if (removal) {
            this.removals.add(removal);
            void removal.finally(() => this.removals.delete(removal));
          }
        },
      },
      this.opts.log,
    );
  }

  // ---- loading and mounting ----

  /** What the runtime needs to load a stored app (approval aside). */
  private loadOptions(record: AppRecord): LoadOptions {
    const m = record.metadata;
    return {
      source: record.sourceDir,
      spec: record.spec || undefined,
      params: m.params,
      conf: { ...this.opts.confDefaults, ...m.conf },
      cargs: m.cargs,
      cvols: m.cvols,
      copts: m.copts,
      domain: record.domain,
      path: record.path,
      appId: record.id,
      approveCommand: (this.opts.approveCommand ?? ((location) => `clace-lite app approve ${location}`))(formatAppLocation(record)),
      limits: this.opts.evalLimits,
      dev: record.dev,
    };
  }

  /** Evaluates the app's config in a worker: a runaway app.star never stalls the requests this thread serves. */
  private async loadConfig(record: AppRecord, approved: Approval | "all-audited"): Promise<AppConfig> {
    const config = await loadAppIsolated({ ...this.loadOptions(record), approved });
    for (const w of config.warnings) this.opts.log(`${formatAppLocation(record)}: warning: ${w}`);
    return config;
  }

  /** What the app asks for, stored as its approval (--approve, `app approve`). */
  private async approveAudited(record: AppRecord): Promise<AppRecord["metadata"]> {
    const audit = await auditAppIsolated(this.loadOptions(record));
    return { ...record.metadata, approved: { loads: [...audit.loads], permissions: [...audit.permissions], reach: [...audit.reach] } };
  }

  /**
   * Why a new version of an app may not replace the serving one without --approve: its plugins, permissions or
   * container reach differ from the approval. Other load errors are not a refusal (mounting reports them).
   */
  private async approvalRefusal(record: AppRecord): Promise<string | null> {
    try {
      await this.loadConfig(record, record.metadata.approved ?? NOTHING_APPROVED);
      return null;
    } catch (err) {
      return err instanceof RuntimeError && err.kind === "not-approved" ? err.message : null;
    }
  }

  /** Loads and mounts an app; with `replace`, a running container keeps serving until the new version is ready. */
  private async mountRecord(record: AppRecord, options: { replace?: boolean } = {}): Promise<LoadedApp> {
    this.versions.set(record.id, record.updatedAt);
    const previous = this.apps.get(record.id);
    const loaded: LoadedApp = {
      record,
      config: null,
      container: null,
      error: "",
      fix: "",
      needsApproval: false,
      cause: undefined,
      lastRequestMs: previous?.lastRequestMs ?? 0,
      requests: previous?.requests ?? 0,
      watcher: previous?.watcher,
    };
    try {
      const approved = this.opts.approval === "audit-all" ? "all-audited" : (record.metadata.approved ?? NOTHING_APPROVED);
      const config = await this.loadConfig(record, approved);
      loaded.config = config;
      if (config.container) {
        const containers = await this.containers();
        loaded.container = options.replace ? await containers.replace(config.container) : await containers.add(config.container);
      }
    } catch (err) {
      // A dev reload that fails leaves the running version mounted; the watcher reports the error.
      if (options.replace && previous?.config) throw err;
      loaded.error = messageOf(err);
      loaded.cause = err;
      loaded.fix = err instanceof RuntimeError && err.fix ? err.fix : `fix the app, then run: clace-lite app reload ${formatAppLocation(record)}`;
      loaded.needsApproval = err instanceof RuntimeError && err.kind === "not-approved";
    }
    this.apps.set(record.id, loaded);
    this.opts.table.replace({
      domain: record.domain,
      path: record.path,
      name: loaded.config?.name ?? formatAppLocation(record),
      routes: loaded.config?.routes ?? [],
      responseHeaderTimeout: loaded.config?.proxy.responseHeaderTimeoutSecs,
      upstreamPool: loaded.config?.proxy,
      upstream: recordingActivity(
        ownUpstream(loaded.container, loaded.config),
        () => {
          // A number per request; formatted only when someone lists the apps.
          loaded.lastRequestMs = Date.now();
          loaded.requests++;
        },
        () => loaded.container?.state ?? (loaded.error ? "error" : "fixed"),
      ),
      loadError: loaded.error ? { message: loaded.error, fix: loaded.fix } : undefined,
    });
    if (record.dev && record.sourceDir && !loaded.watcher) loaded.watcher = this.watchDev(record);
    return loaded;
  }

  /** Dev mode: reload when the source changes, and start the new version at once. */
  private watchDev(record: AppRecord): SourceWatcher {
    return watchSource(record.sourceDir!, async () => {
      const current = await this.opts.store.get(record.id);
      if (!current) return;
      const location = formatAppLocation(current);
      const report = this.opts.onDevReload;
      if (!report) this.opts.log(`${location}: source changed, reloading`);
      try {
        const app = await this.mountRecord(current, { replace: true });
        await app.container?.ensureReady();
        if (report) report(location, { ok: true });
        else this.opts.log(`${location}: reloaded`);
      } catch (err) {
        if (report) report(location, { ok: false, error: err instanceof RuntimeError ? err.render() : messageOf(err) });
        else this.opts.log(`${location}: reload failed, still serving the previous version: ${messageOf(err)}`);
      }
    });
  }

  /** The app as the status page shows it. */
  private view(app: LoadedApp): AppView {
    const { record } = app;
    return {
      location: formatAppLocation(record),
      url: `${this.opts.baseUrl(record.domain)}${record.path === "/" ? "/" : record.path + "/"}`,
      spec: record.spec,
      config: app.config,
      loadError: app.error ? { message: app.error, needsApproval: app.needsApproval } : null,
      container: app.container,
      mounted: this.opts.table.get(record.domain, record.path),
      activity: app.container ? this.opts.activity?.get(app.container.spec.appId) : undefined,
    };
  }

  /** The status page's data: every app, one app's detail, and state changes by app location. */
  statusSource(): StatusSource {
    return {
      rows: async () => [...this.apps.values()].map((app) => statusRow(this.view(app))),
      detail: async (name) => {
        const app = [...this.apps.values()].find((a) => formatAppLocation(a.record) === name);
        return app === undefined ? undefined : statusDetail(this.view(app));
      },
      subscribe: (listener) =>
        this.opts.activity?.subscribe((change) => {
          const app = [...this.apps.values()].find((a) => a.container?.spec.appId === change.appId);
          if (app !== undefined) listener({ name: formatAppLocation(app.record), state: displayState(change.state), reason: change.reason });
        }) ?? (() => {}),
    };
  }

  private status(app: LoadedApp): AppStatus {
    const row = statusRow(this.view(app));
    return {
      ...this.recordStatus(app.record),
      id: app.record.id,
      state: app.container ? app.container.state : "-",
      lastRequest: app.lastRequestMs ? new Date(app.lastRequestMs).toISOString() : "",
      error: app.error,
      needsApproval: app.needsApproval,
      requests: row.requests,
      errors: row.errors,
      lastColdStartMs: row.lastColdStartMs,
      pending: app.record.metadata.pending?.changes ?? [],
    };
  }

  /** A dry run's answer for an app that would be created: no id, not mounted, nothing running. */
  private plannedStatus(record: AppRecord, plan: string[], needsApproval: boolean): AppStatus {
    return { ...this.recordStatus(record), id: "", state: "-", lastRequest: "", error: "", needsApproval, requests: 0, errors: 0, lastColdStartMs: 0, pending: [], plan };
  }

  /** What an app's status says of its stored record. */
  private recordStatus(record: AppRecord) {
    const { conf, copts, cargs, cvols } = record.metadata;
    return {
      reach: (record.metadata.approved?.reach ?? []).map(describeReach),
      location: formatAppLocation(record),
      domain: record.domain,
      path: record.path,
      source: record.source,
      spec: record.spec,
      dev: record.dev,
      commit: record.metadata.commit,
      url: `${this.opts.baseUrl(record.domain)}${record.path === "/" ? "/" : record.path + "/"}`,
      metadata: { conf, copts, cargs, cvols },
    };
  }

  private location(text: string): AppLocation {
    try {
      return parseAppLocation(text, this.opts.defaultDomain);
    } catch (err) {
      if (err instanceof AppPathError) throw new HostError("usage", err.message);
      throw err;
    }
  }

  private matching(glob: string): LoadedApp[] {
    const matches = compileAppGlob(glob, this.opts.defaultDomain);
    return [...this.apps.values()].filter((app) => matches(app.record)).sort((a, b) => formatAppLocation(a.record).localeCompare(formatAppLocation(b.record)));
  }

  private one(target: string): LoadedApp {
    const where = this.location(target);
    const app = [...this.apps.values()].find((a) => a.record.domain === where.domain && a.record.path === where.path);
    if (!app) throw new HostError("not-found", `no app at ${formatAppLocation(where)}; see: clace-lite app list`);
    return app;
  }

  // ---- operations ----

  async list(glob: string): Promise<AppStatus[]> {
    return this.matching(glob).map((app) => this.status(app));
  }

  async create(request: CreateAppRequest): Promise<AppStatus> {
    const where = this.location(request.location);
    if (request.dryRun) return this.planCreate(request, where);
    const id = newAppId();
    const storeDir = join(this.opts.paths.appsDir, id, "source");
    let materialized;
    try {
      materialized = await materializeSource({ source: request.source, branch: request.branch, commit: request.commit, dev: request.dev }, storeDir);
    } catch (err) {
      rmSync(join(this.opts.paths.appsDir, id), { recursive: true, force: true });
      if (err instanceof SourceError) throw new HostError("usage", err.message);
      throw err;
    }
    const draft = this.createDraft(request, where, id, materialized);
    try {
      // A config that does not load at all is refused at create, as Clace does; one that only needs approval is kept.
      if (request.approve) draft.metadata = await this.approveAudited(draft);
      await this.loadConfig(draft, "all-audited");
    } catch (err) {
      rmSync(join(this.opts.paths.appsDir, id), { recursive: true, force: true });
      throw new HostError("usage", explain(err));
    }
    let record: AppRecord;
    try {
      record = await this.opts.store.insert(draft, (existing) => refuseClash(existing, where));
    } catch (err) {
      rmSync(join(this.opts.paths.appsDir, id), { recursive: true, force: true });
      throw err;
    }
    const loaded = await this.mountRecord(record);
    this.opts.log(`${formatAppLocation(record)}: created from ${record.source}${record.spec ? ` (spec ${record.spec})` : ""}${loaded.needsApproval ? "; needs approval" : ""}`);
    return this.status(loaded);
  }

  private createDraft(request: CreateAppRequest, where: AppLocation, id: string, materialized: { dir: string | null; commit: string }): AppRecord {
    return {
      id,
      domain: where.domain,
      path: where.path,
      source: request.source,
      sourceDir: materialized.dir,
      spec: request.spec ?? "",
      dev: request.dev ?? false,
      metadata: {
        ...EMPTY_METADATA,
        params: request.params ?? {},
        conf: request.conf ?? {},
        copts: request.copts ?? {},
        cargs: request.cargs ?? {},
        cvols: request.cvols ?? [],
        branch: request.branch ?? "",
        commit: materialized.commit,
      },
      createdAt: "",
      updatedAt: "",
    };
  }

  /**
   * `app create --dry-run`: the same checks as a create (the location is free, the source can be read, the config
   * loads with its options), on a copy of the source in a temporary folder that is removed after; nothing is stored.
   */
  private async planCreate(request: CreateAppRequest, where: AppLocation): Promise<AppStatus> {
    refuseClash(await this.opts.store.list(), where);
    const scratch = mkdtempSync(join(tmpdir(), "clace-lite-dry-run-"));
    try {
      let materialized;
      try {
        materialized = await materializeSource({ source: request.source, branch: request.branch, commit: request.commit, dev: request.dev }, join(scratch, "source"));
      } catch (err) {
        if (err instanceof SourceError) throw new HostError("usage", err.message);
        throw err;
      }
      const draft = this.createDraft(request, where, "app_dry_run", materialized);
      let config: AppConfig;
      let audited: AppMetadata;
      try {
        // What --approve approves; the plan lists the reach either way.
        audited = await this.approveAudited(draft);
        if (request.approve) draft.metadata = audited;
        config = await this.loadConfig(draft, "all-audited");
      } catch (err) {
        throw new HostError("usage", explain(err));
      }
      const needsApproval = (await this.approvalRefusal(draft)) !== null;
      const at = formatAppLocation(where);
      const reach = (audited.approved?.reach ?? []).map(describeReach);
      const plan = [
        `create ${at} from ${request.source}${draft.spec ? ` (spec ${draft.spec})` : ""}${request.dev ? ", dev mode" : ""}${materialized.commit ? ` at commit ${materialized.commit.slice(0, 12)}` : ""}`,
        ...describeContainer(config),
        ...(reach.length ? reach.map((r) => `container reach: ${r}`) : config.container ? ["container reach: its own image only"] : []),
        needsApproval
          ? `it would need approval before it serves (answers 500 until then): run with --approve, or later: clace-lite app approve ${at}`
          : "approved: it would serve at once",
      ];
      return this.plannedStatus(draft, plan, needsApproval);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  async delete(glob: string, options: DryRunOption = {}): Promise<AppStatus[]> {
    const apps = this.matching(glob);
    if (options.dryRun) return Promise.all(apps.map(async (app) => ({ ...this.status(app), plan: await this.planDelete(app) })));
    for (const app of apps) {
      app.watcher?.close();
      this.opts.table.remove(app.record.domain, app.record.path);
      await this.manager?.remove(app.record.id);
      await this.opts.store.delete(app.record.id);
      this.apps.delete(app.record.id);
      this.versions.delete(app.record.id);
      rmSync(join(this.opts.paths.appsDir, app.record.id), { recursive: true, force: true });
      this.opts.log(`${formatAppLocation(app.record)}: deleted, with its containers and images`);
    }
    return apps.map((app) => this.status(app));
  }

  /** What `app delete` would remove of an app: the engine's own list of its containers and images, its files. */
  private async planDelete(app: LoadedApp): Promise<string[]> {
    const containers = await this.containers();
    const engine = containers.engine;
    const scope = [...containers.scope, `${LABEL_APP}=${app.record.id}`];
    const plan = [`delete ${formatAppLocation(app.record)} (id ${app.record.id}) from the registry and stop serving it`];
    for (const c of await engine.listContainers(scope, true)) plan.push(`remove container ${c.name} (${c.state})`);
    for (const img of await engine.listImages(scope)) plan.push(`remove image ${img.repoTags[0] ?? img.id}`);
    for (const v of await engine.listVolumes(scope)) plan.push(`keep volume ${v.name} (app delete leaves volumes and their data)`);
    plan.push(`remove ${join(this.opts.paths.appsDir, app.record.id)} (its copy of the source)`);
    return plan;
  }

  async approve(glob: string, options: DryRunOption = {}): Promise<AppStatus[]> {
    const result: AppStatus[] = [];
    for (const app of this.matching(glob)) {
      const location = formatAppLocation(app.record);
      if (app.record.metadata.pending) {
        // The waiting metadata change is approved and applied as a reload: built first, switched once ready.
        const changes = [...app.record.metadata.pending.changes];
        const status = await this.switchOrRefuse(app, withPending(app.record), changes, { approve: true, dryRun: options.dryRun ?? false, kind: "approve" });
        const approved = this.apps.get(app.record.id)?.record.metadata.approved;
        result.push({ ...status, approvals: options.dryRun ? undefined : approvalLines(approved) });
        continue;
      }
      let metadata;
      try {
        metadata = await this.approveAudited(app.record);
      } catch (err) {
        throw new HostError("failed", `${location}: ${messageOf(err)}`);
      }
      if (options.dryRun) {
        result.push({ ...this.status(app), plan: approvalPlan(app.record.metadata, metadata) });
        continue;
      }
      const record = await this.opts.store.update(app.record.id, { metadata });
      result.push({ ...this.status(await this.mountRecord(record)), approvals: approvalLines(metadata.approved) });
      this.opts.log(`${location}: approved ${metadata.approved?.loads.join(", ") || "no plugins"} and ${metadata.approved?.permissions.length ?? 0} permission(s)`);
    }
    return result;
  }

  async reload(glob: string, options: { approve: boolean } & DryRunOption): Promise<AppStatus[]> {
    const result: AppStatus[] = [];
    for (const app of this.matching(glob)) result.push(await this.reloadOne(app, options.approve, options.dryRun ?? false));
    return result;
  }

  /**
   * Re-reads the app's source into a fresh folder (the running version's files stay as they were until the
   * switch), then builds and switches as switchVersion says. A dry run reads the source into a temporary folder.
   */
  private async reloadOne(app: LoadedApp, approve: boolean, dryRun: boolean): Promise<AppStatus> {
    const appDir = join(this.opts.paths.appsDir, app.record.id);
    const changes: string[] = [];
    let staged: string | undefined;
    try {
      let draft = app.record;
      if (draft.source !== "-" && !draft.dev) {
        staged = dryRun ? mkdtempSync(join(tmpdir(), "clace-lite-dry-run-")) : join(appDir, `source-${Date.now().toString(36)}`);
        let materialized;
        try {
          materialized = await materializeSource({ source: draft.source, branch: draft.metadata.branch || undefined }, dryRun ? join(staged, "source") : staged);
        } catch (err) {
          throw new ReloadRefused(`cannot read the source ${draft.source}: ${messageOf(err)}`);
        }
        if (materialized.commit && materialized.commit !== draft.metadata.commit) {
          changes.push(`commit ${draft.metadata.commit.slice(0, 12) || "-"} -> ${materialized.commit.slice(0, 12)}`);
        }
        draft = { ...draft, sourceDir: materialized.dir, metadata: { ...draft.metadata, commit: materialized.commit } };
      }
      return await this.switchVersion(app, draft, changes, { approve, dryRun, kind: "reload" });
    } catch (err) {
      return this.refused(app, changes, err, dryRun, "reload");
    } finally {
      // A checkout the app did not switch to is read by nothing.
      const now = (await this.opts.store.get(app.record.id))?.sourceDir ?? "";
      if (staged && now !== staged && !now.startsWith(staged + sep)) rmSync(staged, { recursive: true, force: true });
    }
  }

  /** switchVersion, with a refusal turned into the outcome that says why (other errors are thrown). */
  private async switchOrRefuse(app: LoadedApp, draft: AppRecord, changes: string[], options: SwitchOptions): Promise<AppStatus> {
    try {
      return await this.switchVersion(app, draft, changes, options);
    } catch (err) {
      return this.refused(app, changes, err, options.dryRun, options.kind);
    }
  }

  /** The outcome of a new version that was refused; the previous version keeps serving. */
  private refused(app: LoadedApp, changes: string[], err: unknown, dryRun: boolean, kind: SwitchKind): AppStatus {
    if (!(err instanceof ReloadRefused)) throw err;
    const outcome: ReloadOutcome = { ok: false, changes, error: err.message };
    if (!dryRun) this.opts.log(`${formatAppLocation(app.record)}: ${kind} refused, still serving the previous version: ${err.message}`);
    return { ...this.status(this.apps.get(app.record.id) ?? app), reload: outcome, ...(dryRun ? { plan: [...changes] } : {}) };
  }

  /**
   * Brings an app to a new version (a reload, a metadata change, an approved waiting change): loads the draft with
   * its approval, builds and starts it beside the serving version and switches only when it is ready; the record is
   * stored only then, so a failure leaves the old version serving and the old record stored. A new version that
   * needs approval is refused (ReloadRefused). A dry run stops after the checks, with what the switch would do.
   */
  private async switchVersion(app: LoadedApp, draft: AppRecord, changes: string[], options: SwitchOptions): Promise<AppStatus> {
    const location = formatAppLocation(app.record);
    const { approve, dryRun, kind } = options;
    if (approve) {
      const before = JSON.stringify(draft.metadata.approved);
      try {
        draft = { ...draft, metadata: await this.approveAudited(draft) };
      } catch (err) {
        throw new ReloadRefused(explain(err));
      }
      if (JSON.stringify(draft.metadata.approved) !== before) changes.push(dryRun ? "would approve new permissions" : "new permissions approved");
    }
    let config: AppConfig;
    try {
      config = await this.loadConfig(draft, draft.metadata.approved ?? NOTHING_APPROVED);
    } catch (err) {
      if (!(err instanceof RuntimeError && err.kind === "not-approved")) throw new ReloadRefused(explain(err));
      // A metadata change that only takes reach away needs no approval: the approval narrows with it.
      const narrowed = kind === "update" ? await this.narrowedApproval(draft) : null;
      if (!narrowed) {
        if (kind === "update" && !dryRun) await this.keepWaiting(app, draft);
        throw new ReloadRefused(approvalNeeded(location, err.message, options));
      }
      changes.push(...reachDiff(draft.metadata.approved?.reach, narrowed.draft.metadata.approved?.reach ?? []).map((d) => `approval narrowed: ${d}`));
      ({ draft, config } = narrowed);
    }
    changes.push(configSummary(config) === configSummary(app.config) ? "config unchanged" : "config changed");
    if (dryRun) return { ...this.status(app), reload: { ok: true, changes }, plan: [...changes, ...(await this.planSwitch(config))] };
    if (config.container) {
      this.opts.log(`${location}: ${kind}: preparing the new version`);
      const upgrade = await (await this.containers()).upgrade(config.container).catch((err: unknown) => {
        throw new ReloadRefused(`the new version did not come up: ${explain(err)}`);
      });
      if (config.container.image.kind === "build") changes.push(upgrade.imageBuilt ? "image rebuilt" : "image unchanged");
      if (upgrade.restarted) changes.push("running container replaced by the new version");
      else if (upgrade.containerChanged) changes.push("new container on the next request");
    }
    const appDir = join(this.opts.paths.appsDir, app.record.id);
    const previousDir = app.record.sourceDir;
    const record = await this.opts.store.update(app.record.id, { sourceDir: draft.sourceDir, spec: draft.spec, metadata: draft.metadata });
    const loaded = await this.mountRecord(record);
    // The previous checkout is no longer read by anything once the new version serves.
    const previousRoot = previousDir ? relative(appDir, previousDir).split(sep)[0] : "";
    if (previousRoot && !previousRoot.startsWith("..") && previousDir !== record.sourceDir) rmSync(join(appDir, previousRoot), { recursive: true, force: true });
    // Image apps: pull again, and recreate the container when the tag now names another image.
    if (kind === "reload" && loaded.container?.spec.image.kind === "image") {
      try {
        changes.push((await loaded.container.refresh()) ? "image re-pulled: new image, the container is recreated" : "image re-pulled: unchanged");
      } catch (err) {
        throw new ReloadRefused(`pulling ${loaded.container.spec.image.ref} again failed (the current image keeps serving): ${explain(err)}`);
      }
    }
    this.opts.log(`${location}: ${kind === "reload" ? "reloaded" : kind === "update" ? "updated" : "approved and applied the waiting change"} (${changes.join(", ")})`);
    return { ...this.status(loaded), reload: { ok: true, changes } };
  }

  /** Stores a refused metadata change as the app's waiting change (replacing any), for `app approve` to apply. */
  private async keepWaiting(app: LoadedApp, draft: AppRecord): Promise<void> {
    const { spec, metadata } = draft;
    const pending = { spec, conf: metadata.conf, copts: metadata.copts, cargs: metadata.cargs, cvols: metadata.cvols, changes: describeSettingsChange(app.record, draft) };
    const record = await this.opts.store.update(app.record.id, { metadata: { ...app.record.metadata, pending } });
    const loaded = this.apps.get(app.record.id);
    if (loaded) loaded.record = record;
  }

  /**
   * A draft whose reach only shrank (a volume or a widening option removed) and whose plugins and permissions are
   * approved, with its approval narrowed to the new reach; null when something new needs approval.
   */
  private async narrowedApproval(draft: AppRecord): Promise<{ draft: AppRecord; config: AppConfig } | null> {
    const approved = draft.metadata.approved;
    if (!approved) return null;
    const audit = await auditAppIsolated(this.loadOptions(draft));
    if (uncoveredReach(audit.reach, approved.reach).length > 0) return null;
    const narrowed = { ...draft, metadata: { ...draft.metadata, approved: { ...approved, reach: [...audit.reach] } } };
    try {
      return { draft: narrowed, config: await this.loadConfig(narrowed, narrowed.metadata.approved) };
    } catch {
      return null;
    }
  }

  /** What the container side of a switch would do, without building or starting anything. */
  private async planSwitch(config: AppConfig): Promise<string[]> {
    if (!config.container) return ["no container"];
    const preview = await (await this.containers()).preview(config.container);
    if (!preview.containerChanged) return ["container unchanged: the serving container would stay"];
    const image = config.container.image.kind === "build" ? "the image would be rebuilt" : `the image ${config.container.image.ref} would be pulled`;
    return [
      ...(preview.imageChanged ? [image] : []),
      preview.running ? "the running container would be replaced once the new version is ready" : "a new container would start on the next request",
    ];
  }

  async updateMetadata(update: MetadataUpdate, glob: string, options: { approve: boolean } & DryRunOption): Promise<AppStatus[]> {
    const apps = this.matching(glob);
    // Every app's new settings are checked before any app is changed: a bad value changes none.
    const drafts: { app: LoadedApp; draft: AppRecord; changes: string[] }[] = [];
    for (const app of apps) {
      const next = applyMetadataUpdate({ spec: app.record.spec, metadata: app.record.metadata }, update);
      const draft: AppRecord = { ...app.record, spec: next.spec, metadata: { ...next.metadata, pending: null } };
      try {
        await this.loadConfig(draft, "all-audited");
      } catch (err) {
        throw new HostError("usage", `${formatAppLocation(app.record)}: ${explain(err)}`);
      }
      const changes = describeSettingsChange(app.record, draft);
      if (app.record.metadata.pending) changes.push(`the change that waited for approval is dropped (${app.record.metadata.pending.changes.join("; ")})`);
      drafts.push({ app, draft, changes: changes.length ? changes : ["no setting changes"] });
    }
    const result: AppStatus[] = [];
    for (const { app, draft, changes } of drafts) {
      result.push(await this.switchOrRefuse(app, draft, changes, { approve: options.approve, dryRun: options.dryRun ?? false, kind: "update" }));
    }
    return result;
  }

  async stop(target: string): Promise<AppStatus> {
    const app = this.one(target);
    await app.container?.stop("stopped by app stop");
    return this.status(app);
  }

  async start(target: string): Promise<AppStatus> {
    const app = this.one(target);
    if (!app.container) throw new HostError("usage", `${formatAppLocation(app.record)} has no container to start${app.error ? `: ${app.error}` : ""}`);
    try {
      await app.container.ensureReady();
    } catch (err) {
      throw new HostError("failed", `${formatAppLocation(app.record)} did not start: ${messageOf(err)}`);
    }
    return this.status(app);
  }

  async logs(target: string, options: { follow: boolean; signal?: AbortSignal }): Promise<ReadableStream<Uint8Array>> {
    const app = this.one(target);
    const id = app.container?.currentContainerId;
    const engine = (await this.containers()).engine;
    const encoder = new TextEncoder();
    if (!id && !options.follow) return new Response(`${formatAppLocation(app.record)} has no container yet (it starts on the first request)\n`).body!;
    const logged = id ? await engine.logs(id, 200) : "";
    const tail = logged.endsWith("\n") || !logged ? logged : logged + "\n";
    if (!options.follow) return new Response(tail).body!;
    const abort = new AbortController();
    options.signal?.addEventListener("abort", () => abort.abort(), { once: true });
    const appId = app.record.id;
    const location = formatAppLocation(app.record);
    const current = () => this.apps.get(appId)?.container ?? null;
    return new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (text: string) => controller.enqueue(encoder.encode(text));
        send(id ? tail : `-- ${location} has no container yet; the log follows it once the first request starts it --\n`);
        // Follows the container while it runs; when it stops (idle, app stop, a crash) says so and waits for the
        // next start, so that `app logs -f` never ends silently. Ends when the client goes or the app is deleted.
        void (async () => {
          let following: string | undefined = id;
          // After a stop, the lines since the stop: those of the request that started the container again too.
          let sinceSecs: number | undefined;
          while (!abort.signal.aborted) {
            if (following) {
              // Without sinceSecs followLogs starts at the end of the log; the tail above is enough history.
              await engine.followLogs(following, (line) => send(line + "\n"), abort.signal, sinceSecs).catch(() => {});
              sinceSecs = Date.now() / 1000;
              if (abort.signal.aborted) break;
              const container = current();
              if (!container) {
                send(`-- ${location} was deleted --\n`);
                break;
              }
              send(`-- ${location}: the container stopped; it starts again on the next request, and the log follows it --\n`);
            }
            following = undefined;
            while (!abort.signal.aborted && !following) {
              await Bun.sleep(500);
              const container = current();
              if (!container) break;
              if (container.state === "ready") following = container.currentContainerId;
            }
            if (!following) break;
            send(`-- ${location}: started again --\n`);
          }
          try {
            controller.close();
          } catch {
            // already closed by the client going away
          }
        })();
      },
      cancel() {
        abort.abort();
      },
    });
  }

  async listParams(target: string): Promise<ParamStatus[]> {
    const app = this.one(target);
    if (!app.config) throw new HostError("failed", `${formatAppLocation(app.record)} does not load: ${app.error}`);
    const given = app.record.metadata.params;
    return app.config.params.map((p) => ({
      name: p.name,
      type: p.type,
      value: p.value,
      description: p.description,
      required: p.required,
      origin: p.name in given ? "metadata" : "default",
    }));
  }

  async updateParam(name: string, value: string | null, glob: string, options: DryRunOption = {}): Promise<AppStatus[]> {
    const result: AppStatus[] = [];
    for (const app of this.matching(glob)) {
      const params = { ...app.record.metadata.params };
      if (value === null) delete params[name];
      else params[name] = value;
      const draft = { ...app.record, metadata: { ...app.record.metadata, params } };
      try {
        await this.loadConfig(draft, "all-audited");
      } catch (err) {
        throw new HostError("usage", `${formatAppLocation(app.record)}: ${messageOf(err)}`);
      }
      if (options.dryRun) {
        // As the real update does: the value is stored and the app reloaded, unapproved if it now asks for more.
        const refusal = await this.approvalRefusal(draft);
        const location = formatAppLocation(app.record);
        const plan = [
          ...describeSettingsChange(app.record, draft),
          refusal === null ? "the app would be reloaded with it" : `the app would need approval again (it answers 500 until \`clace-lite app approve ${location}\`):\n${refusal}`,
        ];
        result.push({ ...this.status(app), plan });
        continue;
      }
      const record = await this.opts.store.update(app.record.id, { metadata: draft.metadata });
      result.push(this.status(await this.mountRecord(record)));
    }
    return result;
  }

  async shutdown(): Promise<void> {
    await this.stopWatching();
    await this.opts.onShutdown();
  }

  // ---- exit ----

  /** The apps as mounted. */
  mountedApps(): MountedApp[] {
    return [...this.apps.values()];
  }

  /** Stops watching sources (dev mode) and the shared registry, and publishing activity to it. */
  async stopWatching(): Promise<void> {
    for (const app of this.apps.values()) app.watcher?.close();
    await this.following?.close().catch(() => {});
    this.following = undefined;
    await Promise.all(this.removals);
    this.stopPublishing?.();
    this.stopPublishing = undefined;
  }

  /**
   * Removes the containers of this host's apps (a one-app host at exit): a cold start in progress is cut short, not
   * waited for; the built images stay for the next run unless removeImages.
   */
  async removeContainers(options: { removeImages: boolean }): Promise<void> {
    const manager = this.manager;
    if (!manager) return;
    for (const app of this.apps.values()) {
      const container = app.container;
      if (!container) continue;
      if (container.state !== "ready" && container.state !== "stopped") await container.abandon();
      if (options.removeImages) {
        await manager.remove(container.spec.appId);
      } else {
        await container.stop("shutting down");
        const id = container.currentContainerId;
        if (id) await manager.engine.removeContainer(id);
      }
    }
  }

  /** Exiting at once: every app's containers are force-removed, starts in progress cut short. */
  async abandonContainers(): Promise<void> {
    await Promise.all([...this.apps.values()].map((app) => app.container?.abandon()));
  }
}
