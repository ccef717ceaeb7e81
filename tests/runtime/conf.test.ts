import { describe, expect, test } from "bun:test";
import { DEFAULT_CONTAINER_SETTINGS } from "../../src/containers/spec.ts";
import { CONF_KEYS, containerSettingsFromConf } from "../../src/runtime/conf.ts";

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
      for (const k of CONF_KEYS) expect((e as { fix: string }).fix).toContain(k);
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
