/**
 * The registry's schema, one numbered migration at a time, for both databases it lives in: SQLite (embedded, one
 * server) and PostgreSQL (shared by several servers). The tables are written once in SQL both accept; what only
 * one of them needs (PostgreSQL's change notifications) is empty for the other, so the version numbers stay equal.
 */
export interface Migration {
  /** What the step does, for errors. */
  what: string;
  sqlite: string;
  postgres: string;
}

/** The channel PostgreSQL announces app changes on: a JSON payload `{"op": "insert|update|delete", "id": ...}`. */
export const APPS_CHANNEL = "clace_lite_apps";

const APPS_TABLE = `CREATE TABLE apps (
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
   )`;

/** When each server last had a request for each app: servers sharing a registry idle an app only when all do. */
const ACTIVITY_TABLE = `CREATE TABLE app_activity (
     app_id           TEXT NOT NULL,
     server           TEXT NOT NULL,
     last_request_ms  BIGINT NOT NULL,
     PRIMARY KEY (app_id, server)
   )`;

export const MIGRATIONS: readonly Migration[] = [
  { what: "the apps table", sqlite: APPS_TABLE, postgres: APPS_TABLE },
  {
    what: "change notifications",
    sqlite: "",
    // Sent by the database itself at commit, whichever server (or psql session) made the change.
    postgres: `CREATE FUNCTION clace_lite_apps_changed() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' THEN
           PERFORM pg_notify('${APPS_CHANNEL}', json_build_object('op', 'delete', 'id', OLD.id)::text);
         ELSE
           PERFORM pg_notify('${APPS_CHANNEL}', json_build_object('op', lower(TG_OP), 'id', NEW.id)::text);
         END IF;
         RETURN NULL;
       END $$;
     CREATE TRIGGER apps_changed AFTER INSERT OR UPDATE OR DELETE ON apps
       FOR EACH ROW EXECUTE FUNCTION clace_lite_apps_changed();`,
  },
  {
    what: "request activity per app and server",
    sqlite: ACTIVITY_TABLE,
    postgres: ACTIVITY_TABLE,
  },
];
