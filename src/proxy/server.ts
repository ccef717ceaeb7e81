/**
 * The proxy server: one front door (front.ts) per listener, HTTP and optionally HTTPS, over one AppTable. Both
 * listeners are `Bun.listen` sockets with the same codec and exchange code; Bun.serve is not on the request path
 * (it drops pipelined requests when the handler is async and closes requests that await a cold start).
 */
import type { AppTable, MountedApp } from "./app-table.ts";
import { FrontListener, type AccessEntry, type FrontLimits, type OwnEndpoint, type ProxyEvent } from "./front.ts";
import type { MetricFamily } from "./metrics.ts";
import { RESERVED_PREFIX } from "./app-table.ts";
import type { DescribesState } from "./upstream.ts";

export interface TlsFiles {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface ProxyServerOptions {
  /** HTTP port (0 = ephemeral). Clace's is 25222. */
  port: number;
  /** Interface for HTTP; default 127.0.0.1. */
  host?: string;
  /** HTTPS port (Clace's is 25223); HTTPS is served only when this and `tls` are given. */
  httpsPort?: number;
  /** Interface for HTTPS; default: the same as `host`. */
  httpsHost?: string;
  tls?: TlsFiles;
  apps: AppTable;
  /**
   * Listen at once but hold requests until this settles: the caller is still loading its apps. Lets a server
   * accept connections within milliseconds of starting without answering 404 for apps not mounted yet.
   */
  ready?: Promise<unknown>;
  /** Seconds an idle keep-alive connection stays open (default 10). Exchanges in progress are exempt. */
  idleTimeout?: number;
  /** Seconds a request head may take to arrive (default 30; Clace's [http] read_header_timeout_secs). */
  headerTimeout?: number;
  /** Seconds an app may take to send its answer head (default 60; per app: proxy.response_header_timeout_secs). */
  responseHeaderTimeout?: number;
  /** Seconds a request body may send nothing (default 60). */
  bodyTimeout?: number;
  /** Open client connections per listener (default 10,000). */
  maxConnections?: number;
  /** `/_clace_lite/apps` (and any status endpoint) answers clients off the machine too (default: loopback only). */
  publicStatus?: boolean;
  /** Which clients may see internals (log tails in error pages, the app list); default: those on loopback. */
  trusted?: (ip: string) => boolean;
  /** More endpoints under /_clace_lite/, by full path. */
  endpoints?: ReadonlyMap<string, OwnEndpoint>;
  /** Refused requests (4xx) and broken or late answers from apps (502, 504), for the host's log. */
  onEvent?: (event: ProxyEvent) => void;
  /** Every exchange once it ends, for an access log (none when unset). */
  onAccess?: (entry: AccessEntry) => void;
  /** Server-level samples the host adds to /_clace_lite/metrics (apps by state, cold starts, builds). */
  metrics?: () => readonly MetricFamily[];
}

export interface ProxyServer {
  /** e.g. "http://127.0.0.1:25222" */
  readonly url: string;
  readonly httpsUrl: string | undefined;
  readonly apps: AppTable;
  /** Open client connections, over every listener. */
  readonly connections: number;
  /** Stop listening; with `force`, also close connections in progress. */
  stop(force?: boolean): Promise<void>;
}

export const DEFAULT_LIMITS: FrontLimits = {
  headerTimeout: 30,
  idleTimeout: 10,
  bodyTimeout: 60,
  responseHeaderTimeout: 60,
  maxConnections: 10_000,
};

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const limits: FrontLimits = {
    headerTimeout: options.headerTimeout ?? DEFAULT_LIMITS.headerTimeout,
    idleTimeout: options.idleTimeout ?? DEFAULT_LIMITS.idleTimeout,
    bodyTimeout: options.bodyTimeout ?? DEFAULT_LIMITS.bodyTimeout,
    responseHeaderTimeout: options.responseHeaderTimeout ?? DEFAULT_LIMITS.responseHeaderTimeout,
    maxConnections: options.maxConnections ?? DEFAULT_LIMITS.maxConnections,
  };
  let gate: Promise<unknown> | undefined = options.ready?.then(
    () => (gate = undefined),
    () => (gate = undefined),
  );
  const listeners: FrontListener[] = [];
  const connections = () => listeners.reduce((n, l) => n + l.clients.size, 0);
  const endpoints = new Map<string, OwnEndpoint>(ownEndpoints(options, connections));
  for (const [path, handler] of options.endpoints ?? []) endpoints.set(path, handler);
  const host = options.host ?? "127.0.0.1";
  const common = { apps: options.apps, limits, gate: () => gate, endpoints, trusted: options.trusted, onEvent: options.onEvent, onAccess: options.onAccess };

