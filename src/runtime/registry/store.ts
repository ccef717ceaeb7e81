/**
 * The app registry: every app the multi-app server hosts. `AppStore` is the seam; `SqliteAppStore` (bun:sqlite,
 * WAL, the embedded default for one server) is here, `PostgresAppStore` (several servers on one database) in
 * postgres.ts.
 *
 * A row holds what the user said when creating or updating the app (source, spec, params, app-config, container
 * options, approvals); everything derived (the AppConfig, image names, ports) is recomputed at load.
 * Schema changes are numbered migrations (migrations.ts) applied in order; SQLite records the version in
 * PRAGMA user_version.
 */
import { Database } from "bun:sqlite";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { Permission } from "../app-config.ts";
import type { ReachItem } from "../reach.ts";
import { MIGRATIONS } from "./migrations.ts";

/** What the user chose for an app; all strings as typed, parsed again at each load. */
export interface AppMetadata {
  params: Record<string, string>;
  conf: Record<string, string>;
  copts: Record<string, string>;
  cargs: Record<string, string>;
  cvols: string[];
  /** Plugins, permissions and container reach approved by --approve or `app approve`; null when never approved. */
  approved: { loads: string[]; permissions: Permission[]; reach?: ReachItem[] } | null;
  branch: string;
  commit: string;
  /**
   * An `app update-metadata` change refused because it needs approval; `app approve` applies it (built and switched
   * like a reload), a later update-metadata replaces it. Null when none waits.
   */
  pending?: PendingChange | null;
}

/** A refused metadata change waiting for approval: the spec and settings it would give the app. */
export interface PendingChange {
  spec: string;
  conf: Record<string, string>;
  copts: Record<string, string>;
  cargs: Record<string, string>;
  cvols: string[];
  /** What it changes, for people ("copt cap-add: (not set) -> NET_ADMIN"). */
  changes: string[];
}

export interface AppRecord {
  id: string;
  domain: string;
  path: string;
  /** What the user gave: a folder, a git URL, or "-" for none. */
  source: string;
  /** Where the app's files are read from: a copy in the store, a checkout, or the folder itself for dev apps. */
  sourceDir: string | null;
  spec: string;
  dev: boolean;
  metadata: AppMetadata;
  createdAt: string;
  updatedAt: string;
}

export const EMPTY_METADATA: AppMetadata = Object.freeze({
  params: {},
  conf: {},
  copts: {},
  cargs: {},
  cvols: [],
  approved: null,
  branch: "",
  commit: "",
  pending: null,
}) as AppMetadata;

/** A change to the registry, made by this server or another one sharing the registry. */
export type AppChange =
  | { op: "insert" | "update" | "delete"; id: string }
  /** Changes may have been missed (the connection to the database dropped): read the whole registry again. */
  | { op: "resync"; id: "" };

/** What `insert` adds: the record without its timestamps. */
export type NewAppRecord = Omit<AppRecord, "createdAt" | "updatedAt">;

/** The fields an update may change. */
export type AppRecordChange = Partial<Pick<AppRecord, "sourceDir" | "spec" | "metadata">>;

/** Requests to each app across the servers sharing a registry, so that none idles an app another one serves. */
export interface SharedActivity {
  /** Records when this server last had a request for each app (epoch ms). */
  publish(server: string, lastRequestMs: ReadonlyMap<string, number>): Promise<void>;
  /** The latest request any other server recorded for the app (epoch ms; 0 when none). */
  latest(appId: string, exceptServer: string): Promise<number>;
}

/**
 * The app registry, whichever database holds it. Checks that span rows (no two apps on overlapping paths) run
 * inside the database's transaction, so that two creates racing (in one server or in two) cannot both pass.
 */
