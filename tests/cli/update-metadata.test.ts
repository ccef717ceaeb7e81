/**
 * `app update-metadata` and `--dry-run` end to end (real server process, real engine): a spec, container option or
 * app-config change keeps the app's id and so the data in its named volume; a change that widens the container's
 * reach waits for approval while the old version serves; a failing build leaves the old metadata and version; every
 * dry run prints its plan and changes nothing (app list, registry, containers, images, volumes); bad input is named.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LABEL_APP, LABEL_MANAGED, volumeName, type DockerEngine } from "../../src/containers/index.ts";
import { homePaths, LABEL_OWNER, serverOwner } from "../../src/server/home.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage, writeAppDir } from "../fixtures/images.ts";
import { CliProcess, containersOf, runCli, tempHome } from "./helpers.ts";

let engine: DockerEngine;
let home: string;
let server: CliProcess;
let base: string;
const dirs: string[] = [];
const ids = new Set<string>();
const env = () => ({ CL_HOME: home });

const cgi = (script: string) => ({ content: `#!/bin/sh\n${script}`, mode: 0o755 });

/**
 * A busybox app without an app.star (the spec supplies it): /flavor names the FLAVOR build arg it was built with,
 * /cgi-bin/write?TEXT writes TEXT into /data/note, /cgi-bin/read reads it back; the build fails when FAIL=yes.
 */
function volumeApp(): string {
  const dir = writeAppDir({
    Containerfile: [
      `FROM ${BUSYBOX_IMAGE}`,
      "ARG FLAVOR=one",
      "ARG FAIL=no",
      'RUN test "$FAIL" != yes',
      "COPY www /www",
      'RUN echo "$FLAVOR" > /www/flavor',
      "EXPOSE 8080",
      'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
      "",
    ].join("\n"),
    "www/index.html": "volume app\n",
    "www/cgi-bin/write": cgi(`printf '%s\\n' "$QUERY_STRING" > /data/note\nprintf 'Status: 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nwrote\\n'\n`),
    "www/cgi-bin/read": cgi(`printf 'Status: 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n'\ncat /data/note\n`),
  });
  dirs.push(dir);
  return dir;
}

/** A custom spec `flavor2`: the container spec, building with FLAVOR=two. */
function writeFlavorSpec(): void {
  const specDir = join(home, "config", "appspecs", "flavor2");
  mkdirSync(specDir, { recursive: true });
  const bundled = join(import.meta.dir, "..", "..", "specs", "container");
  writeFileSync(join(specDir, "params.star"), readFileSync(join(bundled, "params.star")));
  const appStar = readFileSync(join(bundled, "app.star"), "utf8");
  const changed = appStar.replace("container.config(container.AUTO, port=param.port)", 'container.config(container.AUTO, port=param.port, cargs={"FLAVOR": "two"})');
  if (changed === appStar) throw new Error("the container spec's app.star no longer has the line this test changes");
  writeFileSync(join(specDir, "app.star"), changed);
}

async function cli(...args: string[]) {
  const result = await runCli(args, env());
  if (result.code !== 0) throw new Error(`clace-lite ${args.join(" ")} exited ${result.code}\n${result.stderr}${result.stdout}`);
  return result;
}

async function get(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(base + path);
  return { status: res.status, body: await res.text() };
}

interface ListedApp {
  id: string;
  location: string;
  spec: string;
  state: string;
  needsApproval: boolean;
  reach: string[];
  metadata: { conf: Record<string, string>; copts: Record<string, string>; cargs: Record<string, string>; cvols: string[] };
  pending: string[];
}

async function listed(location: string): Promise<ListedApp> {
  const apps = JSON.parse((await cli("app", "list", "--json")).stdout) as ListedApp[];
  const app = apps.find((a) => a.location === location);
  if (!app) throw new Error(`no app at ${location} in ${JSON.stringify(apps)}`);
  ids.add(app.id);
  return app;
}

/** The running container of an app (exactly one). */
async function runningContainer(id: string): Promise<string> {
  const running = (await containersOf(engine, id)).filter((c) => c.state === "running");
  expect(running.length).toBe(1);
  return running[0]!.id;
}

/** The engine's own view of a container's HostConfig (the Engine API over its socket). */
async function hostConfig(id: string): Promise<Record<string, unknown>> {
  const ep = engine.endpoint;
  const res = ep.startsWith("unix://")
    ? await fetch(`http://engine/containers/${id}/json`, { unix: ep.slice("unix://".length) })
    : await fetch(`${ep.replace(/^tcp:/, "http:")}/containers/${id}/json`);
  return ((await res.json()) as { HostConfig: Record<string, unknown> }).HostConfig;
}

