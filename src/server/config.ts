/**
 * The server's TOML config, found as Clace finds its own: the file named by `--config` or CL_CONFIG_FILE, else
 * $CL_HOME/clace.toml when there is one, else the defaults. Every key of Clace's server config is accepted: the
 * ones that mean something here are applied, the others are reported one line each with the reason (so a Clace
 * config loads as it is). A key that is neither clace-lite's nor Clace's, a value of the wrong type and invalid TOML
 * are errors naming file:line:col — a typo must not pass silently.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ACCEPTED_CONF_KEYS, confKeyNotApplied, RuntimeError } from "../runtime/index.ts";
import { nearest } from "../starlark/index.ts";
import { readToml, siteOf, TomlSyntaxError, type TomlDocument } from "./toml.ts";

export interface ServerConfig {
  http: { host: string; port: number; read_header_timeout_secs: number };
  /** `host` "" listens where HTTP does; `port` -1 turns HTTPS off. */
  https: { host: string; port: number; cert_file: string; key_file: string };
  system: { default_domain: string };
  /** access_logging=false: no CL_HOME/logs/access.log. */
  logging: { access_logging: boolean };
  /** Defaults of the app-config keys for every app (strings, as `--conf` gives them); an app's own --conf wins. */
  app_config: Record<string, string>;
  /** Budgets of evaluating app configs (0 = the default: 10 s, 512 MB). */
  eval: { timeout_secs: number; memory_mb: number };
  /**
   * Where apps run: "docker" (containers on the engine next to the server) or "swarm" (a Swarm service per app on
   * the manager the engine is); `registry` ("host:port") is where the swarm backend pushes built images.
   */
  container: { backend: string; registry: string };
  /** The app registry: "" for SQLite under CL_HOME, or a postgres:// URL that several servers share. */
  metadata: { db: string };
}

export const DEFAULT_SERVER_CONFIG: Readonly<ServerConfig> = Object.freeze({
  http: { host: "127.0.0.1", port: 25222, read_header_timeout_secs: 30 },
  // As Clace: HTTPS beside HTTP, with a self-signed localhost certificate unless files are named. -1 turns it off.
  https: { host: "", port: 25223, cert_file: "", key_file: "" },
  system: { default_domain: "localhost" },
  logging: { access_logging: true },
  app_config: {},
  eval: { timeout_secs: 0, memory_mb: 0 },
  container: { backend: "docker", registry: "" },
  metadata: { db: "" },
});

const CONTAINER_BACKENDS = ["docker", "swarm"];

const isPostgresUrl = (v: string) => /^postgres(ql)?:\/\//.test(v);

/** The config in force and where it came from. */
export interface LoadedServerConfig {
  config: ServerConfig;
  /** The file read; undefined when none was (the defaults). */
  file: string | undefined;
  /** Why that file: "--config", "CL_CONFIG_FILE" or "CL_HOME". */
  origin: "--config" | "CL_CONFIG_FILE" | "CL_HOME" | undefined;
  /** One line per Clace key that is accepted but changes nothing here. */
  warnings: string[];
}

/** A config that cannot be used: what is wrong and where (file:line:col). */
export class ServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServerConfigError";
  }

  render(): string {
    return `error: ${this.message}`;
  }
}

/** The config file's name in CL_HOME, as Clace names it. */
export const HOME_CONFIG_NAME = "clace.toml";

/** Finds and reads the config: `flag` (--config), else CL_CONFIG_FILE, else $CL_HOME/clace.toml if it exists. */
export function loadServerConfig(opts: { flag?: string; env?: Record<string, string | undefined>; home: string }): LoadedServerConfig {
  const env = opts.env ?? process.env;
  let file: string | undefined;
  let origin: LoadedServerConfig["origin"];
  if (opts.flag) [file, origin] = [opts.flag, "--config"];
  else if (env.CL_CONFIG_FILE) [file, origin] = [env.CL_CONFIG_FILE, "CL_CONFIG_FILE"];
  else if (existsSync(join(opts.home, HOME_CONFIG_NAME))) [file, origin] = [join(opts.home, HOME_CONFIG_NAME), "CL_HOME"];
  if (file === undefined) return { config: structuredClone(DEFAULT_SERVER_CONFIG) as ServerConfig, file, origin, warnings: [] };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new ServerConfigError(`cannot read config ${file} (named by ${origin}): ${why}`);
  }
  return { ...parseServerConfig(text, file, opts.home), file, origin };
}

