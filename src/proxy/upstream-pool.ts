/**
 * Connections to upstreams: raw `Bun.connect` sockets kept alive per host:port and lent to one exchange at a time.
 * A connection knows only its socket and its current owner; the exchange does all the HTTP (exchange.ts).
 * Each mounted app has its own pools (UpstreamPools), sized by its proxy.max_idle_conns and
 * proxy.idle_conn_timeout_secs, as Clace gives each app its own transport.
 */
import type { Socket } from "bun";
import { Outbox } from "./outbox.ts";

/** How many idle connections a pool keeps and for how long; unset fields take the defaults. */
export interface PoolLimits {
  /** Idle connections kept per upstream host:port; 0 means Go's per-host default of 2, which is what Clace gets. */
  maxIdleConns?: number;
  /** Seconds an idle connection stays open; 0: until the upstream closes it. */
  idleConnTimeoutSecs?: number;
}

/** Idle connections kept per upstream host:port when the app does not say. */
const DEFAULT_MAX_IDLE = 1024;
/** Clace's proxy.max_idle_conns=0 leaves Go's transport at its default of two idle connections per host. */
const GO_DEFAULT_IDLE_PER_HOST = 2;
/** An idle connection older than this is closed: app servers close theirs after a few seconds anyway. */
const DEFAULT_IDLE_SECS = 30;

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
  /** Oldest first: exchanges take the newest, the sweep closes from the front. */
  private readonly idle: UpstreamConn[] = [];
  private readonly maxIdle: number;
  /** 0: idle connections are kept until the upstream closes them. */
  private readonly idleMs: number;
  private sweepTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly sweepBound = () => this.sweep();

  constructor(
    readonly hostname: string,
    readonly port: number,
    /** https upstreams (a proxy route to an https URL): TLS with the host name for SNI and verification. */
    readonly tls: boolean,
    limits: PoolLimits = {},
  ) {
    const max = limits.maxIdleConns ?? DEFAULT_MAX_IDLE;
    this.maxIdle = max === 0 ? GO_DEFAULT_IDLE_PER_HOST : max;
    this.idleMs = (limits.idleConnTimeoutSecs ?? DEFAULT_IDLE_SECS) * 1000;
  }

  /** Idle connections held now (for tests and status). */
  get idleCount(): number {
    return this.idle.length;
  }

  /** An idle connection for `owner`, or undefined when a new one is needed. */
  take(owner: UpstreamOwner): UpstreamConn | undefined {
    const now = Date.now();
    for (;;) {
      const conn = this.idle.pop();
      if (conn === undefined) return undefined;
      if (conn.closed) continue;
      if (this.idleMs > 0 && now - conn.idleSince >= this.idleMs) {
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

  /** Back to the pool after a complete exchange; beyond the pool's limit, or when closed, it is ended. */
  release(conn: UpstreamConn): void {
    conn.owner = undefined;
    if (conn.closed) return;
    if (this.idle.length >= this.maxIdle || conn.out.pending) {
      conn.destroy();
      return;
    }
    conn.idleSince = Date.now();
    // An idle connection alone does not keep the process running (a stopped server exits at once).
    conn.socket?.unref();
    this.idle.push(conn);
    if (this.idleMs > 0 && this.sweepTimer === undefined) this.scheduleSweep(this.idleMs);
  }

  /** A connection that closed while idle. */
  forget(conn: UpstreamConn): void {
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Closes what has been idle for the timeout; one timer per pool, due when the oldest idle connection expires. */
  private sweep(): void {
    this.sweepTimer = undefined;
    const now = Date.now();
    let expired = 0;
    while (expired < this.idle.length && now - this.idle[expired]!.idleSince >= this.idleMs) expired++;
    for (const conn of this.idle.splice(0, expired)) conn.destroy();
    const oldest = this.idle[0];
    if (oldest !== undefined) this.scheduleSweep(oldest.idleSince + this.idleMs - now);
  }

  private scheduleSweep(delayMs: number): void {
    this.sweepTimer = setTimeout(this.sweepBound, Math.max(delayMs, 1));
    this.sweepTimer.unref();
  }
}

/** One app's pools: one per upstream origin it proxies to, all with the app's limits. */
export class UpstreamPools {
  private readonly pools = new Map<string, UpstreamPool>();

  constructor(readonly limits: PoolLimits = {}) {}

  /** The pool for an origin ("http://host:port" or "https://host"), made on first use. */
  for(origin: string): UpstreamPool {
    let pool = this.pools.get(origin);
    if (pool === undefined) {
      const u = new URL(origin);
      // URL keeps the brackets of an IPv6 literal; Bun.connect wants the bare address.
      const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
      const tls = u.protocol === "https:";
      pool = new UpstreamPool(hostname, Number(u.port || (tls ? 443 : 80)), tls, this.limits);
      this.pools.set(origin, pool);
    }
    return pool;
  }
}
