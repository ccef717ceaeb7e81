/**
 * The single executable and the npm package: `bun run build` makes a binary that serves an app without the source
 * tree or node_modules, and `bunx` runs the CLI from a packed tarball.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
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

describe("single executable", () => {
  test("the compiled binary serves an app from a folder without the source tree", async () => {
    const binary = join(work, "clace-lite");
    const build = Bun.spawnSync(["bun", "run", "build", "--outfile", binary], { cwd: ROOT, stderr: "pipe" });
    expect(build.exitCode).toBe(0);
    expect(build.stderr.toString()).toMatch(/built .* \([\d.]+ MiB\)/);

    const dir = appFolder({
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "served by the binary\n",
    });
    const appId = defaultAppId({ source: dir, domain: "", path: "/" });
    // Run from an empty folder: nothing of the repository is reachable.
    const proc = Bun.spawn([binary, "serve", dir, "--approve", "--port", "0"], { cwd: work, stdout: "pipe", stderr: "pipe" });
    try {
      let output = "";
      const decoder = new TextDecoder();
      const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
      let url: string | undefined;
      while (!url) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`binary exited: ${output}`);
        output += decoder.decode(value);
        url = output.match(/serving .* at (http:\/\/\S+)/)?.[1];
      }
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("served by the binary\n");
      reader.releaseLock();
      proc.kill("SIGTERM");
      await proc.exited;
      expect(await containersOf(engine, appId)).toEqual([]);
    } finally {
      if (proc.exitCode === null) proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bunx runs the CLI from the packed npm tarball", async () => {
    const pack = Bun.spawnSync(["npm", "pack", "--silent", "--pack-destination", work], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    expect(pack.exitCode).toBe(0);
    const tarball = join(work, pack.stdout.toString().trim().split("\n").pop()!);
    const run = Bun.spawnSync(["bunx", "--package", tarball, "clace-lite", "--version"], { cwd: work, stdout: "pipe", stderr: "pipe" });
    expect(run.stdout.toString().trim()).toBe((await Bun.file(join(ROOT, "package.json")).json()).version);
    expect(run.exitCode).toBe(0);
  });
});
