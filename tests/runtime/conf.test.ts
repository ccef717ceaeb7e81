import { describe, expect, test } from "bun:test";
import { DEFAULT_CONTAINER_SETTINGS } from "../../src/containers/spec.ts";
import { ACCEPTED_CONF_KEYS, CONF_KEYS, containerSettingsFromConf } from "../../src/runtime/conf.ts";

describe("--conf app-config keys", () => {
  test("no keys gives Clace's defaults", () => {
    expect(containerSettingsFromConf({})).toEqual(DEFAULT_CONTAINER_SETTINGS);
  });

  test("every Clace container key maps onto the settings", () => {
    const s = containerSettingsFromConf({
      "container.health_url": '"/healthz"',
      "container.health_attempts_after_startup": "10",
      "container.health_timeout_secs": "2",
      "container.idle_shutdown_secs": "600",
      "container.status_check_interval_secs": "0",
      "container.status_health_attempts": "4",
    });
    expect(s).toMatchObject({
      healthUrl: "/healthz",
      healthAttemptsAfterStartup: 10,
      healthTimeoutSecs: 2,
      idleShutdownSecs: 600,
      statusCheckIntervalSecs: 0,
      statusHealthAttempts: 4,
    });
    expect(containerSettingsFromConf({ "container.health_url": "ping" }).healthUrl).toBe("/ping");
  });

  test("an unknown key is an error naming the known ones", () => {
    expect(() => containerSettingsFromConf({ "container.idle_secs": "1" })).toThrow('unknown app config key "container.idle_secs"');
    try {
      containerSettingsFromConf({ "container.idle_secs": "1" });
    } catch (e) {
      for (const k of ACCEPTED_CONF_KEYS) expect((e as { fix: string }).fix).toContain(k);
    }
  });

  test("a bad number names the key and an example", () => {
    expect(() => containerSettingsFromConf({ "container.idle_shutdown_secs": "soon" })).toThrow(
      'invalid value "soon" for container.idle_shutdown_secs: expected a whole number',
    );
    expect(() => containerSettingsFromConf({ "container.health_attempts_after_startup": "0" })).toThrow(">= 1");
  });
});

describe("proxy.* app-config keys", () => {
  test("proxy.response_header_timeout_secs is read as a whole number; bad values name the key and the fix", async () => {
    const { proxySettingsFromConf } = await import("../../src/runtime/conf.ts");
    expect(proxySettingsFromConf({ "proxy.response_header_timeout_secs": "5" })).toEqual({ responseHeaderTimeoutSecs: 5 });
    expect(proxySettingsFromConf({})).toEqual({});
    // A proxy key is not an unknown container key.
    expect(() => containerSettingsFromConf({ "proxy.response_header_timeout_secs": "5" })).not.toThrow();
    expect(() => proxySettingsFromConf({ "proxy.response_header_timeout_secs": "0" })).toThrow(/proxy\.response_header_timeout_secs.*>= 1/);
    expect(CONF_KEYS).toContain("proxy.response_header_timeout_secs");
  });
});

