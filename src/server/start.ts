/**
 * Starting and stopping a host: one implementation for one app (`serve`, `check`: an in-memory registry with that
 * app, no admin socket) and for many (`server start`: the registry and the admin API). It listens first and holds
 * requests at the proxy's ready gate until the apps are mounted, serves the status page and metrics, and has one
 * shutdown path (a signal, the admin API's stop, or the caller closing it).
 */
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import type { AppContainers, ContainerEngine, ContainerEvent } from "../containers/index.ts";
import { AppTable, createProxyServer, type AccessEntry, type ProxyEvent, type ProxyServer, type TlsFiles } from "../proxy/index.ts";
import type { AppStore, EvalLimits } from "../runtime/index.ts";
import { ActivityTracker } from "./activity.ts";
import { adminHandler } from "./admin-api.ts";
import { serverIdentity, LABEL_OWNER, type HomePaths } from "./home.ts";
import { AppHost, type DevReloadOutcome, type MountedApp } from "./host.ts";
import { listenOrExplain } from "./listen.ts";
import { statusEndpoints } from "./status-page.ts";

export interface HostListen {
  host: string;
  port: number;
  httpsPort?: number;
  /** Interface for HTTPS when it differs from `host`. */
  httpsHost?: string;
  /** The HTTPS certificate, asked for only when HTTPS is served. */
  tls?: () => Promise<TlsFiles>;
  /** Seconds a request head may take to arrive. */
  headerTimeout?: number;
  /** How to choose another port, named when one is taken ("--port N"). */
  fixes: { http: string; https: string };
}

/** What the process does when it is asked to stop (a signal, or the admin API for a server). */
export interface ExitPolicy {
  /** The exit code of a stop asked for by `signal` (null: through the admin API), and of a second signal (urgent). */
  code: (signal: NodeJS.Signals | null, urgent: boolean) => number;
  /** A stop begins; the caller says so. */
  onStopping?: (signal: NodeJS.Signals | null) => void;
  /** The stop finished within its bound; the caller may sum up. */
  onStopped?: () => void;
  /** The stop did not finish within `boundMs`: the process exits anyway, and the caller says what may remain. */
  onUnfinished?: (boundMs: number) => void;
  /** With containersAtExit "remove": the images built for the apps go too. */
  removeImages?: boolean;
}

export interface StartHostOptions {
  listen: HostListen;
  defaultDomain: string;
  /** The host name of URLs for apps without a domain (default: the address listened on, loopback for a wildcard). */
  baseHost?: string;
  paths: HomePaths;
  /** The registry, opened once the ports listen; closed at stop. */
  openStore: () => Promise<AppStore>;
  /** The container engine, connected when an app first needs one (or at start with connectAtStart). */
  engine: () => Promise<ContainerEngine>;
  /** Connect the engine before the apps load: a server without an engine does not start. */
  connectAtStart?: boolean;
  /**
   * The owner label of this host's containers (a shared registry's own owner wins), asked for when the engine
   * connects (after openStore), and the folder of their secret files.
   */
  owner: () => string;
  runDir: string;
  /** At stop: "keep" leaves containers running for the next start to adopt; "remove" removes them. */
  containersAtExit: "keep" | "remove";
  /** An app that fails to load or start (other than needing approval) fails the start instead of being served. */
  refuseBrokenApps?: boolean;
  /** The admin API on a unix socket (a server), and the pid file written beside it. */
  admin?: { socket: string; pidFile: string };
  /** Exit the process on SIGINT/SIGTERM (and the admin API's stop) after the shutdown. */
  exit?: ExitPolicy;
  // What the host passes on to AppHost.
  confDefaults?: Readonly<Record<string, string>>;
  evalLimits?: Partial<EvalLimits>;
  approval?: "stored" | "audit-all";
  approveCommand?: (location: string) => string;
  bootWaitMs?: number;
  sweepSources?: boolean;
  log: (line: string) => void;
  onEvent?: (e: ContainerEvent) => void;
  onProxyEvent?: (e: ProxyEvent) => void;
  onAccess?: (e: AccessEntry) => void;
  onDevReload?: (location: string, outcome: DevReloadOutcome) => void;
  /** Called once the stop is done (closing an access log). */
  onClosed?: () => void;
}

