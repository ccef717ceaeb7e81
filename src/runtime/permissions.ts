/**
 * Plugin approval, as Clace does it: an app may load only approved plugins, and each plugin call must match an
 * approved permission — same plugin and method, and each approved argument equal to (or, written "regex:...",
 * fully matching) the call's positional argument at that place. Extra call arguments and keyword arguments are not
 * checked.
 */
import type { AuditResult, Permission } from "./app-config.ts";
import { reachDiff, type ReachItem } from "./reach.ts";

export interface Approval {
  loads: readonly string[];
  permissions: readonly Permission[];
  /** What the container may reach (mounts, secrets, widening options); absent in approvals that predate it = none. */
  reach?: readonly ReachItem[];
}

const REGEX_PREFIX = "regex:";
const regexCache = new Map<string, RegExp | null>();

function compiled(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch {
      re = null; // an invalid pattern matches nothing
    }
    regexCache.set(pattern, re);
  }
  return re;
}

export function argMatches(approved: string, actual: string): boolean {
  if (approved.startsWith(REGEX_PREFIX)) return compiled(approved.slice(REGEX_PREFIX.length))?.test(actual) ?? false;
  return approved === actual;
}

export function callPermitted(
  approved: readonly Permission[],
  plugin: string,
  method: string,
  args: readonly string[],
): boolean {
  return approved.some(
    (p) =>
      p.plugin === plugin &&
      p.method === method &&
      p.arguments.length <= args.length &&
      p.arguments.every((a, i) => argMatches(a, args[i]!)),
  );
}

function samePermission(a: Permission, b: Permission): boolean {
  return (
    a.plugin === b.plugin &&
    a.method === b.method &&
    (a.type ?? "") === (b.type ?? "") &&
    JSON.stringify(a.arguments) === JSON.stringify(b.arguments) &&
    JSON.stringify(a.secrets ?? null) === JSON.stringify(b.secrets ?? null)
  );
}

/** What the audit found that the approval does not cover. */
export function unapproved(audit: Approval, approval: Approval): { loads: string[]; permissions: Permission[] } {
  return {
    loads: audit.loads.filter((l) => !approval.loads.includes(l)),
    permissions: audit.permissions.filter((p) => !approval.permissions.some((q) => samePermission(p, q))),
  };
}

export function makeAudit(found: Approval, approval: Approval): AuditResult {
  const missing = unapproved(found, approval);
  const reach = found.reach ?? [];
  return {
    loads: [...found.loads],
    permissions: [...found.permissions],
    reach: [...reach],
    needsApproval: missing.loads.length > 0 || missing.permissions.length > 0 || reachDiff(approval.reach, reach).length > 0,
  };
}

export function describePermission(p: Permission): string {
  const args = p.arguments.map((a) => JSON.stringify(a)).join(", ");
  return `${p.plugin}.${p.method}(${args})`;
}
