/**
 * `server start` without --config reads $CL_HOME/clace.toml, a config in Clace's layout: it says which file it read,
 * prints one warning per Clace key that does not apply and still starts; [http] port is the port it listens on,
 * [system] default_domain names the apps' URLs, and [app_config] proxy.max_idle_conns limits the idle connections
 * the app's upstream sees. A typo in the file stops the start with file:line.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadServerConfig } from "../../src/server/config.ts";
import { startCountingUpstream, type CountingUpstream } from "../fixtures/counting-upstream.ts";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

const FIXTURE = readFileSync(join(import.meta.dir, "..", "fixtures", "config", "clace.toml"), "utf8");
const cleanup: string[] = [];
let upstream: CountingUpstream | undefined;

afterAll(() => {
  upstream?.stop();
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** The fixture with the values a test machine needs, each replaced exactly once. */
function configFor(port: number, extra: [string, string][] = []): string {
  let text = FIXTURE;
  const swaps: [string, string][] = [
    ["[http]\nhost = \"127.0.0.1\"\nport = 25222", `[http]\nhost = "127.0.0.1"\nport = ${port}`],
    // No HTTPS listener, and none on every interface.
    ["[https]\nhost = \"0.0.0.0\"\nport = 25223", "[https]\nhost = \"127.0.0.1\"\nport = -1"],
    ['default_domain = "localhost"', 'default_domain = "apps.test"'],
    ["proxy.max_idle_conns = 250", "proxy.max_idle_conns = 1"],
    ...extra,
  ];
  for (const [from, to] of swaps) {
    expect(text.split(from).length).toBe(2);
    text = text.replace(from, to);
  }
  return text;
}

describe("server start with $CL_HOME/clace.toml", () => {
  test("reads it by default, warns per unapplied Clace key, and applies [http] port, default_domain and proxy.max_idle_conns", async () => {
    const home = tempHome();
    cleanup.push(home);
    const file = join(home, "clace.toml");
    const port = freePort();
    writeFileSync(file, configFor(port));
    upstream = startCountingUpstream();
    const env = { CL_HOME: home, CL_CONFIG_FILE: "" };
    const server = new CliProcess(["server", "start"], env);
    try {
      const [, listened] = await server.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)\//);
      expect(Number(listened)).toBe(port);
      const out = server.stdout + server.stderr;
      expect(out).toContain(`config: ${file} (from CL_HOME)`);
      const printed = out.split("\n").filter((l) => l.includes("ignored Clace key"));
      const expected = loadServerConfig({ home, env: {} }).warnings;
      expect(expected.length).toBeGreaterThan(20);
      expect(printed).toEqual(expected.map((w) => `warning: ${w}`));
      expect(out).not.toContain("error:");

      const created = await runCli(["app", "create", "--spec", "proxy", "--approve", "--param", `url=${upstream.url}`, "-", "/p"], env);
      expect(created.code).toBe(0);
      const listed = JSON.parse((await runCli(["app", "list", "--json"], env)).stdout) as { url: string }[];
      expect(listed[0]!.url).toBe(`http://apps.test:${port}/p/`);

      // Six requests at once open six connections to the app; one stays open afterwards (the default keeps 1,024).
      upstream.hold = 6;
      const answers = await Promise.all(Array.from({ length: 6 }, () => fetch(`http://127.0.0.1:${port}/p/`).then((r) => r.text())));
      expect(answers).toEqual(Array(6).fill("ok\n"));
      expect(upstream.accepted).toBe(6);
      const deadline = Date.now() + 5000;
      while (upstream.open !== 1 && Date.now() < deadline) await Bun.sleep(20);
      expect(upstream.open).toBe(1);
      await Bun.sleep(300);
      expect(upstream.open).toBe(1);
    } finally {
      await server.stop();
    }
  }, 60_000);

  test("a typo in it stops the start with file:line:col and the likely key", async () => {
    const home = tempHome();
    cleanup.push(home);
    const file = join(home, "clace.toml");
    const text = configFor(freePort(), [["access_logging = true", "acess_logging = true"]]);
    writeFileSync(file, text);
    const line = text.split("\n").findIndex((l) => l.startsWith("acess_logging")) + 1;
    const result = await runCli(["server", "start"], { CL_HOME: home, CL_CONFIG_FILE: "" }, 30_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`error: ${file}:${line}:1: unknown key "acess_logging" in [logging]`);
    expect(result.stderr).toContain('(did you mean "access_logging"?)');
    expect(result.stdout + result.stderr).not.toContain("listening on");
  }, 40_000);
});
