/**
 * One app served on its own (`serve`, `check`): load it, register its container, mount it in a proxy, and tear
 * everything down again. Containers are labelled with this session's app id so a later run adopts or removes
 * them; `close` removes what this run created.
 */
import { AppContainers, connectEngine, type AppContainer, type ContainerEvent } from "../containers/index.ts";
import { AppTable, createProxyServer, selfSignedTls, type ProxyServer } from "../proxy/index.ts";
import { NO_CONTAINER, recordingActivity } from "./upstreams.ts";
import { defaultAppId, loadApp, RuntimeError, type AppConfig } from "../runtime/index.ts";
import { parseAppLocation } from "../runtime/registry/paths.ts";
import { homePaths } from "./home.ts";
import { join } from "node:path";

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
  onEvent: (e: ContainerEvent) => void;
}

export interface SingleApp {
  config: AppConfig | null;
  /** Why the app cannot serve (needs approval, bad config); requests get a 500 saying so. */
  loadError: RuntimeError | null;
  container: AppContainer | null;
  server: ProxyServer;
  /** The app's URL through the proxy. */
  url: string;
  /** Requests served so far. */
  requestCount(): number;
  /** Stops serving and removes the containers this app created (and its built images with removeImages). */
  close(options: { removeImages: boolean }): Promise<void>;
}

export async function startSingleApp(opts: SingleAppOptions): Promise<SingleApp> {
  const where = parseAppLocation(opts.location, "localhost");
  const appId = defaultAppId({ source: opts.source, spec: opts.spec, domain: where.domain, path: where.path });
  let config: AppConfig | null = null;
  let loadError: RuntimeError | null = null;
  try {
    config = loadApp({
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
    });
  } catch (err) {
    // Only a missing approval is served (as a 500 naming what to approve); any other load error is the user's to fix now.
    if (!(err instanceof RuntimeError) || err.kind !== "not-approved") throw err;
    loadError = err;
  }

  let containers: AppContainers | null = null;
  let container: AppContainer | null = null;
  if (config?.container) {
    const engine = await connectEngine();
    containers = new AppContainers(engine, {
      onEvent: opts.onEvent,
      runDir: join(homePaths().home, "run", "serve"),
    });
    container = await containers.add(config.container);
    await containers.reconcile();
    await containers.start();
  }

  let requests = 0;
  const table = new AppTable({ defaultDomain: "localhost" });
  table.add({
    domain: where.domain,
    path: where.path,
    name: config?.name ?? where.path,
    routes: config?.routes ?? [],
    upstream: recordingActivity(container ?? NO_CONTAINER, () => requests++),
    loadError: loadError ? { message: loadError.message, fix: loadError.fix ?? `run: ${opts.approveCommand}` } : undefined,
  });
  // HTTPS (as Clace serves it on 25223) with a self-signed certificate for localhost, kept under CL_HOME.
  const tls = opts.httpsPort !== undefined ? await selfSignedTls(homePaths().certsDir) : undefined;
  const server = createProxyServer({ host: opts.host, port: opts.port, httpsPort: opts.httpsPort, tls, apps: table });
  const listening = new URL(server.url);
  const host = where.domain || (opts.host === "0.0.0.0" || opts.host === "::" ? "127.0.0.1" : listening.hostname);
  const url = `http://${host}:${listening.port}${where.path === "/" ? "/" : where.path + "/"}`;

  let closed = false;
  return {
    config,
    loadError,
    container,
    server,
    url,
    requestCount: () => requests,
    async close({ removeImages }) {
      if (closed) return;
      closed = true;
      await server.stop(true);
      if (containers && container) {
        if (removeImages) {
          await containers.remove(container.spec.appId);
        } else {
          // Keep the built image (the next run starts from it), remove the container.
          await container.stop("shutting down");
          const id = container.currentContainerId;
          if (id) await containers.engine.removeContainer(id);
        }
        containers.close();
      }
    },
  };
}
