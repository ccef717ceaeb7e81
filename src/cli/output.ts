/** How the CLI reports outcomes: exit codes and rendering of errors (lower layers never print). */
import { writeSync } from "node:fs";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** An error whose message is already meant for a person: no stack trace is shown for it. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** Errors that know how to render themselves for a terminal (e.g. Starlark errors with a caret). */
export interface Renderable {
  render(): string;
}

function isRenderable(err: unknown): err is Renderable {
  return typeof err === "object" && err !== null && typeof (err as Renderable).render === "function";
}

export function formatError(err: unknown): string {
  if (isRenderable(err)) return err.render();
  if (err instanceof UserError) return `error: ${err.message}`;
  if (err instanceof Error) {
    // Unexpected: keep the stack only when asked, so users see one clear line by default.
    return process.env.CLACE_LITE_DEBUG ? `error: ${err.stack ?? err.message}` : `error: ${err.message}`;
  }
  return `error: ${String(err)}`;
}

/** How errors reach stderr: "json" (a command's --log-format json) makes them one JSON line like every other line. */
let errorFormat: "text" | "json" = "text";

export function setErrorFormat(format: "text" | "json"): void {
  errorFormat = format;
}

/** One log line as JSON: the shape every --log-format json line has. */
export function jsonLine(level: string, message: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
}

/** Set up once: the wait between retries when a non-blocking pipe is full. */
let pause: Int32Array | undefined;

/**
 * Writes all of `text` to a file descriptor before returning. Synchronous on purpose: what a command prints has
 * reached the pipe or terminal before the process may exit (however long the text), and the interpreter's commands
 * do not pay for building process.stdout's stream machinery, a noticeable part of their start-up.
 */
export function writeAll(fd: 1 | 2, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait((pause ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, 1);
    }
  }
}

export function exitWithError(err: unknown): never {
  const text = formatError(err);
  process.stderr.write((errorFormat === "json" ? jsonLine("error", text.replace(/^error: /, "")) : text) + "\n");
  process.exit(err instanceof UserError ? err.exitCode : EXIT_FAILED);
}
