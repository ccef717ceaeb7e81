/** `clace-lite server start|stop`: the long-running multi-app server. */
import type { Command } from "commander";
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { HomePaths, ServerConfig, StatusSource } from "../server/index.ts";
import { AdminClient } from "./admin-client.ts";
import { parsePort } from "./options.ts";
import { UserError } from "./output.ts";
import { createProgressPrinter } from "./progress.ts";
import { addEvalLimitOptions, evalLimitsOf, type EvalLimitFlags } from "./eval-limits.ts";

function parseHttpsPort(value: string): number {
  return value === "off" ? -1 : parsePort(value);
}

/** Opens the registry `[metadata] db` names; a database that cannot be used is the user's to fix. */
async function openRegistry(config: ServerConfig, database: string, file: string | undefined) {
  const { openAppStore, RegistryError } = await import("../runtime/index.ts");
  try {
    return await openAppStore(config.metadata.db, database);
  } catch (err) {
    if (err instanceof RegistryError) throw new UserError(`${err.message}; check [metadata] db in ${file ?? "the config"}`);
    throw err;
  }
}

/** The app domains in the registry (app.localhost), for the self-signed certificate to name. */
async function storedDomains(config: ServerConfig, database: string, file: string | undefined): Promise<string[]> {
  if (!config.metadata.db && !existsSync(database)) return [];
  const store = await openRegistry(config, database, file);
  try {
    return [...new Set((await store.list()).map((r) => r.domain).filter(Boolean))];
  } finally {
    await store.close();
  }
}

/**
 * The HTTPS certificate: the config's files, or a self-signed one kept under CL_HOME for localhost, *.localhost,
 * the default domain and the domains of the apps there are at start (an app on a new domain is covered after a
 * restart).
 */
async function tlsFiles(config: ServerConfig, certsDir: string, database: string, file: string | undefined): Promise<{ cert: string; key: string }> {
  const { loadTlsFiles, selfSignedTls, TlsSetupError } = await import("../proxy/index.ts");
  try {
    if (config.https.cert_file) return await loadTlsFiles(config.https.cert_file, config.https.key_file);
    return await selfSignedTls(certsDir, [config.system.default_domain, ...(await storedDomains(config, database, file))]);
  } catch (err) {
    if (err instanceof TlsSetupError) throw new UserError(`${err.message}; check [https] cert_file and key_file in the config`);
    throw err;
  }
}

/** Takes the one-server-per-CL_HOME lock and makes the state private (warning about what was too open). */
async function claimHome(paths: HomePaths, warn: (line: string) => void): Promise<void> {
  const { acquireServerLock, secureStateFiles, ServerLockedError } = await import("../server/index.ts");
  try {
    acquireServerLock(paths.lockFile, paths.home);
  } catch (err) {
    if (err instanceof ServerLockedError) throw new UserError(err.message);
    throw err;
  }
  for (const line of secureStateFiles(paths)) warn(`warning: state was readable by others, fixed: ${line}`);
}

