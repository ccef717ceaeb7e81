/** Test helpers: throwaway app folders and error capture. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { RuntimeError } from "../../src/runtime/errors.ts";

const made: string[] = [];

export function makeApp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "clace-lite-app-"));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export function cleanupApps(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function runtimeError(f: () => unknown): RuntimeError {
  try {
    f();
  } catch (e) {
    if (e instanceof RuntimeError) return e;
    throw e;
  }
  throw new Error("expected a RuntimeError, but the call succeeded");
}

export const PROXY_APP_HEAD = 'load("proxy.in", "proxy")\nload("container.in", "container")\n';
