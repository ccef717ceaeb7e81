/**
 * The multi-app server end to end: `server start`, the app commands over the admin socket, routing by domain and
 * path, git sources, persistence and container adoption across a restart, and cleanup on delete.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { collectContext, contextTar, LABEL_APP, LABEL_MANAGED, type ContainerEngine } from "../../src/containers/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage, writeAppDir } from "../fixtures/images.ts";
import { appFolder, CliProcess, containersOf, runCli, tempHome } from "./helpers.ts";

const WEB_IMAGE = "clace-lite-test/web:1";
let engine: ContainerEngine;
let home: string;
let server: CliProcess;
let base: string;
let httpsBase: string;
const env = () => ({ CL_HOME: home });
const cleanup: string[] = [];

/** An image that serves HTTP on 8080 by itself, for the `image` spec (the seed's nginx, offline). */
async function webImage(): Promise<void> {
  if (await engine.inspectImage(WEB_IMAGE)) return;
  const dir = writeAppDir({
    Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
    "www/index.html": "hello from the image app\n",
  });
  await engine.build({ context: contextTar(collectContext([dir], "Containerfile")), tag: WEB_IMAGE, containerFile: "Containerfile" });
  rmSync(dir, { recursive: true, force: true });
}

async function startServer(): Promise<void> {
  server = new CliProcess(["server", "start", "--port", "0", "--https-port", "0"], env());
  const [, url, https] = await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\/ and (https:\/\/[\d.]+:\d+)/);
  base = url!;
  httpsBase = https!;
}

async function cli(...args: string[]) {
  const result = await runCli(args, env());
  if (result.code !== 0) throw new Error(`clace-lite ${args.join(" ")} exited ${result.code}\n${result.stderr}${result.stdout}`);
  return result;
}

async function get(path: string, host?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(base + path, { headers: host ? { host } : {} });
  return { status: res.status, body: await res.text() };
}

interface ListedApp {
  id: string;
  location: string;
  state: string;
  spec: string;
}

async function appId(location: string): Promise<string> {
  const apps = JSON.parse((await cli("app", "list", "--format", "json")).stdout) as ListedApp[];
  const app = apps.find((a) => a.location === location);
  if (!app) throw new Error(`no app at ${location} in ${JSON.stringify(apps)}`);
  return app.id;
}

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  await webImage();
  home = tempHome();
  await startServer();
});

