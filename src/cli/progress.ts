/**
 * Progress output for long operations (build, pull, start): plain lines when stderr is not a terminal (CI logs),
 * a single updating line for pull progress on a terminal, or JSON lines with --log-format json.
 */
import type { ContainerEvent } from "../containers/index.ts";
import { jsonLine } from "./output.ts";

export type LogFormat = "text" | "json";

export interface ProgressPrinter {
  event(e: ContainerEvent): void;
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createProgressPrinter(format: LogFormat, out: NodeJS.WriteStream = process.stderr): ProgressPrinter {
  const tty = format === "text" && out.isTTY === true;
  let pullLineOpen = false;

  const write = (line: string) => {
    if (pullLineOpen) {
      out.write("\n");
      pullLineOpen = false;
    }
    out.write(line + "\n");
  };
  const emit = (level: string, message: string, fields: Record<string, unknown> = {}) => {
    if (format === "json") out.write(jsonLine(level, message, fields) + "\n");
    else write(level === "error" ? `error: ${message}` : message);
  };

  return {
    info: (message, fields) => emit("info", message, fields),
    error: (message, fields) => emit("error", message, fields),
    event(e) {
      switch (e.type) {
        case "state":
          emit("info", `${e.appName}: ${e.state}${e.reason ? ` (${e.reason})` : ""}`, { event: "state", app: e.appName, state: e.state });
          break;
        case "build-line":
          if (format === "json") emit("info", e.line, { event: "build" });
          else write(`  build | ${e.line}`);
          break;
        case "pull-progress": {
          const p = e.progress;
          const pct = p.total ? ` ${Math.floor(((p.current ?? 0) / p.total) * 100)}%` : "";
          const text = `  pull  | ${p.id ? p.id + ": " : ""}${p.status}${pct}`;
          if (format === "json") emit("info", text.trim(), { event: "pull", ...p });
          else if (tty && p.total) {
            out.write(`\r\x1b[K${text}`);
            pullLineOpen = true;
          } else if (!p.total) write(text);
          break;
        }
        case "ready":
          emit("info", `ready at ${e.url} after ${(e.coldStartMs / 1000).toFixed(2)}s${e.adopted ? " (adopted a running container)" : ""}`, {
            event: "ready",
            url: e.url,
            coldStartMs: e.coldStartMs,
          });
          break;
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
      }
    },
  };
}
