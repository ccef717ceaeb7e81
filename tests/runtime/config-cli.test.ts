/** `clace-lite config` and `clace-lite spec` run as the user runs them: a subprocess of the CLI entry. */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanupApps, makeApp } from "./helpers.ts";

afterAll(cleanupApps);

const root = join(import.meta.dir, "..", "..");
const main = join(root, "src", "cli", "main.ts");

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([process.execPath, main, ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

describe("clace-lite config", () => {
  test("prints the resolved config of examples/hello as JSON", async () => {
    const r = await cli("config", "examples/hello", "--approve", "--json", "--path", "/hello");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.stdout);
    expect(cfg.name).toBe("hello");
    expect(cfg.container.port).toBe(8080);
    expect(cfg.container.env).toEqual({ CL_APP_PATH: "/hello", PORT: "8080" });
    expect(cfg.audit).toMatchObject({ loads: ["proxy.in", "container.in"], needsApproval: false });
  });

  test("the text form shows routes, container, params and the approval state", async () => {
    const r = await cli("config", "-", "--spec", "image", "--param", "image=nginx", "--param", "port=80");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('app "Image App" at /');
    expect(r.stdout).toContain("  / -> <CONTAINER_URL>");
    expect(r.stdout).toContain("  image: nginx");
    expect(r.stdout).toContain("  port: 80 (http), health /, lifetime app");
    expect(r.stdout).toContain('  image = "nginx"  (STRING, required)');
    expect(r.stdout).toContain("approval: needed (run with --approve");
  });

  test("a missing required param exits 1 with Clace's message", async () => {
    const r = await cli("config", "-", "--spec", "image", "--approve");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: param image is a required param, a value has to be provided");
    expect(r.stderr).toContain("fix: pass it with --param image=<value>");
  });

  test("a wrong param type exits 1 naming the param, type and value", async () => {
    const r = await cli("config", "-", "--spec", "image", "--param", "image=x", "--param", "port=eighty");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid value "eighty" for param port of type INT');
  });

  test("bad Starlark exits 1 with file:line:col and a caret", async () => {
    const dir = makeApp({ "app.star": 'load("proxy.in", "proxy")\napp = ace.app("t",\n    routes=[ace.proxy("/", proxy.config(1))])\n' });
    const r = await cli("config", dir, "--approve");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/app\.star:3:\d+: .*proxy\.config: for parameter url: got int, want string/);
    expect(r.stderr).toContain("^");
  });

  test("an unknown spec or conf key exits 1 with the known names", async () => {
    const spec = await cli("config", "-", "--spec", "rails");
    expect(spec.code).toBe(1);
    expect(spec.stderr).toContain('unknown spec "rails"');
    expect(spec.stderr).toContain("python-streamlit");
    const conf = await cli("config", "examples/hello", "--conf", "container.idle=5");
    expect(conf.code).toBe(1);
    expect(conf.stderr).toContain("container.idle_shutdown_secs");
  });
});

describe("clace-lite spec", () => {
  test("spec list names every bundled spec", async () => {
    const r = await cli("spec", "list");
    expect(r.code).toBe(0);
    for (const n of ["container", "image", "proxy", "python-streamlit", "go"]) expect(r.stdout).toMatch(new RegExp(`^${n} `, "m"));
  });

  test("spec show prints the spec's files", async () => {
    const r = await cli("spec", "show", "proxy");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("==> app.star <==");
    expect(r.stdout).toContain('param("url", description="The URL to proxy to")');
    const bad = await cli("spec", "show", "nope");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown spec "nope"');
  });
});
