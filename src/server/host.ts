/**
 * The multi-app host: keeps the registry, the container lifecycle and the proxy's app table in step.
 *
 * Every app in the store is loaded (runtime → AppConfig), its container registered with the lifecycle manager,
 * and mounted in the proxy. An app that fails to load or needs approval stays mounted with its error, so
 * requests get a 500 that says what is wrong and how to fix it. Operations are the admin API's (types.ts).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { AppContainer, AppContainers } from "../containers/index.ts";
import {
  AppPathError,
  auditAppIsolated,
  CANDIDATE_SUFFIX,
  compileAppGlob,
  describeReach,
  EMPTY_METADATA,
  formatAppLocation,
  loadAppIsolated,
  locationsOverlap,
  materializeSource,
  parseAppLocation,
  RuntimeError,
  SourceError,
  swapInSource,
  type AppConfig,
  type AppLocation,
  type AppRecord,
  type AppStore,
  type Approval,
  type EvalLimits,
  type LoadOptions,
} from "../runtime/index.ts";
import type { AppTable } from "../proxy/index.ts";
import { NO_CONTAINER, ownUpstream, recordingActivity } from "./upstreams.ts";
import { watchSource, type SourceWatcher } from "./watch.ts";
import { sweepAppLeftovers } from "./leftovers.ts";
import type { HomePaths } from "./home.ts";
import { HostError, type AppHostOperations, type AppStatus, type CreateAppRequest, type ParamStatus } from "./types.ts";

const NOTHING_APPROVED: Approval = Object.freeze({ loads: [], permissions: [] });

interface LoadedApp {
  record: AppRecord;
  config: AppConfig | null;
  container: AppContainer | null;
  error: string;
  /** How to fix `error`. */
  fix: string;
  needsApproval: boolean;
  /** Epoch ms of the last request, 0 when none since the server started. */
  lastRequestMs: number;
  watcher?: SourceWatcher;
}

export interface AppHostOptions {
  store: AppStore;
  containers: AppContainers;
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

export class AppHost implements AppHostOperations {
  private readonly apps = new Map<string, LoadedApp>();

  constructor(private readonly opts: AppHostOptions) {}

