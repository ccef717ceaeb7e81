/**
 * The app specs (ready-made app.star + params.star + Containerfile templates). The bundled ones are read from the
 * embedded bundle, so a compiled binary has them too. As in Clace, a folder `$CL_HOME/config/appspecs/NAME` is a
 * custom spec: it adds NAME, or replaces the bundled spec of that name as a whole. A spec's folder on disk (needed
 * as a build context) is written once into a content-addressed cache directory.
 */
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { RuntimeError } from "./errors.ts";
import { SPEC_FILES } from "./specs-bundle.ts";

export interface SpecInfo {
  name: string;
  /** File names in the spec, sorted. */
  files: readonly string[];
  /** Where it comes from: bundled with clace-lite, or a folder under $CL_HOME/config/appspecs. */
  origin: "bundled" | "custom";
}

export interface Spec extends SpecInfo {
  /** File name → content. */
  contents: Readonly<Record<string, string>>;
}

/** Where custom specs live: $CL_HOME/config/appspecs (CL_HOME defaulting to ~/clhome, as the server's). */
export function customSpecsDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(env.CL_HOME || join(homedir(), "clhome"), "config", "appspecs");
}

const SPEC_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function customSpecNames(): string[] {
  const dir = customSpecsDir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => SPEC_NAME.test(n) && isDir(join(dir, n)));
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A custom spec folder's regular files (in sub folders too); symbolic links are not followed out of it. */
function readCustomSpec(root: string): Record<string, string> {
  const contents: Record<string, string> = {};
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (st.isDirectory()) walk(path, `${prefix}${name}/`);
      else if (st.isFile()) contents[`${prefix}${name}`] = readFileSync(path, "utf8");
      else {
        throw new RuntimeError("spec", `custom spec file ${path} is not a regular file`, path, "replace the link with the file itself");
      }
    }
  };
  walk(root, "");
  return contents;
}

export function listSpecs(): SpecInfo[] {
  const custom = new Set(customSpecNames());
  const names = new Set([...Object.keys(SPEC_FILES), ...custom]);
  return [...names].sort().map((name) => {
    const spec = readSpec(name);
    return { name, files: spec.files, origin: spec.origin };
  });
}

export function readSpec(name: string): Spec {
  if (SPEC_NAME.test(name)) {
    const dir = join(customSpecsDir(), name);
    if (isDir(dir)) {
      const contents = readCustomSpec(dir);
      return { name, files: Object.keys(contents).sort(), contents, origin: "custom" };
    }
  }
  const contents = Object.hasOwn(SPEC_FILES, name) ? SPEC_FILES[name] : undefined;
  if (!contents) {
    const unsupported = UNSUPPORTED_SPECS[name];
    const known = [...new Set([...Object.keys(SPEC_FILES), ...customSpecNames()])].sort().join(", ");
    throw new RuntimeError(
      "spec",
      unsupported ? `spec ${JSON.stringify(name)} is not provided: ${unsupported}` : `unknown spec ${JSON.stringify(name)}`,
      `--spec ${name}`,
      `use one of: ${known} (see \`clace-lite spec list\`), or add your own as ${join(customSpecsDir(), name)}/`,
    );
  }
  return { name, files: Object.keys(contents).sort(), contents, origin: "bundled" };
}

/** Clace specs deliberately left out, with the reason given when one is asked for. */
const UNSUPPORTED_SPECS: Readonly<Record<string, string>> = {
  "image-cmd": "it is a Clace action app (ace.action running container.run with lifetime=container.COMMAND), and clace-lite runs long-lived services only",
};

function specHash(spec: Spec): string {
  const h = createHash("sha256");
  for (const f of spec.files) h.update(f).update("\0").update(spec.contents[f]!).update("\0");
  return h.digest("hex").slice(0, 16);
}

/** Where spec folders are written; CLACE_LITE_SPECS_CACHE overrides it (tests, read-only temp dirs). */
function cacheRoot(): string {
  return process.env.CLACE_LITE_SPECS_CACHE ?? join(tmpdir(), "clace-lite-specs");
}

/**
 * The spec's files as a folder on disk, for use as a build context. The folder name includes a hash of the
 * contents, so an existing folder is always current; it is written to a temporary name and renamed into place so
 * a concurrent reader never sees half a spec.
 */
export function specDir(spec: Spec): string {
  const dir = join(cacheRoot(), `${spec.name}-${specHash(spec)}`);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    for (const f of spec.files) {
      const path = join(tmp, f);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, spec.contents[f]!, { mode: f.endsWith(".sh") ? 0o755 : 0o644 });
    }
    if (spec.files.length === 0) mkdirSync(tmp, { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch (err) {
      if (!existsSync(dir)) throw err; // someone else won the race: their copy is identical
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