describe("Clace's other app-config keys", () => {
  test("proxy.max_idle_conns and idle_conn_timeout_secs set the app's pool; disable_compression=true is what the proxy does", async () => {
    const { confWarnings, proxySettingsFromConf } = await import("../../src/runtime/conf.ts");
    const conf = { "proxy.max_idle_conns": "250", "proxy.idle_conn_timeout_secs": '"15"', "proxy.disable_compression": "true" };
    expect(() => containerSettingsFromConf(conf)).not.toThrow();
    expect(proxySettingsFromConf(conf)).toEqual({ maxIdleConns: 250, idleConnTimeoutSecs: 15 });
    // 0 is accepted as Clace accepts it (Go's defaults: two idle connections; no idle timeout).
    expect(proxySettingsFromConf({ "proxy.max_idle_conns": "0", "proxy.idle_conn_timeout_secs": "0" })).toEqual({ maxIdleConns: 0, idleConnTimeoutSecs: 0 });
    expect(confWarnings(conf)).toEqual([]);
    // false asks the proxy to request gzip itself, which it does not do (clients get the same answers either way).
    expect(confWarnings({ "proxy.disable_compression": "false" })).toEqual([
      "--conf proxy.disable_compression=false has no effect: the proxy never asks apps for gzip on its own (the client's Accept-Encoding passes as sent; clients get the same answers either way)",
    ]);
    expect(() => proxySettingsFromConf({ "proxy.max_idle_conns": "many" })).toThrow('invalid value "many" for proxy.max_idle_conns: expected a whole number');
    expect(() => confWarnings({ "proxy.disable_compression": "yes" })).toThrow('invalid value "yes" for proxy.disable_compression: expected true or false');
    for (const k of Object.keys(conf)) expect(ACCEPTED_CONF_KEYS).toContain(k);
  });

  test("Clace's keys without an effect here (cors.*, fs.*, audit.*) are accepted with a warning; their booleans are checked", async () => {
    const { confWarnings } = await import("../../src/runtime/conf.ts");
    const conf = { "cors.allow_origin": '"*"', "audit.redact_url": "false", "security.default_secrets_provider": "env" };
    expect(() => containerSettingsFromConf(conf)).not.toThrow();
    expect(confWarnings(conf)).toEqual([
      "--conf cors.allow_origin=* has no effect: the proxy adds no CORS headers; answers carry the app's own",
      "--conf audit.redact_url=false has no effect: there is no audit event store (the access log records each request)",
    ]);
    expect(() => confWarnings({ "audit.skip_http_events": "often" })).toThrow("expected true or false");
    expect(CONF_KEYS).not.toContain("cors.allow_origin");
  });

  test("container.idle_shutdown_dev_apps is a boolean, false by default", () => {
    expect(DEFAULT_CONTAINER_SETTINGS.idleShutdownDevApps).toBe(false);
    expect(containerSettingsFromConf({ "container.idle_shutdown_dev_apps": "true" }).idleShutdownDevApps).toBe(true);
    expect(containerSettingsFromConf({ "container.idle_shutdown_dev_apps": '"false"' }).idleShutdownDevApps).toBe(false);
    expect(() => containerSettingsFromConf({ "container.idle_shutdown_dev_apps": "2" })).toThrow("expected true or false");
  });

  test("a dev app is not idle-stopped unless container.idle_shutdown_dev_apps is set; warnings reach the config", async () => {
    const { loadApp } = await import("../../src/runtime/loader.ts");
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "clace-lite-conf-"));
    try {
      writeFileSync(join(dir, "Containerfile"), "FROM scratch\nEXPOSE 8080\n");
      writeFileSync(
        join(dir, "app.star"),
        'load("proxy.in", "proxy")\nload("container.in", "container")\napp = ace.app("a", routes=[ace.proxy("/", proxy.config(container.URL))], container=container.config(container.AUTO),\n  permissions=[ace.permission("proxy.in", "config", [container.URL]), ace.permission("container.in", "config", [container.AUTO])])\n',
      );
      const idle = (dev: boolean, conf: Record<string, string> = {}) => loadApp({ source: dir, dev, conf, approved: "all-audited" }).container!.settings.idleShutdownSecs;
      expect(idle(false)).toBe(180);
      expect(idle(true)).toBe(0);
      expect(idle(true, { "container.idle_shutdown_dev_apps": "true" })).toBe(180);
      expect(idle(true, { "container.idle_shutdown_dev_apps": "true", "container.idle_shutdown_secs": "60" })).toBe(60);
      const cfg = loadApp({ source: dir, conf: { "proxy.max_idle_conns": "10", "cors.max_age": "60" }, approved: "all-audited" });
      expect(cfg.proxy.maxIdleConns).toBe(10);
      expect(cfg.warnings).toEqual(["--conf cors.max_age=60 has no effect: the proxy adds no CORS headers; answers carry the app's own"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
