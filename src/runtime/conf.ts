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

/** Proxy keys: how the proxy treats this app's exchanges and its connections to the app. */
const PROXY_KEYS: Readonly<Record<string, { field: keyof ProxySettings; min: number; example: number }>> = {
  "proxy.response_header_timeout_secs": { field: "responseHeaderTimeoutSecs", min: 1, example: 60 },
  // Clace's transport settings, per app: idle connections kept to the app, and how long one may stay idle.
  "proxy.max_idle_conns": { field: "maxIdleConns", min: 0, example: 250 },
  "proxy.idle_conn_timeout_secs": { field: "idleConnTimeoutSecs", min: 0, example: 15 },
};

/** Per-app proxy settings; unset fields take the server's defaults. */
export interface ProxySettings {
  /** Seconds the app may take to send its answer head before the client gets 504. */
  responseHeaderTimeoutSecs?: number;
  /** Idle connections kept open to the app (per upstream address); 0 keeps Go's default of 2, as Clace does. */
  maxIdleConns?: number;
  /** Seconds an idle connection to the app stays open; 0: until the app closes it. */
  idleConnTimeoutSecs?: number;
}

/**
 * Clace's app-config keys that clace-lite accepts, checks and reports, but that change nothing here, with the
 * reason. `same` is true for values that ask for what clace-lite does anyway (no report then).
 */
const NOT_APPLIED_KEYS: Readonly<Record<string, { kind: "string" | "boolean" | "list"; why: string; same?: (value: string) => boolean }>> = {
  // Go's transport asks for gzip only when the client did not, and unpacks the answer again before the client sees
  // it: the client gets the same bytes either way. clace-lite passes the client's Accept-Encoding as it came.
  "proxy.disable_compression": {
    kind: "boolean",
    why: "the proxy never asks apps for gzip on its own (the client's Accept-Encoding passes as sent; clients get the same answers either way)",
    same: (v) => v === "true",
  },
  "cors.allow_origin": { kind: "string", why: "the proxy adds no CORS headers; answers carry the app's own" },
  "cors.allow_methods": { kind: "string", why: "the proxy adds no CORS headers; answers carry the app's own" },
  "cors.allow_headers": { kind: "string", why: "the proxy adds no CORS headers; answers carry the app's own" },
  "cors.allow_credentials": { kind: "string", why: "the proxy adds no CORS headers; answers carry the app's own" },
  "cors.max_age": { kind: "string", why: "the proxy adds no CORS headers; answers carry the app's own" },
  "fs.file_access": { kind: "list", why: "there is no fs.in plugin" },
  "audit.redact_url": { kind: "boolean", why: "there is no audit event store (the access log records each request)" },
  "audit.skip_http_events": { kind: "boolean", why: "there is no audit event store (the access log records each request)" },
  "security.default_secrets_provider": {
    kind: "string",
    why: "the default secret provider is env ({{ secret_from \"prop\" ... }} names another)",
    same: (v) => v === "" || v === "env",
  },
  star_base: { kind: "string", why: "app.star is read from the app source's root" },
};

const BOOLEAN_KEYS: Readonly<Record<string, "idleShutdownDevApps">> = {
  // Clace's: dev apps are never idle-stopped unless this is true.
  "container.idle_shutdown_dev_apps": "idleShutdownDevApps",
};

/** The keys that take effect here. */
export const CONF_KEYS: readonly string[] = [
  "container.health_url",
  ...Object.keys(NUMBER_KEYS),
  ...Object.keys(BOOLEAN_KEYS),
  ...Object.keys(PROXY_KEYS),
];

/** Every key accepted: those that take effect and Clace's that are reported instead. */
export const ACCEPTED_CONF_KEYS: readonly string[] = [...CONF_KEYS, ...Object.keys(NOT_APPLIED_KEYS)];

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
    if (PROXY_KEYS[key] !== undefined || NOT_APPLIED_KEYS[key] !== undefined) continue;
    const flag = BOOLEAN_KEYS[key];
    if (flag !== undefined) {
      settings[flag] = booleanValue(key, raw);
      continue;
    }
    const known = NUMBER_KEYS[key];
    if (!known) {
      throw new RuntimeError("conf", `unknown app config key ${JSON.stringify(key)}`, `--conf ${key}`, `use one of: ${ACCEPTED_CONF_KEYS.join(", ")}`);
    }
    settings[known.field] = wholeNumber(key, raw, known.min, DEFAULT_CONTAINER_SETTINGS[known.field]);
  }
  return Object.freeze(settings);
}

/** Warnings for conf keys that are accepted (and valid) but change nothing here; throws on an invalid value. */
export function confWarnings(conf: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [key, raw] of Object.entries(conf)) {
    const why = confKeyNotApplied(key, raw);
    if (why !== undefined) out.push(`--conf ${key}=${unquote(raw)} has no effect: ${why}`);
  }
  return out;
}

/**
 * Checks one key and value as every app would read them (throws a RuntimeError naming the key and what was
 * expected), and says why the value changes nothing here, when it does not.
 */
export function confKeyNotApplied(key: string, raw: string): string | undefined {
  const other = NOT_APPLIED_KEYS[key];
  if (other === undefined) {
    containerSettingsFromConf({ [key]: raw });
    proxySettingsFromConf({ [key]: raw });
    return undefined;
  }
  const value = other.kind === "boolean" ? String(booleanValue(key, raw)) : unquote(raw);
  return other.same?.(value) ? undefined : other.why;
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
    if (known !== undefined) settings[known.field] = wholeNumber(key, raw, known.min, known.example);
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
