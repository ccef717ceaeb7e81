/**
 * Several servers on one PostgreSQL registry, end to end: two `server start` processes (their own ports and
 * CL_HOMEs) on one database from Debian's postgresql (started here on a loopback port) and the real Docker engine.
 * An app created, reloaded or deleted through one is served (or not) by the other; creates racing on one path
 * from both leave exactly one app; the first requests for an app arriving at both at once start one container.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { LABEL_MANAGED, type ContainerEngine } from "../../src/containers/index.ts";
import { LABEL_OWNER } from "../../src/server/home.ts";
import { testEngine } from "../fixtures/engine.ts";
import { busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { startPostgres, type TestPostgres } from "../fixtures/postgres.ts";
import { CliProcess, containersOf, runCli, tempHome } from "./helpers.ts";

interface Server {
  name: string;
  home: string;
  proc: CliProcess;
  base: string;
}

let engine: ContainerEngine;
let postgres: TestPostgres;
let dbUrl: string;
let owner: string;
const servers: Server[] = [];
const cleanup: string[] = [];

async function startServer(name: string, config: string): Promise<Server> {
  const home = tempHome();
  cleanup.push(home);
  const proc = new CliProcess(["server", "start", "--port", "0", "--https-port", "off", "--config", config], { CL_HOME: home });
  const [, base] = await proc.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//, 60_000);
  return { name, home, proc, base: base! };
}

async function cli(server: Server, ...args: string[]) {
  return runCli(args, { CL_HOME: server.home });
}

async function ok(server: Server, ...args: string[]) {
  const result = await cli(server, ...args);
  if (result.code !== 0) throw new Error(`clace-lite ${args.join(" ")} through ${server.name} exited ${result.code}\n${result.stderr}${result.stdout}`);
  return result;
}

async function get(server: Server, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(server.base + path);
  return { status: res.status, body: await res.text() };
}

/**
 * How long one server may take to follow a change made through the other. It is usually well under a second (the
 * first test prints the figure); a busy machine (Podman in CI) can take seconds to load and mount an app.
 */
const SYNC_MS = 30_000;

/** Polls until `check` holds; returns how long it took. */
async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > ms) {
      const logs = servers.map((s) => `--- ${s.name}:\n${s.proc.stderr}${s.proc.stdout}`).join("\n");
      throw new Error(`${what} did not happen within ${ms} ms\n${logs}`);
    }
    await Bun.sleep(20);
  }
}

async function appId(server: Server, location: string): Promise<string> {
  const apps = JSON.parse((await ok(server, "app", "list", "--format", "json")).stdout) as { id: string; location: string }[];
  const app = apps.find((a) => a.location === location);
  if (!app) throw new Error(`no app at ${location} through ${server.name}: ${JSON.stringify(apps)}`);
  return app.id;
}

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  postgres = await startPostgres();
  dbUrl = await postgres.createDatabase("servers");
  const dir = tempHome();
  cleanup.push(dir);
  const config = join(dir, "clace-lite.toml");
  writeFileSync(config, `[metadata]\ndb = "${dbUrl}"\n`);
  // One after the other: the first creates the schema, the second finds it.
  servers.push(await startServer("A", config));
  servers.push(await startServer("B", config));
  const sql = new SQL(dbUrl, { max: 1 });
  owner = `registry:${(await sql`SELECT registry_id FROM clace_lite_schema`)[0].registry_id}`;
  await sql.close();
}, 120_000);

