/**
 * CL_HOME belongs to one server: the second `server start` exits at once naming the first one's pid (before it
 * touches the database or a port), a killed server's lock does not outlive it, state files and folders are made
 * private at start with a warning, and what a crash left under apps/ is cleaned at the next start.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeAppDir } from "../fixtures/images.ts";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

const started: CliProcess[] = [];
const dirs: string[] = [];

function start(home: string): CliProcess {
  const server = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], { CL_HOME: home });
  started.push(server);
  return server;
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

afterEach(async () => {
  for (const server of started.splice(0)) await server.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("one server per CL_HOME", () => {
  test("a second server start exits at once naming the running one's pid, leaving the first untouched", async () => {
    const home = tempHome();
    dirs.push(home);
    const first = start(home);
    const [, url] = (await first.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//)) as unknown as [string, string];
    const dbBefore = readFileSync(join(home, "clace-lite.db"));
    const t0 = Date.now();
    const second = await runCli(["server", "start", "--port", "0", "--https-port", "off"], { CL_HOME: home });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`pid ${first.proc.pid}`);
    expect(second.stderr).toContain("already running");
    expect(second.stderr).not.toContain("database is locked");
    expect(readFileSync(join(home, "clace-lite.db")).equals(dbBefore)).toBe(true);
    // The first still serves.
    expect((await fetch(url + "/_none")).status).toBeGreaterThanOrEqual(400);
    expect(first.proc.exitCode).toBeNull();
  });

  test("the lock of a killed server does not outlive it", async () => {
    const home = tempHome();
    dirs.push(home);
    const first = start(home);
    await first.waitFor(/listening on/);
    first.proc.kill("SIGKILL");
    await first.exited();
    const again = start(home);
    await again.waitFor(/listening on/);
  });
});

describe("state files", () => {
  test("loose modes in an existing CL_HOME are tightened at start, with a warning naming each", async () => {
    const home = tempHome();
    dirs.push(home);
    const first = start(home);
    await first.waitFor(/listening on/);
    await first.stop();
    chmodSync(home, 0o755);
    chmodSync(join(home, "clace-lite.db"), 0o644);
    chmodSync(join(home, "run"), 0o755);
    const second = start(home);
    await second.waitFor(/listening on/);
    expect(second.stdout + second.stderr).toContain(`${join(home, "clace-lite.db")} was 0644, now 0600`);
    expect(second.stdout + second.stderr).toContain(`${home} was 0755, now 0700`);
    expect(mode(home)).toBe(0o700);
    expect(mode(join(home, "clace-lite.db"))).toBe(0o600);
    expect(mode(join(home, "run"))).toBe(0o700);
    for (const name of ["clace-lite.db-wal", "clace-lite.db-shm"]) if (existsSync(join(home, name))) expect(mode(join(home, name)) & 0o077).toBe(0);
  });

  test("a fresh CL_HOME is private from the start, with no warning", async () => {
    const home = join(tempHome(), "fresh");
    dirs.push(home);
    const server = start(home);
    await server.waitFor(/listening on/);
    expect(server.stdout + server.stderr).not.toContain("warning");
    expect(mode(home)).toBe(0o700);
    expect(mode(join(home, "clace-lite.db"))).toBe(0o600);
    expect(mode(join(home, "run", "server.pid"))).toBe(0o600);
  });
});

describe("crash leftovers", () => {
  test("an unfinished create's folder and an unfinished source swap are cleaned at the next start", async () => {
    const home = tempHome();
    dirs.push(home);
    const upstream = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("up") });
    try {
      const url = `http://127.0.0.1:${upstream.port}`;
      const src = writeAppDir({
        "app.star": `load("proxy.in", "proxy")\napp = ace.app("a", routes = [ace.proxy("/", proxy.config("${url}"))], permissions = [ace.permission("proxy.in", "config", ["${url}"])])\n`,
      });
      dirs.push(src);
      const first = start(home);
      await first.waitFor(/listening on/);
      expect((await runCli(["app", "create", "--approve", src, "/a"], { CL_HOME: home })).code).toBe(0);
      const id = (JSON.parse((await runCli(["app", "list", "--format", "json"], { CL_HOME: home })).stdout) as { id: string }[])[0]!.id;
      first.proc.kill("SIGKILL");
      await first.exited();

      // What kill -9 leaves: a create that copied its source but never reached the store, and a reload cut between
      // its renames (the source moved aside, the new copy still staged).
      const orphan = join(home, "apps", "app_unfinished");
      mkdirSync(join(orphan, "source"), { recursive: true });
      writeFileSync(join(orphan, "source", "app.star"), "");
      const source = join(home, "apps", id, "source");
      renameSync(source, source + ".old");
      mkdirSync(source + ".staging");

      const second = start(home);
      const [, base2] = (await second.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//)) as unknown as [string, string];
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(source + ".staging")).toBe(false);
      expect(existsSync(source + ".old")).toBe(false);
      expect(existsSync(join(source, "app.star"))).toBe(true);
      expect(second.stdout + second.stderr).toContain("app_unfinished");
      expect(await (await fetch(`${base2}/a/`)).text()).toBe("up");
      await runCli(["app", "delete", "all"], { CL_HOME: home });
    } finally {
      upstream.stop(true);
    }
  });

  test("kill -9 during app create leaves no source copy behind after the next start", async () => {
    const home = tempHome();
    dirs.push(home);
    // A config that takes seconds to evaluate: the source is copied, the record not yet written.
    const src = writeAppDir({
      "app.star": 'def spin():\n    s = "x" * 1000000\n    while True:\n        s.find("y")\nspin()\n',
    });
    dirs.push(src);
    const first = start(home);
    await first.waitFor(/listening on/);
    const create = runCli(["app", "create", "--approve", src, "/slow"], { CL_HOME: home });
    const appsDir = join(home, "apps");
    const deadline = Date.now() + 10_000;
    while (!existsSync(appsDir) || readdirSync(appsDir).length === 0) {
      if (Date.now() > deadline) throw new Error("the create never copied its source");
      await Bun.sleep(20);
    }
    first.proc.kill("SIGKILL");
    await first.exited();
    await create;
    expect(readdirSync(appsDir).length).toBe(1);
    const second = start(home);
    await second.waitFor(/listening on/);
    expect(readdirSync(appsDir)).toEqual([]);
    expect(second.stdout + second.stderr).toContain("an app create that did not finish");
  });
});
