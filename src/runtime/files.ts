/**
 * The files an app is made of: its source folder overlaid on its spec's files. A file in the source wins over the
 * spec's file of the same name, as in Clace; either side may be absent (`-` as the source, or no spec).
 *
 * Confinement: every file read from the source (app.star, load targets, params.star, the container file, secret
 * templates) is resolved to its real path, which must stay inside the source folder. A symbolic link may point
 * elsewhere in the app; one that leads out of it is an error naming the link, since approving an app must not
 * hand it files the approver never saw (a template linked to /etc/shadow).
 */
import { existsSync, lstatSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { join, normalize, sep } from "node:path";
import { RuntimeError } from "./errors.ts";
import { specDir, type Spec } from "./specs.ts";

export type FileOrigin = "source" | "spec";

/** Normalizes a relative file name; names that escape the app folder are refused. */
export function cleanName(name: string): string | null {
  const n = normalize(name.replace(/\\/g, "/")).replace(/^\.\//, "");
  if (n === "" || n === "." || n.startsWith("/") || n === ".." || n.startsWith("../")) return null;
  return n;
}

/** The first symbolic link on the way from `root` to the relative path `n`. */
function firstLink(root: string, n: string): { name: string; target: string } | null {
  const parts = n.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const name = parts.slice(0, i).join("/");
    try {
      if (lstatSync(join(root, name)).isSymbolicLink()) return { name, target: readlinkSync(join(root, name)) };
    } catch {
      return null;
    }
  }
  return null;
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
      const path = this.confined(n);
      try {
        return readFileSync(path, "utf8");
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
    return from === "source" ? this.confined(n) : realpathSync(join(specDir(this.spec!), n));
  }

  /** The real path of a source file, refused when a symbolic link on the way leads out of the source folder. */
  private confined(n: string): string {
    const root = realpathSync(this.sourceDir!);
    const real = realpathSync(join(this.sourceDir!, n));
    if (real.startsWith(root + sep)) return real;
    const link = firstLink(this.sourceDir!, n);
    const through = link ? `the symbolic link ${link.name} -> ${link.target}` : "a symbolic link";
    throw new RuntimeError(
      "source",
      `${n} leads outside the app folder (to ${real}) through ${through}`,
      n,
      `an app may only read files inside its folder: replace ${link?.name ?? n} with a copy of the file it points to`,
    );
  }

  /** The build context folders, spec first so that the source's files win when merged. */
  contextDirs(buildDir: string): string[] {
    const dirs: string[] = [];
    if (this.spec) dirs.push(join(specDir(this.spec), buildDir));
    if (this.sourceDir !== null) dirs.push(join(this.sourceDir, buildDir));
    return dirs;
  }
}
