/**
 * The table of mounted apps: domain + path → routes and upstream. Callers add, replace and remove apps while the
 * server runs; the proxy asks `match(host, path)` on every request. Everything a request needs (prefixes, the
 * upstream of each route, response header templates) is computed here at mount time, so that matching allocates
 * nothing.
 */
import { CONTAINER_URL, type ProxyRoute } from "./route.ts";
import { FixedUpstream } from "./fixed-upstream.ts";
import { isToken } from "./http1/chars.ts";
import { ProxyMetrics, type AppMetrics } from "./metrics.ts";
import type { AppUpstream } from "./upstream.ts";
import { UpstreamPools, type PoolLimits } from "./upstream-pool.ts";

/** Why a mounted app cannot serve: it answers 500 with both lines. */
export interface AppLoadError {
  /** What is wrong, e.g. "app /x needs approval for proxy.in config". */
  message: string;
  /** How to fix it, e.g. "run: clace-lite app approve /x". */
  fix: string;
}

/** What a caller mounts. */
export interface AppMount {
  /** "" (or omitted) is the default domain. A trailing dot appends the default domain ("sub." → "sub.localhost"). */
  domain?: string;
  /** "/" or "/x/y" (no trailing slash). */
  path: string;
  /** A name for status pages and errors; defaults to the path. */
  name?: string;
  routes: readonly ProxyRoute[];
  /** The upstream behind routes whose url is CONTAINER_URL. */
  upstream: AppUpstream;
  /** Set when the app failed to load or needs approval: every request answers 500 with it. */
  loadError?: AppLoadError;
  /** Answer `/x` with a redirect to `/x/` (OpenRun's redirect_bare_path); Clace's default is to proxy `/x` as `/`. */
  redirectBarePath?: boolean;
  /** Seconds the app may take to send its answer head (504 after); the server's default when unset. */
  responseHeaderTimeout?: number;
  /** Idle connections kept to the app and for how long (proxy.max_idle_conns, proxy.idle_conn_timeout_secs). */
  upstreamPool?: PoolLimits;
}

/** A route ready for the hot path. */
export interface CompiledRoute {
  /** The full request-path prefix this route serves ("" for the app root at "/"). */
  readonly fullPrefix: string;
  readonly upstream: AppUpstream;
  /** The app path, removed from the request path first when the route strips the app ("" otherwise). */
  readonly stripApp: string;
  /** Then this prefix is removed when the path starts with it. */
  readonly stripPath: string;
  readonly preserveHost: boolean;
  /** Response headers; `hasUrl` marks values holding `$url`, replaced per request. */
  readonly responseHeaders: readonly ResponseHeaderTemplate[];
}

export interface ResponseHeaderTemplate {
  readonly name: string;
  readonly lowerName: string;
  readonly value: string;
  readonly hasUrl: boolean;
}

/** A mounted app as the proxy sees it. */
export interface MountedApp {
  readonly domain: string;
  readonly path: string;
  /** The path without a trailing slash: "" for "/". */
  readonly prefix: string;
  readonly name: string;
  readonly upstream: AppUpstream;
  readonly loadError: AppLoadError | undefined;
  readonly redirectBarePath: boolean;
  readonly responseHeaderTimeout: number | undefined;
  /** Connections to this app's upstreams, kept apart from other apps' with this app's limits. */
  readonly pools: UpstreamPools;
  /** "[domain:]path" (no domain for the default one): the app's name in metrics and the access log. */
  readonly label: string;
  /** The app's counters (kept across reloads at the same mount point). */
  readonly metrics: AppMetrics;
  /** Longest prefix first. */
  readonly routes: readonly CompiledRoute[];
  /** Upstreams of fixed-URL routes, for status. */
  readonly fixedUpstreams: readonly FixedUpstream[];
}

export class MountConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MountConflictError";
  }
}

/** Paths under this prefix belong to the server itself and can never be mounted. */
export const RESERVED_PREFIX = "/_clace_lite";

const HOST_CACHE_LIMIT = 256;

export class AppTable {
  readonly defaultDomain: string;
  private readonly byDomain = new Map<string, MountedApp[]>();
  /** Raw Host header → the app list it resolves to: one Map lookup per request instead of parsing the header. */
  private hostCache = new Map<string, MountedApp[] | undefined>();
  /** Counters of every app mounted here, for /_clace_lite/metrics. */
  readonly metrics = new ProxyMetrics();

