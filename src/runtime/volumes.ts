/**
 * Volume strings in Clace's four forms, told apart once here so the container layer never re-parses them:
 *   /abs/host:/target[:opts]   bind      (./rel paths are relative to the app source)
 *   name:/target[:opts]        named     (the engine keys it per app)
 *   /target                    unnamed   (a per-app named volume keyed by the path)
 *   cl_secret:<tmpl>:<target>  secret    (a template rendered with the params, bind-mounted read-only)
 */
import { isAbsolute, resolve } from "node:path";
import type { VolumeSpec } from "../containers/index.ts";
import { RuntimeError } from "./errors.ts";

const SECRET_PREFIX = "cl_secret:";
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const KNOWN_OPTS = new Set(["ro", "rw", "z", "Z", "shared", "slave", "private", "rshared", "rslave", "rprivate", "nocopy", "U", "O"]);

export interface VolumeContext {
  /** The app source folder, for `./rel` bind paths; null when the app has no source. */
  sourceDir: string | null;
  /** Resolves a `cl_secret` template name to a file on disk (source first, then spec), or null if missing. */
  findTemplate: (name: string) => string | null;
  /** For messages: where the volume string came from ("container.config volumes", "--cvol"). */
  origin: string;
}

function fail(ctx: VolumeContext, raw: string, why: string): RuntimeError {
  return new RuntimeError(
    "config",
    `invalid volume ${JSON.stringify(raw)}: ${why}`,
    ctx.origin,
    "use one of /host/path:/target[:ro], name:/target[:ro], /target or cl_secret:<template>:/target",
  );
}

function parseOpts(ctx: VolumeContext, raw: string, opts: string | undefined): boolean {
  if (opts === undefined || opts === "") return false;
  const list = opts.split(",");
  for (const o of list) if (!KNOWN_OPTS.has(o)) throw fail(ctx, raw, `unknown option ${JSON.stringify(o)}`);
  return list.includes("ro");
}

function checkTarget(ctx: VolumeContext, raw: string, target: string | undefined): string {
  if (!target) throw fail(ctx, raw, "the target path inside the container is missing");
  if (!target.startsWith("/")) throw fail(ctx, raw, `the target ${JSON.stringify(target)} must be an absolute path`);
  return target;
}

export function parseVolume(raw: string, ctx: VolumeContext): VolumeSpec {
  const v = raw.trim();
  if (v === "") throw fail(ctx, raw, "it is empty");
  if (v.startsWith(SECRET_PREFIX)) {
    const rest = v.slice(SECRET_PREFIX.length);
    const i = rest.indexOf(":");
    if (i <= 0) throw fail(ctx, raw, "a cl_secret volume needs the form cl_secret:<template>:<target>");
    const name = rest.slice(0, i);
    const target = checkTarget(ctx, raw, rest.slice(i + 1));
    const templatePath = ctx.findTemplate(name);
    if (templatePath === null) throw fail(ctx, raw, `the template ${JSON.stringify(name)} is not in the app source or its spec`);
    return { kind: "secret", templatePath, target };
  }
  const parts = v.split(":");
  if (parts.length === 1) {
    return { kind: "unnamed", target: checkTarget(ctx, raw, parts[0]), readOnly: false };
  }
  if (parts.length > 3) throw fail(ctx, raw, "too many ':' separated parts");
  const [src, tgt, opts] = parts as [string, string, string | undefined];
  const target = checkTarget(ctx, raw, tgt);
  const readOnly = parseOpts(ctx, raw, opts);
  if (src.startsWith("/")) return { kind: "bind", hostPath: src, target, readOnly };
  if (src.startsWith("./") || src.startsWith("../") || src === "." || src === "..") {
    if (ctx.sourceDir === null) throw fail(ctx, raw, "a relative host path needs an app source folder");
    return { kind: "bind", hostPath: resolve(ctx.sourceDir, src), target, readOnly };
  }
  if (src === "") throw fail(ctx, raw, "the volume name or host path is missing");
  if (isAbsolute(src) || !VOLUME_NAME.test(src)) throw fail(ctx, raw, `${JSON.stringify(src)} is not a valid volume name`);
  return { kind: "named", name: src, target, readOnly };
}

/**
 * Merges volume lists (Containerfile VOLUME, container.config, --cvol; later lists win for the same target) and
 * removes duplicates; a cl_secret entry supersedes a plain one at the same target, as in Clace.
 */
export function mergeVolumes(...lists: readonly (readonly VolumeSpec[])[]): VolumeSpec[] {
  const byTarget = new Map<string, VolumeSpec>();
  for (const list of lists) {
    for (const vol of list) {
      const prev = byTarget.get(vol.target);
      if (prev && prev.kind === "secret" && vol.kind !== "secret") continue;
      byTarget.delete(vol.target); // keep the order of the latest declaration
      byTarget.set(vol.target, vol);
    }
  }
  return [...byTarget.values()];
}