/** One line for the server's start: which config is in force. */
export function describeConfigSource(loaded: LoadedServerConfig): string {
  if (loaded.file === undefined) return `config: none (no --config, CL_CONFIG_FILE or CL_HOME/${HOME_CONFIG_NAME}); defaults in force`;
  return `config: ${resolve(loaded.file)} (from ${loaded.origin})`;
}

// ---- the keys ----

type Kind = "string" | "integer" | "boolean" | "strings" | "any";

interface KeyRule {
  kind: Kind;
  /** Applied here: where the value goes; a returned text is why the value itself is not applied (a warning). */
  apply?: (config: ServerConfig, value: unknown) => string | void;
  /** Checks an applied value beyond its kind; returns what was expected when it is wrong. */
  check?: (value: never) => string | undefined;
  /** Clace's key, not applied: why (reported when set, unless `same` says the value is what clace-lite does). */
  why?: string;
  /** `home`: CL_HOME, for paths Clace writes as "$CL_HOME/...". */
  same?: (value: never, home: string) => boolean;
}

const applied = <S extends keyof ServerConfig, K extends string>(section: S, key: K) => (config: ServerConfig, value: unknown) => {
  (config[section] as unknown as Record<string, unknown>)[key] = value;
};
const port = (min: number) => (v: number) => (v >= min && v <= 65535 ? undefined : `an integer from ${min} to 65535`);
const atLeast = (min: number) => (v: number) => (v >= min ? undefined : `an integer >= ${min}`);
const empty = (v: string) => v === "";

const NO_ADMIN_TCP = "the admin API is only the unix socket $CL_HOME/run/admin.sock (no admin users or passwords)";
const NO_APP_AUTH = "apps are served without authentication (no sessions or login)";
const NO_AUTH_PROVIDERS = "there is no OAuth/OIDC app authentication";
const NO_LETS_ENCRYPT = "no Let's Encrypt certificates: HTTPS uses [https] cert_file/key_file or a self-signed certificate in $CL_HOME/config/certificates";
const NO_EVENTS = "there is no event store (the access log is $CL_HOME/logs/access.log)";

/** Keys outside any table. */
const TOP_KEYS: Record<string, KeyRule> = {
  server_uri: { kind: "string", why: NO_ADMIN_TCP },
  admin_user: { kind: "string", why: NO_ADMIN_TCP, same: (v: string) => v === "admin" || v === "" },
  config_file: { kind: "string", why: "name the config file with --config or CL_CONFIG_FILE" },
  profile_mode: { kind: "string", why: "there are no profiles" },
};

