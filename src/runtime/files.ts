/**
 * The files an app is made of: its source folder overlaid on its spec's files. A file in the source wins over the
 * spec's file of the same name, as in Clace; either side may be absent (`-` as the source, or no spec).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, normalize } from "node:path";
import { RuntimeError } from "./errors.ts";
import { specDir, type Spec } from "./specs.ts";

export type FileOrigin = "source" | "spec";

/** Normalizes a relative file name; names that escape the app folder are refused. */
export function cleanName(name: string): string | null {
  const n = normalize(name.replace(/\\/g, "/")).replace(/^\.\//, "");
  if (n === "" || n === "." || n.startsWith("/") || n === ".." || n.startsWith("../")) return null;
  return n;
}

export class AppFiles {
  constructor(
    readonly sourceDir: string | null,
    readonly spec: Spec | null,
  ) {}

  static open(sourceDir: string | null, spec: Spec | null): AppFiles {
    if (sourceDir !== null) {
      let isDir = false;
      try {
        isDir = statSync(sourceDir).isDirectory();
      } catch {
        isDir = false;
      }
      if (!isDir) {
        throw new RuntimeError("source", `the app source ${sourceDir} is not a folder`, undefined, 'pass an app folder, or "-" for a spec with no source');
      }
    }
    return new AppFiles(sourceDir, spec);
  }

  origin(name: string): FileOrigin | null {
    const n = cleanName(name);
    if (n === null) return null;
    if (this.sourceDir !== null) {
      const p = join(this.sourceDir, n);
      if (existsSync(p) && statSync(p).isFile()) return "source";
    }
    if (this.spec && Object.hasOwn(this.spec.contents, n)) return "spec";
    return null;
  }

  /** The file's text (the source's copy wins), or null when neither side has it. */
  read(name: string): string | null {
    const n = cleanName(name);
    const from = this.origin(name);
    if (n === null || from === null) return null;
    if (from === "source") {
      try {
        return readFileSync(join(this.sourceDir!, n), "utf8");
      } catch (err) {
        throw new RuntimeError("source", `cannot read ${n}: ${(err as Error).message}`, n);
      }
    }
    return this.spec!.contents[n]!;
  }

  /** A path on disk for the file (the source's, or the spec's cached folder), or null. */
  diskPath(name: string): string | null {
    const n = cleanName(name);
    const from = this.origin(name);
    if (n === null || from === null) return null;
    return from === "source" ? join(this.sourceDir!, n) : join(specDir(this.spec!), n);
  }

  /** The build context folders, spec first so that the source's files win when merged. */
  contextDirs(buildDir: string): string[] {
    const dirs: string[] = [];
    if (this.spec) dirs.push(join(specDir(this.spec), buildDir));
    if (this.sourceDir !== null) dirs.push(join(this.sourceDir, buildDir));
    return dirs;
  }
}
