/**
 * The `ace` module predeclared in app.star: ace.app, ace.proxy, ace.permission and Clace's constants. Builtins for
 * Clace features clace-lite does not serve (Clace-rendered HTML pages, APIs, actions) exist so that using them
 * gives a clear message instead of "module has no attribute".
 */
import { Builtin, Module, None, Struct, fromJS, unpackArgs, type Value } from "../starlark/index.ts";
import { CONTAINER_URL, type Permission, type ProxyRoute } from "./app-config.ts";
import { RuntimeError } from "./errors.ts";
import type { AppDecl, LoadSession } from "./session.ts";
import { ArgError, asBool, asPlainDict, asString, asStringList, asValueList, isAbsent } from "./starlark-args.ts";

const CONSTANTS: Record<string, string> = {
  GET: "GET",
  POST: "POST",
  PUT: "PUT",
  DELETE: "DELETE",
  JSON: "JSON",
  TEXT: "TEXT",
  HTML: "HTML",
  READ: "READ",
  WRITE: "WRITE",
  AUTO: "AUTO",
  TABLE: "TABLE",
  DOWNLOAD: "DOWNLOAD",
  IMAGE: "IMAGE",
  CONTAINER_URL,
};

/** Clace builtins for features outside a container app server. */
const UNSUPPORTED: Record<string, string> = {
  html: "Clace-rendered HTML pages",
  fragment: "Clace-rendered HTML fragments",
  api: "Starlark API handlers",
  redirect: "Starlark handler responses",
  response: "Starlark handler responses",
  action: "actions (auto-generated forms)",
  result: "actions (auto-generated forms)",
  audit: "actions (auto-generated forms)",
  output: "actions (auto-generated forms)",
};

function unsupported(what: string): RuntimeError {
  return new RuntimeError(
    "config",
    `${what} is not supported by clace-lite, which serves proxied container apps`,
    undefined,
    "route requests with ace.proxy(path, proxy.config(...)) instead",
  );
}

function checkPath(fn: string, path: string): string {
  if (!path.startsWith("/")) throw new ArgError(`${fn}: path ${JSON.stringify(path)} must start with "/"`);
  return path;
}

function parseSecrets(fn: string, v: Value | undefined): string[][] | undefined {
  if (isAbsent(v)) return undefined;
  const rows = asValueList(fn, "secrets", v);
  return rows.map((row, i) => {
    if (typeof row === "string") return [row];
    try {
      return asStringList(fn, "secrets", row);
    } catch {
      throw new ArgError(`${fn}: for parameter secrets: element ${i} must be a list of strings`);
    }
  });
}

function permissionType(fn: string, v: Value | undefined): "READ" | "WRITE" | undefined {
  const t = asString(fn, "type", v, "");
  if (t === "") return undefined;
  const up = t.toUpperCase();
  if (up !== "READ" && up !== "WRITE") throw new ArgError(`${fn}: type must be ace.READ or ace.WRITE, not ${JSON.stringify(t)}`);
  return up;
}