afterAll(async () => {
  await runCli(["app", "delete", "all"], env()).catch(() => {});
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

describe("clace-lite server", () => {
  test("the seed's image app answers on its domain", async () => {
    const created = await cli("app", "create", "--spec", "image", "--approve", "--param", `image=${WEB_IMAGE}`, "--param", "port=8080", "-", "nginxapp.localhost:/");
    expect(created.stdout).toContain("created nginxapp.localhost:/");
    const page = await get("/", "nginxapp.localhost");
    expect(page).toEqual({ status: 200, body: "hello from the image app\n" });
    // And over HTTPS, with the server's self-signed certificate for localhost.
    const secure = await fetch(httpsBase + "/", { headers: { host: "nginxapp.localhost" }, tls: { rejectUnauthorized: false } });
    expect(secure.status).toBe(200);
    expect(await secure.text()).toBe("hello from the image app\n");
    // Another host falls back to the default domain, where nothing is mounted at /.
    expect((await get("/", "localhost")).status).toBe(404);
  });

  test("a container app from a folder answers at its path; later edits to the folder do not leak in", async () => {
    const dir = appFolder({
      // -v: httpd logs each request, for `app logs`.
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "busybox app v1\n",
    });
    cleanup.push(dir);
    await cli("app", "create", "--spec", "container", "--approve", dir, "/bb");
    await Bun.write(join(dir, "www/index.html"), "edited after create\n");
    expect(await get("/bb/")).toEqual({ status: 200, body: "busybox app v1\n" });
  });

  test("a git source is cloned at the given branch", async () => {
    const repo = appFolder({
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "main branch\n",
    });
    cleanup.push(repo);
    const git = (...args: string[]) => {
      const r = Bun.spawnSync(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo });
      if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    };
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-qm", "main");
    git("checkout", "-qb", "feature");
    await Bun.write(join(repo, "www/index.html"), "feature branch\n");
    git("commit", "-qam", "feature");
    git("checkout", "-q", "main");
    await cli("app", "create", "--spec", "container", "--approve", "--branch", "feature", `file://${repo}`, "/gitapp");
    expect(await get("/gitapp/")).toEqual({ status: 200, body: "feature branch\n" });
    const bad = await runCli(["app", "create", "--spec", "container", "--approve", "--branch", "nope", `file://${repo}`, "/gitbad"], env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/git clone failed: .*nope/);
  });

  test("two clients creating overlapping apps at once: exactly one wins", async () => {
    const upstream = `url=http://127.0.0.1:9`;
    const [a, b] = await Promise.all([
      runCli(["app", "create", "--spec", "proxy", "--approve", "--param", upstream, "-", "/race"], env()),
      runCli(["app", "create", "--spec", "proxy", "--approve", "--param", upstream, "-", "/race/inner"], env()),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    expect((a.code ? a : b).stderr).toContain("overlaps");
    await cli("app", "delete", "/race/**");
  });

  test("app list shows every app with its spec and state", async () => {
    const apps = JSON.parse((await cli("app", "list", "--format", "json")).stdout) as ListedApp[];
    expect(apps.map((a) => a.location).sort()).toEqual(["/bb", "/gitapp", "nginxapp.localhost:/"]);
    expect(apps.find((a) => a.location === "/bb")?.state).toBe("ready");
    const table = (await cli("app", "list")).stdout;
    expect(table).toMatch(/^PATH\s+SPEC\s+STATE/);
    expect(table).toMatch(/\/bb\s+container\s+ready/);
  });

  test("a restart keeps the apps and adopts their running containers", async () => {
    const id = await appId("/bb");
    const before = (await containersOf(engine, id)).filter((c) => c.state === "running");
    expect(before.length).toBe(1);
    await cli("server", "stop");
    expect(await server.exited()).toBe(0);
    await startServer();
    expect(await get("/bb/")).toEqual({ status: 200, body: "busybox app v1\n" });
    const after = await containersOf(engine, id);
    expect(after.map((c) => c.id)).toEqual(before.map((c) => c.id));
  });

  test("app stop, start and logs act on the app's container", async () => {
    await cli("app", "stop", "/bb");
    const id = await appId("/bb");
    expect((await containersOf(engine, id)).map((c) => c.state)).toEqual(["exited"]);
    const started = await cli("app", "start", "/bb");
    expect(started.stdout).toContain("/bb: ready");
    expect((await containersOf(engine, id)).map((c) => c.state)).toEqual(["running"]);
    await get("/bb/missing-page");
    const logs = await cli("app", "logs", "/bb");
    expect(logs.stdout).toContain("response:404"); // the request for /missing-page
    const missing = await runCli(["app", "logs", "/nope"], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no app at /nope");
  });

  test("app reload picks up a changed source and rebuilds", async () => {
    const dir = appFolder({
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "before reload\n",
    });
    cleanup.push(dir);
    await cli("app", "create", "--spec", "container", "--approve", dir, "/rl");
    expect(await get("/rl/")).toEqual({ status: 200, body: "before reload\n" });
    await Bun.write(join(dir, "www/index.html"), "after reload\n");
    expect(await get("/rl/")).toEqual({ status: 200, body: "before reload\n" });
    await cli("app", "reload", "/rl");
    expect(await get("/rl/")).toEqual({ status: 200, body: "after reload\n" });
    await cli("app", "delete", "/rl");
  });

  test("a --dev app serves its folder live: a change is rebuilt and served", async () => {
    const dir = appFolder({
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "dev v1\n",
    });
    cleanup.push(dir);
    await cli("app", "create", "--spec", "container", "--approve", "--dev", dir, "/dev");
    expect(await get("/dev/")).toEqual({ status: 200, body: "dev v1\n" });
    await Bun.write(join(dir, "www/index.html"), "dev v2\n");
    const deadline = Date.now() + 60_000;
    while ((await get("/dev/")).body !== "dev v2\n") {
      if (Date.now() > deadline) throw new Error(`the change was not served; server output:\n${server.stderr}`);
      await Bun.sleep(200);
    }
    await cli("app", "delete", "/dev");
  });

  test("param list shows values; param update reloads the app, which needs approval again when its permissions change", async () => {
    const a = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("upstream a") });
    const b = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("upstream b") });
    try {
      await cli("app", "create", "--spec", "proxy", "--approve", "--param", `url=http://127.0.0.1:${a.port}`, "-", "/px");
      expect(await get("/px/")).toEqual({ status: 200, body: "upstream a" });
      const listed = JSON.parse((await cli("param", "list", "/px", "--json")).stdout) as { name: string; value: unknown; origin: string }[];
      expect(listed.find((p) => p.name === "url")).toMatchObject({ value: `http://127.0.0.1:${a.port}`, origin: "metadata" });
      // The proxy spec pins its permission to the url, so a new url must be approved, as in Clace.
      const updated = await cli("param", "update", "url", `http://127.0.0.1:${b.port}`, "/px");
      expect(updated.stdout).toContain("is not approved");
      expect((await get("/px/")).status).toBe(500);
      await cli("app", "approve", "/px");
      expect(await get("/px/")).toEqual({ status: 200, body: "upstream b" });
      const bad = await runCli(["param", "update", "url", "-", "/px"], env());
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("param url is a required param, a value has to be provided");
      await cli("app", "delete", "/px");
    } finally {
      a.stop(true);
      b.stop(true);
    }
  });

  test("an app created without --approve answers 500 until approved", async () => {
    const created = await cli("app", "create", "--spec", "proxy", "--param", "url=http://127.0.0.1:9", "-", "/unapproved");
    expect(created.stdout).toContain("permissions need to be approved: clace-lite app approve /unapproved");
    const before = await get("/unapproved/");
    expect(before.status).toBe(500);
    expect(before.body).toContain("clace-lite app approve /unapproved");
    await cli("app", "approve", "/unapproved");
    expect((await get("/unapproved/")).status).toBe(502); // approved: now proxied to a port where nothing listens
    await cli("app", "delete", "/unapproved");
  });

  test("app delete removes the app's containers and images", async () => {
    const id = await appId("/bb");
    await cli("app", "delete", "/bb");
    expect(await containersOf(engine, id)).toEqual([]);
    expect(await engine.listImages([`${LABEL_MANAGED}=true`, `${LABEL_APP}=${id}`])).toEqual([]);
    expect((await get("/bb/")).status).toBe(404);
  });

  test("client commands say how to start the server when it is not running", async () => {
    const result = await runCli(["app", "list"], { CL_HOME: join(home, "nowhere") });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("start it with: clace-lite server start");
  });
});