export function registerServerCommands(program: Command): void {
  const server = program.command("server").description("run the multi-app server");

  const start = server
    .command("start")
    .description("start the server in the foreground (state under CL_HOME, default ~/clhome)")
    .option("--port <port>", "HTTP port (default 25222)", parsePort)
    .option("--https-port <port>", "HTTPS port (default 25223; self-signed certificate for localhost unless the config names one; off to disable)", parseHttpsPort)
    .option("--host <address>", "address to listen on (default 127.0.0.1)")
    .option("-c, --config <file>", "TOML config file (default: $CL_CONFIG_FILE, else $CL_HOME/clace.toml when it exists)");
  addEvalLimitOptions(start)
    .action(async (opts: { port?: number; httpsPort?: number; host?: string; config?: string } & EvalLimitFlags) => {
      // Loaded on use, so client commands stay quick to start.
      const { ActivityTracker, AppHost, adminHandler, describeConfigSource, FileAccessLog, homePaths, LABEL_OWNER, listenOrExplain, loadServerConfig, serverIdentity, serverOwner, statusEndpoints } =
        await import("../server/index.ts");
      const paths = homePaths();
      const printer = createProgressPrinter("text");
      // Before anything else: a second server on this CL_HOME stops here, before it touches the database or a port.
      await claimHome(paths, (line) => printer.info(line));
      const loadedConfig = loadServerConfig({ flag: opts.config, home: paths.home });
      const config = loadedConfig.config;
      printer.info(describeConfigSource(loadedConfig));
      for (const line of loadedConfig.warnings) printer.info(`warning: ${line}`);
      mkdirSync(dirname(paths.adminSocket), { recursive: true, mode: 0o700 });
      if (existsSync(paths.adminSocket)) {
        if (await new AdminClient(paths.adminSocket).answers()) throw new UserError(`a clace-lite server is already running for ${paths.home}; stop it with: clace-lite server stop`);
        rmSync(paths.adminSocket, { force: true });
      }

      // Listen first: connections are accepted at once and held until the apps are loaded (the proxy's ready gate).
      const { AppTable, createProxyServer } = await import("../proxy/index.ts");
      const table = new AppTable({ defaultDomain: config.system.default_domain });
      const httpsSetting = opts.httpsPort ?? config.https.port;
      const httpsPort = httpsSetting < 0 ? undefined : httpsSetting;
      let openGate!: () => void;
      const listenHost = opts.host ?? config.http.host;
      const port = opts.port ?? config.http.port;
      const tls = httpsPort === undefined ? undefined : await tlsFiles(config, paths.certsDir, paths.database, loadedConfig.file);
      // What the containers do over time, for the status page, the metrics and `app list`; the host is made later.
      const activity = new ActivityTracker();
      const accessLog = config.logging.access_logging ? new FileAccessLog(`${paths.home}/logs/access.log`, "text") : undefined;
      let appHost: { statusSource(): StatusSource } | undefined;
      const status = {
        rows: () => appHost?.statusSource().rows() ?? Promise.resolve([]),
        detail: (name: string) => appHost?.statusSource().detail(name) ?? Promise.resolve(undefined),
        subscribe: (listener: Parameters<StatusSource["subscribe"]>[0]) => appHost?.statusSource().subscribe(listener) ?? (() => {}),
      };
      const proxy = listenOrExplain(
        listenHost,
        [
          { what: "HTTP", port, fix: "--port N or [http] port in the config" },
          { what: "HTTPS", port: httpsPort, fix: "--https-port N (off for none) or [https] port in the config (-1 for none)" },
        ],
        () =>
          createProxyServer({
            host: listenHost,
            port,
            httpsPort,
            httpsHost: config.https.host || undefined,
            tls,
            apps: table,
            ready: new Promise<void>((resolve) => (openGate = resolve)),
            headerTimeout: config.http.read_header_timeout_secs,
            onEvent: (e) => printer.proxy(e),
            onAccess: accessLog && ((e) => accessLog.add(e)),
            metrics: () => activity.families(),
            endpoints: statusEndpoints(status, false),
          }),
      );
      const httpUrl = new URL(proxy.url);

      let shutdown: () => Promise<void>;
      try {
        const { AppContainers, connectEngine, EngineError, SwarmEngine } = await import("../containers/index.ts");
        const docker = await connectEngine();
        const engine =
          config.container.backend === "swarm"
            ? await SwarmEngine.open(docker, { registry: config.container.registry }).catch((err: unknown) => {
                if (err instanceof EngineError && err.kind === "config-error") {
                  throw new UserError(`${loadedConfig.file ?? "server config"}: [container] ${err.message}${err.fix ? `; ${err.fix}` : ""}`);
                }
                throw err;
              })
            : docker;
        if (config.container.backend === "swarm") printer.info(`apps run as Swarm services (${engine.endpoint}${config.container.registry ? `, images pushed to ${config.container.registry}` : ", images stay on this node: set [container] registry for other nodes"})`);
        const store = await openRegistry(config, paths.database, loadedConfig.file);
        const containers = new AppContainers(engine, {
          onEvent: (e) => {
            activity.observe(e);
            printer.event(e);
          },
          runDir: `${paths.home}/run/apps`,
          // Boot reconciliation touches only this server's containers (another CL_HOME or a `serve` keeps its own);
          // servers sharing a registry share its containers, and start each app one server at a time.
          extraLabels: { [LABEL_OWNER]: store.sharedOwner ?? serverOwner(paths) },
          startGuard: (appId, start) => store.exclusive(`start:${appId}`, start),
          peerActivity: store.activity && ((appId) => store.activity!.latest(appId, serverIdentity(paths))),
        });
        let admin: ReturnType<typeof Bun.serve> | undefined;
        let stopping = false;
        shutdown = async () => {
          if (stopping) {
            // A second signal: one bounded attempt at the removal in flight, then out.
            await Promise.race([containers.abandonStarts(), Bun.sleep(2000)]);
            process.exit(143);
          }
          stopping = true;
          printer.info("stopping: containers keep running and are adopted at the next start");
          admin?.stop(true);
          rmSync(paths.adminSocket, { force: true });
          rmSync(paths.pidFile, { force: true });
          await Promise.race([Promise.all([proxy.stop(true), containers.abandonStarts()]), Bun.sleep(4500)]);
          containers.close();
          await store.close().catch(() => {});
          accessLog?.close();
          process.exit(0);
        };
        const host = new AppHost({
          store,
          containers,
          table,
          paths,
          defaultDomain: config.system.default_domain,
          confDefaults: config.app_config,
          baseUrl: (domain) => `http://${domain || config.system.default_domain}:${httpUrl.port}`,
          onShutdown: () => shutdown(),
          log: (line) => printer.info(line),
          evalLimits: evalLimitsOf(opts, config.eval),
          activity,
        });
        appHost = host;
        await host.boot();
        // No idle timeout: an operation may be quiet for minutes (a reload builds and starts the new version;
        // logs -f waits for an idle app to start again). Bun's types omit idleTimeout for unix sockets; Bun honours it.
        const adminOptions = { unix: paths.adminSocket, idleTimeout: 0, fetch: adminHandler(host) };
        admin = Bun.serve(adminOptions as unknown as Parameters<typeof Bun.serve>[0]);
      } catch (err) {
        await proxy.stop(true);
        throw err;
      } finally {
        openGate();
      }
      chmodSync(paths.adminSocket, 0o600);
      writeFileSync(paths.pidFile, String(process.pid), { mode: 0o600 });
      process.on("SIGINT", () => void shutdown());
      process.on("SIGTERM", () => void shutdown());
      printer.info(`clace-lite server listening on ${proxy.url}/${proxy.httpsUrl ? ` and ${proxy.httpsUrl}/` : ""}`);
      printer.info(`state in ${paths.home}; admin socket ${paths.adminSocket}`);
    });

  server
    .command("stop")
    .description("stop the running server")
    .action(async () => {
      await new AdminClient().json("POST", "/v1/server/stop");
      process.stdout.write("server stopping\n");
    });
}
