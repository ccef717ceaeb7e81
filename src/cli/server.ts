/** `clace-lite server start|stop`: the long-running multi-app server. */
import type { Command } from "commander";
import { AdminClient } from "./admin-client.ts";
import { parsePort } from "./options.ts";
import { createProgressPrinter } from "./progress.ts";
import { addEvalLimitOptions, evalLimitsOf, type EvalLimitFlags } from "./eval-limits.ts";

function parseHttpsPort(value: string): number {
  return value === "off" ? -1 : parsePort(value);
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
      const { claimServerHome, describeConfigSource, homePaths, loadServerConfig, startServer } = await import("../server/index.ts");
      const paths = homePaths();
      const printer = createProgressPrinter("text");
      const log = (line: string) => printer.info(line);
      // First: a second server on this CL_HOME stops here, before its config is read or anything is touched.
      claimServerHome(paths, log);
      const loadedConfig = loadServerConfig({ flag: opts.config, home: paths.home });
      log(describeConfigSource(loadedConfig));
      for (const line of loadedConfig.warnings) log(`warning: ${line}`);
      const server = await startServer({
        paths,
        loaded: loadedConfig,
        port: opts.port,
        httpsPort: opts.httpsPort,
        host: opts.host,
        evalLimits: evalLimitsOf(opts, loadedConfig.config.eval),
        log,
        onEvent: (e) => printer.event(e),
        onProxyEvent: (e) => printer.proxy(e),
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
