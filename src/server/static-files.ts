/**
 * Static apps (Clace's `ace.app(static_only=True)`, the `static` and `static_single` specs): the app folder's files
 * served by a small file server of our own on 127.0.0.1, which the proxy reaches like an app's container. It starts
 * on the first request and stops after a minute without requests, so an app that is reloaded or deleted leaves no
 * listener behind for long.
 *
 * What is served: every regular file under the app folder except the app's config (`*.star`) and hidden files
 * (a leading "."), with its content type; `/` serves the index file, a folder's path its own index (the app's index
 * name, else index.html or index.htm); with `singleFile`, every
 * path that is not a file serves the index (single-page apps). A path that resolves outside the folder (`..`, a
 * symbolic link out of it) is 404. GET and HEAD only (405 otherwise).
 */
import { realpathSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import type { StaticFiles } from "../runtime/index.ts";
import type { AppUpstream, ReadyUrlProbe } from "../proxy/index.ts";

/** A static server with no request for this long is stopped (it starts again on the next request). */
const IDLE_STOP_MS = 60_000;

function notFound(): Response {
  return new Response("404 page not found\n", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** The file a request path names inside `root`, or null; never a path outside it. */
export function resolveStaticPath(files: StaticFiles, requestPath: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(requestPath);
  } catch {
    return null;
  }
  const parts = rel.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === ".." || p.startsWith(".") || p.includes("\0"))) return null;
  const candidate = join(files.root, ...parts);
  // A folder's path serves its index: the app's index name, else index.html or index.htm.
  const found =
    fileAt(files.root, candidate) ??
    fileAt(files.root, join(candidate, files.index)) ??
    fileAt(files.root, join(candidate, "index.html")) ??
    fileAt(files.root, join(candidate, "index.htm"));
  if (found && !found.endsWith(".star")) return found;
  return files.singleFile ? fileAt(files.root, join(files.root, files.index)) : null;
}

function fileAt(root: string, path: string): string | null {
  try {
    const real = realpathSync(path);
    if (real !== root && !real.startsWith(root + sep)) return null;
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

export class StaticFilesUpstream implements AppUpstream, ReadyUrlProbe {
  private server: ReturnType<typeof Bun.serve> | undefined;
  private url: string | undefined;
  private lastUse = 0;
  private inFlight = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly files: StaticFiles) {}

  readyUrl(): string | undefined {
    return this.url;
  }

  async ensureReady(): Promise<string> {
    if (this.url) return this.url;
    const files = this.files;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        if (req.method !== "GET" && req.method !== "HEAD") {
          return new Response("405 method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
        }
        const path = resolveStaticPath(files, new URL(req.url).pathname);
        return path ? new Response(Bun.file(path)) : notFound();
      },
    });
    server.unref();
    this.server = server;
    this.url = `http://127.0.0.1:${server.port}`;
    this.lastUse = Date.now();
    this.timer = setInterval(() => this.stopIfIdle(), IDLE_STOP_MS / 2);
    this.timer.unref();
    return this.url;
  }

  private stopIfIdle(): void {
    if (this.inFlight > 0 || Date.now() - this.lastUse < IDLE_STOP_MS) return;
    this.stop();
  }

  /** Stops the file server now (the next request starts it again). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    void this.server?.stop(true);
    this.server = undefined;
    this.url = undefined;
  }

  beginRequest(): void {
    this.inFlight++;
    this.lastUse = Date.now();
  }

  endRequest(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.lastUse = Date.now();
  }

  openStream(): void {
    this.inFlight++;
  }

  closeStream(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.lastUse = Date.now();
  }
}

const upstreams = new WeakMap<StaticFiles, StaticFilesUpstream>();

/** The one file server of a loaded static app (its config object), made on first use. */
export function staticFilesUpstream(files: StaticFiles): StaticFilesUpstream {
  let up = upstreams.get(files);
  if (!up) {
    up = new StaticFilesUpstream(files);
    upstreams.set(files, up);
  }
  return up;
}
