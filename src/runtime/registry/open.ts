/** Opens the registry the server config names: SQLite under CL_HOME by default, or a shared PostgreSQL. */
import { isPostgresUrl, PostgresAppStore, RegistryError, redactUrl } from "./postgres.ts";
import { SqliteAppStore, type AppStore } from "./store.ts";

/**
 * `db` is the config's `[metadata] db`: "" for the embedded SQLite file `sqliteFile`, or a `postgres://` URL.
 * Anything else is a RegistryError that says what is accepted.
 */
export async function openAppStore(db: string, sqliteFile: string): Promise<AppStore> {
  if (db === "") return new SqliteAppStore(sqliteFile);
  if (isPostgresUrl(db)) return PostgresAppStore.connect(db);
  throw new RegistryError(`unsupported registry "${redactUrl(db)}": leave db empty for the embedded SQLite registry, or give a postgres://user@host:port/database URL`);
}
