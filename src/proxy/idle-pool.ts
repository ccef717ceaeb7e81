/**
 * Keep-alive connections to upstreams, shared by both HTTP/1.1 upstream clients (h1-client.ts behind Bun.serve,
 * fast-front.ts on raw sockets): idle connections per host:port, and the origin → pool map. Each client subclasses
 * the pool to add how it connects and what "idle" means for its connection's state.
 */

/** Idle upstream connections kept per upstream host:port. */
export const MAX_IDLE = 128;
/** Response heads larger than this are a protocol error; request heads larger go to Bun.serve (431). */
export const MAX_HEAD = 64 * 1024;

export interface PooledConnection {
  socket: { end(): void } | undefined;
  /** Set when a connection is taken from the pool: a failure before any answer may then be retried once. */
  reused: boolean;
  closed: boolean;
}

export class IdlePool<C extends PooledConnection> {
  private readonly idle: C[] = [];

  constructor(
    readonly hostname: string,
    readonly port: number,
  ) {}

  /** An idle connection, or undefined when a new one is needed. */
  take(): C | undefined {
    const conn = this.idle.pop();
    if (conn !== undefined) conn.reused = true;
    return conn;
  }

  /** Back to the pool after an exchange; beyond MAX_IDLE, or when already closed, the connection is ended. */
  release(conn: C): void {
    if (this.idle.length >= MAX_IDLE || conn.closed) conn.socket?.end();
    else this.idle.push(conn);
  }

  /** A connection that closed while idle. */
  forget(conn: C): void {
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }
}

/** One pool per origin ("http://host:port"), made on first use. */
export function poolsByOrigin<P>(make: (hostname: string, port: number) => P): (origin: string) => P {
  const pools = new Map<string, P>();
  return (origin) => {
    let pool = pools.get(origin);
    if (pool === undefined) {
      const u = new URL(origin);
      // URL keeps the brackets of an IPv6 literal; Bun.connect wants the bare address.
      const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
      pool = make(hostname, Number(u.port || 80));
      pools.set(origin, pool);
    }
    return pool;
  };
}
