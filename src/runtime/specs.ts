/**
 * The bundled app specs (ready-made app.star + params.star + Containerfile templates). They are read from the
 * embedded bundle, so a compiled binary has them too; a spec's folder on disk (needed as a build context) is
 * written once into a content-addressed cache directory.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { RuntimeError } from "./errors.ts";
import { SPEC_FILES } from "./specs-bundle.ts";

export interface SpecInfo {
  name: string;
  /** File names in the spec, sorted. */
  files: readonly string[];
}

export interface Spec extends SpecInfo {
  /** File name → content. */
  contents: Readonly<Record<string, string>>;
}

export function listSpecs(): SpecInfo[] {
  return Object.keys(SPEC_FILES)
    .sort()
    .map((name) => ({ name, files: Object.keys(SPEC_FILES[name]!).sort() }));
}

export function readSpec(name: string): Spec {
  const contents = Object.hasOwn(SPEC_FILES, name) ? SPEC_FILES[name] : undefined;
  if (!contents) {
    throw new RuntimeError(
      "spec",
      `unknown spec ${JSON.stringify(name)}`,
      `--spec ${name}`,
      `use one of: ${Object.keys(SPEC_FILES).sort().join(", ")} (see \`clace-lite spec list\`)`,
    );
  }
  return { name, files: Object.keys(contents).sort(), contents };
}

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
