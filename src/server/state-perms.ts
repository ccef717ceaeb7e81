/**
 * State under CL_HOME is private to its owner: the database holds param values (passwords among them), the run
 * folder the admin socket, the certificate folder the TLS key. `server start` makes folders 0700 and state files
 * 0600, and tells which ones it had to tighten (a CL_HOME made by an older setup or by hand). App sources under
 * apps/ keep their modes (they become the build context); the apps folder itself is closed to others.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { HomePaths } from "./home.ts";

function tighten(path: string, mode: number, fixed: string[]): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  if ((st.mode & 0o777 & ~mode) !== 0) {
    chmodSync(path, mode);
    fixed.push(`${path} was ${(st.mode & 0o777).toString(8).padStart(4, "0")}, now ${mode.toString(8).padStart(4, "0")}`);
  }
}

/** Creates CL_HOME if needed and makes its state private; returns a line per path it tightened. */
export function secureStateFiles(paths: HomePaths): string[] {
  const fixed: string[] = [];
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  tighten(paths.home, 0o700, fixed);
  for (const name of readdirSync(paths.home)) {
    const path = join(paths.home, name);
    const st = lstatSync(path);
    if (st.isDirectory()) tighten(path, 0o700, fixed);
    else if (st.isFile()) tighten(path, 0o600, fixed);
  }
  for (const dir of [join(paths.home, "run"), paths.certsDir, join(paths.home, "logs")]) {
    if (!existsSync(dir)) continue;
    tighten(dir, 0o700, fixed);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (st.isFile()) tighten(path, 0o600, fixed);
      else if (st.isDirectory()) tighten(path, 0o700, fixed);
    }
  }
  return fixed;
}
