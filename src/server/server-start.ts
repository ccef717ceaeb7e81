/**
 * `server start`: the host of start.ts with the registry `[metadata] db` names, the engine `[container] backend`
 * chooses, and the admin API on CL_HOME's socket. Containers keep running at exit, for the next start to adopt.
 * One server per CL_HOME: `claimServerHome` takes the home before anything else, and the start refuses a socket
 * another server still answers on.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ContainerEngine, ContainerEvent } from "../containers/index.ts";
import type { ProxyEvent, TlsFiles } from "../proxy/index.ts";
import type { AppStore, EvalLimits } from "../runtime/index.ts";
import type { LoadedServerConfig, ServerConfig } from "./config.ts";
import { FileAccessLog } from "./access-log.ts";
import { serverOwner, type HomePaths } from "./home.ts";
import { acquireServerLock, ServerLockedError } from "./lock.ts";
import { secureStateFiles } from "./state-perms.ts";
import { startHost, type ExitPolicy, type RunningHost } from "./start.ts";
import { HostError } from "./types.ts";

export interface ServerStartOptions {
  paths: HomePaths;
  loaded: LoadedServerConfig;
  /** Flags that override the config: HTTP port, HTTPS port (negative: none), the address to listen on. */
  port?: number;
  httpsPort?: number;
  host?: string;
  evalLimits?: Partial<EvalLimits>;
  log: (line: string) => void;
  onEvent?: (e: ContainerEvent) => void;
  onProxyEvent?: (e: ProxyEvent) => void;
  exit: ExitPolicy;
}

/**
 * Takes the one-server-per-CL_HOME lock, before the server touches the database or a port, and makes the state
 * private, saying through `log` what was readable by others. A second server on the home stops here.
 */
export function claimServerHome(paths: HomePaths, log: (line: string) => void): void {
  try {
    acquireServerLock(paths.lockFile, paths.home);
  } catch (err) {
    if (err instanceof ServerLockedError) throw new HostError("conflict", err.message);
    throw err;
  }
  for (const line of secureStateFiles(paths)) log(`warning: state was readable by others, fixed: ${line}`);
}

/** The admin socket's place: a socket file a server still answers on is refused, one left by a killed server removed. */
async function clearAdminSocket(paths: HomePaths): Promise<void> {
  mkdirSync(dirname(paths.adminSocket), { recursive: true, mode: 0o700 });
  if (!existsSync(paths.adminSocket)) return;
  if (await answersOn(paths.adminSocket)) throw new HostError("conflict", `a clace-lite server is already running for ${paths.home}; stop it with: clace-lite server stop`);
  rmSync(paths.adminSocket, { force: true });
}

/** Whether a server answers on the socket at all (whatever it answers): a left-over socket file does not. */
function answersOn(socket: string): Promise<boolean> {
  return fetch("http://clace-lite/v1/apps?glob=none", { unix: socket }).then(
    () => true,
    () => false,
  );
}

/** Opens the registry `[metadata] db` names; a database that cannot be used is the user's to fix. */
async function openRegistry(config: ServerConfig, database: string, file: string | undefined): Promise<AppStore> {
  const { openAppStore, RegistryError } = await import("../runtime/index.ts");
  try {
    return await openAppStore(config.metadata.db, database);
  } catch (err) {
    if (err instanceof RegistryError) throw new HostError("usage", `${err.message}; check [metadata] db in ${file ?? "the config"}`);
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
async function tlsFiles(config: ServerConfig, certsDir: string, database: string, file: string | undefined): Promise<TlsFiles> {
  const { loadTlsFiles, selfSignedTls, TlsSetupError } = await import("../proxy/index.ts");
  try {
    if (config.https.cert_file) return await loadTlsFiles(config.https.cert_file, config.https.key_file);
    return await selfSignedTls(certsDir, [config.system.default_domain, ...(await storedDomains(config, database, file))]);
  } catch (err) {
    if (err instanceof TlsSetupError) throw new HostError("usage", `${err.message}; check [https] cert_file and key_file in the config`);
    throw err;
  }
}

/** The engine `[container] backend` names: Docker (or Podman) itself, or Swarm services through it. */
async function openEngine(config: ServerConfig, file: string | undefined, log: (line: string) => void): Promise<ContainerEngine> {
  const { connectEngine, EngineError, SwarmEngine } = await import("../containers/index.ts");
  const docker = await connectEngine();
  if (config.container.backend !== "swarm") return docker;
  const engine = await SwarmEngine.open(docker, { registry: config.container.registry }).catch((err: unknown) => {
    if (err instanceof EngineError && err.kind === "config-error") {
      throw new HostError("usage", `${file ?? "server config"}: [container] ${err.message}${err.fix ? `; ${err.fix}` : ""}`);
    }
    throw err;
  });
  log(`apps run as Swarm services (${engine.endpoint}${config.container.registry ? `, images pushed to ${config.container.registry}` : ", images stay on this node: set [container] registry for other nodes"})`);
  return engine;
}

/** Starts the server on a home `claimServerHome` took. */
export async function startServer(opts: ServerStartOptions): Promise<RunningHost> {
  const { paths, loaded } = opts;
  const { config, file } = loaded;
  const httpsSetting = opts.httpsPort ?? config.https.port;
  await clearAdminSocket(paths);
  const accessLog = config.logging.access_logging ? new FileAccessLog(join(paths.home, "logs", "access.log"), "text") : undefined;
  return startHost({
    listen: {
      host: opts.host ?? config.http.host,
      port: opts.port ?? config.http.port,
      httpsPort: httpsSetting < 0 ? undefined : httpsSetting,
      httpsHost: config.https.host || undefined,
      tls: () => tlsFiles(config, paths.certsDir, paths.database, file),
      headerTimeout: config.http.read_header_timeout_secs,
      fixes: { http: "--port N or [http] port in the config", https: "--https-port N (off for none) or [https] port in the config (-1 for none)" },
    },
    defaultDomain: config.system.default_domain,
    baseHost: config.system.default_domain,
    paths,
    openStore: () => openRegistry(config, paths.database, file),
    engine: () => openEngine(config, file, opts.log),
    // A server needs its engine from the start: boot adopts the containers that kept running.
    connectAtStart: true,
    owner: () => serverOwner(paths),
    runDir: join(paths.home, "run", "apps"),
    containersAtExit: "keep",
    admin: { socket: paths.adminSocket, pidFile: paths.pidFile },
    exit: opts.exit,
    confDefaults: config.app_config,
    evalLimits: opts.evalLimits,
    approval: "stored",
    sweepSources: true,
    log: opts.log,
    onEvent: opts.onEvent,
    onProxyEvent: opts.onProxyEvent,
    // `[logging] access_logging`: one line per request in CL_HOME's logs/access.log.
    onAccess: accessLog && ((e) => accessLog.add(e)),
    onClosed: () => accessLog?.close(),
  });
}
