/** The reference starlark-go (scripts/starlark-ref), built into .tmp/ on first use, for the differential runners. */
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

/** `--ref PATH`, else $STARLARK_REF, else the binary build.sh makes (which needs golang-go and golang-starlark-dev). */
export function referenceBinary(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.STARLARK_REF) return process.env.STARLARK_REF;
  const bin = join(root, ".tmp", "starlark-ref");
  if (!existsSync(bin)) {
    const build = Bun.spawnSync(["sh", join(root, "scripts", "starlark-ref", "build.sh")], { stdout: "inherit", stderr: "inherit" });
    if (build.exitCode !== 0) process.exit(2);
  }
  return bin;
}
