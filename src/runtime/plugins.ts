/**
 * The plugins an app may load: `proxy.in` (proxy.config) and `container.in` (container.config and its constants).
 * Each call is checked against the approved permissions (by the session) before it does anything; in the audit
 * the same functions run with checks off, which is harmless because they only describe configuration.
 */
import { Builtin, Module, None, Struct, fromJS, type Value } from "../starlark/index.ts";
import { unpackArgs } from "../starlark/index.ts";
import { CONTAINER_URL } from "./app-config.ts";
import { RuntimeError } from "./errors.ts";
import type { ContainerConfigDecl, LoadSession, ProxyConfigDecl } from "./session.ts";
import { ArgError, asBool, asInt, asString, asStringDict, asStringList, permissionArgString } from "./starlark-args.ts";

export const PLUGINS = ["proxy.in", "container.in"] as const;
export type PluginName = (typeof PLUGINS)[number];

/** Clace plugins that exist but are not part of clace-lite. */
const OTHER_CLACE_PLUGINS = ["http.in", "exec.in", "fs.in", "store.in", "secrets.in", "rest.in"];

/** A plugin function wrapped with its permission check (positional args only, as in Clace). */
function pluginFunction(
  session: LoadSession,
  plugin: PluginName,
  method: string,
  impl: (args: Value[], kwargs: [string, Value][]) => Value,
): Builtin {
  const short = plugin.slice(0, -".in".length);
  return new Builtin(`${short}.${method}`, (_t, args, kwargs) => {
    session.checkCall(plugin, method, args.map(permissionArgString));
    return impl(args, kwargs);
  });
}

function proxyModule(session: LoadSession): Module {
  const config = pluginFunction(session, "proxy.in", "config", (args, kwargs) => {
    const fn = "proxy.config";
    const [url, stripPath, preserveHost, stripApp, responseHeaders] = unpackArgs(fn, args, kwargs, [
      "url",
      "strip_path?",
      "preserve_host?",
      "strip_app?",
      "response_headers?",
    ]);
    const decl: ProxyConfigDecl = {
      url: asString(fn, "url", url, ""),
      stripPath: asString(fn, "strip_path", stripPath, ""),
      preserveHost: asBool(fn, "preserve_host", preserveHost, false),
      stripApp: asBool(fn, "strip_app", stripApp, true),
      responseHeaders: asStringDict(fn, "response_headers", responseHeaders),
    };
    if (decl.url !== CONTAINER_URL) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(decl.url);
      } catch {
        parsed = undefined;
      }
      if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
        throw new ArgError(`${fn}: url ${JSON.stringify(decl.url)} must be an http(s) URL or container.URL`);
      }
    }
    if (decl.stripPath !== "" && !decl.stripPath.startsWith("/")) {
      throw new ArgError(`${fn}: strip_path ${JSON.stringify(decl.stripPath)} must start with "/"`);
    }
    const result = new Struct(
      {
        url: decl.url,
        strip_path: decl.stripPath,
        preserve_host: decl.preserveHost,
        strip_app: decl.stripApp,
        response_headers: fromJS(decl.responseHeaders),
      },
      "proxy_config",
    );
    session.proxyConfigs.set(result, decl);
    return result;
  });
  return new Module("proxy", { config });
}

const SCHEMES = ["http", "https"];
const LIFETIMES = ["app", "command"];

function containerModule(session: LoadSession): Module {
  const config = pluginFunction(session, "container.in", "config", (args, kwargs) => {
    const fn = "container.config";
    const [src, port, scheme, health, lifetime, buildDir, volumes, cargs] = unpackArgs(fn, args, kwargs, [
      "src?",
      "port?",
      "scheme?",
      "health?",
      "lifetime?",
      "build_dir?",
      "volumes?",
      "cargs?",
    ]);
    const decl: ContainerConfigDecl = {
      src: asString(fn, "src", src, "auto"),
      port: asInt(fn, "port", port, 0),
      scheme: asString(fn, "scheme", scheme, "http"),
      health: asString(fn, "health", health, "/"),
      lifetime: asString(fn, "lifetime", lifetime, "app"),
      buildDir: asString(fn, "build_dir", buildDir, ""),
      volumes: asStringList(fn, "volumes", volumes),
      cargs: asStringDict(fn, "cargs", cargs),
    };
    if (decl.src === "") throw new ArgError(`${fn}: src must not be empty (use container.AUTO)`);
    if (decl.src === "nixpacks") throw new ArgError(`${fn}: src "nixpacks" is not supported; use a Containerfile`);
    if (decl.port < 0 || decl.port > 65535) throw new ArgError(`${fn}: port must be between 0 and 65535, not ${decl.port}`);
    if (!SCHEMES.includes(decl.scheme)) throw new ArgError(`${fn}: scheme must be "http" or "https", not ${JSON.stringify(decl.scheme)}`);
    if (!LIFETIMES.includes(decl.lifetime)) {
      throw new ArgError(`${fn}: lifetime must be "app" or container.COMMAND, not ${JSON.stringify(decl.lifetime)}`);
    }
    if (decl.lifetime === "command") {
      // Clace's COMMAND lifetime exists for actions (ace.action + container.run: one-shot commands behind a form
      // UI); clace-lite serves long-lived containers only, so such an app could never answer a request.
      throw new ArgError(
        `${fn}: lifetime=container.COMMAND is not supported: it is for Clace's actions (ace.action with container.run), which clace-lite does not run; clace-lite runs long-lived services (lifetime="app")`,
      );
    }
    if (decl.buildDir.startsWith("/") || decl.buildDir.split("/").includes("..")) {
      throw new ArgError(`${fn}: build_dir ${JSON.stringify(decl.buildDir)} must be a folder inside the app source`);
    }
    const result = new Struct(
      {
        source: decl.src,
        port: decl.port,
        scheme: decl.scheme,
        health: decl.health,
        lifetime: decl.lifetime,
        build_dir: decl.buildDir,
        volumes: fromJS(decl.volumes),
        cargs: fromJS(decl.cargs),
      },
      "container_config",
    );
    session.containerConfigs.set(result, decl);
    return result;
  });
  const run = pluginFunction(session, "container.in", "run", () => {
    if (session.mode === "audit") return None;
    throw new RuntimeError("config", "container.run (actions) is not supported by clace-lite", undefined, "remove the container.run call");
  });
  return new Module("container", {
    config,
    run,
    URL: CONTAINER_URL,
    AUTO: "auto",
    NIXPACKS: "nixpacks",
    IMAGE_PREFIX: "image:",
    COMMAND: "command",
  });
}

/**
 * Resolves `load("name.in", ...)`: the plugin's exported names ({proxy: <module>}), after the approval check.
 * `name.in#account` (Clace's account links) is accepted and the account ignored.
 */
export function loadPlugin(session: LoadSession, module: string): Record<string, Value> {
  const plugin = module.split("#")[0]!;
  if (!(PLUGINS as readonly string[]).includes(plugin)) {
    const known = OTHER_CLACE_PLUGINS.includes(plugin) ? "it is a Clace plugin that clace-lite does not provide" : "no such plugin";
    throw new RuntimeError("config", `cannot load plugin ${plugin}: ${known}`, undefined, `clace-lite provides ${PLUGINS.join(" and ")}`);
  }
  session.recordLoad(plugin);
  session.checkLoad(plugin);
  return plugin === "proxy.in" ? { proxy: proxyModule(session) } : { container: containerModule(session) };
}
