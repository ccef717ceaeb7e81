/**
 * Reach: what an app's container can touch beyond its own image — every bind mount (host path, target, read-only
 * or not), named volume, rendered secret, and every container option that widens access to the host
 * (privileged, capabilities, devices, the host's PID or IPC namespace). An approval covers the reach the audit
 * found as well as the plugin calls, so a change such as a new `/:/host` mount makes the new version unapproved.
 *
 * Items are plain data compared by their description, with paths inside the app given relative to it, so that the
 * same app read from another copy of its source has the same reach. Build args are not reach: they parameterize
 * the build and give the running container nothing.
 */
import { realpathSync } from "node:fs";
import { relative, sep } from "node:path";
import type { ContainerSpec } from "../containers/index.ts";
import { optionName, WIDENING_OPTIONS } from "../containers/index.ts";

export type ReachItem =
  | { kind: "bind"; hostPath: string; target: string; readOnly: boolean }
  | { kind: "volume"; name: string; target: string; readOnly: boolean }
  | { kind: "secret"; template: string; target: string }
  | { kind: "option"; option: string; value: string };

/** Folders whose paths are written relative in reach items: the app source (./x) and its spec (spec:x). */
export interface ReachRoots {
  sourceDir: string | null;
  specDir: string | null;
}

function realOrSame(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function appRelative(path: string, roots: ReachRoots): string {
  for (const [root, prefix] of [
    [roots.sourceDir, "./"],
    [roots.specDir, "spec:"],
  ] as const) {
    if (root === null) continue;
    const base = realOrSame(root);
    const real = realOrSame(path);
    if (real === base) return prefix === "./" ? "." : "spec:.";
    if (real.startsWith(base + sep)) return prefix + relative(base, real).split(sep).join("/");
  }
  return path;
}

/** The reach of a container, in a stable order. */
export function reachOf(spec: ContainerSpec | undefined, roots: ReachRoots): ReachItem[] {
  if (!spec) return [];
  const items: ReachItem[] = [];
  for (const v of spec.volumes) {
    switch (v.kind) {
      case "bind":
        items.push({ kind: "bind", hostPath: appRelative(v.hostPath, roots), target: v.target, readOnly: v.readOnly });
        break;
      case "named":
        items.push({ kind: "volume", name: v.name, target: v.target, readOnly: v.readOnly });
        break;
      case "unnamed":
        items.push({ kind: "volume", name: "", target: v.target, readOnly: v.readOnly });
        break;
      case "secret":
        items.push({ kind: "secret", template: appRelative(v.templatePath, roots), target: v.target });
        break;
    }
  }
  for (const [key, value] of Object.entries(spec.options)) {
    const option = optionName(key);
    if (WIDENING_OPTIONS.has(option)) items.push({ kind: "option", option, value });
  }
  return items.sort((a, b) => describeReach(a).localeCompare(describeReach(b)));
}

export function describeReach(item: ReachItem): string {
  switch (item.kind) {
    case "bind":
      return `bind mount ${item.hostPath} -> ${item.target} (${item.readOnly ? "read-only" : "read-write"})`;
    case "volume":
      return item.name
        ? `volume ${item.name} -> ${item.target} (${item.readOnly ? "read-only" : "read-write"})`
        : `volume (the app's own) -> ${item.target} (${item.readOnly ? "read-only" : "read-write"})`;
    case "secret":
      return `secret ${item.template} -> ${item.target} (rendered with the params, read-only)`;
    case "option":
      return `--copt ${item.option}${item.value ? `=${item.value}` : ""}`;
  }
}

/** Items of `found` the approval does not list. */
export function uncoveredReach(found: readonly ReachItem[], approved: readonly ReachItem[] | undefined): ReachItem[] {
  const known = new Set((approved ?? []).map(describeReach));
  return found.filter((item) => !known.has(describeReach(item)));
}

/** The change from the approved reach to the found one, one line per item ("+ ..." new, "- ..." gone). */
export function reachDiff(approved: readonly ReachItem[] | undefined, found: readonly ReachItem[]): string[] {
  const before = new Set((approved ?? []).map(describeReach));
  const after = new Set(found.map(describeReach));
  return [...[...after].filter((d) => !before.has(d)).map((d) => `+ ${d}`), ...[...before].filter((d) => !after.has(d)).map((d) => `- ${d}`)];
}