  constructor(options: { defaultDomain?: string } = {}) {
    this.defaultDomain = normalizeDomain(options.defaultDomain ?? "localhost", "localhost");
  }

  /** Mount a new app; refuses one that overlaps an app in the same domain. */
  add(mount: AppMount): MountedApp {
    const app = compileMount(mount, this.defaultDomain, this.metrics);
    const list = this.byDomain.get(app.domain) ?? [];
    for (const other of list) {
      if (overlaps(app.prefix, other.prefix)) {
        throw new MountConflictError(
          other.prefix === app.prefix
            ? `an app is already mounted at ${describe(app)}`
            : `app path ${describe(app)} overlaps app ${describe(other)}: apps in one domain may not be mounted inside each other`,
        );
      }
    }
    this.store(app.domain, [...list, app]);
    return app;
  }

  /** Mount an app, replacing the one at the same domain and path if there is one (a reload). */
  replace(mount: AppMount): MountedApp {
    const app = compileMount(mount, this.defaultDomain, this.metrics);
    const list = (this.byDomain.get(app.domain) ?? []).filter((other) => other.prefix !== app.prefix);
    for (const other of list) {
      if (overlaps(app.prefix, other.prefix)) {
        throw new MountConflictError(
          `app path ${describe(app)} overlaps app ${describe(other)}: apps in one domain may not be mounted inside each other`,
        );
      }
    }
    this.store(app.domain, [...list, app]);
    return app;
  }

  /** Unmount; returns false when nothing was mounted there. */
  remove(domain: string, path: string): boolean {
    const d = normalizeDomain(domain, this.defaultDomain);
    const prefix = normalizePath(path).prefix;
    const list = this.byDomain.get(d);
    if (list === undefined) return false;
    const rest = list.filter((app) => app.prefix !== prefix);
    if (rest.length === list.length) return false;
    this.store(d, rest);
    this.metrics.drop(`${d}:${prefix}`);
    return true;
  }

  get(domain: string, path: string): MountedApp | undefined {
    const prefix = normalizePath(path).prefix;
    return this.byDomain.get(normalizeDomain(domain, this.defaultDomain))?.find((app) => app.prefix === prefix);
  }

  list(): MountedApp[] {
    const all: MountedApp[] = [];
    for (const apps of this.byDomain.values()) all.push(...apps);
    return all;
  }

  /** The app serving `path` (no query) for a request with this Host header, if any. */
  match(host: string | null, path: string): MountedApp | undefined {
    const apps = this.appsForHost(host ?? "");
    if (apps === undefined) return undefined;
    for (let i = 0; i < apps.length; i++) {
      const app = apps[i]!;
      if (hasPrefix(path, app.prefix)) return app;
    }
    return undefined;
  }

  private appsForHost(host: string): MountedApp[] | undefined {
    let apps = this.hostCache.get(host);
    if (apps !== undefined || this.hostCache.has(host)) return apps;
    const domain = hostToDomain(host, this.defaultDomain);
    apps = this.byDomain.get(domain) ?? this.byDomain.get(this.defaultDomain);
    // Host headers are client-chosen: bound the cache so that random hosts cannot grow it without limit.
    if (this.hostCache.size >= HOST_CACHE_LIMIT) this.hostCache.clear();
    this.hostCache.set(host, apps);
    return apps;
  }

  private store(domain: string, list: MountedApp[]): void {
    if (list.length === 0) this.byDomain.delete(domain);
    else this.byDomain.set(domain, list.sort((a, b) => b.prefix.length - a.prefix.length));
    this.hostCache = new Map();
  }
}

/** The route of `app` serving `path`, longest prefix first. */
export function matchRoute(app: MountedApp, path: string): CompiledRoute | undefined {
  const routes = app.routes;
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    if (hasPrefix(path, route.fullPrefix)) return route;
  }
  return undefined;
}

/** `path` starts with `prefix` on a segment boundary ("" matches everything). */
export function hasPrefix(path: string, prefix: string): boolean {
  const n = prefix.length;
  if (n === 0) return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === n || path.charCodeAt(n) === 47; /* "/" */
}