  const http = new FrontListener({ ...common, hostname: host, port: options.port, proto: "http" });
  listeners.push(http);
  let https: FrontListener | undefined;
  if (options.httpsPort !== undefined && options.tls !== undefined) {
    try {
      https = new FrontListener({ ...common, hostname: options.httpsHost ?? host, port: options.httpsPort, proto: "https", tls: options.tls });
      listeners.push(https);
    } catch (err) {
      http.stop(true);
      throw err;
    }
  }
  return {
    url: urlOf("http", http.hostname, http.port),
    httpsUrl: https === undefined ? undefined : urlOf("https", https.hostname, https.port),
    apps: options.apps,
    get connections() {
      return connections();
    },
    async stop(force = false) {
      http.stop(force);
      https?.stop(force);
    },
  };
}

/**
 * The server's own endpoints: health for anyone; the app list and the metrics for clients trusted with internals
 * (loopback by default) unless `publicStatus` opens them.
 */
function ownEndpoints(options: ProxyServerOptions, connections: () => number): [string, OwnEndpoint][] {
  const apps = options.apps;
  const internal = (handler: OwnEndpoint): OwnEndpoint => (req, client) =>
    client.trusted || options.publicStatus
      ? handler(req, client)
      : new Response("403 Forbidden: this is shown only to clients on this machine\n", { status: 403, headers: { "content-type": "text/plain; charset=utf-8" } });
  return [
    [`${RESERVED_PREFIX}/health`, () => new Response('{"status":"ok"}\n', { headers: JSON_HEADERS })],
    [`${RESERVED_PREFIX}/apps`, internal(() => new Response(`${JSON.stringify({ apps: apps.list().map(appStatus) }, null, 2)}\n`, { headers: JSON_HEADERS }))],
    [
      `${RESERVED_PREFIX}/metrics`,
      internal(() => {
        const memory = process.memoryUsage();
        const families: MetricFamily[] = [
          { name: "clace_lite_open_connections", help: "Client connections open on the proxy's listeners.", samples: [["", connections()]] },
          { name: "process_resident_memory_bytes", help: "Resident memory of the server process.", samples: [["", memory.rss]] },
          { name: "process_heap_bytes", help: "JavaScript heap in use by the server process.", samples: [["", memory.heapUsed]] },
          ...(options.metrics?.() ?? []),
        ];
        return new Response(apps.metrics.render(families), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" } });
      }),
    ],
  ];
}

function appStatus(app: MountedApp): Record<string, unknown> {
  const state = (app.upstream as Partial<DescribesState>).state?.();
  return {
    name: app.name,
    domain: app.domain,
    path: app.path,
    state: app.loadError !== undefined ? "error" : (state ?? "mounted"),
    ...(app.loadError !== undefined ? { error: app.loadError.message, fix: app.loadError.fix } : {}),
    routes: app.routes.map((r) => r.fullPrefix || "/"),
  };
}

function urlOf(proto: string, h: string, port: number): string {
  const host = h.includes(":") ? `[${h}]` : h;
  return `${proto}://${host}:${port}`;
}
