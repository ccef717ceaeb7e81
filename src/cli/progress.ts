/**
 * Progress output for long operations (build, pull, start), on stderr:
 * - on a terminal, one live line per phase with its elapsed time (build step N/M, pull bytes, waiting for the
 *   health check), then one calm summary line; the build output is shown only when the build fails;
 * - plain lines when stderr is not a terminal (CI logs): every build line, each state change;
 * - JSON lines with --log-format json.
 */
import type { ContainerEvent } from "../containers/index.ts";
import type { ProxyEvent } from "../proxy/index.ts";
import { jsonLine } from "./output.ts";

export type LogFormat = "text" | "json";

export interface ProgressPrinter {
  event(e: ContainerEvent): void;
  /** A request the proxy refused, or a broken or late answer from an app. */
  proxy(e: ProxyEvent): void;
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** The app's URL through the proxy, named in the ready line once known. */
  appUrl?: string;
}

export interface ProgressOptions {
  /** Allow the live line when the stream is a terminal (one app: serve, check). */
  live?: boolean;
}

/** How many build lines a failed build shows on a terminal (the live line hid them). */
const FAILED_BUILD_LINES = 30;
const STEP = /^(?:Step|STEP) (\d+)\/(\d+)\s?:\s?(.*)$/;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The phase the live line shows, and what it has seen of it. */
interface Phase {
  app: string;
  what: "building" | "pulling" | "starting";
  since: number;
  step: string;
  /** Pull progress per layer id. */
  layers: Map<string, { current: number; total: number }>;
}

