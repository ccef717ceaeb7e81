/**
 * What a crash can leave under CL_HOME/apps, removed at the next start: the folder of an `app create` that never
 * reached the store (its record is the commit point), the staging or replaced copies of a source swap that was
 * cut short (runtime/registry/sources.ts), and the checkouts of a reload that never switched (`source-<time>`
 * folders other than the one the record names). A swap cut between its two renames is finished by putting the previous
 * source back, so the app keeps the version its record describes.
 */
import { existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join, sep } from "node:path";
import { CANDIDATE_SUFFIX, REPLACED_SUFFIX, STAGING_SUFFIX } from "../runtime/index.ts";

/** `known`: each app's id and the source folder its record names. Returns what it removed or restored, for the log. */
export function sweepAppLeftovers(appsDir: string, known: ReadonlyMap<string, string | null>): string[] {
  if (!existsSync(appsDir)) return [];
  const done: string[] = [];
  for (const name of readdirSync(appsDir)) {
    const appDir = join(appsDir, name);
    if (!known.has(name)) {
      rmSync(appDir, { recursive: true, force: true });
      done.push(`removed ${appDir} (an app create that did not finish)`);
      continue;
    }
    const source = join(appDir, "source");
    for (const unfinished of [source + STAGING_SUFFIX, source + CANDIDATE_SUFFIX, source + CANDIDATE_SUFFIX + STAGING_SUFFIX]) {
      if (!existsSync(unfinished)) continue;
      rmSync(unfinished, { recursive: true, force: true });
      done.push(`removed ${unfinished} (a source update that did not finish)`);
    }
    const current = known.get(name) ?? "";
    for (const entry of readdirSync(appDir)) {
      const path = join(appDir, entry);
      if (!/^source-[a-z0-9]+$/.test(entry) || current === path || current.startsWith(path + sep)) continue;
      rmSync(path, { recursive: true, force: true });
      done.push(`removed ${path} (a reload that did not switch to it)`);
    }
    if (existsSync(source + REPLACED_SUFFIX)) {
      if (existsSync(source)) rmSync(source + REPLACED_SUFFIX, { recursive: true, force: true });
      else renameSync(source + REPLACED_SUFFIX, source);
      done.push(`cleaned up ${source}${REPLACED_SUFFIX} (a source update that did not finish)`);
    }
  }
  return done;
}
