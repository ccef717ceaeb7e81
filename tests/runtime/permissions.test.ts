import { describe, expect, test } from "bun:test";
import type { Permission } from "../../src/runtime/app-config.ts";
import { argMatches, callPermitted, makeAudit, unapproved } from "../../src/runtime/permissions.ts";

const perm = (plugin: string, method: string, args: string[] = []): Permission => ({ plugin, method, arguments: args });

describe("permission matching", () => {
  test("arguments match exactly or by a full regex: pattern", () => {
    expect(argMatches("<CONTAINER_URL>", "<CONTAINER_URL>")).toBe(true);
    expect(argMatches("http://a", "http://ab")).toBe(false);
    expect(argMatches("regex:http://.*\\.example\\.com", "http://x.example.com")).toBe(true);
    expect(argMatches("regex:abc", "xabcx")).toBe(false); // anchored, as a whole-value match
    expect(argMatches("regex:(", "(")).toBe(false); // an invalid pattern matches nothing
  });

  test("leading positional args are checked; extra args are allowed; plugin and method must match", () => {
    const approved = [perm("proxy.in", "config", ["<CONTAINER_URL>"]), perm("container.in", "config")];
    expect(callPermitted(approved, "proxy.in", "config", ["<CONTAINER_URL>"])).toBe(true);
    expect(callPermitted(approved, "proxy.in", "config", ["<CONTAINER_URL>", "extra"])).toBe(true);
    expect(callPermitted(approved, "proxy.in", "config", ["http://other"])).toBe(false);
    expect(callPermitted(approved, "proxy.in", "config", [])).toBe(false);
    expect(callPermitted(approved, "container.in", "config", ["anything"])).toBe(true);
    expect(callPermitted(approved, "container.in", "run", [])).toBe(false);
  });

  test("the audit needs approval until every load and permission is approved", () => {
    const loads = ["proxy.in"];
    const perms = [perm("proxy.in", "config", ["<CONTAINER_URL>"])];
    expect(makeAudit({ loads, permissions: perms }, { loads: [], permissions: [] }).needsApproval).toBe(true);
    expect(makeAudit({ loads, permissions: perms }, { loads, permissions: [] }).needsApproval).toBe(true);
    expect(makeAudit({ loads, permissions: perms }, { loads, permissions: perms }).needsApproval).toBe(false);
    expect(unapproved({ loads, permissions: perms }, { loads: [], permissions: perms })).toEqual({ loads: ["proxy.in"], permissions: [] });
  });
});