export function createProgressPrinter(format: LogFormat, out: NodeJS.WriteStream = process.stderr, options: ProgressOptions = {}): ProgressPrinter {
  const live = format === "text" && options.live === true && out.isTTY === true;
  const buildLines: string[] = [];
  let phase: Phase | undefined;
  let liveShown = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  const startedAt = new Map<string, { build?: number; start?: number; buildMs: number }>();

  const clearLive = () => {
    if (liveShown) out.write("\r\x1b[K");
    liveShown = false;
  };
  const drawLive = () => {
    if (!phase) return;
    let detail = "";
    if (phase.what === "building") detail = phase.step;
    else if (phase.what === "pulling") {
      let current = 0;
      let total = 0;
      for (const l of phase.layers.values()) {
        current += l.current;
        total += l.total;
      }
      detail = total ? `${megabytes(current)} of ${megabytes(total)}` : phase.step;
    } else detail = "waiting for the health check";
    const width = Math.max(40, (out.columns ?? 100) - 1);
    const text = `${phase.app}: ${phase.what} ${seconds(performance.now() - phase.since)}  ${detail}`;
    out.write(`\r\x1b[K${text.length > width ? text.slice(0, width - 1) + "…" : text}`);
    liveShown = true;
  };
  const setPhase = (next: Phase | undefined) => {
    phase = next;
    if (phase && !timer) {
      timer = setInterval(drawLive, 250);
      timer.unref?.();
    }
    if (!phase && timer) {
      clearInterval(timer);
      timer = undefined;
    }
    if (phase) drawLive();
    else clearLive();
  };
  const write = (line: string) => {
    clearLive();
    out.write(line + "\n");
    if (phase) drawLive();
  };
  const emit = (level: string, message: string, fields: Record<string, unknown> = {}) => {
    if (format === "json") out.write(jsonLine(level, message, fields) + "\n");
    else write(level === "info" ? message : `${level}: ${message}`);
  };

  const printer: ProgressPrinter = {
    info: (message, fields) => emit("info", message, fields),
    proxy: (e) => emit("error", `${e.status} for ${e.client}${e.method ? ` ${e.method} ${e.path}` : ""}${e.app ? ` (app ${e.app})` : ""}: ${e.reason}`, { event: "proxy", ...e }),
    error: (message, fields) => emit("error", message, fields),
    event(e) {
      switch (e.type) {
        case "state": {
          const times = startedAt.get(e.appId) ?? { buildMs: 0 };
          startedAt.set(e.appId, times);
          const now = performance.now();
          if (e.state === "building") times.build = now;
          if (e.state === "starting") {
            times.buildMs = times.build === undefined ? 0 : now - times.build;
            times.start = now;
          }
          const name = e.candidate ? `${e.appName} (new version)` : e.appName;
          if (live) {
            if (e.state === "building") {
              buildLines.length = 0;
              const pulling = e.reason?.startsWith("pulling") ?? false;
              setPhase({ app: name, what: pulling ? "pulling" : "building", since: now, step: e.reason ?? "", layers: new Map() });
            } else if (e.state === "starting") {
              setPhase({ app: name, what: "starting", since: now, step: "", layers: new Map() });
            } else {
              setPhase(undefined);
              if (e.state === "failed") {
                if (e.previous === "building" && buildLines.length) write(buildLines.slice(-FAILED_BUILD_LINES).map((l) => `  build | ${l}`).join("\n"));
                write(`${name}: failed${e.reason ? ` (${e.reason})` : ""}`);
              } else if (e.state !== "ready") {
                write(`${name}: ${e.state}${e.reason ? ` (${e.reason})` : ""}`);
              }
            }
            break;
          }
          // In text the ready event's line says it, with the times.
          if (format === "text" && e.state === "ready") break;
          emit("info", `${name}: ${e.state}${e.reason ? ` (${e.reason})` : ""}`, {
            event: "state",
            app: e.appName,
            state: e.state,
            ...(e.reason ? { reason: e.reason } : {}),
            ...(e.candidate ? { candidate: true } : {}),
          });
          break;
        }
        case "build-line":
          if (format === "json") emit("info", e.line, { event: "build" });
          else if (live) {
            buildLines.push(e.line);
            if (buildLines.length > FAILED_BUILD_LINES * 2) buildLines.splice(0, buildLines.length - FAILED_BUILD_LINES);
            const step = STEP.exec(e.line);
            if (phase && step) phase.step = `step ${step[1]}/${step[2]} ${step[3]}`;
          } else write(`  build | ${e.line}`);
          break;
        case "pull-progress": {
          const p = e.progress;
          if (format === "json") {
            emit("info", `${p.id ? p.id + ": " : ""}${p.status}`, { event: "pull", ...p });
          } else if (live) {
            if (phase?.what === "pulling" && p.id && p.total) phase.layers.set(p.id, { current: p.current ?? 0, total: p.total });
            else if (phase?.what === "pulling") phase.step = `${p.id ? p.id + ": " : ""}${p.status}`;
          } else if (!p.total) {
            write(`  pull  | ${p.id ? p.id + ": " : ""}${p.status}`);
          }
          break;
        }
        case "ready": {
          const times = startedAt.get(e.appId);
          const parts: string[] = [];
          if (times?.buildMs) parts.push(`built in ${seconds(times.buildMs)}`);
          if (times?.start !== undefined) parts.push(`started in ${seconds(performance.now() - times.start)}`);
          const where = printer.appUrl ? ` at ${printer.appUrl}` : "";
          const how = e.adopted ? "adopted a running container" : parts.join(", ");
          emit("info", `${e.appName}: ready in ${seconds(e.coldStartMs)}${where}${how ? ` (${how}; container at ${e.url})` : ` (container at ${e.url})`}`, {
            event: "ready",
            app: e.appName,
            url: printer.appUrl,
            containerUrl: e.url,
            coldStartMs: e.coldStartMs,
          });
          break;
        }
        case "crash":
          emit("error", `container exited${e.exitCode === undefined ? "" : ` with code ${e.exitCode}`}${e.logTail ? `; last log lines:\n${e.logTail}` : ""}`, {
            event: "crash",
          });
          break;
        case "crash-loop":
          emit("error", `container keeps crashing (${e.failures} times); next start in ${Math.round(e.retryInMs / 1000)}s`, { event: "crash-loop" });
          break;
        case "removed":
          emit("info", `removed ${e.what} ${e.name}`, { event: "removed", what: e.what, name: e.name });
          break;
        case "kept":
          emit("warning", `could not remove ${e.what} ${e.name}: ${e.reason}`, { event: "kept", what: e.what, name: e.name });
          break;
        case "pause-unavailable":
          emit("info", `this container engine cannot pause containers (${e.reason}); idle apps are stopped instead`, { event: "pause-unavailable" });
          break;
      }
    },
  };
  return printer;
}
