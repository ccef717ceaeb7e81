/**
 * Build contexts: the folders of a build spec merged into one file list (a later folder's file wins), filtered by
 * the merged `.dockerignore`, hashed for naming, and streamed to the engine as a tar.
 */
import dockerignore from "@balena/dockerignore";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, lstatSync, readlinkSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { EngineError } from "./engine.ts";

export interface ContextFile {
  /** Path inside the context, with "/" separators. */
  path: string;
  /** Where it is on disk. */
  source: string;
  mode: number;
  /** Target of a symbolic link, when the file is one. */
  linkTarget?: string;
}

export interface BuildContext {
  files: ContextFile[];
  /** sha256 over paths, modes and contents. */
  hash: string;
}

function walk(root: string, dir: string, out: Map<string, ContextFile>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    const rel = relative(root, abs).split(sep).join("/");
    if (entry.isDirectory()) {
      walk(root, abs, out);
    } else if (entry.isSymbolicLink()) {
      out.set(rel, { path: rel, source: abs, mode: 0o777, linkTarget: readlinkSync(abs) });
    } else if (entry.isFile()) {
      out.set(rel, { path: rel, source: abs, mode: lstatSync(abs).mode & 0o7777 });
    }
  }
}

/** Merge the context folders, apply `.dockerignore`, and hash what remains. */
export function collectContext(contextDirs: readonly string[], containerFile: string): BuildContext {
  const merged = new Map<string, ContextFile>();
  for (const dir of contextDirs) {
    try {
      walk(dir, dir, merged);
    } catch (err) {
      throw new EngineError("config-error", `cannot read the build context ${dir}: ${(err as Error).message}`);
    }
  }
  const ignoreFile = merged.get(".dockerignore");
  let files = [...merged.values()];
  if (ignoreFile) {
    const patterns = readFileSync(ignoreFile.source, "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    const ig = dockerignore({ ignorecase: false }).add(patterns);
    // The container file and .dockerignore are always sent, as `docker build` does.
    files = files.filter((f) => f.path === containerFile || f.path === ".dockerignore" || !ig.ignores(f.path));
  }
  if (!merged.has(containerFile)) {
    throw new EngineError(
      "config-error",
      `the container file ${containerFile} is not in the build context (${contextDirs.join(", ")})`,
      "",
      "add a Containerfile or Dockerfile to the app, or name the file in container.config(src=...)",
    );
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const h = createHash("sha256");
  for (const f of files) {
    h.update(f.path).update("\0").update(String(f.mode)).update("\0");
    if (f.linkTarget !== undefined) h.update("link:" + f.linkTarget);
    else h.update(readFileSync(f.source));
    h.update("\0");
  }
  return { files, hash: h.digest("hex") };
}

/** The context as a tar stream, files read as the stream is consumed. */
export function contextTar(ctx: BuildContext): Readable {
  const p = pack();
  (async () => {
    for (const f of ctx.files) {
      if (f.linkTarget !== undefined) {
        p.entry({ name: f.path, type: "symlink", linkname: f.linkTarget, mode: f.mode, mtime: new Date(0) });
        continue;
      }
      const data = readFileSync(f.source);
      await new Promise<void>((resolve, reject) =>
        p.entry({ name: f.path, mode: f.mode, size: data.length, mtime: new Date(0) }, data, (err) => (err ? reject(err) : resolve())),
      );
    }
    p.finalize();
  })().catch((err) => p.destroy(err));
  return p as unknown as Readable;
}
