/**
 * The proxy server: `Bun.serve` on HTTP (and HTTPS when given a certificate), one dispatcher per listener that
 * answers the server's own endpoints, finds the app by Host and path, and hands the exchange to the HTTP proxy or
 * the WebSocket bridge. By default the HTTP port is the fast front end (fast-front.ts), which serves warm bodiless
 * GET/HEAD exchanges itself and relays everything else to the HTTP Bun.serve on a private loopback port.
 */
import type { Server } from "bun";
import { AppTable, matchRoute, RESERVED_PREFIX, type MountedApp } from "./app-table.ts";
import { errorResponse, loadErrorPage } from "./errors.ts";
import { FastFront } from "./fast-front.ts";
import { proxyHttp, type ProxyExchange } from "./http-proxy.ts";
import type { DescribesState } from "./upstream.ts";
import { bridgeHandlers, bridgeWebSocket, WebSocketBridge } from "./websocket.ts";

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
  /** Seconds an idle keep-alive connection stays open (Bun's default 10). Exchanges in progress are exempt. */
  idleTimeout?: number;
  /**
   * The HTTP listener: "fast" (default) puts the raw-socket front end of fast-front.ts before Bun.serve, which
   * then listens on a private loopback port for everything the front end relays; "bun" is Bun.serve alone.
   */
  frontEnd?: "fast" | "bun";
}

export interface ProxyServer {
  /** e.g. "http://127.0.0.1:25222" */
  readonly url: string;
  readonly httpsUrl: string | undefined;
  readonly apps: AppTable;
  /** Stop listening; with `force`, also close connections in progress. */
  stop(force?: boolean): Promise<void>;
}

type BridgeServer = Server<WebSocketBridge>;

const DEFAULT_IDLE_TIMEOUT = 10;
const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

/** Routes one listener's requests. Holds no per-request state; `fetch` is the whole request path. */
export class Dispatcher {
  constructor(
    private readonly apps: AppTable,
    private readonly proto: "http" | "https",
    private readonly idleTimeout: number,
  ) {}

  fetch(req: Request, server: BridgeServer): Response | Promise<Response | undefined> {
    const url = req.url;
    // Bun hands an absolute URL: the path starts at the first "/" after "http://host".
    const pathStart = url.indexOf("/", 8);
    const queryStart = url.indexOf("?", pathStart);
    const path = queryStart < 0 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
    const query = queryStart < 0 ? "" : url.slice(queryStart);

    if (path.startsWith(RESERVED_PREFIX) && (path.length === RESERVED_PREFIX.length || path.charCodeAt(RESERVED_PREFIX.length) === 47)) {
      return this.ownEndpoint(path);
    }
    const headers = req.headers;
    const app = this.apps.match(headers.get("host"), path);
    if (app === undefined) return notFound(path);
    if (app.loadError !== undefined) return errorResponse(loadErrorPage(app.loadError, app.name), headers.get("accept"));
    if (app.redirectBarePath && path === app.prefix && app.prefix !== "") {
      return new Response(null, { status: 308, headers: { location: `${path}/${query}` } });
    }
    const route = matchRoute(app, path);
    if (route === undefined) return notFound(path);

    const exchange: ProxyExchange = {
      req,
      server: server as Server<unknown>,
      app,
      route,
      path,
      query,
      proto: this.proto,
      idleTimeout: this.idleTimeout,
    };
    const upgrade = headers.get("upgrade");
    if (upgrade !== null && upgrade.toLowerCase() === "websocket") return bridgeWebSocket(exchange);
    return proxyHttp(exchange);
  }

  private ownEndpoint(path: string): Response {
    if (path === `${RESERVED_PREFIX}/health`) return new Response('{"status":"ok"}\n', { headers: JSON_HEADERS });
    if (path === `${RESERVED_PREFIX}/apps`) {
      return new Response(`${JSON.stringify({ apps: this.apps.list().map(appStatus) }, null, 2)}\n`, { headers: JSON_HEADERS });
    }
    return notFound(path);
  }
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

function notFound(path: string): Response {
  return new Response(`404 Not Found: no app serves ${path}\n`, {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

export function createProxyServer(options: ProxyServerOptions): ProxyServer {
  const idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
  const host = options.host ?? "127.0.0.1";
  const servers: BridgeServer[] = [];
  let gate: Promise<unknown> | undefined = options.ready?.then(
    () => (gate = undefined),
    () => (gate = undefined),
  );
  const listen = (proto: "http" | "https", where: { port: number; hostname: string }, tls?: TlsFiles): BridgeServer => {
    const dispatcher = new Dispatcher(options.apps, proto, idleTimeout);
    const held = (req: Request, srv: BridgeServer) => {
      srv.timeout(req, 0);
      return gate!.then(() => {
        // Restore it before dispatching: the proxy lifts it again only for exchanges that last, and restores only
        // what it lifted itself, so a lift left in place here would keep this connection open forever when idle.
        srv.timeout(req, idleTimeout);
        return dispatcher.fetch(req, srv);
      });
    };
    const fetch = (req: Request, srv: BridgeServer) => (gate === undefined ? dispatcher.fetch(req, srv) : held(req, srv));
    const error = (err: Error) => new Response(`500 Internal Server Error: ${err.message}\n`, { status: 500 });
    const server = Bun.serve<WebSocketBridge>({ port: where.port, hostname: where.hostname, idleTimeout, tls, fetch, websocket: bridgeHandlers, error });
    servers.push(server);
    return server;
  };
  let front: FastFront | undefined;
  let httpUrl: string;
  if (options.frontEnd === "bun") {
    httpUrl = serverUrl("http", listen("http", { port: options.port, hostname: host }));
  } else {
    // Behind the front end Bun.serve listens on an ephemeral loopback port, not a unix socket: on 1.4.5
    // server.timeout(req, 0) does not lift the idle timeout of a unix-socket connection, and the proxy needs that
    // for cold starts and long bodies. The peer header is trusted by its secret, not by the listener (peer.ts).
    const internal = listen("http", { port: 0, hostname: "127.0.0.1" });
    try {
      front = new FastFront({ hostname: host, port: options.port, apps: options.apps, relayPort: internal.port!, idleTimeout, gated: () => gate !== undefined });
    } catch (err) {
      internal.stop(true);
      throw err;
    }
    httpUrl = urlOf("http", front.hostname, front.port);
  }
  let https: BridgeServer | undefined;
  try {
    if (options.httpsPort !== undefined && options.tls !== undefined) {
      https = listen("https", { port: options.httpsPort, hostname: options.httpsHost ?? host }, options.tls);
    }
  } catch (err) {
    front?.stop(true);
    for (const s of servers) s.stop(true);
    throw err;
  }
  return {
    url: httpUrl,
    httpsUrl: https === undefined ? undefined : serverUrl("https", https),
    apps: options.apps,
    async stop(force = false) {
      front?.stop(force);
      await Promise.all(servers.map((s) => s.stop(force)));
    },
  };
}

function serverUrl(proto: string, server: BridgeServer): string {
  return urlOf(proto, server.hostname ?? "127.0.0.1", server.port ?? 0);
}

function urlOf(proto: string, h: string, port: number): string {
  const host = h.includes(":") ? `[${h}]` : h;
  return `${proto}://${host}:${port}`;
}
