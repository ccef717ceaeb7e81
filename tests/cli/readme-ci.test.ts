/**
 * The README's "Preview in CI" workflow, run as written: its shell steps are taken from the README and executed with
 * `bunx clace-lite` pointing at this checkout and `./app` at a fixture app. If the README changes, this runs the
 * new text.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultAppId } from "../../src/runtime/index.ts";
import type { ContainerEngine } from "../../src/containers/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage } from "../fixtures/images.ts";
import { appFolder, CLI, containersOf } from "./helpers.ts";

let engine: ContainerEngine;
let work: string;

/** The `run:` steps of the README's workflow, in order (block scalars joined). */
async function workflowSteps(): Promise<string[]> {
  const readme = await Bun.file(join(import.meta.dir, "..", "..", "README.md")).text();
  const yaml = readme.match(/```yaml\n# \.github\/workflows\/preview\.yml\n([\s\S]*?)```/)?.[1];
  if (!yaml) throw new Error("the README has no preview.yml workflow block");
  const steps: string[] = [];
  const lines = yaml.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i]!.match(/^(\s*)(?:- )?run: (.*)$/);
    if (!m) continue;
    if (m[2] !== "|") {
      steps.push(m[2]!);
      continue;
    }
    const body: string[] = [];
    const indent = m[1]!.length + 2;
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === "" || lines[i + 1]!.search(/\S/) >= indent)) body.push(lines[++i]!.slice(indent));
    steps.push(body.join("\n"));
  }
  return steps;
}

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  work = mkdtempSync(join(tmpdir(), "clace-lite-ci-"));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

test("the README's CI workflow steps pass against a real app and leave nothing running", async () => {
  const steps = (await workflowSteps()).filter((s) => !s.startsWith("npm install -g bun"));
  expect(steps.length).toBe(2);
  const app = appFolder({
    Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
    "www/index.html": "preview\n",
  });
  cpSync(app, join(work, "app"), { recursive: true });
  rmSync(app, { recursive: true, force: true });
  const appId = defaultAppId({ source: join(work, "app"), domain: "", path: "/" });
  for (const step of steps) {
    // The same commands, with this checkout standing in for the published package and a free port for 25222.
    const script = step.replaceAll("bunx clace-lite", `bun ${CLI}`).replaceAll("--port 25222", "--port 25297");
    const run = Bun.spawnSync(["bash", "-euo", "pipefail", "-c", script], { cwd: work, stdout: "pipe", stderr: "pipe", timeout: 150_000, env: process.env });
    const output = run.stdout.toString() + run.stderr.toString();
    if (run.exitCode !== 0) throw new Error(`step failed (${run.exitCode}):\n${script}\n${output}`);
  }
  expect(await Bun.file(join(work, "ready.txt")).text()).toBe("http://127.0.0.1:25297/\n");
  // The log file the README names holds the log: JSON lines, from the start to the signal that ended it.
  const log = (await Bun.file(join(work, "serve.log")).text()).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { event?: string; state?: string });
  expect(log.some((l) => l.event === "state" && l.state === "ready")).toBe(true);
  expect(log.some((l) => l.event === "signal")).toBe(true);
  expect(await containersOf(engine, appId)).toEqual([]);
});
