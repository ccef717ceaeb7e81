/** `[metadata] db`: read from the config file; a registry the server cannot use stops `server start` with the reason. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SERVER_CONFIG, parseServerConfig } from "../../src/server/config.ts";
import { freePort } from "../fixtures/registry.ts";
import { runCli } from "./helpers.ts";

test("[metadata] db is read from the file; a registry the server cannot use stops server start with the reason", async () => {
  expect(DEFAULT_SERVER_CONFIG.metadata).toEqual({ db: "" });
  expect(() => parseServerConfig(`[metadata]\ndb = "mysql://u:pw@127.0.0.1/x"\n`, "s.toml", "/h")).toThrow(
    /^s\.toml:2:1: \[metadata\] db must be a postgres:\/\/ URL, or "" for SQLite under CL_HOME/,
  );
  // Clace's own key names a PostgreSQL registry too; its sqlite: file is reported, not used.
  expect(parseServerConfig(`[metadata]\ndb_connection = "postgres://u@127.0.0.1/x"\n`, "s.toml", "/h").config.metadata.db).toBe("postgres://u@127.0.0.1/x");
  const sqlite = parseServerConfig(`[metadata]\ndb_connection = "sqlite:$CL_HOME/clace_metadata.db"\n`, "s.toml", "/h");
  expect(sqlite.config.metadata.db).toBe("");
  expect(sqlite.warnings).toEqual([expect.stringMatching(/^s\.toml:2: ignored Clace key \[metadata\] db_connection: /)]);

  const closed = await freePort();
  const db = `postgres://u:pw@127.0.0.1:${closed}/x`;
  const dir = mkdtempSync(join(tmpdir(), "clace-lite-conf-"));
  try {
    const file = join(dir, "clace-lite.toml");
    writeFileSync(file, `[metadata]\ndb = "${db}"\n`);
    const result = await runCli(["server", "start", "--port", "0", "--https-port", "off", "--config", file], { CL_HOME: join(dir, "home") }, 60_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(new RegExp(`cannot use the registry at postgres://u:\\*\\*\\*@127.0.0.1:${closed}/x: .*; check \\[metadata\\] db in .*clace-lite.toml`));
    expect(result.stderr).not.toContain(":pw@");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
