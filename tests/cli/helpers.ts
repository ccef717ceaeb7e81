/** Helpers for the end-to-end CLI suites: run clace-lite as a user would, read its output, find its containers. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LABEL_APP, LABEL_MANAGED, type ContainerEngine } from "../../src/containers/index.ts";
import { writeAppDir } from "../fixtures/images.ts";

export const CLI = join(import.meta.dir, "..", "..", "src", "cli", "main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 180_000, cwd?: string): Promise<CliResult> {
  const proc = Bun.spawn(["bun", CLI, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env }, cwd });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** A long-running command (serve, server start) whose output is read as it comes. */
export class CliProcess {
  readonly proc: ReturnType<typeof Bun.spawn>;
  stdout = "";
  stderr = "";
  private readonly done: Promise<number>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.proc = Bun.spawn(["bun", CLI, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
    const pump = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this[into] += decoder.decode(chunk, { stream: true });
    };
    this.done = Promise.all([
      pump(this.proc.stdout as ReadableStream<Uint8Array>, "stdout"),
      pump(this.proc.stderr as ReadableStream<Uint8Array>, "stderr"),
    ]).then(() => this.proc.exited);
  }

  /** Waits until stdout or stderr matches, and returns the match. */
  async waitFor(pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.stdout.match(pattern) ?? this.stderr.match(pattern);
      if (m) return m;
      if (this.proc.exitCode !== null) {
        // The last output may still be in the pipes when the exit is seen.
        await this.done;
        const late = this.stdout.match(pattern) ?? this.stderr.match(pattern);
        if (late) return late;
        throw new Error(`exited with ${this.proc.exitCode} before ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await Bun.sleep(50);
    }
  }

  signal(sig: "SIGTERM" | "SIGINT"): void {
    this.proc.kill(sig);
  }

  exited(): Promise<number> {
    return this.done;
  }

  /** Makes sure the process is gone (tests call this in finally). */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      this.proc.kill("SIGTERM");
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), 20_000);
      await this.done;
      clearTimeout(timer);
    }
  }
}

/** The app.star of Clace's `container` spec, for folders that bring their own Containerfile. */
export const CONTAINER_APP_STAR = `load("proxy.in", "proxy")
load("container.in", "container")

app = ace.app("test app",
    routes = [ace.proxy("/", proxy.config(container.URL))],
    container = container.config(container.AUTO),
    permissions = [
        ace.permission("proxy.in", "config", [container.URL]),
        ace.permission("container.in", "config", [container.AUTO]),
    ],
)
`;

/** An app folder: app.star plus the given files (e.g. a Containerfile). */
export function appFolder(files: Record<string, string>): string {
  return writeAppDir({ "app.star": CONTAINER_APP_STAR, ...files });
}

/** Containers (any state) that clace-lite manages for the given app id. */
export async function containersOf(engine: ContainerEngine, appId: string) {
  return engine.listContainers([`${LABEL_MANAGED}=true`, `${LABEL_APP}=${appId}`], true);
}

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), "clace-lite-home-"));
}
