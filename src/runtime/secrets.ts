/**
 * Secrets in param values and build args, as Clace resolves them: a value containing `{{` and `}}` is a Go template
 * with two functions,
 *
 *   {{ secret "NAME" }}                  the default provider (env)
 *   {{ secret_from "prop" "NAME" }}      a named provider
 *   {{ secret "env" "NAME" }}            Clace's older two-argument form: provider, then name
 *
 * Several keys are joined with the provider's delimiter (env "_", prop "."), as Clace does. The providers that work on
 * one machine are here:
 *   - env:  the server's environment variables;
 *   - prop: a Java-style properties file (`key = value`, `#` comments), at $CL_SECRETS_PROPERTIES, else
 *           $CL_HOME/config/secrets.properties.
 *
 * Each secret must be allowed by the `secrets=[[...]]` rows of the app's `ace.permission("container.in", "config",
 * ...)`: a row allows a secret when each of its entries equals (or, written "regex:...", matches) the key at that
 * place. No rows, or no matching row, refuses the secret.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GoTemplate, TemplateError } from "../containers/index.ts";
import { argMatches } from "./permissions.ts";

export type SecretErrorKind = "not-allowed" | "not-found" | "unknown-provider" | "provider-unavailable" | "bad-call";

export class SecretError extends Error {
  constructor(
    readonly kind: SecretErrorKind,
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = "SecretError";
  }
}

/** Where secrets come from: an environment (the server's, captured when the load starts). */
export interface SecretSources {
  env: Readonly<Record<string, string | undefined>>;
}

export const PROPERTIES_FILE_ENV = "CL_SECRETS_PROPERTIES";

interface Provider {
  delimiter: string;
  get(key: string): string;
}

const PROVIDER_NAMES = ["env", "prop"] as const;

function propertiesPath(env: SecretSources["env"]): string | null {
  const explicit = env[PROPERTIES_FILE_ENV];
  if (explicit) return explicit;
  return env.CL_HOME ? join(env.CL_HOME, "config", "secrets.properties") : null;
}

/** A properties file: `key = value` lines, `#` starting a comment, lines without `=` ignored. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (let line of text.split("\n")) {
    const hash = line.indexOf("#");
    if (hash >= 0) line = line.slice(0, hash);
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

function makeProvider(name: string, sources: SecretSources, props: { cache?: Map<string, string> }): Provider {
  if (name === "env") {
    return {
      delimiter: "_",
      get(key) {
        const v = sources.env[key];
        if (v === undefined) {
          throw new SecretError("not-found", `secret ${key} is not set in the server's environment`, `set ${key} in the environment of the clace-lite server and reload the app`);
        }
        return v;
      },
    };
  }
  if (name === "prop") {
    return {
      delimiter: ".",
      get(key) {
        const path = propertiesPath(sources.env);
        if (!props.cache) {
          if (path === null) {
            throw new SecretError("provider-unavailable", "the prop secret provider has no properties file", `set ${PROPERTIES_FILE_ENV}=/path/to/secrets.properties for the server`);
          }
          try {
            props.cache = parseProperties(readFileSync(path, "utf8"));
          } catch (err) {
            throw new SecretError("provider-unavailable", `cannot read the secrets properties file ${path}: ${(err as Error).message}`, `create it, or point ${PROPERTIES_FILE_ENV} at the right file`);
          }
        }
        const v = props.cache.get(key);
        if (v === undefined) throw new SecretError("not-found", `secret ${key} is not in ${path}`, `add a line \`${key} = value\` to ${path}`);
        return v;
      },
    };
  }
  throw new SecretError("unknown-provider", `unknown secret provider ${JSON.stringify(name)}`, `use one of ${PROVIDER_NAMES.join(", ")}`);
}

function allowed(rows: readonly (readonly string[])[], keys: readonly string[]): boolean {
  return rows.some((row) => keys.every((k, i) => i >= row.length || argMatches(row[i]!, k)));
}

function asKeys(fn: string, args: readonly unknown[]): string[] {
  if (args.length === 0) throw new SecretError("bad-call", `${fn} needs a secret name`, `write {{ ${fn === "secret_from" ? 'secret_from "env" ' : "secret "}"NAME" }}`);
  return args.map((a) => {
    if (typeof a !== "string") throw new SecretError("bad-call", `${fn} takes strings, got ${JSON.stringify(a)}`, "quote the secret name");
    return a;
  });
}

/**
 * Resolves the secret calls in `value` (returned unchanged when it holds no template). `where` names the value in
 * errors ("param DB_PASSWORD", "--carg TOKEN"); a SecretError raised inside the template is rethrown as is, with
 * the template position added to its message.
 */
export function resolveSecrets(value: string, rows: readonly (readonly string[])[] | undefined, sources: SecretSources, where: string): string {
  if (!value.includes("{{") || !value.includes("}}")) return value;
  const props: { cache?: Map<string, string> } = {};
  const lookup = (providerName: string, keys: string[]): string => {
    const provider = makeProvider(providerName, sources, props);
    const key = keys.join(provider.delimiter);
    if (!rows || rows.length === 0 || !allowed(rows, keys)) {
      throw new SecretError(
        "not-allowed",
        `secret ${key} is not allowed: ${rows && rows.length > 0 ? "no row of" : "there are no"} secrets=[...] ${rows && rows.length > 0 ? "matches it in" : "in"} ace.permission("container.in", "config", ...)`,
        `allow it in app.star: ace.permission("container.in", "config", [...], secrets=[[${JSON.stringify(keys[0])}]]) (the bundled specs take --param secrets='[["${keys[0]}"]]')`,
      );
    }
    return provider.get(key);
  };
  const funcs = {
    secret: (...args: unknown[]) => {
      const keys = asKeys("secret", args);
      // Clace's first form took the provider first; a leading provider name keeps meaning that.
      if (keys.length >= 2 && (PROVIDER_NAMES as readonly string[]).includes(keys[0]!)) return lookup(keys[0]!, keys.slice(1));
      return lookup("env", keys);
    },
    secret_from: (...args: unknown[]) => {
      const [provider, ...rest] = asKeys("secret_from", args);
      return lookup(provider!, asKeys("secret_from", rest));
    },
  };
  try {
    return GoTemplate.parse(value, where, funcs).execute(null);
  } catch (err) {
    if (err instanceof TemplateError && err.cause instanceof SecretError) {
      throw new SecretError(err.cause.kind, `${where}: ${err.cause.message}`, err.cause.fix);
    }
    if (err instanceof TemplateError) throw new SecretError("bad-call", `${where}: ${err.reason}`, "fix the {{ ... }} in the value (Go template syntax)");
    throw err;
  }
}