/** Host header → domain: port dropped, lower case, 127.0.0.1 and ::1 are localhost. */
export function hostToDomain(host: string, defaultDomain: string): string {
  let h = host;
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    h = end < 0 ? h : h.slice(1, end);
  } else {
    const colon = h.lastIndexOf(":");
    if (colon >= 0) h = h.slice(0, colon);
  }
  h = h.toLowerCase();
  if (h.endsWith(".")) h = h.slice(0, -1);
  if (h === "" ) return defaultDomain;
  if (h === "127.0.0.1" || h === "::1") return "localhost";
  return h;
}

function normalizeDomain(domain: string, defaultDomain: string): string {
  const d = domain.trim().toLowerCase();
  if (d === "") return defaultDomain;
  if (d.endsWith(".")) return `${d}${defaultDomain}`;
  return hostToDomain(d, defaultDomain);
}

function normalizePath(path: string): { path: string; prefix: string } {
  let p = path.trim();
  if (!p.startsWith("/")) p = `/${p}`;
  p = p.replace(/\/+$/, "");
  return { path: p === "" ? "/" : p, prefix: p };
}

function overlaps(a: string, b: string): boolean {
  return hasPrefix(a, b) || hasPrefix(b, a);
}

function describe(app: MountedApp): string {
  return `${app.domain}:${app.path}`;
}

function compileMount(mount: AppMount, defaultDomain: string, metrics: ProxyMetrics): MountedApp {
  const domain = normalizeDomain(mount.domain ?? "", defaultDomain);
  const { path, prefix } = normalizePath(mount.path);
  if (hasPrefix(prefix, RESERVED_PREFIX)) {
    throw new MountConflictError(`app path ${path} is reserved for the server's own endpoints (${RESERVED_PREFIX}/)`);
  }
  const fixed = new Map<string, FixedUpstream>();
  const routes: CompiledRoute[] = [];
  for (const route of mount.routes) {
    const routePrefix = normalizePath(route.path).prefix;
    let upstream: AppUpstream;
    if (route.url === CONTAINER_URL) {
      upstream = mount.upstream;
    } else {
      let f = fixed.get(route.url);
      if (f === undefined) {
        f = new FixedUpstream(route.url);
        fixed.set(route.url, f);
      }
      upstream = f;
    }
    const stripPath = route.stripPath === "" ? "" : normalizePath(route.stripPath).prefix;
    routes.push({
      fullPrefix: prefix + routePrefix,
      upstream,
      // Clace strips join(appPath, strip_path) with strip_app, else strip_path alone.
      stripApp: route.stripApp ? prefix : "",
      stripPath,
      preserveHost: route.preserveHost,
      responseHeaders: Object.entries(route.responseHeaders).map(([name, value]) => responseHeaderTemplate(name, value)),
    });
  }
  routes.sort((a, b) => b.fullPrefix.length - a.fullPrefix.length);
  return {
    domain,
    path,
    prefix,
    name: mount.name ?? path,
    upstream: mount.upstream,
    loadError: mount.loadError,
    redirectBarePath: mount.redirectBarePath ?? false,
    responseHeaderTimeout: mount.responseHeaderTimeout,
    pools: new UpstreamPools(mount.upstreamPool),
    label: locationLabel(domain, path, defaultDomain),
    metrics: metrics.forApp(`${domain}:${prefix}`, locationLabel(domain, path, defaultDomain)),
    routes,
    fixedUpstreams: [...fixed.values()],
  };
}

function locationLabel(domain: string, path: string, defaultDomain: string): string {
  return domain === defaultDomain ? path : `${domain}:${path}`;
}

/** A route's response header, checked once at mount: a name that is a token, a value without CR, LF or NUL. */
function responseHeaderTemplate(name: string, value: string): ResponseHeaderTemplate {
  if (!isToken(name)) throw new MountConflictError(`response header name ${JSON.stringify(name)} is not a valid header field name`);
  if (/[\r\n\0]/.test(value)) throw new MountConflictError(`response header ${name} has a CR, LF or NUL in its value`);
  return { name, lowerName: name.toLowerCase(), value, hasUrl: value.includes("$url") };
}
