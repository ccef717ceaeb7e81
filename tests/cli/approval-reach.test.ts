/**
 * Approval covers reach (real engine): `--approve` prints what the container can reach; a new version that mounts
 * more is refused by `app reload` without --approve, which prints the difference, exits non-zero and leaves the
 * previous version serving; `--approve` takes it. Container flags are checked at create.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerEngine } from "../../src/containers/index.ts";
import { testEngine } from "../fixtures/engine.ts";
import { busyboxApp, busyboxImage } from "../fixtures/images.ts";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

let engine: ContainerEngine;
let home: string;
let server: CliProcess;
let base: string;
const dirs: string[] = [];
const env = () => ({ CL_HOME: home });

function appStar(volumes: string): string {
  return `load("proxy.in", "proxy")
load("container.in", "container")

app = ace.app("reach",
    routes = [ace.proxy("/", proxy.config(container.URL))],
    container = container.config(container.AUTO, volumes = ${volumes}),
    permissions = [
        ace.permission("proxy.in", "config", [container.URL]),
        ace.permission("container.in", "config", [container.AUTO]),
    ],
)
`;
}

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
  home = tempHome();
  server = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], env());
  [, base] = (await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//)) as unknown as [string, string];
});

afterAll(async () => {
  await runCli(["app", "delete", "all"], env()).catch(() => {});
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<string> {
  return (await fetch(base + path)).text();
}

describe("approval covers what the container can reach", () => {
  test("a reload that adds host mounts is refused with the difference; the old version keeps serving; --approve takes it", async () => {
    const dir = busyboxApp({ index: "v1\n", extra: { "app.star": appStar("[]") } });
    dirs.push(dir);
    const created = await runCli(["app", "create", "--approve", dir, "/reach"], env());
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("container reach: its own image only");
    expect(await get("/reach/")).toBe("v1\n");

    writeFileSync(join(dir, "app.star"), appStar('["/:/host", "/var/run/docker.sock:/var/run/docker.sock"]'));
    writeFileSync(join(dir, "www", "index.html"), "v2\n");
    const refused = await runCli(["app", "reload", "/reach"], env());
    expect(refused.code).not.toBe(0);
    const said = refused.stderr + refused.stdout;
    expect(said).toContain("+ bind mount / -> /host (read-write)");
    expect(said).toContain("+ bind mount /var/run/docker.sock -> /var/run/docker.sock (read-write)");
    expect(said).toContain("previous one keeps serving");
    expect(said).toContain("clace-lite app reload --approve /reach");
    expect(await get("/reach/")).toBe("v1\n");
    const listed = JSON.parse((await runCli(["app", "list", "--format", "json"], env())).stdout) as { location: string; error: string; reach: string[] }[];
    expect(listed.find((a) => a.location === "/reach")).toMatchObject({ error: "", reach: [] });

    // A safer change, approved: printed, and served.
    writeFileSync(join(dir, "app.star"), appStar('["data:/data:ro", "cl_secret:www/index.html:/etc/rendered"]'));
    const approved = await runCli(["app", "reload", "--approve", "/reach"], env());
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain("volume data -> /data (read-only)");
    expect(approved.stdout).toContain("secret ./www/index.html -> /etc/rendered");
    expect(await get("/reach/")).toBe("v2\n");

    // Unchanged reach: a plain reload goes through.
    writeFileSync(join(dir, "www", "index.html"), "v3\n");
    expect((await runCli(["app", "reload", "/reach"], env())).code).toBe(0);
    expect(await get("/reach/")).toBe("v3\n");
  }, 120_000);

  test("a widening --copt is part of the reach printed at create", async () => {
    const dir = busyboxApp({ extra: { "app.star": appStar("[]") } });
    dirs.push(dir);
    const created = await runCli(["app", "create", "--approve", "--copt", "cap-add=NET_ADMIN", "--copt", "memory=64m", dir, "/caps"], env());
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("--copt cap-add=NET_ADMIN");
    expect(created.stdout).not.toContain("memory");
  });

  test("a refused --copt fails app create, named with its flag and the reason; nothing is created", async () => {
    const dir = busyboxApp({ extra: { "app.star": appStar("[]") } });
    dirs.push(dir);
    const result = await runCli(["app", "create", "--approve", "--copt", "network=host", dir, "/net"], env());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("--copt network=host");
    expect(result.stderr).toContain("published on 127.0.0.1");
    expect(result.stderr).not.toContain("app.star");
    const listed = JSON.parse((await runCli(["app", "list", "--format", "json"], env())).stdout) as { location: string }[];
    expect(listed.some((a) => a.location === "/net")).toBe(false);
  });
});
