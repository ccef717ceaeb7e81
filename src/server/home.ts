/** Where the server keeps its state: CL_HOME (default ~/clhome), as Clace does. */
import { homedir, hostname } from "node:os";
import { join, resolve } from "node:path";

export interface HomePaths {
  home: string;
  database: string;
  adminSocket: string;
  pidFile: string;
  /** Held by the running server (one per CL_HOME). */
  lockFile: string;
  /** Per-app files: stored sources, rendered secret files. */
  appsDir: string;
  certsDir: string;
  logFile: string;
}

export function homePaths(home: string = process.env.CL_HOME || join(homedir(), "clhome")): HomePaths {
  const root = resolve(home);
  return {
    home: root,
    database: join(root, "clace-lite.db"),
    adminSocket: join(root, "run", "admin.sock"),
    pidFile: join(root, "run", "server.pid"),
    lockFile: join(root, "run", "server.lock"),
    appsDir: join(root, "apps"),
    certsDir: join(root, "config", "certificates"),
    logFile: join(root, "logs", "server.log"),
  };
}

/** The label that tells whose containers these are: `server:<home hash>` or `serve:<app id>`. */
export const LABEL_OWNER = "dev.clace-lite.owner";

export function serverOwner(paths: HomePaths): string {
  return `server:${new Bun.CryptoHasher("sha256").update(paths.home).digest("hex").slice(0, 16)}`;
}

/** How this server names itself to others sharing its registry (their request activity is told apart by it). */
export function serverIdentity(paths: HomePaths): string {
  return `${hostname()}:${paths.home}`;
}