afterAll(async () => {
  if (servers[0]) await cli(servers[0], "app", "delete", "all").catch(() => {});
  for (const server of servers) await server.proc.stop();
  // Whatever a failed test left: everything carries the registry's owner label.
  if (owner) {
    for (const c of await engine.listContainers([`${LABEL_MANAGED}=true`, `${LABEL_OWNER}=${owner}`], true)) await engine.removeContainer(c.id);
    for (const img of await engine.listImages([`${LABEL_MANAGED}=true`, `${LABEL_OWNER}=${owner}`])) await engine.removeImage(img.id, true).catch(() => {});
  }
  await postgres?.stop();
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe("two servers on one PostgreSQL registry", () => {
  test("an app created through one is served by the other; a reload and a delete reach it too", async () => {
    const [a, b] = servers as [Server, Server];
    const dir = busyboxApp({ index: "first version\n" });
    cleanup.push(dir);
    expect((await get(b, "/one/")).status).toBe(404);
    await ok(a, "app", "create", "--spec", "container", "--approve", dir, "/one");
    const mounted = await within(SYNC_MS, "B mounting the app created through A", async () => /\/one: created through another server, mounted/.test(b.proc.stderr + b.proc.stdout));
    console.log(`B mounted /one ${Math.round(mounted)} ms after A's create command returned`);
    const served = await within(60_000, "B serving /one", async () => (await get(b, "/one/")).body === "first version\n");
    console.log(`B answered /one (cold start included) ${Math.round(mounted + served)} ms after A's create command returned`);
    expect((await get(a, "/one/")).body).toBe("first version\n");

    writeFileSync(join(dir, "www", "index.html"), "second version\n");
    await ok(a, "app", "reload", "/one");
    await within(30_000, "B serving the version reloaded through A", async () => (await get(b, "/one/")).body === "second version\n");
    expect((await get(a, "/one/")).body).toBe("second version\n");
    const id = await appId(a, "/one");
    expect((await containersOf(engine, id)).length).toBe(1);

    await ok(a, "app", "delete", "/one");
    const gone = await within(SYNC_MS, "B no longer serving /one", async () => (await get(b, "/one/")).status === 404);
    console.log(`B stopped serving /one ${Math.round(gone)} ms after A's delete command returned`);
    expect(JSON.parse((await ok(b, "app", "list", "--format", "json")).stdout)).toEqual([]);
    await Bun.sleep(500);
    expect(await containersOf(engine, id)).toEqual([]);
  }, 180_000);

  test("creates racing on one path through both servers: exactly one succeeds", async () => {
    const dir = busyboxApp({ index: "race\n" });
    cleanup.push(dir);
    for (let round = 0; round < 3; round++) {
      const path = `/race${round}`;
      const results = await Promise.all(servers.map((server) => cli(server, "app", "create", "--spec", "container", "--approve", dir, path)));
      const winners = results.filter((r) => r.code === 0);
      expect(winners.length).toBe(1);
      const loser = results.find((r) => r.code !== 0)!;
      expect(loser.stderr).toMatch(/an app already exists at \/race\d/);
      for (const server of servers) {
        await within(SYNC_MS, `${server.name} listing ${path} once`, async () => {
          const apps = JSON.parse((await ok(server, "app", "list", "--format", "json")).stdout) as { location: string }[];
          return apps.filter((x) => x.location === path).length === 1;
        });
      }
      await ok(servers[0]!, "app", "delete", path);
    }
  }, 180_000);

  test("the first requests for an app reaching both servers at once start one container", async () => {
    const [a, b] = servers as [Server, Server];
    // Its own content: a fresh image, so the start includes a build that both servers would otherwise run.
    const dir = busyboxApp({ index: `cold ${Date.now()}\n` });
    cleanup.push(dir);
    await ok(a, "app", "create", "--spec", "container", "--approve", dir, "/cold");
    await within(SYNC_MS, "B mounting /cold", async () => /\/cold: created through another server, mounted/.test(b.proc.stderr + b.proc.stdout));
    const id = await appId(a, "/cold");
    const answers = await Promise.all([...Array(10)].map((_, i) => get(servers[i % 2]!, "/cold/")));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await containersOf(engine, id)).length).toBe(1);
    // One server started it; the other waited for the start and adopted the running container.
    const readyLines = (s: Server) => (s.proc.stderr + s.proc.stdout).split("\n").filter((l) => l.startsWith("/cold: ready in"));
    const lines = [...readyLines(a), ...readyLines(b)];
    expect(lines.filter((l) => /adopted a running container/.test(l)).length).toBe(1);
    expect(lines.filter((l) => !/adopted a running container/.test(l)).length).toBe(1);
    await ok(a, "app", "delete", "/cold");
  }, 180_000);

  test("an app served through one server is not idle-stopped by the other; once both are quiet it stops", async () => {
    const [a, b] = servers as [Server, Server];
    const dir = busyboxApp({ index: "busy\n" });
    cleanup.push(dir);
    const quick = ["--conf", "container.idle_shutdown_secs=3", "--conf", "container.idle_pause_secs=0"];
    await ok(a, "app", "create", "--spec", "container", "--approve", ...quick, dir, "/busy");
    await within(SYNC_MS, "B mounting /busy", async () => /\/busy: created through another server, mounted/.test(b.proc.stderr + b.proc.stdout));
    const id = await appId(a, "/busy");
    expect((await get(a, "/busy/")).body).toBe("busy\n");
    const [started] = await containersOf(engine, id);
    // Three times the idle period of requests through B only: A, which started the container, must leave it be.
    const until = Date.now() + 9000;
    while (Date.now() < until) {
      expect((await get(b, "/busy/")).status).toBe(200);
      await Bun.sleep(300);
    }
    const [still] = await containersOf(engine, id);
    expect(still?.id).toBe(started!.id);
    expect(still?.state).toBe("running");
    expect(a.proc.stderr + a.proc.stdout).not.toMatch(/\/busy: stopping \(idle\)|\/busy: idle/);
    // Quiet everywhere: stopped within the idle period and the publishing interval.
    await within(15_000, "the idle stop", async () => (await containersOf(engine, id))[0]?.state !== "running");
    await ok(a, "app", "delete", "/busy");
  }, 180_000);
});
