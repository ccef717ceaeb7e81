/**
 * The WebSocket bridge. Bun cannot pass a raw 101 through, so the proxy terminates the client's socket and opens
 * its own to the upstream: upstream first (so that the subprotocol the upstream picked is the one the client gets),
 * then `server.upgrade`. Frames, close codes and reasons are relayed both ways; a side that cannot keep up pauses
 * the other one. The bridge counts as an open stream for idle accounting while it lives.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { badGatewayPage, errorResponse, readinessErrorPage } from "./errors.ts";
import { upstreamRequestHeaders } from "./headers.ts";
import { clientIp, upstreamPath, type ProxyExchange } from "./http-proxy.ts";
import type { AppUpstream, ReadyUrlProbe } from "./upstream.ts";

/** Above this many unsent bytes towards the upstream, stop reading from the client until it drains. */
const UPSTREAM_HIGH_WATER = 1 << 20;
const DRAIN_POLL_MS = 5;
/** Messages from the upstream before the client socket is open: bounded, the handshake is quick. */
const MAX_EARLY_MESSAGES = 1024;

/** Request headers that belong to the handshake itself: Bun's WebSocket client writes its own. */
const HANDSHAKE_HEADERS = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"];

export class WebSocketBridge {
  client: ServerWebSocket<WebSocketBridge> | undefined;
  private early: (string | Buffer)[] = [];
  private ended = false;
  /** The upstream's close, when it came before the client socket opened. */
  private upstreamClose: [number, string] | undefined;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly upstreamSocket: WebSocket,
    private readonly upstream: AppUpstream,
  ) {}

  /** Upstream → client. */
  fromUpstream(data: string | Buffer): void {
    const client = this.client;
    if (client === undefined) {
      if (this.early.length < MAX_EARLY_MESSAGES) this.early.push(data);
      else this.upstreamSocket.pause();
      return;
    }
    // -1: queued under backpressure; stop reading the upstream until the client drains (see clientDrained).
    if (client.send(data) === -1) this.upstreamSocket.pause();
  }

  clientOpened(ws: ServerWebSocket<WebSocketBridge>): void {
    this.client = ws;
    const early = this.early;
    this.early = [];
    for (const data of early) this.fromUpstream(data);
    if (this.upstreamClose !== undefined) {
      this.upstreamClosed(this.upstreamClose[0], this.upstreamClose[1]);
      return;
    }
    if (this.upstreamSocket.isPaused) this.upstreamSocket.resume();
  }

  clientDrained(): void {
    if (this.upstreamSocket.isPaused) this.upstreamSocket.resume();
  }

  /** Client → upstream. */
  fromClient(ws: ServerWebSocket<WebSocketBridge>, data: string | Buffer): void {
    const up = this.upstreamSocket;
    if (up.readyState !== WebSocket.OPEN) return;
    up.send(data);
    if (up.bufferedAmount > UPSTREAM_HIGH_WATER && this.drainTimer === undefined) {
      ws.pause();
      this.drainTimer = setTimeout(pollUpstreamDrain, DRAIN_POLL_MS, this);
    }
  }

  /** Called by the drain poll: resume the client once the upstream has written its backlog. */
  checkUpstreamDrain(): void {
    this.drainTimer = undefined;
    const client = this.client;
    if (this.ended || client === undefined) return;
    if (this.upstreamSocket.bufferedAmount > UPSTREAM_HIGH_WATER / 2) {
      this.drainTimer = setTimeout(pollUpstreamDrain, DRAIN_POLL_MS, this);
    } else {
      client.resume();
    }
  }

  clientClosed(code: number, reason: string): void {
    const up = this.upstreamSocket;
    if (up.readyState === WebSocket.OPEN || up.readyState === WebSocket.CONNECTING) {
      const c = sendableCode(code);
      if (c === undefined) up.close();
      else up.close(c, trimReason(reason));
    }
    this.end();
  }

  upstreamClosed(code: number, reason: string): void {
    const client = this.client;
    if (client === undefined) this.upstreamClose = [code, reason];
    else if (client.readyState === 1 /* OPEN */) {
      // 1006 (no close frame: the upstream died) is not sendable; 1011 says "server error" to the client.
      const c = code === 1006 ? 1011 : sendableCode(code);
      if (c === undefined) client.close();
      else client.close(c, trimReason(reason));
    }
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    this.upstream.closeStream();
  }
}