export function makeAceModule(session: LoadSession): Module {
  const app = new Builtin("ace.app", (_t, args, kwargs) => {
    const fn = "ace.app";
    const [name, routes, _style, permissions, _libraries, settings, _customLayout, container, actions, staticOnly, index, singleFile] =
      unpackArgs(fn, args, kwargs, [
        "name",
        "routes?",
        "style?",
        "permissions?",
        "libraries?",
        "settings?",
        "custom_layout?",
        "container?",
        "actions?",
        "static_only?",
        "index?",
        "single_file?",
      ]);
    // style, libraries and custom_layout only shape Clace-rendered pages; a proxied app has none, so they are
    // accepted and have no effect. Actions would change what the app serves: refuse them.
    if (asValueList(fn, "actions", actions).length > 0) throw unsupported("ace.app(actions=...)");

    const decl: AppDecl = {
      name: asString(fn, "name", name, ""),
      routes: [],
      permissions: [],
      settings: asPlainDict(fn, "settings", settings),
    };
    if (decl.name.trim() === "") throw new ArgError(`${fn}: name must not be empty`);
    const seen = new Set<string>();
    for (const [i, r] of asValueList(fn, "routes", routes).entries()) {
      const route = typeof r === "object" ? session.routes.get(r) : undefined;
      if (!route) throw new ArgError(`${fn}: routes[${i}] is not a route made by ace.proxy(...)`);
      if (seen.has(route.path)) throw new ArgError(`${fn}: two routes for the path ${JSON.stringify(route.path)}`);
      seen.add(route.path);
      decl.routes.push(route);
    }
    for (const [i, p] of asValueList(fn, "permissions", permissions).entries()) {
      const perm = typeof p === "object" ? session.permissions.get(p) : undefined;
      if (!perm) throw new ArgError(`${fn}: permissions[${i}] is not made by ace.permission(...)`);
      decl.permissions.push(perm);
    }
    if (!isAbsent(container)) {
      const c = typeof container === "object" ? session.containerConfigs.get(container) : undefined;
      if (!c) throw new ArgError(`${fn}: container must be the result of container.config(...)`);
      decl.container = c;
    }
    if (asBool(fn, "static_only", staticOnly, false)) {
      if (decl.routes.length > 0 || decl.container) {
        throw new ArgError(`${fn}: a static_only app serves its folder's files; it takes no routes and no container`);
      }
      decl.static = { index: isAbsent(index) ? "" : asString(fn, "index", index, ""), singleFile: asBool(fn, "single_file", singleFile, false) };
    } else if (asBool(fn, "single_file", singleFile, false)) {
      throw new ArgError(`${fn}: single_file=True needs static_only=True`);
    }
    const result = new Struct(
      {
        name: decl.name,
        routes: routes ?? fromJS([]),
        permissions: permissions ?? fromJS([]),
        settings: fromJS(decl.settings),
        container: container ?? None,
      },
      "app",
    );
    session.apps.set(result, decl);
    return result;
  });

  const proxy = new Builtin("ace.proxy", (_t, args, kwargs) => {
    const fn = "ace.proxy";
    const [path, config] = unpackArgs(fn, args, kwargs, ["path", "config"]);
    const p = checkPath(fn, asString(fn, "path", path, ""));
    const cfg = typeof config === "object" ? session.proxyConfigs.get(config!) : undefined;
    if (!cfg) throw new ArgError(`${fn}: config must be the result of proxy.config(...) (load("proxy.in", "proxy"))`);
    const route: ProxyRoute = Object.freeze({
      path: p,
      url: cfg.url,
      stripPath: cfg.stripPath,
      preserveHost: cfg.preserveHost,
      stripApp: cfg.stripApp,
      responseHeaders: Object.freeze({ ...cfg.responseHeaders }),
    });
    const result = new Struct({ path: p, config: config! }, "proxy");
    session.routes.set(result, route);
    return result;
  });

  const permission = new Builtin("ace.permission", (_t, args, kwargs) => {
    const fn = "ace.permission";
    const [plugin, method, argList, type, secrets] = unpackArgs(fn, args, kwargs, [
      "plugin",
      "method",
      "arguments?",
      "type?",
      "secrets?",
    ]);
    const perm: Permission = {
      plugin: asString(fn, "plugin", plugin, ""),
      method: asString(fn, "method", method, ""),
      arguments: asStringList(fn, "arguments", argList),
    };
    if (perm.plugin === "" || perm.method === "") throw new ArgError(`${fn}: plugin and method must not be empty`);
    const t = permissionType(fn, type);
    if (t) perm.type = t;
    const s = parseSecrets(fn, secrets);
    if (s) perm.secrets = s;
    Object.freeze(perm);
    const result = new Struct(
      { plugin: perm.plugin, method: perm.method, arguments: fromJS(perm.arguments), type: t ?? None, secrets: s ? fromJS(s) : None },
      "permission",
    );
    session.permissions.set(result, perm);
    return result;
  });

  // ace.config reads the server's [node_config] table in Clace; clace-lite has none, so the default applies.
  const config = new Builtin("ace.config", (_t, args, kwargs) => {
    const [key, dflt] = unpackArgs("ace.config", args, kwargs, ["key", "default?"]);
    asString("ace.config", "key", key, "");
    return dflt ?? None;
  });

  // ace.style and ace.library describe Clace-rendered pages; they are harmless for a proxied app.
  const inert = (name: string) => new Builtin(name, () => None);

  const members: Record<string, Value> = {
    app,
    proxy,
    permission,
    config,
    style: inert("ace.style"),
    library: inert("ace.library"),
  };
  for (const [name, what] of Object.entries(UNSUPPORTED)) {
    members[name] = new Builtin(`ace.${name}`, () => {
      throw unsupported(`ace.${name} (${what})`);
    });
  }
  for (const [k, v] of Object.entries(CONSTANTS)) members[k] = v;
  return new Module("ace", members);
}

/** `struct(**kwargs)`, available in app.star as in Clace. */
export const STRUCT_BUILTIN = new Builtin("struct", (_t, args, kwargs) => {
  if (args.length > 0) throw new ArgError("struct: unexpected positional arguments");
  return new Struct(Object.fromEntries(kwargs));
});
