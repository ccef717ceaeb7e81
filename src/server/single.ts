/**
 * One app served on its own (`serve`, `check`): load it, register its container, mount it in a proxy, and tear
 * everything down again. Containers are labelled with this app's id so a later run adopts or removes them;
 * `close` removes what this run created. In dev mode the source folder is watched and the app reloaded on change.
 */
import { join } from "node:path";
import type { AppContainer, AppContainers, ContainerEvent } from "../containers/index.ts";
import { AppTable, createProxyServer, selfSignedTls, type AccessEntry, type AppMount, type ProxyEvent, type ProxyServer } from "../proxy/index.ts";
import { ActivityTracker } from "./activity.ts";
import { statusEndpoints, type StatusSource } from "./status-page.ts";
import { displayState, statusDetail, statusRow, type AppView } from "./status-view.ts";
import type { AppConfig, AppLocation, EvalLimits, RuntimeError } from "../runtime/index.ts";
import { homePaths, LABEL_OWNER } from "./home.ts";
import { listenOrExplain } from "./listen.ts";
import { ownUpstream, recordingActivity } from "./upstreams.ts";
import { watchSource, type SourceWatcher } from "./watch.ts";

export interface SingleAppOptions {
  source: string | null;
  spec?: string;
  params: Record<string, string>;
  conf: Record<string, string>;
  copts?: Record<string, string>;
  cargs?: Record<string, string>;
  cvols?: string[];
  approve: boolean;
  /** The command that approves the app, named in "needs approval" answers. */
  approveCommand: string;
  /** `[domain:]path` to mount the app at. */
  location: string;
  host: string;
  port: number;
  httpsPort?: number;
  /** Watch the source folder and reload the app when it changes. */
  dev?: boolean;
  onEvent: (e: ContainerEvent) => void;
  /** Requests the proxy refused and broken or late answers from the app, for the CLI to print. */
  onProxyEvent?: (e: ProxyEvent) => void;
  /** Every exchange, for an access log (serve --access-log). */
  onAccess?: (e: AccessEntry) => void;
  /** Reload outcomes in dev mode, for the CLI to print. */
  onReload?: (outcome: { ok: true } | { ok: false; error: string }) => void;
  /** Time and memory budgets of config evaluation (defaults: the runtime's). */
  evalLimits?: Partial<EvalLimits>;
}

export interface SingleApp {
  config: AppConfig | null;
  /** Why the app cannot serve (needs approval); requests get a 500 saying so. */
  loadError: RuntimeError | null;
  container: AppContainer | null;
  server: ProxyServer;
  /** The app's URL through the proxy. */
  url: string;
  /** Requests served so far. */
  requestCount(): number;
  /** Stops serving and removes the containers this app created (and its built images with removeImages). */
  close(options: { removeImages: boolean }): Promise<void>;
  /** Exiting at once: cuts a start short and force-removes the app's containers (images stay). */
  abandon(): Promise<void>;
}

interface Loaded {
  config: AppConfig | null;
  loadError: RuntimeError | null;
}

type Runtime = typeof import("../runtime/index.ts");

/** Evaluates the config in a worker, so the proxy keeps answering (and can be stopped) while app.star runs. */
async function load(runtime: Runtime, opts: SingleAppOptions, where: AppLocation, appId: string): Promise<Loaded> {
  try {
    const config = await runtime.loadAppIsolated({
      source: opts.source,
      spec: opts.spec,
      params: opts.params,
      conf: opts.conf,
      copts: opts.copts,
      cargs: opts.cargs,
      cvols: opts.cvols,
      approved: opts.approve ? "all-audited" : { loads: [], permissions: [] },
      approveCommand: opts.approveCommand,
      domain: where.domain,
      path: where.path,
      appId,
      limits: opts.evalLimits,
      dev: opts.dev,
    });
    return { config, loadError: null };
  } catch (err) {
    // Only a missing approval is served (as a 500 naming what to approve); any other load error is the user's to fix now.
    if (!(err instanceof runtime.RuntimeError) || err.kind !== "not-approved") throw err;
    return { config: null, loadError: err };
  }
}

