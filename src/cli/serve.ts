/**
 * `clace-lite serve` (one app, for local use and CI previews) and `clace-lite check` (does this app come up?).
 */
import type { Command } from "commander";
import { InvalidArgumentError, Option } from "commander";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { ContainerEvent } from "../containers/index.ts";
import type { ExitPolicy, SingleAppOptions } from "../server/index.ts";
import { createProgressPrinter, type LogFormat, type ProgressPrinter } from "./progress.ts";
import { addAppOptions, appSettings, parsePort, type AppFlags } from "./options.ts";
import { EXIT_FAILED, jsonLine, setErrorFormat, UserError } from "./output.ts";
import { reachLines } from "./reach-output.ts";
import { addEvalLimitOptions, evalLimitsOf, type EvalLimitFlags } from "./eval-limits.ts";

interface CommonOptions extends AppFlags, EvalLimitFlags {
  logFormat: LogFormat;
}

function addCommonOptions(command: Command): Command {
  return addEvalLimitOptions(addAppOptions(command)).option("--log-format <format>", "text or json", parseLogFormat, "text" as LogFormat);
}

function parseLogFormat(value: string): LogFormat {
  if (value !== "text" && value !== "json") throw new InvalidArgumentError(`--log-format is text or json, not "${value}"`);
  return value;
}

function parseSeconds(flag: string): (value: string) => number {
  return (value) => {
    const secs = Number(value.replace(/s$/, ""));
    if (!Number.isFinite(secs) || secs <= 0) throw new InvalidArgumentError(`${flag} takes seconds, e.g. 120 or 90s, not "${value}"`);
    return secs;
  };
}

function sourceOf(dir: string): string | null {
  if (dir === "-") return null;
  const full = resolve(dir);
  if (!existsSync(full) || !statSync(full).isDirectory()) {
    throw new UserError(`app folder "${dir}" does not exist; give a folder with an app.star, or "-" with --spec for a spec-only app`);
  }
  return full;
}

/** Build and start durations, read off the lifecycle's events, for the summary printed at exit. */
class Timings {
  private buildStarted = 0;
  private startStarted = 0;
  buildSecs = 0;
  startSecs = 0;

  observe(e: ContainerEvent): void {
    if (e.type !== "state") return;
    const now = performance.now();
    if (e.state === "building") this.buildStarted = now;
    if (e.state === "starting") {
      if (this.buildStarted) this.buildSecs += (now - this.buildStarted) / 1000;
      this.buildStarted = 0;
      this.startStarted = now;
    }
    if (e.state === "ready" && this.startStarted) {
      this.startSecs += (now - this.startStarted) / 1000;
      this.startStarted = 0;
    }
  }

  summary(requests: number): string {
    return `summary: build ${this.buildSecs.toFixed(2)}s, start ${this.startSecs.toFixed(2)}s, ${requests} request(s) served`;
  }
}

function singleOptions(
  command: "serve" | "check",
  dir: string,
  opts: CommonOptions,
  printer: ProgressPrinter,
  timings: Timings,
  extra: Pick<SingleAppOptions, "location" | "host" | "port" | "httpsPort">,
  timeoutSecs?: number,
): SingleAppOptions {
  const settings = appSettings(opts);
  return {
    source: sourceOf(dir),
    ...settings,
    conf: timeoutSecs === undefined ? settings.conf : readinessLimits(settings.conf, timeoutSecs),
    approveCommand: `clace-lite ${command} ${dir}${opts.spec ? ` --spec ${opts.spec}` : ""} --approve`,
    evalLimits: evalLimitsOf(opts),
    onEvent: (e) => {
      timings.observe(e);
      printer.event(e);
    },
    onProxyEvent: (e) => printer.proxy(e),
    ...extra,
  };
}

/**
 * `--wait-ready N` and `check --timeout N` bound the whole start (build, container start, health check), so the
 * app's own readiness limits are raised to N unless --conf sets them: an app that needs 35 s comes up under N=180.
 */
