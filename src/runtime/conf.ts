/**
 * Per-app config keys (`--conf key=value`, Clace's app-config), parsed onto ContainerSettings defaults. Values are
 * written TOML-style in Clace, so a string may come quoted ("\"/health\"") or bare; numbers are integers.
 */
import { DEFAULT_CONTAINER_SETTINGS, type ContainerSettings } from "../containers/spec.ts";
import { RuntimeError } from "./errors.ts";

type NumberKey = Exclude<keyof ContainerSettings, "healthUrl">;

/** Conf key → settings field; the two last keys are clace-lite additions. */
const NUMBER_KEYS: Readonly<Record<string, { field: NumberKey; min: number }>> = {
  "container.health_attempts_after_startup": { field: "healthAttemptsAfterStartup", min: 1 },
  "container.health_timeout_secs": { field: "healthTimeoutSecs", min: 1 },
  "container.idle_shutdown_secs": { field: "idleShutdownSecs", min: 0 },
  "container.status_check_interval_secs": { field: "statusCheckIntervalSecs", min: 0 },
  "container.status_health_attempts": { field: "statusHealthAttempts", min: 1 },
  "container.start_timeout_secs": { field: "startTimeoutSecs", min: 1 },
  "container.max_waiting_requests": { field: "maxWaitingRequests", min: 1 },
};

export const CONF_KEYS: readonly string[] = ["container.health_url", ...Object.keys(NUMBER_KEYS)];

function unquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'")))) {
    return t.slice(1, -1);
  }
  return t;
}

export function containerSettingsFromConf(conf: Readonly<Record<string, string>>): ContainerSettings {
  const settings: ContainerSettings = { ...DEFAULT_CONTAINER_SETTINGS };
  for (const [key, raw] of Object.entries(conf)) {
    if (key === "container.health_url") {
      const url = unquote(raw);
      settings.healthUrl = url.startsWith("/") ? url : `/${url}`;
      continue;
    }
    const known = NUMBER_KEYS[key];
    if (!known) {
      throw new RuntimeError("conf", `unknown app config key ${JSON.stringify(key)}`, `--conf ${key}`, `use one of: ${CONF_KEYS.join(", ")}`);
    }
    const text = unquote(raw);
    if (!/^\d+$/.test(text) || Number(text) < known.min || !Number.isSafeInteger(Number(text))) {
      throw new RuntimeError(
        "conf",
        `invalid value ${JSON.stringify(raw)} for ${key}: expected a whole number${known.min > 0 ? ` >= ${known.min}` : ""}`,
        `--conf ${key}`,
        `for example --conf ${key}=${DEFAULT_CONTAINER_SETTINGS[known.field]}`,
      );
    }
    settings[known.field] = Number(text);
  }
  return Object.freeze(settings);
}
