/**
 * The registry in PostgreSQL, for several servers sharing one set of apps (`[metadata] db = "postgres://..."`),
 * through Bun's built-in SQL client.
 *
 * - The same migrations as SQLite, applied by whichever server starts first (an advisory lock keeps a second one
 *   waiting), with the version in `clace_lite_schema`.
 * - Creates are serialised by a table lock taken before the overlap check reads, so two servers creating apps on
 *   the same or overlapping paths at once cannot both pass; the unique (domain, path) constraint backs it.
 * - Every committed change is announced by a trigger (NOTIFY on `clace_lite_apps`); `watch` LISTENs on a
 *   dedicated connection, which Bun's client reconnects, and asks for a full re-read after each reconnect since
 *   notifications sent meanwhile are lost.
 * - `exclusive` holds a session advisory lock keyed by the app on a reserved connection: one cold start of an app
 *   at a time across servers. A server that dies holding it loses its connection, and with it the lock.
 */
import { SQL, type ReservedSQL } from "bun";
import { APPS_CHANNEL, MIGRATIONS } from "./migrations.ts";
import { fromRow, type AppChange, type AppRecord, type AppRecordChange, type AppRow, type AppStore, type NewAppRecord, type SharedActivity } from "./store.ts";

/** The first key of every advisory lock the registry takes ("CL"), so that other users of the database differ. */
const LOCK_CLASS = 0x434c;
const MIGRATION_LOCK = 0;

/** A registry that cannot be reached or read; the message names the database without its password. */
export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RegistryError";
  }
}

/** The URL as it may be shown: without a password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}

export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

export class PostgresAppStore implements AppStore {
  readonly activity: SharedActivity;

  private constructor(
    private readonly sql: SQL,
    readonly sharedOwner: string,
  ) {
    this.activity = {
      publish: async (server, lastRequestMs) => {
        if (lastRequestMs.size === 0) return;
        const rows = [...lastRequestMs].map(([appId, ms]) => ({ app_id: appId, server, last_request_ms: Math.round(ms) }));
        await sql`
          INSERT INTO app_activity ${sql(rows)}
          ON CONFLICT (app_id, server) DO UPDATE SET last_request_ms = GREATEST(app_activity.last_request_ms, EXCLUDED.last_request_ms)`;
      },
      latest: async (appId, exceptServer) => {
        const [row] = await sql<{ ms: string | number | null }[]>`
          SELECT max(last_request_ms) AS ms FROM app_activity WHERE app_id = ${appId} AND server <> ${exceptServer}`;
        return row?.ms == null ? 0 : Number(row.ms);
      },
    };
  }

  /** Connects, migrates, and reads the registry's identity; fails with a RegistryError saying what was wrong. */
  static async connect(url: string): Promise<PostgresAppStore> {
    if (!isPostgresUrl(url)) throw new RegistryError(`not a PostgreSQL URL: ${redactUrl(url)} (expected postgres://user@host:port/database)`);
    const sql = new SQL(url, { max: 20, idleTimeout: 60, connectionTimeout: 10 });
    try {
      const registryId = await migrate(sql);
      return new PostgresAppStore(sql, `registry:${registryId}`);
    } catch (err) {
      await sql.close().catch(() => {});
      throw new RegistryError(`cannot use the registry at ${redactUrl(url)}: ${(err as Error).message}`);
    }
  }

  async list(): Promise<AppRecord[]> {
    const rows = await this.sql<AppRow[]>`SELECT * FROM apps ORDER BY domain COLLATE "C", path COLLATE "C"`;
    return rows.map(fromRow);
  }

  async get(id: string): Promise<AppRecord | null> {
    const [row] = await this.sql<AppRow[]>`SELECT * FROM apps WHERE id = ${id}`;
    return row ? fromRow(row) : null;
  }

  async findByRoute(domain: string, path: string): Promise<AppRecord | null> {
    const [row] = await this.sql<AppRow[]>`SELECT * FROM apps WHERE domain = ${domain} AND path = ${path}`;
    return row ? fromRow(row) : null;
  }

  async insert(app: NewAppRecord, check?: (existing: AppRecord[]) => void): Promise<AppRecord> {
    const now = new Date().toISOString();
    const row = await this.sql.begin(async (tx) => {
      // Conflicts with itself, not with readers: inserts queue here, and the check below reads what the one
      // before committed (each statement of a READ COMMITTED transaction sees the latest commits).
      await tx`LOCK TABLE apps IN SHARE ROW EXCLUSIVE MODE`;
      if (check) check((await tx<AppRow[]>`SELECT * FROM apps ORDER BY domain COLLATE "C", path COLLATE "C"`).map(fromRow));
      const [inserted] = await tx<AppRow[]>`
        INSERT INTO apps (id, domain, path, source, source_dir, spec, dev, metadata, created_at, updated_at)
        VALUES (${app.id}, ${app.domain}, ${app.path}, ${app.source}, ${app.sourceDir}, ${app.spec}, ${app.dev ? 1 : 0},
                ${JSON.stringify(app.metadata)}, ${now}, ${now})
        RETURNING *`;
      return inserted!;
    });
    return fromRow(row);
  }

  async update(id: string, change: AppRecordChange): Promise<AppRecord> {
    const row = await this.sql.begin(async (tx) => {
      const [current] = await tx<AppRow[]>`SELECT * FROM apps WHERE id = ${id} FOR UPDATE`;
      if (!current) throw new Error(`no app with id ${id}`);
      const next = { ...fromRow(current), ...change };
      const [updated] = await tx<AppRow[]>`
        UPDATE apps SET source_dir = ${next.sourceDir}, spec = ${next.spec}, metadata = ${JSON.stringify(next.metadata)},
                        updated_at = ${new Date().toISOString()}
        WHERE id = ${id} RETURNING *`;
      return updated!;
    });
    return fromRow(row);
  }

  async delete(id: string): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`DELETE FROM app_activity WHERE app_id = ${id}`;
      await tx`DELETE FROM apps WHERE id = ${id}`;
    });
  }

  async watch(onChange: (change: AppChange) => void): Promise<{ close(): Promise<void> }> {
    let listening = false;
    const subscription = await this.sql.listen(
      APPS_CHANNEL,
      (payload) => {
        const change = parseChange(payload);
        if (change) onChange(change);
      },
      () => {
        // After a reconnect: what changed while the connection was down was not announced to us.
        if (listening) onChange({ op: "resync", id: "" });
        listening = true;
      },
    );
    return { close: () => subscription.unlisten() };
  }

  /**
   * With the database unreachable the work runs without the lock: apps keep starting, and on one engine the
   * container's name still makes a second start adopt the first one's container.
   */
  async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    let conn: ReservedSQL | undefined;
    try {
      conn = await this.sql.reserve();
      await conn`SELECT pg_advisory_lock(${LOCK_CLASS}, hashtext(${key}))`;
    } catch {
      release(conn);
      return work();
    }
    const held = conn;
    try {
      return await work();
    } finally {
      await held`SELECT pg_advisory_unlock(${LOCK_CLASS}, hashtext(${key}))`.catch(() => {});
      release(held);
    }
  }

  async close(): Promise<void> {
    await this.sql.close({ timeout: 2 });
  }
}