function readinessLimits(conf: Record<string, string>, timeoutSecs: number): Record<string, string> {
  const secs = String(Math.max(1, Math.ceil(timeoutSecs)));
  return { "container.health_attempts_after_startup": secs, "container.start_timeout_secs": secs, ...conf };
}

/** Ctrl-C / SIGTERM end serve and check with the signal's conventional exit code, the second one at once. */
function signalExit(printer: ProgressPrinter, removeImages: boolean, onStopped?: () => void): ExitPolicy {
  return {
    code: (signal) => (signal === "SIGINT" ? 130 : 143),
    onStopping: (signal) => printer.info(`${signal}: stopping (again to exit at once)`, { event: "signal", signal }),
    onStopped,
    onUnfinished: (boundMs) =>
      printer.error(
        `the clean-up did not finish within ${boundMs / 1000}s; exiting, and the app's containers${removeImages ? " or images" : ""} may remain (the next serve of this app removes or reuses them)`,
      ),
    removeImages,
  };
}

export function registerServeCommands(program: Command): void {
  addCommonOptions(
    program
      .command("serve")
      .description("serve one app: build and start its container on the first request, stop it when idle")
      .argument("[dir]", "the app folder (default: the current one), or - for a spec-only app")
      .option("--port <port>", "HTTP port", parsePort, 25222)
      .option("--https-port <port>", "also serve HTTPS on this port (self-signed certificate for localhost)", parsePort)
      .option("--host <address>", "address to listen on", "127.0.0.1")
      .option("--app-path <[domain:]path>", "where the app is mounted (default: /)")
      .addOption(new Option("--path <[domain:]path>", "the old name of --app-path").hideHelp())
      .option("--wait-ready [seconds]", "start the container now and print a ready line once it answers; N bounds build, start and health check (default: 120)")
      .option("--ready-file <file>", "with --wait-ready: write the app's URL to this file when ready")
      .option("--rm-image", "on exit, also remove the images built for the app")
      .option("--access-log", "print one line per request to stderr (plain, or JSON with --log-format json)")
      .option("-d, --dev", "watch the app folder: rebuild and restart on changes, serving the old version until the new one is ready"),
  ).action(async (dirArg: string | undefined, opts: CommonOptions & { dev?: boolean; port: number; httpsPort?: number; host: string; appPath?: string; path?: string; waitReady?: string | true; readyFile?: string; rmImage?: boolean; accessLog?: boolean }) => {
    const dir = dirArg ?? ".";
    setErrorFormat(opts.logFormat);
    const printer = createProgressPrinter(opts.logFormat, process.stderr, { live: true });
    const timings = new Timings();
    const started = performance.now();
    const waitSecs = opts.waitReady === undefined ? undefined : opts.waitReady === true ? 120 : parseSeconds("--wait-ready")(opts.waitReady);
    // Loaded on use: the container and proxy layers are not needed by other commands.
    const [{ startSingleApp, StreamAccessLog }, { describeReach }] = await Promise.all([import("../server/index.ts"), import("../runtime/index.ts")]);
    const accessLog = opts.accessLog ? new StreamAccessLog(process.stderr, opts.logFormat) : undefined;
    const app = await startSingleApp({
      onAccess: accessLog === undefined ? undefined : (e) => accessLog.add(e),
      ...singleOptions("serve", dir, opts, printer, timings, { location: opts.appPath ?? opts.path ?? "/", host: opts.host, port: opts.port, httpsPort: opts.httpsPort }, waitSecs),
      dev: opts.dev ?? false,
      onReload: (outcome) => (outcome.ok ? printer.info("reloaded after a source change") : printer.error(`reload failed, still serving the previous version:\n${outcome.error}`)),
      exit: signalExit(printer, opts.rmImage ?? false, () => printer.info(`${timings.summary(requests())}; containers removed`)),
      onClosed: () => accessLog?.flush(),
    });
    const requests = () => app.requestCount();
    printer.appUrl = app.url;
    printer.info(`serving ${app.config?.name ?? dir} at ${app.url}${app.container ? " (the container starts on the first request)" : ""}`);
    if (app.loadError) {
      // Said at start, not only in the 500 page a browser gets: the app answers nothing until approved.
      printer.error(`${app.loadError.message}; every request gets a 500 until then${app.loadError.fix ? `\nfix: ${app.loadError.fix}` : ""}`);
    }
    for (const w of app.config?.warnings ?? []) printer.info(`warning: ${w}`);
    if (opts.approve && app.config) printer.info(`approved ${reachLines(app.config.audit.reach.map(describeReach), "").trimEnd()}`);
    if (waitSecs !== undefined) {
      try {
        await app.waitReady(waitSecs, "--wait-ready");
      } catch (err) {
        // A preview that never came up leaves nothing behind: its container and the image built for it go.
        await app.close({ removeImages: true });
        throw err;
      }
      const secs = ((performance.now() - started) / 1000).toFixed(2);
      process.stdout.write(
        (opts.logFormat === "json" ? jsonLine("info", `ready ${app.url} in ${secs}s`, { event: "ready", url: app.url, seconds: Number(secs) }) : `ready ${app.url} in ${secs}s`) + "\n",
      );
      if (opts.readyFile) await Bun.write(opts.readyFile, app.url + "\n");
    }
  });

  addCommonOptions(
    program
      .command("check")
      .description("build and start an app, request a path through the proxy, check the answer, then remove everything")
      .argument("[dir]", "the app folder (default: the current one), or - for a spec-only app")
      .option("--path <path>", "the path to request, relative to the app (default: /)")
      .option("--expect <status>", "the HTTP status to expect", (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 100 || n > 599) throw new InvalidArgumentError(`--expect takes an HTTP status, not "${v}"`);
        return n;
      }, 200)
      .option("--expect-body <regexp>", "a regular expression the body must match")
      .option("--timeout <seconds>", "how long the app may take to come up: build, start and health check", parseSeconds("--timeout"), 120)
      .option("--rm-image", "also remove the images built for the app"),
  ).action(async (dirArg: string | undefined, opts: CommonOptions & { path?: string; expect: number; expectBody?: string; timeout: number; rmImage?: boolean }) => {
    const dir = dirArg ?? ".";
    setErrorFormat(opts.logFormat);
    const printer = createProgressPrinter(opts.logFormat, process.stderr, { live: true });
    const bodyPattern = opts.expectBody === undefined ? null : compilePattern(opts.expectBody);
    const timings = new Timings();
    const started = performance.now();
    const { startSingleApp } = await import("../server/index.ts");
    const app = await startSingleApp({
      ...singleOptions("check", dir, opts, printer, timings, { location: "/", host: "127.0.0.1", port: 0 }, opts.timeout),
      exit: signalExit(printer, opts.rmImage ?? false),
    });
    printer.appUrl = app.url;
    let passed = false;
    try {
      await app.waitReady(opts.timeout, "--timeout");
      const target = new URL((opts.path ?? "/").replace(/^\//, ""), app.url);
      const response = await fetch(target, { signal: AbortSignal.timeout(opts.timeout * 1000), redirect: "manual" });
      const body = await response.text();
      const problems: string[] = [];
      if (response.status !== opts.expect) problems.push(`expected status ${opts.expect}, got ${response.status}`);
      if (bodyPattern && !bodyPattern.test(body)) problems.push(`the body does not match /${opts.expectBody}/; it starts with: ${JSON.stringify(body.slice(0, 200))}`);
      const secs = ((performance.now() - started) / 1000).toFixed(2);
      if (problems.length) {
        throw new UserError(`check failed for ${target.pathname}: ${problems.join("; ")}`, EXIT_FAILED);
      }
      const ok = `ok ${target.pathname} answered ${response.status} in ${secs}s`;
      process.stdout.write((opts.logFormat === "json" ? jsonLine("info", ok, { event: "ok", path: target.pathname, status: response.status, seconds: Number(secs) }) : ok) + "\n");
      printer.info(timings.summary(app.requestCount()));
      passed = true;
    } finally {
      // A failed check leaves nothing behind: the image built for it goes too.
      await app.close({ removeImages: opts.rmImage === true || !passed });
    }
  });
}

function compilePattern(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new UserError(`--expect-body is not a valid regular expression: ${(err as Error).message}`);
  }
}
