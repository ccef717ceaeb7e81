/**
 * The access log: one line per exchange (time, client, app, method, target, status, duration, bytes), plain or
 * JSON. To a stream (`serve --access-log`), or to a file with rotation by size (`server start`: CL_HOME/logs),
 * written through a buffer flushed a few times a second so that logging costs no write per request.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { AccessEntry } from "../proxy/index.ts";

export type AccessLogFormat = "text" | "json";

/** One entry as a line (with its newline). */
export function accessLine(e: AccessEntry, format: AccessLogFormat): string {
  if (format === "json") {
    return `${JSON.stringify({ time: e.time.toISOString(), client: e.client, app: e.app, method: e.method, target: e.target, status: e.status, duration_ms: round(e.durationMs), bytes_in: e.bytesIn, bytes_out: e.bytesOut })}\n`;
  }
  // Common-log-like: fields in a fixed order, the target quoted (it may hold spaces once decoded by a reader).
  return `${e.time.toISOString()} ${e.client} ${e.app || "-"} "${e.method} ${e.target}" ${e.status} ${round(e.durationMs)}ms ${e.bytesIn} ${e.bytesOut}\n`;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Buffers lines and writes them at most every FLUSH_MS or when BUFFER_LIMIT is reached. */
abstract class BufferedLog {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly format: AccessLogFormat) {}

  add(e: AccessEntry): void {
    const line = accessLine(e, this.format);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= BUFFER_LIMIT) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const text = this.pending.join("");
    this.pending = [];
    this.pendingBytes = 0;
    this.write(text);
  }

  protected abstract write(text: string): void;
}

const FLUSH_MS = 200;
const BUFFER_LIMIT = 64 * 1024;

/** To a stream (standard error for `serve`). */
export class StreamAccessLog extends BufferedLog {
  constructor(
    private readonly out: { write(text: string): unknown },
    format: AccessLogFormat,
  ) {
    super(format);
  }

  protected write(text: string): void {
    this.out.write(text);
  }
}

/** To a file, rotated by size: access.log → access.log.1 → ... → access.log.<keep>, the oldest dropped. */
export class FileAccessLog extends BufferedLog {
  private fd: number;
  private size: number;

  constructor(
    private readonly path: string,
    format: AccessLogFormat,
    private readonly maxBytes = 10 * 1024 * 1024,
    private readonly keep = 3,
  ) {
    super(format);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.fd = openSync(path, "a", 0o600);
    this.size = statSync(path).size;
  }

  protected write(text: string): void {
    if (this.size > 0 && this.size + text.length > this.maxBytes) this.rotate();
    writeSync(this.fd, text);
    this.size += Buffer.byteLength(text);
  }

  private rotate(): void {
    closeSync(this.fd);
    const oldest = `${this.path}.${this.keep}`;
    if (existsSync(oldest)) rmSync(oldest);
    for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, "a", 0o600);
    this.size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