/** Everything a dry run must leave as it was: the apps as listed, the registry's rows, containers, images, volumes. */
async function snapshot(): Promise<string> {
  const apps = (JSON.parse((await cli("app", "list", "--json")).stdout) as Record<string, unknown>[]).map((a) => {
    // Request counters move with the test's own requests; what the apps are and hold is compared.
    const { requests: _r, errors: _e, lastRequest: _l, lastColdStartMs: _c, ...rest } = a;
    return rest;
  });
  const db = new Database(join(home, "clace-lite.db"), { readonly: true });
  const rows = db.query("SELECT * FROM apps ORDER BY id").all();
  db.close();
  const scope = [`${LABEL_MANAGED}=true`];
  const mine = (labels: Readonly<Record<string, string>>) => ids.has(labels[LABEL_APP] ?? "");
  const containers = (await engine.listContainers(scope, true)).filter((c) => mine(c.labels)).map((c) => `${c.name} ${c.state}`);
  const images = (await engine.listImages(scope)).filter((i) => mine(i.labels)).map((i) => i.id);
  const volumes = (await engine.listVolumes(scope)).filter((v) => mine(v.labels)).map((v) => v.name);
  return JSON.stringify({ apps, rows, containers: containers.sort(), images: images.sort(), volumes: volumes.sort() }, null, 1);
}

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  home = tempHome();
  writeFlavorSpec();
  server = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], env());
  const [, url] = await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)/);
  base = url!;
});

