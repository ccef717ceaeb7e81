/**
 * The harness for the bundled specs end to end, through the real engine and the CLI as a user runs it:
 *   - at the root with `clace-lite check` (build, start, one request, remove everything);
 *   - at a sub path with `clace-lite server start` + `app create`, then requests through the server's proxy.
 * Each records its cold start (build + start until the first answer), printed as a table when the file ends.
 */
import { rmSync } from "node:fs";
import { expect } from "bun:test";
import { CliProcess, runCli, tempHome } from "../cli/helpers.ts";
import { writeAppDir } from "../fixtures/images.ts";

export interface ColdStart {
  spec: string;
  /** "/" (check) or the sub path the app was created at. */
  at: string;
  seconds: number;
}

const coldStarts: ColdStart[] = [];

export function recordColdStart(entry: ColdStart): void {
  coldStarts.push(entry);
}

/** The cold starts recorded since the last call, as a table (one row per spec and place); the record is emptied. */
export function takeColdStartTable(): string {
  const rows = coldStarts.splice(0).map((c) => `  ${c.spec.padEnd(18)} ${c.at.padEnd(14)} ${c.seconds.toFixed(2).padStart(7)} s`);
  return ["cold start (build + start until the first answer):", ...rows].join("\n");
}

const appDirs: string[] = [];

/** An app folder in a temp dir (see writeAppDir), removed by removeAppDirs. */
export function appDir(files: Parameters<typeof writeAppDir>[0]): string {
  const dir = writeAppDir(files);
  appDirs.push(dir);
  return dir;
}

export function removeAppDirs(): void {
  for (const dir of appDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface CheckOptions {
  spec: string;
  /** The app folder, or "-" for a spec-only app. */
  source: string;
  params?: Record<string, string>;
  path?: string;
  expectBody?: string;
}

/**
 * `clace-lite check` at the app root: fails the test with the command's output unless it passes. Records the cold
 * start from the line check prints ("ok <path> answered <status> in <seconds>s").
 */
export async function checkAtRoot(opts: CheckOptions): Promise<string> {
  const args = ["check", opts.source, "--spec", opts.spec, "--approve", "--rm-image", "--timeout", "110", "--path", opts.path ?? "/"];
  for (const [k, v] of Object.entries(opts.params ?? {})) args.push("--param", `${k}=${v}`);
  if (opts.expectBody !== undefined) args.push("--expect-body", opts.expectBody);
  const result = await runCli(args, {}, 115_000);
  if (result.code !== 0) throw new Error(`clace-lite ${args.join(" ")} exited ${result.code}\n${result.stderr.slice(-4000)}\n${result.stdout}`);
  const ok = /^ok (\S+) answered (\d+) in ([\d.]+)s$/m.exec(result.stdout);
  expect(ok).not.toBeNull();
  recordColdStart({ spec: opts.spec, at: "/", seconds: Number(ok![3]) });
  return result.stdout;
}

export interface Answer {
  status: number;
  body: string;
  headers: Headers;
}

/** A `clace-lite server` in a temp CL_HOME, for apps at sub paths. */
export class SpecServer {
  private server?: CliProcess;
  readonly home = tempHome();
  base = "";

  /** `env`: more environment for the server (e.g. git settings for its clones). */
  constructor(private readonly env: Record<string, string> = {}) {}

  async start(): Promise<void> {
    this.server = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], { ...this.env, CL_HOME: this.home });
    const [, url] = await this.server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//);
    this.base = url!;
  }

  async cli(...args: string[]) {
    const result = await runCli(args, { CL_HOME: this.home });
    if (result.code !== 0) throw new Error(`clace-lite ${args.join(" ")} exited ${result.code}\n${result.stderr}${result.stdout}`);
    return result;
  }

  /**
   * `app create` at `path`, then the first request to `firstPath` (build and start happen on it); records the cold
   * start as the time from create to that first answer. `extra` is more `app create` flags (e.g. --branch).
   */
  async create(opts: { spec: string; source: string; path: string; params?: Record<string, string>; firstPath?: string; extra?: string[] }): Promise<Answer> {
    const args = ["app", "create", "--spec", opts.spec, "--approve", ...(opts.extra ?? [])];
    for (const [k, v] of Object.entries(opts.params ?? {})) args.push("--param", `${k}=${v}`);
    const started = performance.now();
    await this.cli(...args, opts.source, opts.path);
    const first = await this.get(opts.firstPath ?? `${opts.path}/`);
    recordColdStart({ spec: opts.spec, at: opts.path, seconds: (performance.now() - started) / 1000 });
    return first;
  }

  async get(path: string): Promise<Answer> {
    const res = await fetch(this.base + path, { redirect: "manual", signal: AbortSignal.timeout(110_000) });
    return { status: res.status, body: await res.text(), headers: res.headers };
  }

  /** Deletes every app (their containers and images with them), stops the server and removes its home. */
  async stop(): Promise<void> {
    if (this.server) {
      await runCli(["app", "delete", "all"], { CL_HOME: this.home }).catch(() => {});
      await this.server.stop();
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}
