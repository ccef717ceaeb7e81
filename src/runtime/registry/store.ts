/**
 * The app registry: every app the multi-app server hosts, persisted in SQLite (bun:sqlite, WAL).
 *
 * A row holds what the user said when creating or updating the app (source, spec, params, app-config, container
 * options, approvals); everything derived (the AppConfig, image names, ports) is recomputed at load.
 * Schema changes are numbered migrations applied in order and recorded in PRAGMA user_version.
 */
import { Database } from "bun:sqlite";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { Permission } from "../app-config.ts";
import type { ReachItem } from "../reach.ts";

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

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE apps (
     id          TEXT PRIMARY KEY,
     domain      TEXT NOT NULL,
     path        TEXT NOT NULL,
     source      TEXT NOT NULL,
     source_dir  TEXT,
     spec        TEXT NOT NULL DEFAULT '',
     dev         INTEGER NOT NULL DEFAULT 0,
     metadata    TEXT NOT NULL,
     created_at  TEXT NOT NULL,
     updated_at  TEXT NOT NULL,
     UNIQUE (domain, path)
   )`,
];

interface AppRow {
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

function fromRow(row: AppRow): AppRecord {
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

export class AppStore {
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
        this.db.exec(MIGRATIONS[version]!);
        this.db.exec(`PRAGMA user_version = ${version + 1}`);
      })();
    }
  }

  list(): AppRecord[] {
    return (this.db.query("SELECT * FROM apps ORDER BY domain, path").all() as AppRow[]).map(fromRow);
  }

  get(id: string): AppRecord | null {
    const row = this.db.query("SELECT * FROM apps WHERE id = ?").get(id) as AppRow | null;
    return row ? fromRow(row) : null;
  }

  findByRoute(domain: string, path: string): AppRecord | null {
    const row = this.db.query("SELECT * FROM apps WHERE domain = ? AND path = ?").get(domain, path) as AppRow | null;
    return row ? fromRow(row) : null;
  }

  /** Inserts a new app; `check` runs inside the same transaction so two concurrent creates cannot both pass it. */
  insert(app: Omit<AppRecord, "createdAt" | "updatedAt">, check?: (existing: AppRecord[]) => void): AppRecord {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      check?.(this.list());
      this.db
        .query(
          `INSERT INTO apps (id, domain, path, source, source_dir, spec, dev, metadata, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(app.id, app.domain, app.path, app.source, app.sourceDir, app.spec, app.dev ? 1 : 0, JSON.stringify(app.metadata), now, now);
    }).immediate();
    return this.get(app.id)!;
  }

  update(id: string, change: Partial<Pick<AppRecord, "sourceDir" | "spec" | "metadata">>): AppRecord {
    const current = this.get(id);
    if (!current) throw new Error(`no app with id ${id}`);
    const next = { ...current, ...change };
    this.db
      .query("UPDATE apps SET source_dir = ?, spec = ?, metadata = ?, updated_at = ? WHERE id = ?")
      .run(next.sourceDir, next.spec, JSON.stringify(next.metadata), new Date().toISOString(), id);
    return this.get(id)!;
  }

  delete(id: string): void {
    this.db.query("DELETE FROM apps WHERE id = ?").run(id);
  }

  close(): void {
    this.db.close();
  }
}