  /**
   * Loads every stored app, then reconciles containers (adopting running ones) and starts watching events. Configs
   * are evaluated in workers side by side. Boot waits for them a short while only: an app whose config is still
   * being evaluated then answers "still loading" until it is mounted, and the rest of boot (reconcile, events)
   * follows once every load is done, so one slow app.star never holds the other apps' requests.
   */
  async boot(): Promise<void> {
    const records = this.opts.store.list();
    for (const line of sweepAppLeftovers(this.opts.paths.appsDir, new Set(records.map((r) => r.id)))) this.opts.log(line);
    const loads = Promise.all(records.map((record) => this.mountRecord(record)));
    const slow = await Promise.race([loads.then(() => false), Bun.sleep(BOOT_LOAD_WAIT_MS).then(() => true)]);
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
    const result = await this.opts.containers.reconcile();
    if (result.adopted.length) this.opts.log(`adopted running containers of ${result.adopted.length} app(s)`);
    if (result.removedContainers.length) this.opts.log(`removed ${result.removedContainers.length} stale container(s)`);
    await this.opts.containers.start();
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
      approveCommand: `clace-lite app approve ${formatAppLocation(record)}`,
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
    const previous = this.apps.get(record.id);
    const loaded: LoadedApp = {
      record,
      config: null,
      container: null,
      error: "",
      fix: "",
      needsApproval: false,
      lastRequestMs: previous?.lastRequestMs ?? 0,
      watcher: previous?.watcher,
    };
    try {
      const config = await this.loadConfig(record, record.metadata.approved ?? NOTHING_APPROVED);
      loaded.config = config;
      if (config.container) {
        loaded.container = options.replace ? await this.opts.containers.replace(config.container) : await this.opts.containers.add(config.container);
      }
    } catch (err) {
      // A dev reload that fails leaves the running version mounted; the watcher reports the error.
      if (options.replace && previous?.config) throw err;
      loaded.error = messageOf(err);
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
      upstream: recordingActivity(
        ownUpstream(loaded.container, loaded.config),
        () => {
          // A number per request; formatted only when someone lists the apps.
          loaded.lastRequestMs = Date.now();
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
      const current = this.opts.store.get(record.id);
      if (!current) return;
      this.opts.log(`${formatAppLocation(current)}: source changed, reloading`);
      try {
        const app = await this.mountRecord(current, { replace: true });
        await app.container?.ensureReady();
        this.opts.log(`${formatAppLocation(current)}: reloaded`);
      } catch (err) {
        this.opts.log(`${formatAppLocation(current)}: reload failed, still serving the previous version: ${messageOf(err)}`);
      }
    });
  }

  private status(app: LoadedApp): AppStatus {
    const { record } = app;
    return {
      id: record.id,
      reach: (record.metadata.approved?.reach ?? []).map(describeReach),
      location: formatAppLocation(record),
      domain: record.domain,
      path: record.path,
      source: record.source,
      spec: record.spec,
      dev: record.dev,
      commit: record.metadata.commit,
      state: app.container ? app.container.state : "-",
      lastRequest: app.lastRequestMs ? new Date(app.lastRequestMs).toISOString() : "",
      error: app.error,
      needsApproval: app.needsApproval,
      url: `${this.opts.baseUrl(record.domain)}${record.path === "/" ? "/" : record.path + "/"}`,
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
    const metadata = {
      ...EMPTY_METADATA,
      params: request.params ?? {},
      conf: request.conf ?? {},
      copts: request.copts ?? {},
      cargs: request.cargs ?? {},
      cvols: request.cvols ?? [],
      branch: request.branch ?? "",
      commit: materialized.commit,
    };
    const draft: AppRecord = {
      id,
      domain: where.domain,
      path: where.path,
      source: request.source,
      sourceDir: materialized.dir,
      spec: request.spec ?? "",
      dev: request.dev ?? false,
      metadata,
      createdAt: "",
      updatedAt: "",
    };
    try {
      // A config that does not load at all is refused at create, as Clace does; one that only needs approval is kept.
      if (request.approve) draft.metadata = await this.approveAudited(draft);
      await this.loadConfig(draft, "all-audited");
    } catch (err) {
      rmSync(join(this.opts.paths.appsDir, id), { recursive: true, force: true });
      throw new HostError("usage", messageOf(err));
    }
    try {
      this.opts.store.insert(draft, (existing) => {
        const clash = existing.find((e) => locationsOverlap(e, where));
        if (clash) {
          throw new HostError("conflict", `${formatAppLocation(where)} overlaps the app at ${formatAppLocation(clash)}; two apps may not share a path prefix in one domain`);
        }
      });
    } catch (err) {
      rmSync(join(this.opts.paths.appsDir, id), { recursive: true, force: true });
      throw err;
    }
    const record = this.opts.store.get(id)!;
    return this.status(await this.mountRecord(record));
  }

  async delete(glob: string): Promise<AppStatus[]> {
    const apps = this.matching(glob);
    for (const app of apps) {
      app.watcher?.close();
      this.opts.table.remove(app.record.domain, app.record.path);
      await this.opts.containers.remove(app.record.id);
      this.opts.store.delete(app.record.id);
      this.apps.delete(app.record.id);
      rmSync(join(this.opts.paths.appsDir, app.record.id), { recursive: true, force: true });
    }
    return apps.map((app) => this.status(app));
  }

  async approve(glob: string): Promise<AppStatus[]> {
    const result: AppStatus[] = [];
    for (const app of this.matching(glob)) {
      let metadata;
      try {
        metadata = await this.approveAudited(app.record);
      } catch (err) {
        throw new HostError("failed", `${formatAppLocation(app.record)}: ${messageOf(err)}`);
      }
      const record = this.opts.store.update(app.record.id, { metadata });
      result.push(this.status(await this.mountRecord(record)));
    }
    return result;
  }

  async reload(glob: string, options: { approve: boolean }): Promise<AppStatus[]> {
    const result: AppStatus[] = [];
    for (const app of this.matching(glob)) {
      let record = app.record;
      // A stored source is fetched beside the current one and swapped in only once the new version is accepted.
      let fetched: { candidate: string; dir: string | null; commit: string } | null = null;
      if (record.source !== "-" && !record.dev) {
        const candidate = join(this.opts.paths.appsDir, record.id, "source" + CANDIDATE_SUFFIX);
        try {
          const materialized = await materializeSource({ source: record.source, branch: record.metadata.branch || undefined }, candidate);
          fetched = { candidate, ...materialized };
        } catch (err) {
          rmSync(candidate, { recursive: true, force: true });
          throw new HostError("failed", `${formatAppLocation(record)}: ${messageOf(err)}`);
        }
      }
      if (!options.approve && app.config) {
        const refusal = await this.approvalRefusal(fetched ? { ...record, sourceDir: fetched.dir } : record);
        if (refusal) {
          if (fetched) rmSync(fetched.candidate, { recursive: true, force: true });
          const where = formatAppLocation(record);
          throw new HostError(
            "failed",
            `${where}: the new version is not approved, so the previous one keeps serving.\n${refusal}\n` +
              `review the change, then run: clace-lite app reload --approve ${where}`,
          );
        }
      }
      if (fetched) {
        const sourceDir = join(this.opts.paths.appsDir, record.id, "source");
        swapInSource(fetched.candidate, sourceDir);
        const dir = fetched.dir === null ? null : sourceDir + fetched.dir.slice(fetched.candidate.length);
        record = this.opts.store.update(record.id, { sourceDir: dir, metadata: { ...record.metadata, commit: fetched.commit } });
      }
      if (options.approve) record = this.opts.store.update(record.id, { metadata: await this.approveAudited(record) });
      const loaded = await this.mountRecord(record);
      // Image apps: pull again, and recreate the container when the tag now names another image.
      if (loaded.container?.spec.image.kind === "image") await loaded.container.refresh();
      result.push(this.status(loaded));
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
    const engine = this.opts.containers.engine;
    const encoder = new TextEncoder();
    if (!id) return new Response(`${formatAppLocation(app.record)} has no container yet (it starts on the first request)\n`).body!;
    const tail = await engine.logs(id, 200);
    if (!options.follow) return new Response(tail.endsWith("\n") || !tail ? tail : tail + "\n").body!;
    const abort = new AbortController();
    options.signal?.addEventListener("abort", () => abort.abort(), { once: true });
    return new ReadableStream<Uint8Array>({
      start(controller) {
        // followLogs replays from the start of the stream too; the tail above is enough history.
        void engine
          .followLogs(id, (line) => controller.enqueue(encoder.encode(line + "\n")), abort.signal)
          .catch(() => {})
          .finally(() => {
            try {
              controller.close();
            } catch {
              // already closed by the client going away
            }
          });
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

  async updateParam(name: string, value: string | null, glob: string): Promise<AppStatus[]> {
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
      const record = this.opts.store.update(app.record.id, { metadata: draft.metadata });
      result.push(this.status(await this.mountRecord(record)));
    }
    return result;
  }

  async shutdown(): Promise<void> {
    for (const app of this.apps.values()) app.watcher?.close();
    await this.opts.onShutdown();
  }
}