/** Tables with a fixed set of keys. */
const SECTIONS: Record<string, Record<string, KeyRule>> = {
  http: {
    host: { kind: "string", apply: applied("http", "host") },
    port: { kind: "integer", apply: applied("http", "port"), check: port(0) },
    redirect_to_https: { kind: "boolean", why: "HTTP requests are served, not redirected", same: (v: boolean) => !v },
    // clace-lite's: a request head must arrive whole within this (408 after).
    read_header_timeout_secs: { kind: "integer", apply: applied("http", "read_header_timeout_secs"), check: atLeast(1) },
  },
  https: {
    host: { kind: "string", apply: applied("https", "host") },
    port: { kind: "integer", apply: applied("https", "port"), check: (v: number) => (v === -1 || (v >= 0 && v <= 65535) ? undefined : "-1 (no HTTPS) or an integer from 0 to 65535") },
    enable_cert_lookup: { kind: "boolean", why: "certificates are not looked up by domain: HTTPS uses [https] cert_file/key_file or a self-signed certificate" },
    mkcert_path: { kind: "string", why: "certificates are not made with mkcert", same: empty },
    service_email: { kind: "string", why: NO_LETS_ENCRYPT, same: empty },
    use_staging: { kind: "boolean", why: NO_LETS_ENCRYPT },
    storage_location: { kind: "string", why: NO_LETS_ENCRYPT, same: empty },
    cert_location: {
      kind: "string",
      why: "the self-signed certificate is kept in $CL_HOME/config/certificates; name your own with [https] cert_file/key_file",
      same: (v: string, home: string) => v === "" || resolve(v.replaceAll("$CL_HOME", home)) === join(home, "config", "certificates"),
    },
    disable_client_certs: { kind: "boolean", why: "clients are not asked for certificates", same: (v: boolean) => v },
    // clace-lite's: a certificate chain and key (PEM) instead of the self-signed one.
    cert_file: { kind: "string", apply: applied("https", "cert_file") },
    key_file: { kind: "string", apply: applied("https", "key_file") },
  },
  security: {
    admin_over_tcp: { kind: "boolean", why: NO_ADMIN_TCP, same: (v: boolean) => !v },
    admin_password_bcrypt: { kind: "string", why: NO_ADMIN_TCP, same: empty },
    app_default_auth_type: { kind: "string", why: NO_APP_AUTH, same: (v: string) => v === "none" },
    app_default_secrets_provider: { kind: "string", why: "the default secret provider is env", same: (v: string) => v === "" || v === "env" },
    session_secret: { kind: "string", why: NO_APP_AUTH, same: empty },
    session_block_key: { kind: "string", why: NO_APP_AUTH, same: empty },
    session_max_age: { kind: "integer", why: NO_APP_AUTH },
    session_https_only: { kind: "boolean", why: NO_APP_AUTH },
    callback_url: { kind: "string", why: NO_AUTH_PROVIDERS, same: empty },
    default_git_auth: { kind: "string", why: "git sources are cloned with the credentials of the user running the server", same: empty },
    stage_enable_write_access: { kind: "boolean", why: "there are no stage apps" },
    preview_enable_write_access: { kind: "boolean", why: "there are no preview apps" },
  },
  metadata: {
    // clace-lite's: "" (SQLite under CL_HOME) or a postgres:// URL.
    db: { kind: "string", apply: applied("metadata", "db"), check: (v: string) => (v === "" || isPostgresUrl(v) ? undefined : 'a postgres:// URL, or "" for SQLite under CL_HOME') },
    // Clace's name for it: a PostgreSQL URL is used; Clace's sqlite: file is not (the registry's file is clace-lite's own).
    db_connection: {
      kind: "string",
      apply: (config, value) => {
        if (isPostgresUrl(value as string)) config.metadata.db = value as string;
        else return "the SQLite registry is $CL_HOME/clace-lite.db; a postgres:// URL here (or [metadata] db) is used";
      },
    },
    auto_upgrade: { kind: "boolean", why: "the registry is upgraded at start", same: (v: boolean) => v },
    audit_db_connection: { kind: "string", why: NO_EVENTS },
    ignore_higher_version: { kind: "boolean", why: "the registry is upgraded at start" },
  },
  logging: {
    level: { kind: "string", why: "the server prints progress, warnings and errors to its console; there are no levels" },
    max_backups: { kind: "integer", why: "the access log keeps three rotated files" },
    max_size_mb: { kind: "integer", why: "the access log rotates at 10 MB" },
    console: { kind: "boolean", why: "the server always logs to its console", same: (v: boolean) => v },
    file: { kind: "boolean", why: "the server's own log goes to its console (redirect it to keep a file)", same: (v: boolean) => !v },
    access_logging: { kind: "boolean", apply: applied("logging", "access_logging") },
  },
  system: {
    default_domain: { kind: "string", apply: applied("system", "default_domain") },
    tailwindcss_command: { kind: "string", why: "there are no Hypermedia apps to build styles for" },
    file_watcher_debounce_millis: { kind: "integer", why: "dev apps reload 300 ms after the last change", same: (v: number) => v === 300 },
    node_path: { kind: "string", why: "there are no Hypermedia apps to bundle", same: empty },
    container_command: {
      kind: "string",
      why: "the engine is the Docker API at DOCKER_HOST (point it at Podman's socket for Podman)",
      same: (v: string) => v === "auto" || v === "docker",
    },
    disable_unknown_domains: { kind: "boolean", why: "requests for unknown domains are served by the default domain's apps", same: (v: boolean) => !v },
    root_serve_list_apps: { kind: "string", why: "the app list is at /_clace_lite/" },
    enable_compression: { kind: "boolean", why: "answers pass as the app sent them (compressed only if the app compresses)", same: (v: boolean) => !v },
    http_event_retention_days: { kind: "integer", why: NO_EVENTS },
    non_http_event_retention_days: { kind: "integer", why: NO_EVENTS },
    allowed_env: { kind: "strings", why: "there is no node config" },
    default_schedule_mins: { kind: "integer", why: "there are no sync jobs" },
    max_sync_failure_count: { kind: "integer", why: "there are no sync jobs" },
  },
  client: {
    admin_password: { kind: "string", why: "client commands talk to the server over its unix socket", same: empty },
    skip_cert_check: { kind: "boolean", why: "client commands talk to the server over its unix socket" },
    default_format: { kind: "string", why: "client output is text, or JSON with --json" },
  },
  // clace-lite's.
  eval: {
    timeout_secs: { kind: "integer", apply: applied("eval", "timeout_secs"), check: atLeast(0) },
    memory_mb: { kind: "integer", apply: applied("eval", "memory_mb"), check: atLeast(0) },
  },
  // clace-lite's. The registry's syntax is checked where it is used (SwarmEngine.open).
  container: {
    backend: {
      kind: "string",
      apply: applied("container", "backend"),
      check: (v: string) => (CONTAINER_BACKENDS.includes(v) ? undefined : CONTAINER_BACKENDS.map((b) => `"${b}"`).join(" or ")),
    },
    registry: { kind: "string", apply: applied("container", "registry") },
  },
};