afterAll(async () => {
  await runCli(["app", "delete", "all"], env()).catch(() => {});
  await server?.stop();
  // Everything this server made, by its owner label (app delete leaves volumes; a failed run may leave more).
  const owned = [`${LABEL_OWNER}=${serverOwner(homePaths(home))}`];
  for (const c of await engine.listContainers(owned, true)) await engine.removeContainer(c.id).catch(() => {});
  for (const i of await engine.listImages(owned)) await engine.removeImage(i.id, true).catch(() => {});
  for (const v of await engine.listVolumes(owned)) await engine.removeVolume(v.name).catch(() => {});
  rmSync(home, { recursive: true, force: true });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe("app update-metadata", () => {
  let id = "";

  test("a spec change on a running app keeps its id and the data in its named volume", async () => {
    // Never paused while idle: the test looks for its running container between steps.
    await cli("app", "create", "--spec", "container", "--approve", "--conf", "container.idle_pause_secs=0", "--cvol", "data:/data", volumeApp(), "/vol");
    expect(await get("/vol/flavor")).toEqual({ status: 200, body: "one\n" });
    expect((await get("/vol/cgi-bin/write?kept-across-updates")).body).toBe("wrote\n");
    expect(await get("/vol/cgi-bin/read")).toEqual({ status: 200, body: "kept-across-updates\n" });
    id = (await listed("/vol")).id;
    const before = await runningContainer(id);

    const updated = await cli("app", "update-metadata", "spec", "flavor2", "/vol");
    expect(updated.stdout).toContain("updated /vol (spec: container -> flavor2");
    expect(updated.stdout).toContain("image rebuilt");
    expect(updated.stdout).toContain("running container replaced by the new version");

    expect(await get("/vol/flavor")).toEqual({ status: 200, body: "two\n" });
    expect(await get("/vol/cgi-bin/read")).toEqual({ status: 200, body: "kept-across-updates\n" });
    const app = await listed("/vol");
    expect(app).toMatchObject({ id, spec: "flavor2", needsApproval: false, pending: [] });
    const after = await runningContainer(id);
    expect(after).not.toBe(before);
    expect((await containersOf(engine, id)).map((c) => c.id)).toEqual([after]);
  });

  test("copt and conf changes (Clace's long names too) reach the container; key=- removes a key; the data stays", async () => {
    const copt = await cli("app", "update-metadata", "container-option", "memory=64m", "/vol");
    expect(copt.stdout).toContain("copt memory: (not set) -> 64m");
    expect((await hostConfig(await runningContainer(id))).Memory).toBe(64 * 1024 * 1024);
    expect(await get("/vol/cgi-bin/read")).toEqual({ status: 200, body: "kept-across-updates\n" });

    // Clace's --promote is accepted: without staging apps the change applies at once.
    await cli("app", "update-metadata", "app-config", "--promote", "container.idle_shutdown_secs=600", "/vol");
    expect((await listed("/vol")).metadata.conf).toEqual({ "container.idle_pause_secs": "0", "container.idle_shutdown_secs": "600" });

    const removed = await cli("app", "update-metadata", "copt", "memory=-", "/vol");
    expect(removed.stdout).toContain("copt memory: 64m -> (not set)");
    expect((await hostConfig(await runningContainer(id))).Memory).toBe(0);
    expect((await listed("/vol")).metadata.copts).toEqual({});
    expect(await get("/vol/cgi-bin/read")).toEqual({ status: 200, body: "kept-across-updates\n" });
  });

  test("a change that widens the container's reach waits for approval; app approve applies it, --approve takes it at once", async () => {
    const serving = await runningContainer(id);
    const refused = await runCli(["app", "update-metadata", "copt", "cap-add=NET_ADMIN", "/vol"], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("+ --copt cap-add=NET_ADMIN");
    expect(refused.stderr).toContain("clace-lite app approve /vol");
    let app = await listed("/vol");
    expect(app.metadata.copts).toEqual({});
    expect(app.pending).toEqual(["copt cap-add: (not set) -> NET_ADMIN"]);
    expect(await runningContainer(id)).toBe(serving);
    expect(await get("/vol/cgi-bin/read")).toEqual({ status: 200, body: "kept-across-updates\n" });

    const approved = await cli("app", "approve", "/vol");
    expect(approved.stdout).toContain("approved /vol (copt cap-add: (not set) -> NET_ADMIN");
    expect(approved.stdout).toContain("--copt cap-add=NET_ADMIN");
    app = await listed("/vol");
    expect(app.metadata.copts).toEqual({ "cap-add": "NET_ADMIN" });
    expect(app.pending).toEqual([]);
    expect((await hostConfig(await runningContainer(id))).CapAdd).toEqual(["NET_ADMIN"]);
    expect(await get("/vol/cgi-bin/read")).toEqual({ status: 200, body: "kept-across-updates\n" });

    // Another volume with --approve: applied at once, its reach printed.
    const widened = await cli("app", "update-metadata", "cvol", "--approve", "data:/data", "extra:/extra", "/vol");
    expect(widened.stdout).toContain("volume extra -> /extra (read-write)");
    expect((await listed("/vol")).metadata.cvols).toEqual(["data:/data", "extra:/extra"]);
    // Taking reach away needs no approval: the approval narrows with it.
    const narrowed = await cli("app", "update-metadata", "container-volumes", "data:/data", "/vol");
    expect(narrowed.stdout).toContain("approval narrowed: - volume extra -> /extra (read-write)");
    app = await listed("/vol");
    expect(app.reach).not.toContain("volume extra -> /extra (read-write)");
    expect(await get("/vol/cgi-bin/read")).toEqual({ status: 200, body: "kept-across-updates\n" });
  });

  test("a failing build leaves the old metadata stored and the old version serving", async () => {
    const serving = await runningContainer(id);
    const before = await listed("/vol");
    const failed = await runCli(["app", "update-metadata", "container-arg", "FAIL=yes", "/vol"], env());
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("the new version did not come up");
    expect(failed.stderr).toContain("still serving the previous version");
    const after = await listed("/vol");
    expect(after.metadata).toEqual(before.metadata);
    expect(after.spec).toBe("flavor2");
    expect(await runningContainer(id)).toBe(serving);
    expect(await get("/vol/flavor")).toEqual({ status: 200, body: "two\n" });
    expect(await get("/vol/cgi-bin/read")).toEqual({ status: 200, body: "kept-across-updates\n" });
  });

  test("bad input is refused naming what is wrong, and changes no app", async () => {
    const before = await snapshot();
    const cases: [string[], RegExp][] = [
      [["spec", "no-such-spec", "/vol"], /no-such-spec/],
      [["copt", "network=host", "/vol"], /network/],
      [["copt", "memory=lots", "/vol"], /memory/],
      [["conf", "container.bogus=1", "/vol"], /unknown app config key "container.bogus"/],
      [["carg", "NOEQUALS", "/vol"], /invalid carg "NOEQUALS": need key=value/],
      [["cvol", "a:b:c:d", "/vol"], /invalid volume "a:b:c:d"/],
      [["copt", "memory=-", "/vol"], /copt memory is not set/],
      [["spec", "container", "/nowhere"], /no app matches \/nowhere/],
      // "-" is no spec: this app has no app.star of its own.
      [["spec", "-", "/vol"], /no app.star in /],
      [["spec", "/vol"], /update-metadata spec takes <spec> <glob>/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(["app", "update-metadata", ...args], env());
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr).toMatch(message);
    }
    expect(await snapshot()).toBe(before);
  });
});

describe("--dry-run", () => {
  test("every command's dry run prints its plan and changes nothing", async () => {
    const source = volumeApp();
    await cli("app", "create", "--spec", "container", "--approve", "--conf", "container.idle_pause_secs=0", source, "/dry");
    expect(await get("/dry/")).toEqual({ status: 200, body: "volume app\n" });
    await listed("/dry");
    await listed("/vol");
    writeFileSync(join(source, "www/index.html"), "changed source\n");
    const before = await snapshot();

    const runs: { args: string[]; code: number; plan: RegExp[] }[] = [
      { args: ["app", "create", "--spec", "container", "--approve", "--cvol", "d:/d", source, "/dry2"], code: 0, plan: [/would create \/dry2 at/, /volume d -> \/d/] },
      { args: ["app", "create", "--spec", "container", source, "/dry"], code: 1, plan: [/an app already exists at \/dry/] },
      { args: ["app", "reload", "/dry"], code: 0, plan: [/would reload \/dry:/, /the image would be rebuilt/, /running container would be replaced/] },
      { args: ["app", "delete", "/dry"], code: 0, plan: [/would delete \/dry:/, /remove container /, /remove image /] },
      { args: ["app", "delete", "/vol"], code: 0, plan: [/would delete \/vol:/, /keep volume clv-\S+ \(app delete leaves volumes and their data\)/] },
      { args: ["app", "approve", "/dry"], code: 0, plan: [/would approve \/dry:/, /nothing new to approve/] },
      { args: ["app", "update-metadata", "spec", "flavor2", "/dry"], code: 0, plan: [/spec: container -> flavor2/, /the image would be rebuilt/] },
      { args: ["app", "update-metadata", "copt", "privileged", "/dry"], code: 1, plan: [/\+ --copt privileged/, /would need approval/] },
      { args: ["app", "update-metadata", "copt", "--approve", "privileged", "/dry"], code: 0, plan: [/would approve new permissions/] },
      { args: ["param", "update", "app_name", "renamed", "/dry"], code: 0, plan: [/param app_name: \(not set\) -> renamed/, /would be reloaded/] },
      // Bad input fails a dry run as it fails the command.
      { args: ["app", "update-metadata", "spec", "no-such-spec", "/dry"], code: 1, plan: [/unknown spec "no-such-spec"/] },
      { args: ["app", "create", "--spec", "container", join(source, "missing"), "/dry3"], code: 1, plan: [/missing/] },
    ];
    for (const run of runs) {
      const result = await runCli([...run.args, "--dry-run"], env());
      const output = result.stdout + result.stderr;
      expect({ args: run.args, code: result.code }).toEqual({ args: run.args, code: run.code });
      for (const line of run.plan) expect(output).toMatch(line);
      if (run.code === 0) expect(result.stdout.trimEnd().endsWith("dry run: nothing was changed")).toBe(true);
    }
    expect(await snapshot()).toBe(before);
    expect(await get("/dry/")).toEqual({ status: 200, body: "volume app\n" });

    // A waiting change: approve --dry-run says it would apply it, and applies nothing.
    expect((await runCli(["app", "update-metadata", "copt", "cap-add=SYS_TIME", "/dry"], env())).code).toBe(1);
    const waiting = await snapshot();
    const plan = await cli("app", "approve", "--dry-run", "/dry");
    expect(plan.stdout).toContain("copt cap-add: (not set) -> SYS_TIME");
    expect(plan.stdout).toContain("would approve new permissions");
    expect(await snapshot()).toBe(waiting);

    // A later update replaces the waiting change.
    const replaced = await cli("app", "update-metadata", "conf", "container.idle_shutdown_secs=300", "/dry");
    expect(replaced.stdout).toContain("the change that waited for approval is dropped (copt cap-add: (not set) -> SYS_TIME)");
    expect(await listed("/dry")).toMatchObject({ pending: [], metadata: { copts: {}, conf: { "container.idle_pause_secs": "0", "container.idle_shutdown_secs": "300" } } });
    // cvol - empties the list.
    await cli("app", "update-metadata", "cvol", "--approve", "scratch:/scratch", "/dry");
    expect((await listed("/dry")).metadata.cvols).toEqual(["scratch:/scratch"]);
    await cli("app", "update-metadata", "cvol", "-", "/dry");
    expect((await listed("/dry")).metadata.cvols).toEqual([]);
  });
});

describe("app delete", () => {
  test("removes the app's containers and images and leaves its volumes", async () => {
    const { id } = await listed("/vol");
    await cli("app", "delete", "/vol");
    expect(await containersOf(engine, id)).toEqual([]);
    expect(await engine.listImages([`${LABEL_MANAGED}=true`, `${LABEL_APP}=${id}`])).toEqual([]);
    // data, and extra from the update that added it for a while.
    const volumes = (await engine.listVolumes([`${LABEL_MANAGED}=true`, `${LABEL_APP}=${id}`])).map((v) => v.name);
    expect(volumes.sort()).toEqual([volumeName(id, "data"), volumeName(id, "extra")].sort());
  });
});