export async function startSingleApp(opts: SingleAppOptions): Promise<SingleApp> {
  // Listen first: connections are accepted at once and held until the app is loaded (the proxy's ready gate).
  const table = new AppTable({ defaultDomain: "localhost" });
  // HTTPS (as Clace serves it on 25223) with a self-signed certificate for localhost, kept under CL_HOME.
  const tls = opts.httpsPort !== undefined ? await selfSignedTls(homePaths().certsDir) : undefined;
  let openGate!: () => void;
  const ready = new Promise<void>((resolve) => (openGate = resolve));
  // The status page and metrics: what the container did over time, and the app as the page shows it.
  const tracker = new ActivityTracker();
  let url = "";
  const view = (): AppView => ({
    location: runtime.formatAppLocation(where),
    url,
    spec: opts.spec ?? "",
    config,
    loadError: loadError ? { message: loadError.message, needsApproval: loadError.kind === "not-approved" } : null,
    container,
    mounted: table.get(where.domain, where.path),
    activity: container ? tracker.get(container.spec.appId) : undefined,
  });
  const status: StatusSource = {
    rows: async () => [statusRow(view())],
    detail: async (name) => (name === runtime.formatAppLocation(where) ? statusDetail(view()) : undefined),
    subscribe: (listener) => tracker.subscribe((c) => listener({ name: runtime.formatAppLocation(where), state: displayState(c.state), reason: c.reason })),
  };
  const server = listenOrExplain(
    opts.host,
    [
      { what: "HTTP", port: opts.port, fix: "--port N (0 picks a free one)" },
      { what: "HTTPS", port: opts.httpsPort, fix: "--https-port N" },
    ],
    () =>
      createProxyServer({
        host: opts.host,
        port: opts.port,
        httpsPort: opts.httpsPort,
        tls,
        apps: table,
        ready,
        onEvent: opts.onProxyEvent,
        onAccess: opts.onAccess,
        metrics: () => tracker.families(),
        endpoints: statusEndpoints(status, false),
      }),
  );

  let runtime: Runtime;
  let containersModule: typeof import("../containers/index.ts");
  let where: AppLocation;
  let appId: string;
  let config: AppConfig | null;
  let loadError: RuntimeError | null;
  let containers: AppContainers | null = null;
  let container: AppContainer | null = null;
  let requests = 0;
  const containerManager = async (): Promise<AppContainers> => {
    if (!containers) {
      containers = new containersModule.AppContainers(await containersModule.connectEngine(), {
        onEvent: (e) => {
          tracker.observe(e);
          opts.onEvent(e);
        },
        runDir: join(homePaths().home, "run", "serve"),
        // Reconcile and events see only this app's containers, never a server's or another serve's.
        extraLabels: { [LABEL_OWNER]: `serve:${appId}` },
      });
      await containers.start();
    }
    return containers;
  };
  const mount = (): AppMount => ({
    domain: where.domain,
    path: where.path,
    name: config?.name ?? where.path,
    routes: config?.routes ?? [],
    responseHeaderTimeout: config?.proxy.responseHeaderTimeoutSecs,
    upstreamPool: config?.proxy,
    upstream: recordingActivity(
      ownUpstream(container, config),
      () => requests++,
      () => container?.state ?? (loadError ? "error" : "fixed"),
    ),
    loadError: loadError ? { message: loadError.message, fix: loadError.fix ?? `run: ${opts.approveCommand}` } : undefined,
  });

  try {
    [runtime, containersModule] = await Promise.all([import("../runtime/index.ts"), import("../containers/index.ts")]);
    where = runtime.parseAppLocation(opts.location, "localhost");
    appId = runtime.defaultAppId({ source: opts.source, spec: opts.spec, domain: where.domain, path: where.path });
    ({ config, loadError } = await load(runtime, opts, where, appId));
    if (config?.container) {
      const manager = await containerManager();
      container = await manager.add(config.container);
      await manager.reconcile();
    }
    table.add(mount());
  } catch (err) {
    (containers as AppContainers | null)?.close();
    await server.stop(true);
    throw err;
  } finally {
    openGate();
  }
  const listening = new URL(server.url);
  const host = where.domain || (opts.host === "0.0.0.0" || opts.host === "::" ? "127.0.0.1" : listening.hostname);
  url = `http://${host}:${listening.port}${where.path === "/" ? "/" : where.path + "/"}`;

  let watcher: SourceWatcher | undefined;
  if (opts.dev && opts.source) {
    watcher = watchSource(opts.source, async () => {
      try {
        ({ config, loadError } = await load(runtime, opts, where, appId));
        if (config?.container) {
          const manager = await containerManager();
          // The running version keeps serving until the new one is ready.
          container = await manager.replace(config.container);
          table.replace(mount());
          await container.ensureReady();
        } else {
          table.replace(mount());
        }
        opts.onReload?.({ ok: true });
      } catch (err) {
        // Keep serving what was there; say what is wrong with the new version.
        opts.onReload?.({ ok: false, error: err instanceof runtime.RuntimeError ? err.render() : (err as Error).message });
      }
    });
  }

  let closed = false;
  return {
    get config() {
      return config;
    },
    get loadError() {
      return loadError;
    },
    get container() {
      return container;
    },
    server,
    url,
    requestCount: () => requests,
    async close({ removeImages }) {
      if (closed) return;
      closed = true;
      watcher?.close();
      await server.stop(true);
      const manager = containers as AppContainers | null;
      // A cold start in progress is cut short, not waited for: its container is removed now.
      if (container && container.state !== "ready" && container.state !== "stopped") await container.abandon();
      if (manager && container) {
        if (removeImages) {
          await manager.remove(container.spec.appId);
        } else {
          // Keep the built image (the next run starts from it), remove the container.
          await container.stop("shutting down");
          const id = container.currentContainerId;
          if (id) await manager.engine.removeContainer(id);
        }
      }
      manager?.close();
    },
    async abandon() {
      watcher?.close();
      await container?.abandon();
    },
  };
}