/** Tables of named entries ([git_auth.NAME]) with a fixed set of keys each. */
const NAMED_SECTIONS: Record<string, { why: string; keys: readonly string[]; kinds?: Record<string, Kind> }> = {
  git_auth: { why: "git sources are cloned with the credentials of the user running the server", keys: ["user_id", "key_file_path", "password"] },
  auth: { why: NO_AUTH_PROVIDERS, keys: ["key", "secret", "org_url", "domain", "discovery_url", "hosted_domain", "scopes"], kinds: { scopes: "strings" } },
  client_auth: { why: "clients are not asked for certificates", keys: ["ca_cert_file"] },
};

/** Tables whose keys are free-form in Clace too. */
const FREE_SECTIONS: Record<string, string> = {
  plugin: "the plugins (proxy.in, container.in) take no settings",
  secret: "the secret providers env and prop are built in (prop reads $CL_SECRETS_PROPERTIES, else $CL_HOME/config/secrets.properties)",
  node_config: "there is no node config",
};

const ALL_SECTIONS = [...Object.keys(SECTIONS), "app_config", ...Object.keys(NAMED_SECTIONS), ...Object.keys(FREE_SECTIONS)];

// ---- reading ----

/** Parses a config text; `file` names it in messages. */
export function parseServerConfig(text: string, file: string, home: string): { config: ServerConfig; warnings: string[] } {
  let doc: TomlDocument;
  try {
    doc = readToml(text);
  } catch (err) {
    if (err instanceof TomlSyntaxError) throw new ServerConfigError(`${file}:${err.line}:${err.col}: invalid TOML: ${err.reason}`);
    throw err;
  }
  return new Reader(file, doc, home).read(doc.value);
}

