/**
 * One server per CL_HOME: `server start` takes an exclusive lock on `run/server.lock` before it touches anything
 * else, and holds it for its lifetime. The kernel drops the lock when the process ends, however it ends (even
 * kill -9), so a crash never leaves a stale lock behind. The file also holds the owner's pid, for the message a
 * second start prints.
 *
 * The lock is flock(2) through libc; where libc cannot be opened the fallback is an exclusively created file
 * whose pid is checked for liveness.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export class ServerLockedError extends Error {
  constructor(
    readonly pid: number | null,
    readonly home: string,
  ) {
    super(
      `a clace-lite server${pid ? ` (pid ${pid})` : ""} is already running for ${home}; stop it with: clace-lite server stop` +
        (pid ? ` (or kill ${pid})` : ""),
    );
    this.name = "ServerLockedError";
  }
}

export interface ServerLock {
  release(): void;
}

const LOCK_EX = 2;
const LOCK_NB = 4;

type Flock = (fd: number, op: number) => number;
let flockFn: Flock | null | undefined;

function flock(): Flock | null {
  if (flockFn !== undefined) return flockFn;
  try {
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    const lib = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    });
    flockFn = (fd, op) => lib.symbols.flock(fd, op) as number;
  } catch {
    flockFn = null;
  }
  return flockFn;
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lock or throws ServerLockedError naming the running server's pid. */
export function acquireServerLock(lockFile: string, home: string): ServerLock {
  mkdirSync(dirname(lockFile), { recursive: true, mode: 0o700 });
  const lockFn = flock();
  if (lockFn) {
    const fd = openSync(lockFile, "a+", 0o600);
    if (lockFn(fd, LOCK_EX | LOCK_NB) !== 0) {
      closeSync(fd);
      throw new ServerLockedError(readPid(lockFile), home);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
    // The descriptor stays open (and locked) until the process exits; release() is for tests and clean stops.
    return {
      release() {
        closeSync(fd);
      },
    };
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lockFile, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => rmSync(lockFile, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw new ServerLockedError(readPid(lockFile), home);
      const pid = readPid(lockFile);
      if (pid !== null && alive(pid)) throw new ServerLockedError(pid, home);
      rmSync(lockFile, { force: true }); // left by a server that crashed
    }
  }
}