/** Gives a reserved connection back; one the database closed meanwhile may refuse, and is gone either way. */
function release(conn: ReservedSQL | undefined): void {
  try {
    conn?.release();
  } catch {
    // Closed by the server: nothing to give back.
  }
}

function parseChange(payload: string): AppChange | null {
  try {
    const { op, id } = JSON.parse(payload) as { op?: unknown; id?: unknown };
    if ((op === "insert" || op === "update" || op === "delete") && typeof id === "string") return { op, id };
  } catch {
    // Not ours: someone else NOTIFYing on the channel.
  }
  return null;
}

/** Applies the migrations not applied yet, one server at a time; returns the registry's identity. */
async function migrate(sql: SQL): Promise<string> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS clace_lite_schema (version INTEGER NOT NULL, registry_id TEXT NOT NULL)`;
    let [state] = await tx<{ version: number; registry_id: string }[]>`SELECT version, registry_id FROM clace_lite_schema`;
    if (!state) {
      [state] = await tx<{ version: number; registry_id: string }[]>`
        INSERT INTO clace_lite_schema (version, registry_id)
        VALUES (0, substr(md5(random()::text || clock_timestamp()::text), 1, 16))
        RETURNING version, registry_id`;
    }
    if (state!.version > MIGRATIONS.length) {
      throw new Error(`its schema is version ${state!.version}, newer than this clace-lite knows (${MIGRATIONS.length}): upgrade clace-lite`);
    }
    for (let version = state!.version; version < MIGRATIONS.length; version++) {
      const step = MIGRATIONS[version]!;
      try {
        if (step.postgres) await tx.unsafe(step.postgres);
      } catch (err) {
        throw new Error(`migration ${version + 1} (${step.what}) failed: ${(err as Error).message}`);
      }
      await tx`UPDATE clace_lite_schema SET version = ${version + 1}`;
    }
    return state!.registry_id;
  });
}
