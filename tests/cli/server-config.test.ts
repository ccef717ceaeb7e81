import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkAppConfigKeys, readServerConfig as readFile } from "../../src/cli/server.ts";
import { CONF_KEYS } from "../../src/runtime/index.ts";
import { freePort } from "../fixtures/registry.ts";
import { runCli } from "./helpers.ts";

function readServerConfig(file: string | undefined) {
  const config = readFile(file);
  checkAppConfigKeys(config, CONF_KEYS, file);
  return config;
}

function withConfig(text: string, check: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "clace-lite-conf-"));
  try {
    const file = join(dir, "clace-lite.toml");
    writeFileSync(file, text);
    check(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("server config file", () => {
  test("defaults without a file; values from the file override them", () => {
    expect(readServerConfig(undefined).http).toEqual({ host: "127.0.0.1", port: 25222, read_header_timeout_secs: 30 });
    withConfig(`[http]\nport = 8000\nread_header_timeout_secs = 5\n[system]\ndefault_domain = "example.test"\n[app_config]\n"container.idle_shutdown_secs" = 60\n`, (file) => {
      const config = readServerConfig(file);
      expect(config.http).toEqual({ host: "127.0.0.1", port: 8000, read_header_timeout_secs: 5 });
      expect(config.system.default_domain).toBe("example.test");
      expect(config.app_config).toEqual({ "container.idle_shutdown_secs": "60" });
    });
  });

  test("unknown sections and keys, wrong types and bad TOML name the problem", () => {
    withConfig(`[htp]\nport = 1\n`, (file) => expect(() => readServerConfig(file)).toThrow(/unknown section \[htp\]; known: http, https, system, app_config/));
    withConfig(`[http]\nprot = 1\n`, (file) => expect(() => readServerConfig(file)).toThrow(/unknown key "prot" in \[http\]/));
    withConfig(`[http]\nport = "x"\n`, (file) => expect(() => readServerConfig(file)).toThrow(/\[http\] port must be a number/));
    withConfig(`[app_config]\n"container.idle" = 1\n`, (file) => expect(() => readServerConfig(file)).toThrow(/unknown app_config key "container.idle"/));
    withConfig(`[http\n`, (file) => expect(() => readServerConfig(file)).toThrow(/cannot read config/));
  });

  test("[metadata] db is read from the file; a registry the server cannot use stops server start with the reason", async () => {
    expect(readServerConfig(undefined).metadata).toEqual({ db: "" });
    const closed = await freePort();
    for (const [db, expected] of [
      ["mysql://u:pw@127.0.0.1/x", /unsupported registry "mysql:\/\/u:\*\*\*@127.0.0.1\/x".*; check \[metadata\] db in .*clace-lite.toml/],
      [`postgres://u:pw@127.0.0.1:${closed}/x`, new RegExp(`cannot use the registry at postgres://u:\\*\\*\\*@127.0.0.1:${closed}/x: .*; check \\[metadata\\] db in`)],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), "clace-lite-conf-"));
      try {
        const file = join(dir, "clace-lite.toml");
        writeFileSync(file, `[metadata]\ndb = "${db}"\n`);
        expect(readServerConfig(file).metadata.db).toBe(db);
        const result = await runCli(["server", "start", "--port", "0", "--https-port", "off", "--config", file], { CL_HOME: join(dir, "home") }, 60_000);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toMatch(expected);
        expect(result.stderr).not.toContain(":pw@");
        expect(result.stderr).not.toMatch(/^\s+at /m);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 120_000);
});
