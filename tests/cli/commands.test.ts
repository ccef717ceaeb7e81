/**
 * The app commands say what they did and fail when they did not: reload keeps the serving version when the new
 * one is broken, nothing matched exits 1, relative folders resolve on the client, errors name the fix.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { LABEL_APP, LABEL_MANAGED, type ContainerEngine } from "../../src/containers/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage } from "../fixtures/images.ts";
import { appFolder, CliProcess, runCli, tempHome } from "./helpers.ts";

let engine: ContainerEngine;
let home: string;
let server: CliProcess;
let base: string;
const env = () => ({ CL_HOME: home });
const cleanup: string[] = [];

const HTTPD = `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`;

function webFolder(index: string): string {
  const dir = appFolder({ Containerfile: HTTPD, "www/index.html": index });
  cleanup.push(dir);
  return dir;
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
  source: string;
}

async function listed(location: string): Promise<ListedApp> {
  const apps = JSON.parse((await cli("app", "list", "--format", "json")).stdout) as ListedApp[];
  const app = apps.find((a) => a.location === location);
  if (!app) throw new Error(`no app at ${location}`);
  return app;
}

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  home = tempHome();
  server = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], env());
  const [, url] = await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//);
  base = url!;
});

afterAll(async () => {
  await runCli(["app", "delete", "all"], env()).catch(() => {});
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

describe("app reload", () => {
  test("a broken app.star is refused with its error and exit 1; the running version keeps serving", async () => {
    const dir = webFolder("version one\n");
    await cli("app", "create", "--spec", "container", "--approve", dir, "/rl1");
    expect(await get("/rl1/")).toEqual({ status: 200, body: "version one\n" });
    const good = await Bun.file(join(dir, "app.star")).text();
    await Bun.write(join(dir, "app.star"), good.replace("ace.proxy(", "ace.proxi("));
    const refused = await runCli(["app", "reload", "/rl1"], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("reload failed, still serving the previous version");
    expect(refused.stderr).toMatch(/app\.star:\d+:\d+: .*proxi/);
    expect(refused.stdout).not.toContain("reloaded");
    expect(await get("/rl1/")).toEqual({ status: 200, body: "version one\n" });
    // Fixed again: the reload goes through and says what it did.
    await Bun.write(join(dir, "app.star"), good);
    await Bun.write(join(dir, "www/index.html"), "version two\n");
    const ok = await cli("app", "reload", "/rl1");
    expect(ok.stdout).toMatch(/^reloaded \/rl1 \(.*image rebuilt.*running container replaced/m);
    expect(await get("/rl1/")).toEqual({ status: 200, body: "version two\n" });
    const unchanged = await cli("app", "reload", "/rl1");
    expect(unchanged.stdout).toContain("config unchanged, image unchanged");
  });

  test("a failing build is refused with the build output; the built version keeps serving, stopped or running", async () => {
    const dir = webFolder("built once\n");
    await cli("app", "create", "--spec", "container", "--approve", dir, "/rl2");
    expect(await get("/rl2/")).toEqual({ status: 200, body: "built once\n" });
    await Bun.write(join(dir, "Containerfile"), HTTPD.replace("COPY www /www", "COPY www /www\nRUN /bin/busybox false"));
    const running = await runCli(["app", "reload", "/rl2"], env());
    expect(running.code).toBe(1);
    expect(running.stderr).toContain("the new version did not come up");
    expect(running.stderr).toContain("busybox false");
    expect(await get("/rl2/")).toEqual({ status: 200, body: "built once\n" });
    // Stopped: the reload still builds first instead of leaving a broken app for the next request.
    await cli("app", "stop", "/rl2");
    const stopped = await runCli(["app", "reload", "/rl2"], env());
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain("the new version did not come up");
    expect(await get("/rl2/")).toEqual({ status: 200, body: "built once\n" });
    const id = (await listed("/rl2")).id;
    expect((await engine.listImages([`${LABEL_MANAGED}=true`, `${LABEL_APP}=${id}`])).length).toBe(1);
  });

  test("a build quieter than the admin socket's idle timeout still reloads", async () => {
    const dir = webFolder("quick\n");
    await cli("app", "create", "--spec", "container", "--approve", dir, "/rl4");
    await Bun.write(join(dir, "Containerfile"), HTTPD.replace("COPY www /www", 'COPY www /www\nRUN ["/bin/busybox", "sleep", "12"]'));
    await Bun.write(join(dir, "www/index.html"), "slow build\n");
    const reloaded = await cli("app", "reload", "/rl4");
    expect(reloaded.stdout).toContain("image rebuilt");
    expect(await get("/rl4/")).toEqual({ status: 200, body: "slow build\n" });
  }, 90_000);

  test("a new permission is refused until --approve; then it is approved and served", async () => {
    const dir = webFolder("approved\n");
    await cli("app", "create", "--spec", "container", "--approve", dir, "/rl3");
    expect((await get("/rl3/")).status).toBe(200);
    const star = await Bun.file(join(dir, "app.star")).text();
    await Bun.write(
      join(dir, "app.star"),
      star
        .replace('routes = [ace.proxy("/", proxy.config(container.URL))]', 'routes = [ace.proxy("/", proxy.config(container.URL)), ace.proxy("/other", proxy.config("http://127.0.0.1:9"))]')
        .replace('ace.permission("proxy.in", "config", [container.URL]),', 'ace.permission("proxy.in", "config", [container.URL]),\n        ace.permission("proxy.in", "config", ["http://127.0.0.1:9"]),'),
    );
    const refused = await runCli(["app", "reload", "/rl3"], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the new version needs approval");
    expect(refused.stderr).toContain("clace-lite app reload --approve /rl3");
    expect((await get("/rl3/other")).status).toBe(404); // still the old version: the container answers every path
    const approved = await cli("app", "reload", "--approve", "/rl3");
    expect(approved.stdout).toMatch(/reloaded \/rl3 \(new permissions approved, config changed/);
    expect((await get("/rl3/other")).status).toBe(502); // the new route, to a port where nothing listens
  });
});

describe("commands that match nothing fail", () => {
  test("approve, delete, reload, stop and start of an app that does not exist exit 1", async () => {
    for (const args of [["approve", "/nonexist"], ["delete", "/nonexist"], ["reload", "/nonexist"], ["stop", "/nonexist"], ["start", "/nonexist"]]) {
      const result = await runCli(["app", ...args], env());
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/no app (matches|at) \/nonexist/);
    }
  });

  test("delete and approve list what they acted on", async () => {
    await cli("app", "create", "--spec", "proxy", "--param", "url=http://127.0.0.1:9", "-", "/lst/a");
    await cli("app", "create", "--spec", "proxy", "--param", "url=http://127.0.0.1:9", "-", "/lst/b");
    const approved = (await cli("app", "approve", "/lst/*")).stdout;
    // Each app, then what is now approved for it.
    expect(approved).toMatch(/^approved \/lst\/a\n  load proxy\.in\n  proxy\.in\.config.*\n  container reach: .*\napproved \/lst\/b\n  load proxy\.in\n  proxy\.in\.config.*\n  container reach: .*\n$/);
    // `app list <glob>` lists only what matches; --json and its alias --format json agree.
    const listedJson = JSON.parse((await cli("app", "list", "--json", "/lst/*")).stdout) as ListedApp[];
    expect(listedJson.map((a) => a.location)).toEqual(["/lst/a", "/lst/b"]);
    expect(JSON.parse((await cli("app", "list", "--format", "json", "/lst/*")).stdout)).toEqual(listedJson);
    expect((await cli("app", "list", "/lst/b")).stdout).toMatch(/^PATH .*\n\/lst\/b .*\n$/);
    expect((await cli("app", "delete", "/lst/*")).stdout).toBe("deleted /lst/a\ndeleted /lst/b\n");
  });
});

describe("app create", () => {
  test("a relative folder is resolved where the command runs, and stored absolute", async () => {
    const dir = webFolder("relative\n");
    const result = await runCli(["app", "create", "--spec", "container", "--approve", `./${basename(dir)}`, "/rel"], env(), 60_000, dirname(dir));
    expect(result.code).toBe(0);
    expect((await listed("/rel")).source).toBe(dir);
    expect(await get("/rel/")).toEqual({ status: 200, body: "relative\n" });
    // The server's own working directory plays no part: a path that is not there on the client fails there.
    const missing = await runCli(["app", "create", "--spec", "container", "./no-such-folder", "/rel2"], env(), 60_000, tmpdir());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(join(tmpdir(), "no-such-folder"));
  });

  test("errors list the choices: an unknown spec, a missing param, an app that exists", async () => {
    const spec = await runCli(["app", "create", "--spec", "nosuch", "-", "/nospec"], env());
    expect(spec.code).toBe(1);
    expect(spec.stderr).toContain('unknown spec "nosuch"');
    expect(spec.stderr).toMatch(/use one of: .*container.*image.*proxy/);
    const param = await runCli(["app", "create", "--spec", "image", "-", "/noparam"], env());
    expect(param.code).toBe(1);
    expect(param.stderr).toContain("param image is a required param");
    expect(param.stderr).toContain("--param image=<value>");
    await cli("app", "create", "--spec", "proxy", "--param", "url=http://127.0.0.1:9", "-", "/exists");
    const again = await runCli(["app", "create", "--spec", "proxy", "--param", "url=http://127.0.0.1:9", "-", "/exists"], env());
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("an app already exists at /exists");
    expect(again.stderr).toContain("clace-lite app reload /exists");
  });
});


describe("app logs -f", () => {
  test("follows the container through an idle stop and the next start, saying what happened", async () => {
    const dir = appFolder({
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-vv", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "logged\n",
    });
    cleanup.push(dir);
    await cli("app", "create", "--spec", "container", "--approve", "--conf", "container.idle_shutdown_secs=2", dir, "/lg");
    expect((await get("/lg/first-visit")).status).toBe(404);
    const follow = new CliProcess(["app", "logs", "-f", "/lg"], env());
    try {
      await follow.waitFor(/first-visit/);
      await follow.waitFor(/-- \/lg: the container stopped; it starts again on the next request/, 30_000);
      expect(follow.proc.exitCode).toBeNull(); // still following
      expect((await get("/lg/second-visit")).status).toBe(404);
      await follow.waitFor(/-- \/lg: started again --/, 30_000);
      await follow.waitFor(/second-visit/, 30_000);
    } finally {
      await follow.stop();
    }
  }, 90_000);
});

describe("the server log", () => {
  test("records create, approve, reload and delete", async () => {
    await cli("app", "create", "--spec", "proxy", "--param", "url=http://127.0.0.1:9", "-", "/logged");
    await cli("app", "approve", "/logged");
    await cli("app", "reload", "/logged");
    await cli("app", "delete", "/logged");
    await server.waitFor(/\/logged: deleted/);
    expect(server.stderr).toContain("/logged: created from - (spec proxy); needs approval");
    expect(server.stderr).toMatch(/\/logged: approved proxy\.in and 1 permission\(s\)/);
    expect(server.stderr).toContain("/logged: reloaded (config unchanged)");
  });
});
