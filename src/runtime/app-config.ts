/**
 * AppConfig: the typed result of loading an app (app.star + params.star + metadata). Everything downstream
 * (containers, proxy, CLI) reads this; no Starlark value leaks past the runtime.
 */
import type { ContainerSpec } from "../containers/index.ts";
import type { ProxyRoute } from "../proxy/index.ts";
import type { ProxySettings } from "./conf.ts";
import type { ReachItem } from "./reach.ts";

export { CONTAINER_URL, type ProxyRoute } from "../proxy/index.ts";

export interface Permission {
  plugin: string;
  method: string;
  arguments: readonly string[];
  type?: "READ" | "WRITE";
  secrets?: readonly (readonly string[])[];
}

export type ParamType = "STRING" | "INT" | "BOOLEAN" | "DICT" | "LIST";
export type ParamValue = string | number | boolean | null | ParamValue[] | { [key: string]: ParamValue };

export interface ParamInfo {
  name: string;
  type: ParamType;
  value: ParamValue;
  description: string;
  required: boolean;
  displayType: string;
  /** False for a value given for a param that params.star does not declare (it still reaches the container env). */
  declared?: boolean;
}

export interface AuditResult {
  /** Plugins the app loads, e.g. ["proxy.in", "container.in"]. */
  loads: readonly string[];
  /** Permissions the app declares in ace.app(permissions=...). */
  permissions: readonly Permission[];
  /** What the container can reach: mounts, volumes, secrets, options that widen access (runtime/reach.ts). */
  reach: readonly ReachItem[];
  /** True when the approved lists do not cover what the app needs. */
  needsApproval: boolean;
}

/** A static app (ace.app(static_only=True)): the app folder's files, served by clace-lite itself. */
export interface StaticFiles {
  /** The app folder's real path. */
  root: string;
  /** The file served at "/" and for a folder's path, e.g. "index.html". */
  index: string;
  /** Serve the index for every path that is not a file (single-page apps). */
  singleFile: boolean;
}

export interface AppConfig {
  /** The name given to ace.app(). */
  name: string;
  /** Where the app is mounted: its domain ("" = default) and path ("/" or "/x"). */
  domain: string;
  path: string;
  routes: readonly ProxyRoute[];
  /** How the proxy treats the app's exchanges (proxy.* conf keys). */
  proxy: ProxySettings;
  /** Present when the app runs a container. */
  container?: ContainerSpec;
  /** Present for a static app; its routes then point at CONTAINER_URL, the app's own upstream (the file server). */
  staticFiles?: StaticFiles;
  params: readonly ParamInfo[];
  permissions: readonly Permission[];
  settings: Readonly<Record<string, unknown>>;
  audit: AuditResult;
  /** What was accepted but does not apply (e.g. a Clace conf key without effect here), for the CLI to print. */
  warnings: readonly string[];
}
