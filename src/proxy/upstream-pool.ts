/**
 * Connections to upstreams: raw `Bun.connect` sockets kept alive per host:port and lent to one exchange at a time.
 * A connection knows only its socket and its current owner; the exchange does all the HTTP (exchange.ts).
 */
import type { Socket } from "bun";
import { Outbox } from "./outbox.ts";

/** Idle connections kept per upstream host:port. */
const MAX_IDLE = 1024;
/** An idle connection older than this is closed instead of reused: app servers close theirs after a few seconds. */
const MAX_IDLE_MS = 30_000;

/** What an exchange implements to receive its connection's events. */
export interface UpstreamOwner {
  onUpData(data: Buffer): void;
  onUpDrain(): void;
  onUpClose(err: Error | undefined): void;
}

export class UpstreamConn {
  socket: Socket<UpstreamConn> | undefined;
  owner: UpstreamOwner | undefined;
  /** Taken from the pool (it served an exchange before): a close before any answer may be a stale connection. */
  reused = false;
  closed = false;
  idleSince = 0;
  readonly out = new Outbox();

  constructor(readonly pool: UpstreamPool) {}

  /** false when the socket is backed up; the owner gets onUpDrain when it is not. */
  send(bytes: Uint8Array | string): boolean {
    if (this.closed || this.socket === undefined) return true;
    return this.out.send(this.socket, bytes);
  }

  /** Close at once (mid-message: the connection cannot be reused). */
  destroy(): void {
    this.owner = undefined;
    if (!this.closed) {
      this.closed = true;
      this.socket?.terminate();
    }
  }
}

const handlers = {
  data(socket: Socket<UpstreamConn>, data: Buffer) {
    const conn = socket.data;
    if (conn.owner !== undefined) conn.owner.onUpData(data);
    // Bytes on an idle connection: it cannot be trusted any more.
    else conn.destroy();
  },
  drain(socket: Socket<UpstreamConn>) {
    const conn = socket.data;
    if (conn.out.flush(socket)) conn.owner?.onUpDrain();
  },
  close(socket: Socket<UpstreamConn>, err?: Error) {
    closed(socket.data, err);
  },
  error(socket: Socket<UpstreamConn>, err: Error) {
    closed(socket.data, err);
  },
};

function closed(conn: UpstreamConn, err: Error | undefined): void {
  const owner = conn.owner;
  conn.closed = true;
  conn.owner = undefined;
  conn.out.clear();
  if (owner !== undefined) owner.onUpClose(err);
  else conn.pool.forget(conn);
}

export class UpstreamPool {
  private readonly idle: UpstreamConn[] = [];

  constructor(
    readonly hostname: string,
    readonly port: number,
    /** https upstreams (a proxy route to an https URL): TLS with the host name for SNI and verification. */
    readonly tls: boolean,
  ) {}

  /** An idle connection for `owner`, or undefined when a new one is needed. */
  take(owner: UpstreamOwner): UpstreamConn | undefined {
    const now = Date.now();
    for (;;) {
      const conn = this.idle.pop();
      if (conn === undefined) return undefined;
      if (conn.closed) continue;
      if (now - conn.idleSince > MAX_IDLE_MS) {
        conn.destroy();
        continue;
      }
      conn.reused = true;
      conn.owner = owner;
      conn.socket?.ref();
      return conn;
    }
  }

  /** A new connection for `owner`. */
  connect(owner: UpstreamOwner): Promise<UpstreamConn> {
    const conn = new UpstreamConn(this);
    conn.owner = owner;
    const tls = this.tls ? { serverName: this.hostname } : undefined;
    return Bun.connect<UpstreamConn>({ hostname: this.hostname, port: this.port, tls, data: conn, socket: handlers }).then((socket) => {
      conn.socket = socket;
      socket.setNoDelay(true);
      return conn;
    });
  }

  /** Back to the pool after a complete exchange; beyond MAX_IDLE, or when closed, it is ended. */
  release(conn: UpstreamConn): void {
    conn.owner = undefined;
    if (conn.closed) return;
    if (this.idle.length >= MAX_IDLE || conn.out.pending) {
      conn.destroy();
      return;
    }
    conn.idleSince = Date.now();
    // An idle connection alone does not keep the process running (a stopped server exits at once).
    conn.socket?.unref();
    this.idle.push(conn);
  }

  /** A connection that closed while idle. */
  forget(conn: UpstreamConn): void {
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }
}

const pools = new Map<string, UpstreamPool>();

/** The pool for an origin ("http://host:port" or "https://host"), made on first use. */
export function poolFor(origin: string): UpstreamPool {
  let pool = pools.get(origin);
  if (pool === undefined) {
    const u = new URL(origin);
    // URL keeps the brackets of an IPv6 literal; Bun.connect wants the bare address.
    const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
    const tls = u.protocol === "https:";
    pool = new UpstreamPool(hostname, Number(u.port || (tls ? 443 : 80)), tls);
    pools.set(origin, pool);
  }
  return pool;
}