function pollUpstreamDrain(bridge: WebSocketBridge): void {
  bridge.checkUpstreamDrain();
}

/** Codes an endpoint may put in a close frame; 1005/1006/1015 describe a close without one. */
function sendableCode(code: number): number | undefined {
  if (code === 1000 || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006)) return code;
  if (code >= 3000 && code <= 4999) return code;
  return undefined;
}

/** Close reasons are limited to 123 bytes of UTF-8. */
function trimReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

/** The server-side handlers: one object for the whole server, each socket carries its bridge as `data`. */
export const bridgeHandlers: WebSocketHandler<WebSocketBridge> = {
  open(ws) {
    ws.data.clientOpened(ws);
  },
  message(ws, message) {
    ws.data.fromClient(ws, message);
  },
  drain(ws) {
    ws.data.clientDrained();
  },
  close(ws, code, reason) {
    ws.data.clientClosed(code, reason);
  },
};

/**
 * Handle an upgrade request: wait for the app, connect upstream, then upgrade the client. Returns undefined once
 * upgraded (Bun then owns the socket) or an error response.
 */
export async function bridgeWebSocket(x: ProxyExchange): Promise<Response | undefined> {
  const { req, server, route } = x;
  const upstream = route.upstream;
  upstream.beginRequest();
  server.timeout(req, 0);
  let base = (upstream as Partial<ReadyUrlProbe>).readyUrl?.();
  if (base === undefined) {
    try {
      base = await upstream.ensureReady(req.signal);
    } catch (err) {
      upstream.endRequest();
      return errorResponse(readinessErrorPage(err, x.app.name), req.headers.get("accept"));
    }
  }

  const headers = upstreamRequestHeaders(req.headers, {
    clientIp: clientIp(server, req),
    proto: x.proto,
    host: req.headers.get("host") ?? "",
    prefix: x.app.prefix,
    preserveHost: route.preserveHost,
  });
  for (const name of HANDSHAKE_HEADERS) headers.delete(name);
  const offered = req.headers.get("sec-websocket-protocol");
  const protocols = offered === null ? [] : offered.split(",").map((p) => p.trim()).filter((p) => p !== "");
  const target = `ws${base.slice(4)}${upstreamPath(x.path, route)}${x.query}`;

  let socket: WebSocket;
  let bridge: WebSocketBridge;
  try {
    socket = new WebSocket(target, { headers: Object.fromEntries(headers), protocols } as unknown as string[]);
    socket.binaryType = "nodebuffer";
    bridge = new WebSocketBridge(socket, upstream);
    await upstreamOpen(socket, bridge);
  } catch (err) {
    upstream.endRequest();
    return errorResponse(badGatewayPage(x.app.name, err), req.headers.get("accept"));
  }

  upstream.openStream();
  upstream.endRequest();
  const selected = socket.protocol;
  const upgraded = server.upgrade(req, {
    data: bridge,
    headers: selected === "" ? undefined : { "sec-websocket-protocol": selected },
  });
  if (!upgraded) {
    bridge.clientClosed(1011, "");
    return new Response("WebSocket upgrade failed\n", { status: 400 });
  }
  return undefined;
}

/** Resolves when the upstream socket opens; then wires its events to the bridge. */
function upstreamOpen(socket: WebSocket, bridge: WebSocketBridge): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let opened = false;
    socket.onopen = () => {
      opened = true;
      resolve();
    };
    socket.onmessage = (ev) => bridge.fromUpstream(ev.data as string | Buffer);
    socket.onerror = (ev) => {
      if (!opened) reject(new Error((ev as ErrorEvent).message || "WebSocket connection to the app failed"));
    };
    socket.onclose = (ev) => {
      if (!opened) reject(new Error(`WebSocket connection to the app closed (${ev.code})`));
      else bridge.upstreamClosed(ev.code, ev.reason);
    };
  });
}
