/** `clace-lite server start|stop`: the long-running multi-app server. */
import type { Command } from "commander";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { HomePaths } from "../server/index.ts";
import { AdminClient } from "./admin-client.ts";
import { parsePort } from "./options.ts";
import { UserError } from "./output.ts";
import { createProgressPrinter } from "./progress.ts";
import { addEvalLimitOptions, evalLimitsOf, type EvalLimitFlags } from "./eval-limits.ts";

function parseHttpsPort(value: string): number {
  return value === "off" ? -1 : parsePort(value);
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
      const { describeConfigSource, FileAccessLog, homePaths, loadServerConfig, startServer } = await import("../server/index.ts");
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
      const accessLog = config.logging.access_logging ? new FileAccessLog(`${paths.home}/logs/access.log`, "text") : undefined;
      const server = await startServer({
        paths,
        loaded: loadedConfig,
        port: opts.port,
        httpsPort: opts.httpsPort,
        host: opts.host,
        evalLimits: evalLimitsOf(opts, config.eval),
        log: (line) => printer.info(line),
        onEvent: (e) => printer.event(e),
        onProxyEvent: (e) => printer.proxy(e),
        onAccess: accessLog && ((e) => accessLog.add(e)),
        onClosed: () => accessLog?.close(),
        exit: {
          // A stop asked for (signal or `server stop`) is a clean exit; a second signal exits at once.
          code: (_signal, urgent) => (urgent ? 143 : 0),
          onStopping: () => printer.info("stopping: containers keep running and are adopted at the next start"),
        },
      });
      printer.info(`clace-lite server listening on ${server.proxy.url}/${server.proxy.httpsUrl ? ` and ${server.proxy.httpsUrl}/` : ""}`);
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
