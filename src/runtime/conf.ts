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

/** Proxy keys: how the proxy treats this app's exchanges. */
const PROXY_KEYS: Readonly<Record<string, { field: keyof ProxySettings; min: number }>> = {
  "proxy.response_header_timeout_secs": { field: "responseHeaderTimeoutSecs", min: 1 },
};

/** Per-app proxy settings; unset fields take the server's defaults. */
export interface ProxySettings {
  /** Seconds the app may take to send its answer head before the client gets 504. */
  responseHeaderTimeoutSecs?: number;
}

export const CONF_KEYS: readonly string[] = ["container.health_url", ...Object.keys(NUMBER_KEYS), ...Object.keys(PROXY_KEYS)];

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
    if (PROXY_KEYS[key] !== undefined) continue;
    const known = NUMBER_KEYS[key];
    if (!known) {
      throw new RuntimeError("conf", `unknown app config key ${JSON.stringify(key)}`, `--conf ${key}`, `use one of: ${CONF_KEYS.join(", ")}`);
    }
    settings[known.field] = wholeNumber(key, raw, known.min, DEFAULT_CONTAINER_SETTINGS[known.field]);
  }
  return Object.freeze(settings);
}

export function proxySettingsFromConf(conf: Readonly<Record<string, string>>): ProxySettings {
  const settings: ProxySettings = {};
  for (const [key, raw] of Object.entries(conf)) {
    const known = PROXY_KEYS[key];
    if (known !== undefined) settings[known.field] = wholeNumber(key, raw, known.min, 60);
  }
  return Object.freeze(settings);
}

function wholeNumber(key: string, raw: string, min: number, example: number): number {
  const text = unquote(raw);
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new RuntimeError(
      "conf",
      `invalid value ${JSON.stringify(raw)} for ${key}: expected a whole number${min > 0 ? ` >= ${min}` : ""}`,
      `--conf ${key}`,
      `for example --conf ${key}=${example}`,
    );
  }
  return Number(text);
}