export interface AppStore {
  /**
   * Set when other servers may share this registry: the same for all of them, so that they recognise each other's
   * containers as theirs (the owner label). Undefined for a registry only one server uses.
   */
  readonly sharedOwner: string | undefined;
  /** Other servers' request activity; undefined for a registry only one server uses. */
  readonly activity: SharedActivity | undefined;
  list(): Promise<AppRecord[]>;
  get(id: string): Promise<AppRecord | null>;
  findByRoute(domain: string, path: string): Promise<AppRecord | null>;
  /** Inserts a new app; `check` sees every app inside the same transaction and throws to refuse the insert. */
  insert(app: NewAppRecord, check?: (existing: AppRecord[]) => void): Promise<AppRecord>;
  update(id: string, change: AppRecordChange): Promise<AppRecord>;
  delete(id: string): Promise<void>;
  /**
   * Calls `onChange` for every committed change, including this server's own (they arrive too; compare
   * `updatedAt`). Resolves once listening. A registry only one server uses has no one else's changes to report.
   */
  watch(onChange: (change: AppChange) => void): Promise<{ close(): Promise<void> }>;
  /** Runs `work` while no other server sharing the registry runs work under the same key (an app's cold start). */
  exclusive<T>(key: string, work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The row as both databases return it. */
export interface AppRow {
  id: string;
  domain: string;
  path: string;
  source: string;
  source_dir: string | null;
  spec: string;
  dev: number;
  metadata: string;
  created_at: string;
  updated_at: string;
}

export function fromRow(row: AppRow): AppRecord {
  return {
    id: row.id,
    domain: row.domain,
    path: row.path,
    source: row.source,
    sourceDir: row.source_dir,
    spec: row.spec,
    dev: row.dev !== 0,
    metadata: { ...EMPTY_METADATA, ...(JSON.parse(row.metadata) as Partial<AppMetadata>) },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The embedded registry: one SQLite file under CL_HOME, for one server. */
export class SqliteAppStore implements AppStore {
  readonly sharedOwner = undefined;
  readonly activity = undefined;
  private readonly db: Database;

  constructor(file: string) {
    if (file !== ":memory:") {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      // Param values (passwords among them) live here: the file is the owner's alone from the start.
      closeSync(openSync(file, "a", 0o600));
    }
    this.db = new Database(file, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
    this.migrate();
  }

  private migrate(): void {
    const { user_version: current } = this.db.query("PRAGMA user_version").get() as { user_version: number };
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        const step = MIGRATIONS[version]!.sqlite;
        if (step) this.db.exec(step);
        this.db.exec(`PRAGMA user_version = ${version + 1}`);
      })();
    }
  }

  private listNow(): AppRecord[] {
    return (this.db.query("SELECT * FROM apps ORDER BY domain, path").all() as AppRow[]).map(fromRow);
  }

  private getNow(id: string): AppRecord | null {
    const row = this.db.query("SELECT * FROM apps WHERE id = ?").get(id) as AppRow | null;
    return row ? fromRow(row) : null;
  }

  async list(): Promise<AppRecord[]> {
    return this.listNow();
  }

  async get(id: string): Promise<AppRecord | null> {
    return this.getNow(id);
  }

  async findByRoute(domain: string, path: string): Promise<AppRecord | null> {
    const row = this.db.query("SELECT * FROM apps WHERE domain = ? AND path = ?").get(domain, path) as AppRow | null;
    return row ? fromRow(row) : null;
  }

  async insert(app: NewAppRecord, check?: (existing: AppRecord[]) => void): Promise<AppRecord> {
    const now = new Date().toISOString();
    // IMMEDIATE: the write lock is taken before the check reads, so a concurrent insert waits for this one.
    this.db.transaction(() => {
      check?.(this.listNow());
      this.db
        .query(
          `INSERT INTO apps (id, domain, path, source, source_dir, spec, dev, metadata, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(app.id, app.domain, app.path, app.source, app.sourceDir, app.spec, app.dev ? 1 : 0, JSON.stringify(app.metadata), now, now);
    }).immediate();
    return this.getNow(app.id)!;
  }

  async update(id: string, change: AppRecordChange): Promise<AppRecord> {
    const current = this.getNow(id);
    if (!current) throw new Error(`no app with id ${id}`);
    const next = { ...current, ...change };
    this.db
      .query("UPDATE apps SET source_dir = ?, spec = ?, metadata = ?, updated_at = ? WHERE id = ?")
      .run(next.sourceDir, next.spec, JSON.stringify(next.metadata), new Date().toISOString(), id);
    return this.getNow(id)!;
  }

  async delete(id: string): Promise<void> {
    this.db.query("DELETE FROM apps WHERE id = ?").run(id);
  }

  /** One server per SQLite registry (the CL_HOME lock): every change is this server's own, already applied. */
  async watch(): Promise<{ close(): Promise<void> }> {
    return { close: async () => {} };
  }

  /** One server: the lifecycle's single-flight start already makes a cold start exclusive. */
  exclusive<T>(_key: string, work: () => Promise<T>): Promise<T> {
    return work();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