class Reader {
  readonly config = structuredClone(DEFAULT_SERVER_CONFIG) as ServerConfig;
  readonly warnings: string[] = [];

  constructor(
    private readonly file: string,
    private readonly layout: TomlDocument,
    private readonly home: string,
  ) {}

  read(parsed: Record<string, unknown>): { config: ServerConfig; warnings: string[] } {
    for (const [name, value] of Object.entries(parsed)) {
      if (!isTable(value)) {
        const rule = TOP_KEYS[name];
        if (rule === undefined) {
          const hint = ALL_SECTIONS.includes(name) ? ` (${name} is a table: write [${name}])` : didYouMean(name, Object.keys(TOP_KEYS));
          throw this.error([name], `unknown key "${name}" outside any table; known: ${Object.keys(TOP_KEYS).join(", ")}${hint}`);
        }
        this.key([name], name, value, rule);
        continue;
      }
      if (name in SECTIONS) this.section(name, value, SECTIONS[name]!);
      else if (name === "app_config") this.appConfig(value);
      else if (name in NAMED_SECTIONS) this.named(name, value);
      else if (name in FREE_SECTIONS) this.free(name, value);
      else throw this.error([name], `unknown section [${name}]; known: ${ALL_SECTIONS.join(", ")}${didYouMean(name, ALL_SECTIONS, "[", "]")}`);
    }
    const { backend, registry } = this.config.container;
    if (registry !== "" && backend !== "swarm") {
      throw this.error(["container", "registry"], `[container] registry is used by backend = "swarm" only (backend is "${backend}")`);
    }
    return { config: this.config, warnings: this.warnings };
  }

  private section(name: string, table: Record<string, unknown>, rules: Record<string, KeyRule>): void {
    for (const [key, value] of Object.entries(table)) {
      const rule = rules[key];
      if (rule === undefined) {
        const known = Object.keys(rules);
        throw this.error([name, key], `unknown key "${key}" in [${name}]; known: ${known.join(", ")}${didYouMean(key, known)}`);
      }
      this.key([name, key], `[${name}] ${key}`, value, rule);
    }
  }

  private key(path: string[], label: string, value: unknown, rule: KeyRule): void {
    const expected = kindError(rule.kind, value);
    if (expected !== undefined) throw this.error(path, `${label} must be ${expected}, not ${show(value)}`);
    if (rule.apply !== undefined) {
      const wrong = rule.check?.(value as never);
      if (wrong !== undefined) throw this.error(path, `${label} must be ${wrong}, not ${show(value)}`);
      const notApplied = rule.apply(this.config, value);
      if (notApplied) this.warn(path, label, notApplied);
      return;
    }
    if (!rule.same?.(value as never, this.home)) this.warn(path, label, rule.why!);
  }

  private named(name: string, table: Record<string, unknown>): void {
    const spec = NAMED_SECTIONS[name]!;
    for (const [entry, keys] of Object.entries(table)) {
      if (!isTable(keys)) throw this.error([name, entry], `[${name}] ${entry} must be a table ([${name}.${entry}] with ${spec.keys.join(", ")}), not ${show(keys)}`);
      for (const [key, value] of Object.entries(keys)) {
        if (!spec.keys.includes(key)) {
          throw this.error([name, entry, key], `unknown key "${key}" in [${name}.${entry}]; known: ${spec.keys.join(", ")}${didYouMean(key, spec.keys)}`);
        }
        this.key([name, entry, key], `[${name}.${entry}] ${key}`, value, { kind: spec.kinds?.[key] ?? "string", why: spec.why });
      }
    }
  }

