/**
 * The single executable and the npm package: `bun run build` makes a binary that serves an app without the source
 * tree or node_modules; `npm pack` makes a package whose CLI is a bundle with bytecode that does the same, and
 * `bunx` runs it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultAppId } from "../../src/runtime/index.ts";
import type { ContainerEngine } from "../../src/containers/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage } from "../fixtures/images.ts";
import { appFolder, containersOf } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");
let engine: ContainerEngine;
let work: string;

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  work = mkdtempSync(join(tmpdir(), "clace-lite-binary-"));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Serves a small app with `command` from an empty folder (nothing of the repository or its node_modules is
 * reachable) and checks the answer and that stopping leaves no container behind.
 */
async function servesFromEmptyFolder(command: string[], body: string): Promise<void> {
  const dir = appFolder({
    Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
    "www/index.html": body,
  });
  const appId = defaultAppId({ source: dir, domain: "", path: "/" });
  const empty = mkdtempSync(join(work, "cwd-"));
  const proc = Bun.spawn([...command, "serve", dir, "--approve", "--port", "0"], { cwd: empty, stdout: "pipe", stderr: "pipe", env: process.env });
  try {
    let output = "";
    const decoder = new TextDecoder();
    const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
    let url: string | undefined;
    while (!url) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${command.join(" ")} exited: ${output}`);
      output += decoder.decode(value);
      url = output.match(/serving .* at (http:\/\/\S+)/)?.[1];
    }
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
    reader.releaseLock();
    proc.kill("SIGTERM");
    await proc.exited;
    expect(await containersOf(engine, appId)).toEqual([]);
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("single executable", () => {
  test("the compiled binary serves an app from a folder without the source tree", async () => {
    const binary = join(work, "clace-lite");
    const build = Bun.spawnSync(["bun", "run", "build", "--outfile", binary], { cwd: ROOT, stderr: "pipe" });
    expect(build.exitCode).toBe(0);
    expect(build.stderr.toString()).toMatch(/built .* \([\d.]+ MiB\)/);
    await servesFromEmptyFolder([binary], "served by the binary\n");
  });
});

describe("npm package", () => {
  let tarball: string;

  beforeAll(() => {
    // npm pack runs the package's prepack script, which bundles the CLI (scripts/build.ts --package).
    const pack = Bun.spawnSync(["npm", "pack", "--silent", "--pack-destination", work], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (pack.exitCode !== 0) throw new Error(`npm pack failed: ${pack.stderr.toString()}`);
    tarball = join(work, pack.stdout.toString().trim().split("\n").pop()!);
  });

  test("bunx runs the CLI from the packed npm tarball", async () => {
    const run = Bun.spawnSync(["bunx", "--package", tarball, "clace-lite", "--version"], { cwd: work, stdout: "pipe", stderr: "pipe" });
    expect(run.stdout.toString().trim()).toBe((await Bun.file(join(ROOT, "package.json")).json()).version);
    expect(run.exitCode).toBe(0);
  });

  test("the packed CLI is a bundle with bytecode that runs Starlark and serves an app without node_modules", async () => {
    const unpacked = mkdtempSync(join(work, "unpacked-"));
    expect(Bun.spawnSync(["tar", "-xzf", tarball, "-C", unpacked]).exitCode).toBe(0);
    const pkg = await Bun.file(join(unpacked, "package", "package.json")).json();
    const cli = join(unpacked, "package", pkg.bin["clace-lite"]);
    expect(existsSync(`${cli}.jsc`)).toBe(true);
    expect(existsSync(join(unpacked, "package", "node_modules"))).toBe(false);
    // Nothing points back into this checkout (the bundler writes build-time paths for __dirname and import.meta):
    // the worker that evaluates app.star must be found beside the installed CLI.
    expect(readFileSync(cli, "utf8")).not.toContain(join(ROOT, "src"));

    const star = join(unpacked, "print.star");
    writeFileSync(star, 'print(json.encode({"n": 1 + 1}))\n');
    const run = Bun.spawnSync(["bun", cli, "star", "run", star], { cwd: unpacked, stdout: "pipe", stderr: "pipe" });
    expect({ code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() }).toEqual({ code: 0, out: '{"n":2}\n', err: "" });
    // serve evaluates app.star in the bundled worker, next to the bundled CLI.
    await servesFromEmptyFolder(["bun", cli], "served by the npm package\n");
  });
});