export interface RunningHost {
  readonly proxy: ProxyServer;
  readonly host: AppHost;
  /** The URL of an app without a domain at `path` ("http://127.0.0.1:25222/"). */
  appUrl(domain: string, path: string): string;
  /** The apps as mounted. */
  apps(): readonly MountedApp[];
  /**
   * The one shutdown path: the admin socket closes, the proxy stops, containers are kept or removed as
   * `containersAtExit` says (with their built images when removeImages), the registry closes. Runs once.
   */
  stop(options?: { removeImages?: boolean }): Promise<void>;
  /** Exiting at once: cuts starts short (and with containersAtExit "remove" force-removes the containers). */
  abandon(): Promise<void>;
}

/** How long the stop after a signal may take (a cold start is cut short), and the one after a second signal. */
const STOP_BOUND_MS = 4500;
const URGENT_STOP_BOUND_MS = 2000;
/** More time for a stop that removes images too: a busy Podman can take seconds to let go of an image. */
const IMAGE_REMOVAL_BOUND_MS = 15_000;

/** Whether `work` settled within `ms`. */
function bounded(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, Bun.sleep(ms).then(() => false)]);
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

export async function startHost(opts: StartHostOptions): Promise<RunningHost> {
  const { listen } = opts;
  const table = new AppTable({ defaultDomain: opts.defaultDomain });
  const tls = listen.httpsPort !== undefined && listen.tls ? await listen.tls() : undefined;
  // What the containers do over time, for the status page, the metrics and `app list`.
  const activity = new ActivityTracker();
  let openGate!: () => void;
  const ready = new Promise<void>((resolve) => (openGate = resolve));
  // The host is made once the ports listen; until then the status page lists nothing (requests wait at the gate).
  let host: AppHost | undefined;
  const status = {
    rows: () => host?.statusSource().rows() ?? Promise.resolve([]),
    detail: (name: string) => host?.statusSource().detail(name) ?? Promise.resolve(undefined),
    subscribe: (listener: Parameters<ReturnType<AppHost["statusSource"]>["subscribe"]>[0]) => host?.statusSource().subscribe(listener) ?? (() => {}),
  };
  // Listen first: connections are accepted at once and held until the apps are loaded (the proxy's ready gate).
  const proxy = listenOrExplain(
    listen.host,
    [
      { what: "HTTP", port: listen.port, fix: listen.fixes.http },
      { what: "HTTPS", port: listen.httpsPort, fix: listen.fixes.https },
    ],
    () =>
      createProxyServer({
        host: listen.host,
        port: listen.port,
        httpsPort: listen.httpsPort,
        httpsHost: listen.httpsHost,
        tls,
        apps: table,
        ready,
        headerTimeout: listen.headerTimeout,
        onEvent: opts.onProxyEvent,
        onAccess: opts.onAccess,
        metrics: () => activity.families(),
        endpoints: statusEndpoints(status, false),
      }),
  );
  const listening = new URL(proxy.url);
  const baseHost = opts.baseHost ?? (isWildcard(listen.host) ? "127.0.0.1" : listening.hostname);
  const baseUrl = (domain: string) => `http://${domain || baseHost}:${listening.port}`;

  let store: AppStore | undefined;
  let manager: AppContainers | undefined;
  let admin: ReturnType<typeof Bun.serve> | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (options: { removeImages?: boolean } = {}): Promise<void> =>
    (stopping ??= (async () => {
      admin?.stop(true);
      if (opts.admin) {
        rmSync(opts.admin.socket, { force: true });
        rmSync(opts.admin.pidFile, { force: true });
      }
      await host?.stopWatching();
      if (opts.containersAtExit === "keep") {
        // Containers keep running and are adopted at the next start; only a cold start in progress is cut short.
        await Promise.all([proxy.stop(true), manager?.abandonStarts()]);
      } else {
        await proxy.stop(true);
        await host?.removeContainers({ removeImages: options.removeImages ?? false });
      }
      manager?.close();
      await store?.close().catch(() => {});
      opts.onClosed?.();
    })());
  const abandon = async (): Promise<void> => {
    await host?.stopWatching();
    if (opts.containersAtExit === "keep") await manager?.abandonStarts();
    else await host?.abandonContainers();
  };

  // The process's exit, shared by signals and the admin API's stop: clean up once within a bound; a second
  // signal exits at once after one bounded attempt to cut starts short.
  let exiting = false;
  const exitAfterStop = (signal: NodeJS.Signals | null): void => {
    const policy = opts.exit!;
    if (exiting) {
      void bounded(abandon(), URGENT_STOP_BOUND_MS).finally(() => process.exit(policy.code(signal, true)));
      return;
    }
    exiting = true;
    policy.onStopping?.(signal);
    const bound = STOP_BOUND_MS + (policy.removeImages ? IMAGE_REMOVAL_BOUND_MS : 0);
    void bounded(stop({ removeImages: policy.removeImages }).then(() => policy.onStopped?.()), bound)
      .then((finished) => finished || policy.onUnfinished?.(bound))
      .finally(() => process.exit(policy.code(signal, false)));
  };

  try {
    store = await opts.openStore();
    const opened = store;
    const connect = async (): Promise<AppContainers> => {
      const { AppContainers } = await import("../containers/index.ts");
      manager = new AppContainers(await opts.engine(), {
        onEvent: (e) => {
          activity.observe(e);
          opts.onEvent?.(e);
        },
        runDir: opts.runDir,
        // Reconcile and events touch only this host's containers (another CL_HOME or a `serve` keeps its own);
        // servers sharing a registry share its containers, and start each app one server at a time.
        extraLabels: { [LABEL_OWNER]: opened.sharedOwner ?? opts.owner() },
        startGuard: (appId, start) => opened.exclusive(`start:${appId}`, start),
        peerActivity: opened.activity && ((appId) => opened.activity!.latest(appId, serverIdentity(opts.paths))),
      });
      return manager;
    };
    host = new AppHost({
      store,
      containers: connect,
      table,
      paths: opts.paths,
      defaultDomain: opts.defaultDomain,
      confDefaults: opts.confDefaults ?? {},
      baseUrl,
      onShutdown: async () => {
        if (opts.exit) exitAfterStop(null);
        else await stop();
      },
      log: opts.log,
      evalLimits: opts.evalLimits,
      activity,
      approval: opts.approval,
      approveCommand: opts.approveCommand,
      bootWaitMs: opts.bootWaitMs,
      sweepSources: opts.sweepSources,
      onDevReload: opts.onDevReload,
    });
    if (opts.connectAtStart) await host.containers();
    await host.boot();
    if (opts.refuseBrokenApps) {
      const broken = host.mountedApps().find((app) => app.cause !== undefined && !app.needsApproval);
      if (broken) throw broken.cause;
    }
    if (opts.admin) {
      // No idle timeout: an operation may be quiet for minutes (a reload builds and starts the new version;
      // logs -f waits for an idle app to start again). Bun's types omit idleTimeout for unix sockets; Bun honours it.
      const adminOptions = { unix: opts.admin.socket, idleTimeout: 0, fetch: adminHandler(host) };
      admin = Bun.serve(adminOptions as unknown as Parameters<typeof Bun.serve>[0]);
      chmodSync(opts.admin.socket, 0o600);
      writeFileSync(opts.admin.pidFile, String(process.pid), { mode: 0o600 });
    }
  } catch (err) {
    // Nothing of a start that failed keeps running: the apps' containers go as they would at exit.
    await stop({ removeImages: false }).catch(() => {});
    throw err;
  } finally {
    openGate();
  }

  if (opts.exit) {
    process.on("SIGINT", exitAfterStop);
    process.on("SIGTERM", exitAfterStop);
  }
  const running = host;
  return {
    proxy,
    host: running,
    appUrl: (domain, path) => `${baseUrl(domain)}${path === "/" ? "/" : path + "/"}`,
    apps: () => running.mountedApps(),
    stop,
    abandon,
  };
}

