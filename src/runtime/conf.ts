/**
 * Per-app config keys (`--conf key=value`, Clace's app-config), parsed onto ContainerSettings defaults. Values are
 * written TOML-style in Clace, so a string may come quoted ("\"/health\"") or bare; numbers are integers.
 */
import { DEFAULT_CONTAINER_SETTINGS, type ContainerSettings } from "../containers/index.ts";
import { RuntimeError } from "./errors.ts";

type NumberKey = Exclude<keyof ContainerSettings, "healthUrl" | "idleShutdownDevApps">;

/** Conf key → settings field; the two last keys are clace-lite additions. */
const NUMBER_KEYS: Readonly<Record<string, { field: NumberKey; min: number }>> = {
  "container.health_attempts_after_startup": { field: "healthAttemptsAfterStartup", min: 1 },
  "container.health_timeout_secs": { field: "healthTimeoutSecs", min: 1 },
  "container.idle_shutdown_secs": { field: "idleShutdownSecs", min: 0 },
  "container.idle_pause_secs": { field: "idlePauseSecs", min: 0 },
  "container.status_check_interval_secs": { field: "statusCheckIntervalSecs", min: 0 },
  "container.status_health_attempts": { field: "statusHealthAttempts", min: 1 },
  "container.start_timeout_secs": { field: "startTimeoutSecs", min: 1 },
  "container.max_waiting_requests": { field: "maxWaitingRequests", min: 1 },
};

/** Proxy keys: how the proxy treats this app's exchanges. */
const PROXY_KEYS: Readonly<Record<string, { field: keyof ProxySettings; min: number }>> = {
  "proxy.response_header_timeout_secs": { field: "responseHeaderTimeoutSecs", min: 1 },
};

/**
 * Clace's proxy transport keys, accepted and checked so that Clace configs load, but without effect: the proxy keeps
 * up to 1,024 idle connections per app for up to 30 s, and never asks an app for compression itself (the client's
 * Accept-Encoding passes through, which is what Clace's default disable_compression=true gives). Each one set is
 * reported as a warning; disable_compression=true is what the proxy does, so it is not.
 */
const INERT_PROXY_KEYS: Readonly<Record<string, { kind: "number" | "boolean"; example: string; effect: string }>> = {
  "proxy.max_idle_conns": { kind: "number", example: "250", effect: "the proxy keeps up to 1,024 idle connections per app" },
  "proxy.idle_conn_timeout_secs": { kind: "number", example: "15", effect: "the proxy closes an idle app connection after 30 s" },
  "proxy.disable_compression": { kind: "boolean", example: "true", effect: "the proxy never asks apps for compression; the client's Accept-Encoding passes through" },
};

/** Per-app proxy settings; unset fields take the server's defaults. */
export interface ProxySettings {
  /** Seconds the app may take to send its answer head before the client gets 504. */
  responseHeaderTimeoutSecs?: number;
}

const BOOLEAN_KEYS: Readonly<Record<string, "idleShutdownDevApps">> = {
  // Clace's: dev apps are never idle-stopped unless this is true.
  "container.idle_shutdown_dev_apps": "idleShutdownDevApps",
};

export const CONF_KEYS: readonly string[] = [
  "container.health_url",
  ...Object.keys(NUMBER_KEYS),
  ...Object.keys(BOOLEAN_KEYS),
  ...Object.keys(PROXY_KEYS),
  ...Object.keys(INERT_PROXY_KEYS),
];

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
    if (PROXY_KEYS[key] !== undefined || INERT_PROXY_KEYS[key] !== undefined) continue;
    const flag = BOOLEAN_KEYS[key];
    if (flag !== undefined) {
      settings[flag] = booleanValue(key, raw);
      continue;
    }
    const known = NUMBER_KEYS[key];
    if (!known) {
      throw new RuntimeError("conf", `unknown app config key ${JSON.stringify(key)}`, `--conf ${key}`, `use one of: ${CONF_KEYS.join(", ")}`);
    }
    settings[known.field] = wholeNumber(key, raw, known.min, DEFAULT_CONTAINER_SETTINGS[known.field]);
  }
  return Object.freeze(settings);
}

/** Warnings for conf keys that are accepted (and valid) but change nothing yet; throws on an invalid value. */
export function confWarnings(conf: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [key, raw] of Object.entries(conf)) {
    const inert = INERT_PROXY_KEYS[key];
    if (inert === undefined) continue;
    const value = inert.kind === "boolean" ? booleanValue(key, raw) : wholeNumber(key, raw, 0, Number(inert.example));
    if (key === "proxy.disable_compression" && value === true) continue;
    out.push(`--conf ${key}=${unquote(raw)} has no effect: ${inert.effect}`);
  }
  return out;
}

function booleanValue(key: string, raw: string): boolean {
  const text = unquote(raw).toLowerCase();
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw new RuntimeError("conf", `invalid value ${JSON.stringify(raw)} for ${key}: expected true or false`, `--conf ${key}`, `for example --conf ${key}=true`);
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
