/**
 * `serve --wait-ready N` and `check --timeout N` bound the whole start and say why it failed; a failed run leaves
 * neither its container nor its image behind; an app that needs approval says so, with the command, at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LABEL_APP, LABEL_MANAGED, type ContainerEngine } from "../../src/containers/index.ts";
import { defaultAppId } from "../../src/runtime/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage, PYTHON_IMAGE, pythonImage } from "../fixtures/images.ts";
import { PY_APP } from "../fixtures/pyapp.ts";
import { appFolder, CLI, CliProcess, containersOf, runCli } from "./helpers.ts";

let engine: ContainerEngine;
const folders: string[] = [];

function folder(files: Record<string, string>): string {
  const dir = appFolder(files);
  folders.push(dir);
  return dir;
}

/** An app whose container logs a line and then never listens. */
function neverListens(): string {
  return folder({
    Containerfile: `FROM ${BUSYBOX_IMAGE}\nEXPOSE 8080\nCMD ["/bin/busybox", "sh", "-c", "echo warming up the cache; exec /bin/busybox sleep 600"]\n`,
  });
}

async function imagesOf(appId: string) {
  return engine.listImages([`${LABEL_MANAGED}=true`, `${LABEL_APP}=${appId}`]);
}

/** What the bound may overrun by: the failure is noticed, the container's last lines are read. */
const BOUND_SLACK_MS = 3_000;
/** Removing the container and the image after the failure; Podman on a busy machine takes seconds for each. */
const CLEANUP_MS = 30_000;

/**
 * Runs a start that is to fail at its readiness bound, timing the two parts a user waits for: from the first
 * line of the build to the failure (what --wait-ready/--timeout bound), then from the failure to the exit.
 */
async function timedFailure(args: string[]): Promise<{ code: number; stderr: string; boundMs: number; cleanupMs: number }> {
  const run = new CliProcess(args);
  try {
    await run.waitFor(/^\/: building$/m, 60_000);
    const building = performance.now();
    await run.waitFor(/did not become ready within/, 60_000);
    const failed = performance.now();
    const code = await run.exited();
    return { code, stderr: run.stderr, boundMs: failed - building, cleanupMs: performance.now() - failed };
  } finally {
    await run.stop();
  }
}

beforeAll(async () => {
  engine = await testEngine();
  await Promise.all([busyboxImage(engine), pythonImage(engine)]);
});

afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe("readiness limits", () => {
  test("--wait-ready=5 on an app that never listens fails about 5 s after its build starts, with its log lines, and removes its image", async () => {
    const dir = neverListens();
    const appId = defaultAppId({ source: dir, domain: "", path: "/" });
    const run = await timedFailure(["serve", dir, "--approve", "--port", "0", "--wait-ready=5"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("did not become ready within 5s");
    expect(run.stderr).toContain("warming up the cache");
    expect(run.boundMs).toBeLessThan(5_000 + BOUND_SLACK_MS);
    expect(run.cleanupMs).toBeLessThan(CLEANUP_MS);
    expect(await containersOf(engine, appId)).toEqual([]);
    expect(await imagesOf(appId)).toEqual([]);
  });

  test("check --timeout 4 fails about 4 s after its build starts, with the log lines, and leaves no container or image", async () => {
    const dir = neverListens();
    const appId = defaultAppId({ source: dir, domain: "", path: "/" });
    const run = await timedFailure(["check", dir, "--approve", "--timeout", "4"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("did not become ready within 4s");
    expect(run.stderr).toContain("warming up the cache");
    expect(run.boundMs).toBeLessThan(4_000 + BOUND_SLACK_MS);
    expect(run.cleanupMs).toBeLessThan(CLEANUP_MS);
    expect(await containersOf(engine, appId)).toEqual([]);
    expect(await imagesOf(appId)).toEqual([]);
  });

  test("check --timeout 90 waits for an app that needs 33 s, past the default 30 health attempts", async () => {
    const dir = folder({
      Containerfile: `FROM ${PYTHON_IMAGE}\nCOPY app.py /app/app.py\nENV START_DELAY=33\nEXPOSE 8080\nCMD ["python3", "-u", "/app/app.py"]\n`,
      "app.py": PY_APP,
    });
    const result = await runCli(["check", dir, "--approve", "--timeout", "90", "--rm-image"]);
    expect(result.stderr + result.stdout).toMatch(/ok \/ answered 200/);
    expect(result.code).toBe(0);
  }, 150_000);
});

describe("approval", () => {
  test("check without --approve exits 1 naming the command that approves", async () => {
    const dir = neverListens();
    const result = await runCli(["check", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("needs approval");
    expect(result.stderr).toContain(`clace-lite check ${dir} --approve`);
  });

  test("serve without --approve says so when it starts, with the fix", async () => {
    const dir = neverListens();
    const serve = new CliProcess(["serve", dir, "--port", "0"]);
    try {
      await serve.waitFor(/serving .* at http/);
      await serve.waitFor(/needs approval/);
      expect(serve.stderr).toContain(`clace-lite serve ${dir} --approve`);
    } finally {
      await serve.stop();
    }
  });
});

describe("a busy port", () => {
  test("serve and server start name the port and the flag that picks another, and exit 1", async () => {
    const taken = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("taken") });
    const home = mkdtempSync(join(tmpdir(), "clace-lite-home-"));
    try {
      const serve = await runCli(["serve", "-", "--spec", "proxy", "--param", "url=http://127.0.0.1:9", "--approve", "--port", String(taken.port)]);
      expect(serve.code).toBe(1);
      expect(serve.stderr).toContain(`cannot listen on 127.0.0.1:${taken.port} (HTTP): the port is already in use; choose another with --port N`);
      const server = await runCli(["server", "start", "--port", "0", "--https-port", String(taken.port)], { CL_HOME: home });
      expect(server.code).toBe(1);
      expect(server.stderr).toContain(`cannot listen on 127.0.0.1:${taken.port} (HTTPS)`);
      expect(server.stderr).toContain("--https-port N (off for none) or [https] port in the config");
    } finally {
      taken.stop(true);
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("--log-format json", () => {
  const lines = (text: string) => text.split("\n").filter((l) => l !== "");

  test("every line on both streams is JSON; stdout holds the ready line only, stderr the log; a second signal exits at once", async () => {
    const dir = folder({
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "json logs\n",
    });
    const serve = new CliProcess(["serve", dir, "--approve", "--port", "0", "--wait-ready=60", "--log-format", "json"]);
    try {
      await serve.waitFor(/"event":"ready","url"/);
      const ready = lines(serve.stdout).map((l) => JSON.parse(l) as { event: string; url: string });
      expect(ready).toHaveLength(1);
      expect(ready[0]!.event).toBe("ready");
      expect(await (await fetch(ready[0]!.url)).text()).toBe("json logs\n");
      serve.signal("SIGTERM");
      // Two signals sent together may arrive as one: the second goes once the first is being handled.
      await serve.waitFor(/"event":"signal"/);
      serve.signal("SIGTERM");
      // 128 + SIGTERM's number, as a shell reports a process ended by the signal.
      expect(await serve.exited()).toBe(143);
      const logged = lines(serve.stderr).map((l) => JSON.parse(l) as { level: string; message: string; event?: string });
      expect(logged.some((l) => l.event === "build")).toBe(true);
      expect(logged.some((l) => l.event === "signal")).toBe(true);
      for (const l of logged) expect(typeof l.message).toBe("string");
    } finally {
      await serve.stop();
      const appId = defaultAppId({ source: dir, domain: "", path: "/" });
      // The second signal's own removal may still be under way: wait for it rather than race it.
      for (let i = 0; i < 50 && (await containersOf(engine, appId)).length > 0; i++) await Bun.sleep(100);
      for (const c of await containersOf(engine, appId)) await engine.removeContainer(c.id).catch(() => {});
      for (const i of await imagesOf(appId)) await engine.removeImage(i.id, true);
    }
  });

  test("the failure path of --wait-ready is JSON too, with the log lines in the message", async () => {
    const dir = neverListens();
    const result = await runCli(["serve", dir, "--approve", "--port", "0", "--wait-ready=3", "--log-format", "json"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const logged = lines(result.stderr).map((l) => JSON.parse(l) as { level: string; message: string });
    const last = logged.at(-1)!;
    expect(last.level).toBe("error");
    expect(last.message).toContain("did not become ready within 3s");
    expect(last.message).toContain("warming up the cache");
  });
});

describe("build output", () => {
  const containerFile = `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`;

  test("plain lines show the container file's own steps only, and the ready line names the app's URL", async () => {
    const dir = folder({ Containerfile: containerFile, "www/index.html": `plain ${Date.now()}\n` });
    const result = await runCli(["check", dir, "--approve", "--rm-image"]);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("LABEL dev.clace-lite");
    // The classic builder numbers every instruction (Step i/M); BuildKit numbers the steps that make layers ([i/M]).
    const buildkit = /build \| #\d+ \[/.test(result.stderr);
    const pattern = buildkit ? /#\d+ \[(\d+)\/(\d+)\] [A-Z]/g : /(?:Step|STEP) (\d+)\/(\d+)/g;
    const steps = [...new Set([...result.stderr.matchAll(pattern)].map((m) => `${m[1]}/${m[2]}`))];
    expect(steps).toEqual(buildkit ? ["1/2", "2/2"] : ["1/4", "2/4", "3/4", "4/4"]);
    expect(result.stderr).toMatch(/^\/: ready in [\d.]+s at http:\/\/127\.0\.0\.1:\d+\/ \(built in [\d.]+s, started in [\d.]+s; container at http:\/\/127\.0\.0\.1:\d+\)$/m);
  });

  test("on a terminal one live line per phase with its elapsed time, then a summary; a failed build shows its output", async () => {
    const dir = folder({ Containerfile: containerFile, "www/index.html": `tty ${Date.now()}\n` });
    const tty = (args: string[]) => {
      const command = ["bun", CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
      const run = Bun.spawnSync(["script", "-qec", `stty cols 200; ${command}`, "/dev/null"], { stdout: "pipe", stderr: "pipe", timeout: 120_000, env: process.env });
      return { code: run.exitCode, output: run.stdout.toString() };
    };
    const ok = tty(["check", dir, "--approve", "--rm-image"]);
    expect(ok.code).toBe(0);
    expect(ok.output).toMatch(/\r\x1b\[K\/: building \d+\.\ds {2}/);
    expect(ok.output).toMatch(/\r\x1b\[K\/: starting \d+\.\ds {2}waiting for the health check/);
    expect(ok.output).toMatch(/\/: ready in [\d.]+s at http:\/\/127\.0\.0\.1:\d+\//);
    expect(ok.output).not.toContain("build | "); // the build went well: its lines stay hidden
    await Bun.write(join(dir, "Containerfile"), containerFile.replace("EXPOSE 8080", "RUN /bin/busybox false\nEXPOSE 8080"));
    const failed = tty(["check", dir, "--approve"]);
    expect(failed.code).toBe(1);
    expect(failed.output).toMatch(/build \| (?:Step 3\/5 : |STEP 3\/5: |#\d+ \[\d+\/\d+\] )RUN \/bin\/busybox false/);
  });
});

describe("serve --dev", () => {
  test("a broken rebuild says the previous version keeps serving, and it does", async () => {
    const containerFile = `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`;
    const dir = folder({ Containerfile: containerFile, "www/index.html": "dev one\n" });
    const serve = new CliProcess(["serve", dir, "--approve", "--port", "0", "--dev", "--rm-image"]);
    try {
      const [, url] = await serve.waitFor(/serving .* at (http:\/\/\S+)/);
      expect(await (await fetch(url!)).text()).toBe("dev one\n");
      await Bun.write(join(dir, "Containerfile"), containerFile.replace("EXPOSE 8080", "RUN /bin/busybox false\nEXPOSE 8080"));
      await serve.waitFor(/reload failed, still serving the previous version/, 60_000);
      expect(serve.stderr).toContain("/ (new version): failed");
      expect(serve.stderr).not.toMatch(/^\/: stopped/m);
      expect(await (await fetch(url!)).text()).toBe("dev one\n");
    } finally {
      await serve.stop();
    }
  }, 90_000);
});
