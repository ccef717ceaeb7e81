/**
 * One app served on its own (`serve`, `check`): the host of start.ts with an in-memory registry holding that one
 * app, no admin socket, and its containers removed at exit. Containers are labelled with this app's id so a later
 * run adopts or removes them. In dev mode the source folder is watched and the app reloaded on change.
 */
import { join } from "node:path";
import type { AppContainer, ContainerEvent } from "../containers/index.ts";
import type { AccessEntry, ProxyEvent, ProxyServer } from "../proxy/index.ts";
import type { AppConfig, EvalLimits, RuntimeError } from "../runtime/index.ts";
import { homePaths } from "./home.ts";
import type { DevReloadOutcome } from "./host.ts";
import { startHost, type ExitPolicy } from "./start.ts";
import { HostError } from "./types.ts";

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
  onReload?: (outcome: DevReloadOutcome) => void;
  /** Time and memory budgets of config evaluation (defaults: the runtime's). */
  evalLimits?: Partial<EvalLimits>;
  /** Exit the process on SIGINT/SIGTERM after removing the app's containers. */
  exit?: ExitPolicy;
  /** Called once the app is closed (flushing an access log). */
  onClosed?: () => void;
}

export interface SingleApp {
  readonly config: AppConfig | null;
  /** Why the app cannot serve (needs approval); requests get a 500 saying so. */
  readonly loadError: RuntimeError | null;
  readonly container: AppContainer | null;
  server: ProxyServer;
  /** The app's URL through the proxy. */
  url: string;
  /** Requests served so far. */
  requestCount(): number;
  /**
   * Starts the app's container now and waits for it to answer within `timeoutSecs` (build included); throws with
   * the reason and the container's last log lines when it does not. On timeout the start is cancelled, so nothing
   * keeps running past the limit. `limit` names the setting in the messages (the flag that set it).
   */
  waitReady(timeoutSecs: number, limit: string): Promise<void>;
  /** Stops serving and removes the containers this app created (and its built images with removeImages). */
  close(options: { removeImages: boolean }): Promise<void>;
  /** Exiting at once: cuts a start short and force-removes the app's containers (images stay). */
  abandon(): Promise<void>;
}

export async function startSingleApp(opts: SingleAppOptions): Promise<SingleApp> {
  const paths = homePaths();
  let appId = "";
  const running = await startHost({
    listen: {
      host: opts.host,
      port: opts.port,
      httpsPort: opts.httpsPort,
      // HTTPS (as Clace serves it on 25223) with a self-signed certificate for localhost, kept under CL_HOME.
      tls: async () => (await import("../proxy/index.ts")).selfSignedTls(paths.certsDir),
      fixes: { http: "--port N (0 picks a free one)", https: "--https-port N" },
    },
    defaultDomain: "localhost",
    paths,
    // Loaded once the port listens: connections are held at the ready gate meanwhile.
    openStore: async () => {
      const runtime = await import("../runtime/index.ts");
      const where = runtime.parseAppLocation(opts.location, "localhost");
      appId = runtime.defaultAppId({ source: opts.source, spec: opts.spec, domain: where.domain, path: where.path });
      const store = new runtime.SqliteAppStore(":memory:");
      await store.insert({
        id: appId,
        domain: where.domain,
        path: where.path,
        source: opts.source ?? "-",
        sourceDir: opts.source,
        spec: opts.spec ?? "",
        dev: opts.dev ?? false,
        metadata: { ...runtime.EMPTY_METADATA, params: opts.params, conf: opts.conf, copts: opts.copts ?? {}, cargs: opts.cargs ?? {}, cvols: opts.cvols ?? [] },
      });
      return store;
    },
    engine: async () => (await import("../containers/index.ts")).connectEngine(),
    // Reconcile and events see only this app's containers, never a server's or another serve's.
    owner: () => `serve:${appId}`,
    runDir: join(paths.home, "run", "serve"),
    containersAtExit: "remove",
    // Only a missing approval is served (as a 500 naming what to approve); any other load error is the user's to fix now.
    refuseBrokenApps: true,
    approval: opts.approve ? "audit-all" : "stored",
    approveCommand: () => opts.approveCommand,
    bootWaitMs: Infinity,
    sweepSources: false,
    evalLimits: opts.evalLimits,
    // What a server logs (adoption, warnings) the serve command prints from the app and its events itself.
    log: () => {},
    onEvent: opts.onEvent,
    onProxyEvent: opts.onProxyEvent,
    onAccess: opts.onAccess,
    onDevReload: opts.onReload && ((_location, outcome) => opts.onReload!(outcome)),
    exit: opts.exit,
    onClosed: opts.onClosed,
  });
  const app = () => running.apps()[0];
  const { domain, path } = app()!.record;
  return {
    get config() {
      return app()?.config ?? null;
    },
    get loadError() {
      const mounted = app();
      return mounted?.needsApproval ? (mounted.cause as RuntimeError) : null;
    },
    get container() {
      return app()?.container ?? null;
    },
    server: running.proxy,
    url: running.appUrl(domain, path),
    requestCount: () => app()?.requests ?? 0,
    async waitReady(timeoutSecs, limit) {
      const mounted = app();
      if (mounted?.needsApproval) throw new HostError("usage", (mounted.cause as RuntimeError).render().replace(/^error: /, ""));
      const container = mounted?.container;
      if (!container) return; // a proxy-only app: nothing to start
      const signal = AbortSignal.timeout(timeoutSecs * 1000);
      let failure: unknown;
      try {
        await container.ensureReady(signal);
        return;
      } catch (err) {
        failure = err;
      }
      if (signal.aborted) failure = (await container.cancelStart(`the app did not become ready within ${timeoutSecs}s (${limit})`)) ?? failure;
      const reason = signal.aborted ? `the app did not become ready within ${timeoutSecs}s (state: ${container.state})` : failure instanceof Error ? failure.message : String(failure);
      const tail = (failure as { logTail?: string } | null)?.logTail?.trimEnd();
      throw new HostError("failed", tail ? `${reason}\nlast log lines:\n${tail}` : `${reason}\n(no container log lines)`);
    },
    close: (options) => running.stop(options),
    abandon: () => running.abandon(),
  };
}