  private free(name: string, table: Record<string, unknown>): void {
    for (const [entry, value] of Object.entries(table)) {
      const pairs: [string[], unknown][] = isTable(value) ? leaves(value).map(([path, v]) => [[entry, ...path], v]) : [[[entry], value]];
      for (const [path, v] of pairs) {
        const label = path.length === 1 ? `[${name}] ${path[0]}` : `[${name}.${quoteKey(path[0]!)}] ${path.slice(1).map(quoteKey).join(".")}`;
        this.key([name, ...path], label, v, { kind: "any", why: FREE_SECTIONS[name] });
      }
    }
  }

  /** Clace writes these as dotted keys (container.health_url = "/"), so they arrive nested; values become --conf strings. */
  private appConfig(table: Record<string, unknown>): void {
    for (const [parts, value] of leaves(table)) {
      const key = parts.join(".");
      const path = ["app_config", ...parts];
      if (!ACCEPTED_CONF_KEYS.includes(key)) {
        throw this.error(path, `unknown key "${key}" in [app_config]; known: ${ACCEPTED_CONF_KEYS.join(", ")}${didYouMean(key, ACCEPTED_CONF_KEYS)}`);
      }
      if (isTable(value) || (Array.isArray(value) && key !== "fs.file_access")) {
        throw this.error(path, `[app_config] ${key} must be a string, number or boolean, not ${show(value)}`);
      }
      const raw = Array.isArray(value) ? JSON.stringify(value) : String(value);
      let why: string | undefined;
      try {
        why = confKeyNotApplied(key, raw);
      } catch (err) {
        if (err instanceof RuntimeError) throw this.error(path, `[app_config] ${err.reason}`);
        throw err;
      }
      if (why === undefined) this.config.app_config[key] = raw;
      else this.warn(path, `[app_config] ${key}`, why);
    }
  }

  private where(path: string[]): string {
    const site = siteOf(this.layout, path);
    return site === undefined ? this.file : `${this.file}:${site.line}:${site.col}`;
  }

  private error(path: string[], message: string): ServerConfigError {
    return new ServerConfigError(`${this.where(path)}: ${message}`);
  }

  private warn(path: string[], label: string, why: string): void {
    const site = siteOf(this.layout, path);
    this.warnings.push(`${site === undefined ? this.file : `${this.file}:${site.line}`}: ignored Clace key ${label}: ${why}`);
  }
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * {a: {b: 1}, "c.d": 2} → [["a", "b"], 1], [["c.d"], 2]: the values and the key paths that lead to them. Clace's
 * dotted keys (container.health_url = "/") arrive nested; joined with dots they are the names --conf uses.
 */
function leaves(table: Record<string, unknown>, prefix: string[] = [], out: [string[], unknown][] = []): [string[], unknown][] {
  for (const [k, v] of Object.entries(table)) {
    if (isTable(v)) leaves(v, [...prefix, k], out);
    else out.push([[...prefix, k], v]);
  }
  return out;
}

/** A key part as TOML writes it: bare when it can be. */
function quoteKey(part: string): string {
  return /^[A-Za-z0-9_-]+$/.test(part) ? part : JSON.stringify(part);
}

/** What the value should have been, or undefined when it is of the kind. */
function kindError(kind: Kind, value: unknown): string | undefined {
  switch (kind) {
    case "string":
      return typeof value === "string" ? undefined : "a string";
    case "integer":
      return Number.isInteger(value) ? undefined : "an integer";
    case "boolean":
      return typeof value === "boolean" ? undefined : "true or false";
    case "strings":
      return Array.isArray(value) && value.every((x) => typeof x === "string") ? undefined : 'a list of strings (["a", "b"])';
    case "any":
      return undefined;
  }
}

function show(value: unknown): string {
  if (isTable(value)) return "a table";
  if (Array.isArray(value)) return "a list";
  return JSON.stringify(value) ?? String(value);
}

function didYouMean(name: string, candidates: readonly string[], before = '"', after = '"'): string {
  const best = nearest(name, candidates);
  return best ? ` (did you mean ${before}${best}${after}?)` : "";
}
