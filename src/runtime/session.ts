/**
 * One load of an app: what the builtins produced (kept in side tables keyed by the Starlark struct they returned,
 * so a struct can be traced back to typed data without re-reading its fields) and the approval state every plugin
 * load and call is checked against.
 */
import type { Permission, ProxyRoute } from "./app-config.ts";
import { RuntimeError } from "./errors.ts";
import { callPermitted, describePermission, type Approval } from "./permissions.ts";

export interface ProxyConfigDecl {
  url: string;
  stripPath: string;
  preserveHost: boolean;
  stripApp: boolean;
  responseHeaders: Record<string, string>;
}

export interface ContainerConfigDecl {
  src: string;
  port: number;
  scheme: string;
  health: string;
  lifetime: string;
  buildDir: string;
  volumes: string[];
  cargs: Record<string, string>;
}

export interface AppDecl {
  name: string;
  routes: ProxyRoute[];
  container?: ContainerConfigDecl;
  permissions: Permission[];
  settings: Record<string, unknown>;
  /** static_only=True: serve the app folder's files (index "" = find index.html or index.htm). */
  static?: { index: string; singleFile: boolean };
}

export type SessionMode =
  /** The audit: plugins are inert and nothing is checked; loads and declared permissions are collected. */
  | "audit"
  /** The real load: every plugin load and call must be approved. */
  | "enforce";

export class LoadSession {
  readonly loads: string[] = [];
  readonly proxyConfigs = new WeakMap<object, ProxyConfigDecl>();
  readonly containerConfigs = new WeakMap<object, ContainerConfigDecl>();
  readonly routes = new WeakMap<object, ProxyRoute>();
  readonly permissions = new WeakMap<object, Permission>();
  readonly apps = new WeakMap<object, AppDecl>();

  constructor(
    readonly mode: SessionMode,
    readonly approval: Approval,
    /** The permissions the app declares (from the audit), to tell "not approved yet" from "not declared". */
    readonly declared: readonly Permission[],
    /** The command that approves this app, for messages. */
    readonly approveCommand: string,
  ) {}

  recordLoad(plugin: string): void {
    if (!this.loads.includes(plugin)) this.loads.push(plugin);
  }

  checkLoad(plugin: string): void {
    if (this.mode === "audit" || this.approval.loads.includes(plugin)) return;
    throw new RuntimeError(
      "not-approved",
      `app is not permitted to load plugin ${plugin}: it needs approval`,
      undefined,
      `approve the app's plugins and permissions with \`${this.approveCommand}\``,
    );
  }

  checkCall(plugin: string, method: string, args: readonly string[]): void {
    if (this.mode === "audit" || callPermitted(this.approval.permissions, plugin, method, args)) return;
    const call = `${plugin}.${method}(${args.map((a) => JSON.stringify(a)).join(", ")})`;
    const isDeclared = callPermitted(this.declared, plugin, method, args);
    const approved = this.approval.permissions.filter((p) => p.plugin === plugin && p.method === method);
    const known = approved.length > 0 ? `; approved: ${approved.map(describePermission).join(", ")}` : "";
    throw isDeclared
      ? new RuntimeError(
          "not-approved",
          `the call ${call} is not approved${known}`,
          undefined,
          `approve the app's permissions with \`${this.approveCommand}\``,
        )
      : new RuntimeError(
          "config",
          `the call ${call} is not permitted: no permission in ace.app(permissions=[...]) covers it${known}`,
          undefined,
          `add ace.permission(${JSON.stringify(plugin)}, ${JSON.stringify(method)}, [${args
            .map((a) => JSON.stringify(a))
            .join(", ")}]) to the app's permissions, then approve it with \`${this.approveCommand}\``,
        );
  }
}
