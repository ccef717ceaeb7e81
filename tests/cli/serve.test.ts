/**
 * `clace-lite serve` and `clace-lite check` end to end: a real process, the real engine, requests through the proxy.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { defaultAppId } from "../../src/runtime/index.ts";
import type { ContainerEngine } from "../../src/containers/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage, PYTHON_IMAGE, pythonImage } from "../fixtures/images.ts";
import { PY_APP } from "../fixtures/pyapp.ts";
import { appFolder, CliProcess, containersOf, runCli } from "./helpers.ts";

let engine: ContainerEngine;
const folders: string[] = [];

function busyboxFolder(index = "hello from serve\n"): string {
  const dir = appFolder({
    Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
    "www/index.html": index,
  });
  folders.push(dir);
  return dir;
}

function pythonFolder(env: Record<string, string>): string {
  const envLines = Object.entries(env).map(([k, v]) => `ENV ${k}=${v}`).join("\n");
  const dir = appFolder({
    Containerfile: `FROM ${PYTHON_IMAGE}\nCOPY app.py /app/app.py\n${envLines}\nEXPOSE 8080\nCMD ["python3", "-u", "/app/app.py"]\n`,
    "app.py": PY_APP,
  });
  folders.push(dir);
  return dir;
}

beforeAll(async () => {
  engine = await testEngine();
  await Promise.all([busyboxImage(engine), pythonImage(engine)]);
});

afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe("serve", () => {
  test("20 concurrent first requests start one container, all get the page, and SIGTERM removes it", async () => {
    const dir = busyboxFolder();
    const appId = defaultAppId({ source: dir, domain: "", path: "/" });
    const serve = new CliProcess(["serve", dir, "--approve", "--port", "0"]);
    try {
      const [, url] = await serve.waitFor(/serving .* at (http:\/\/\S+)/);
      expect((await containersOf(engine, appId)).length).toBe(0); // nothing runs before the first request
      const responses = await Promise.all(Array.from({ length: 20 }, () => fetch(url!).then(async (r) => [r.status, await r.text()] as const)));
      for (const [status, body] of responses) {
        expect(status).toBe(200);
        expect(body).toBe("hello from serve\n");
      }
      expect((await containersOf(engine, appId)).length).toBe(1);
      serve.signal("SIGTERM");
      expect(await serve.exited()).not.toBe(0);
      expect(await containersOf(engine, appId)).toEqual([]);
    } finally {
      await serve.stop();
    }
  });

  test("--wait-ready prints the ready line only once a slow app answers; idle stop and restart work", async () => {
    const dir = pythonFolder({ START_DELAY: "3" });
    const appId = defaultAppId({ source: dir, domain: "", path: "/" });
    const readyFile = join(dir, "ready.txt");
    const started = Date.now();
    const serve = new CliProcess([
      "serve", dir, "--approve", "--port", "0", "--wait-ready=120", "--ready-file", readyFile,
      "--conf", "container.idle_shutdown_secs=2",
    ]);
    try {
      const [, url] = await serve.waitFor(/^ready (http:\/\/\S+) in [\d.]+s$/m);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
      expect((await Bun.file(readyFile).text()).trim()).toBe(url!);
      const first = await fetch(url!);
      expect(first.status).toBe(200);
      expect(await first.text()).toStartWith("hello from python GET /");
      // Idle for longer than 2 s: the container stops; the next request starts it again.
      const deadline = Date.now() + 15_000;
      while ((await containersOf(engine, appId)).some((c) => c.state === "running")) {
        if (Date.now() > deadline) throw new Error("the idle container was not stopped");
        await Bun.sleep(250);
      }
      const again = await fetch(url!);
      expect(again.status).toBe(200);
      serve.signal("SIGINT");
      await serve.exited();
      expect(await containersOf(engine, appId)).toEqual([]);
    } finally {
      await serve.stop();
    }
  });

  test("a request held 15 s through a slow start still succeeds (Bun's idle timeout does not cut it)", async () => {
    const dir = pythonFolder({ START_DELAY: "15" });
    const serve = new CliProcess(["serve", dir, "--approve", "--port", "0", "--conf", "container.health_attempts_after_startup=60"]);
    try {
      const [, url] = await serve.waitFor(/serving .* at (http:\/\/\S+)/);
      const started = Date.now();
      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(await res.text()).toStartWith("hello from python GET /");
      expect(Date.now() - started).toBeGreaterThanOrEqual(15_000);
    } finally {
      await serve.stop();
    }
  }, 120_000);

  test("an open SSE stream and a WebSocket keep a container with a 2 s idle period running; both relay through", async () => {
    const dir = pythonFolder({});
    const appId = defaultAppId({ source: dir, domain: "", path: "/" });
    const serve = new CliProcess(["serve", dir, "--approve", "--port", "0", "--conf", "container.idle_shutdown_secs=2"]);
    try {
      const [, url] = await serve.waitFor(/serving .* at (http:\/\/\S+)/);
      // SSE: 12 events, one every 0.5 s, so the stream stays open three idle periods long.
      const res = await fetch(new URL("sse?n=12&interval=0.5", url!));
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const ws = new WebSocket(url!.replace("http://", "ws://") + "ws", ["chat"]);
      const echoed = new Promise<string>((resolve, reject) => {
        ws.onmessage = (e) => resolve(String(e.data));
        ws.onerror = () => reject(new Error("websocket error"));
      });
      await new Promise<void>((resolve) => (ws.onopen = () => resolve()));
      expect(ws.protocol).toBe("chat");
      ws.send("ping through the proxy");
      expect(await echoed).toBe("ping through the proxy");
      const body = await res.text(); // ends after the 12th event, ~6 s later
      expect(body.match(/data: tick \d+/g)?.length).toBe(12);
      // The WebSocket is still open: the container must still be running although no request is in flight.
      await Bun.sleep(3000);
      expect((await containersOf(engine, appId)).map((c) => c.state)).toEqual(["running"]);
      ws.close(1000, "done");
      const deadline = Date.now() + 15_000;
      while ((await containersOf(engine, appId)).some((c) => c.state === "running")) {
        if (Date.now() > deadline) throw new Error("the container was not stopped once the streams closed");
        await Bun.sleep(250);
      }
    } finally {
      await serve.stop();
    }
  }, 120_000);

  test("--dev rebuilds on a source change and serves the new version", async () => {
    const dir = busyboxFolder("version one\n");
    const serve = new CliProcess(["serve", dir, "--approve", "--port", "0", "--dev"]);
    try {
      const [, url] = await serve.waitFor(/serving .* at (http:\/\/\S+)/);
      expect(await (await fetch(url!)).text()).toBe("version one\n");
      await Bun.write(join(dir, "www/index.html"), "version two\n");
      await serve.waitFor(/reloaded after a source change/, 60_000);
      expect(await (await fetch(url!)).text()).toBe("version two\n");
      // A broken app.star keeps the running version and says what is wrong.
      await Bun.write(join(dir, "app.star"), "app = ace.app(\n");
      await serve.waitFor(/reload failed, still serving the previous version/, 60_000);
      expect(await (await fetch(url!)).text()).toBe("version two\n");
    } finally {
      await serve.stop();
    }
  });

  test("an unapproved app is served as a 500 that names what to approve", async () => {
    const dir = busyboxFolder();
    const serve = new CliProcess(["serve", dir, "--port", "0"]);
    try {
      const [, url] = await serve.waitFor(/serving .* at (http:\/\/\S+)/);
      const res = await fetch(url!);
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(body).toMatch(/needs approval/);
      expect(body).toMatch(/proxy\.in|container\.in/);
      expect(body).toContain(`clace-lite serve ${dir} --approve`);
    } finally {
      await serve.stop();
    }
  });

  test("the proxy spec serves another local server without a container", async () => {
    const upstream = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => new Response(`upstream saw ${new URL(req.url).pathname}`) });
    const serve = new CliProcess(["serve", "-", "--spec", "proxy", "--param", `url=http://127.0.0.1:${upstream.port}`, "--approve", "--port", "0"]);
    try {
      const [, url] = await serve.waitFor(/serving .* at (http:\/\/\S+)/);
      const res = await fetch(new URL("some/page", url!));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("upstream saw /some/page");
    } finally {
      await serve.stop();
      upstream.stop(true);
    }
  });

  test("a refused request and a broken answer are printed by serve, naming the client, the request and the reason", async () => {
    const broken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s) => void s.end("SPDY/3 200 OK\r\n\r\n") } });
    const serve = new CliProcess(["serve", "-", "--spec", "proxy", "--param", `url=http://127.0.0.1:${broken.port}`, "--approve", "--port", "0"]);
    try {
      const [, url] = await serve.waitFor(/serving .* at (http:\/\/\S+)/);
      const port = Number(new URL(url!).port);
      const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      sock.write("GET /x HTTP/1.1\r\nHost: localhost\r\nX-A: 1\n2\r\n\r\n");
      await serve.waitFor(/400 for 127\.0\.0\.1.*bare CR or LF in a header field/, 10_000);
      sock.end();
      expect((await fetch(new URL("page", url!))).status).toBe(502);
      await serve.waitFor(/502 for 127\.0\.0\.1 GET \/page .*not HTTP\/1\.x/, 10_000);
    } finally {
      await serve.stop();
      broken.stop(true);
    }
  });

  test("serve has the status page and metrics too, and --access-log prints one line per request", async () => {
    const upstream = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
    const serve = new CliProcess(["serve", "-", "--spec", "proxy", "--param", `url=http://127.0.0.1:${upstream.port}`, "--approve", "--port", "0", "--access-log"]);
    try {
      const [, url] = await serve.waitFor(/serving .* at (http:\/\/\S+)/);
      const origin = new URL(url!).origin;
      expect(await (await fetch(`${origin}/logged?x=1`)).text()).toBe("ok");
      const page = await (await fetch(`${origin}/_clace_lite/`)).text();
      expect(page).toContain('data-app="/"');
      const metrics = await (await fetch(`${origin}/_clace_lite/metrics`)).text();
      expect(metrics).toMatch(/^clace_lite_http_requests_total\{app="\/",status_class="2xx"\} 1$/m);
      await serve.waitFor(/127\.0\.0\.1 \/ "GET \/logged\?x=1" 200 [\d.]+ms 0 \d+/, 10_000);
    } finally {
      await serve.stop();
      upstream.stop(true);
    }
  });

  test("a missing required param fails at once with Clace's message", async () => {
    const result = await runCli(["serve", "-", "--spec", "image", "--approve", "--port", "0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("param image is a required param, a value has to be provided");
  });
});

describe("check", () => {
  test("a good app passes and leaves no container behind", async () => {
    const dir = busyboxFolder("all good\n");
    const appId = defaultAppId({ source: dir, domain: "", path: "/" });
    const result = await runCli(["check", dir, "--approve", "--expect", "200", "--expect-body", "all good"]);
    expect(result.stderr + result.stdout).toMatch(/ok \/ answered 200/);
    expect(result.code).toBe(0);
    expect(await containersOf(engine, appId)).toEqual([]);
  });

  test("a failing build exits 1 naming the failing step", async () => {
    const dir = appFolder({ Containerfile: `FROM ${BUSYBOX_IMAGE}\nRUN ["/bin/busybox", "false"]\nEXPOSE 8080\n` });
    folders.push(dir);
    const result = await runCli(["check", dir, "--approve"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/false/);
    expect(result.stderr).toMatch(/build/i);
  });

  test("an app that exits at start fails fast with its log tail", async () => {
    const dir = pythonFolder({ EXIT_AT_START: "3" });
    const appId = defaultAppId({ source: dir, domain: "", path: "/" });
    const result = await runCli(["check", dir, "--approve", "--timeout", "60"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("fatal: EXIT_AT_START is set, giving up");
    expect(await containersOf(engine, appId)).toEqual([]);
  });

  test("a wrong --expect exits 1 saying what came", async () => {
    const dir = busyboxFolder();
    const result = await runCli(["check", dir, "--approve", "--path", "/missing.html", "--expect", "200"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("expected status 200, got 404");
  });
});
