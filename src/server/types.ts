/**
 * What the multi-app server can be asked to do, independent of transport: the admin API maps HTTP routes onto
 * these operations, and tests can call them directly.
 */

export interface CreateAppRequest {
  /** A folder, a git URL, or "-" for none. */
  source: string;
  /** `[domain:]path` as the user typed it. */
  location: string;
  spec?: string;
  params?: Record<string, string>;
  conf?: Record<string, string>;
  copts?: Record<string, string>;
  cargs?: Record<string, string>;
  cvols?: string[];
  approve?: boolean;
  dev?: boolean;
  branch?: string;
  commit?: string;
}

export interface AppStatus {
  id: string;
  /** What the approval lets the container reach (mounts, volumes, secrets, widening options), one line each. */
  reach: string[];
  /** `[domain:]path` */
  location: string;
  domain: string;
  path: string;
  source: string;
  spec: string;
  dev: boolean;
  commit: string;
  /** The container's lifecycle state ("stopped", "ready", ...), "-" for apps without a container. */
  state: string;
  /** ISO time of the last request, "" when none since the server started. */
  lastRequest: string;
  /** Why the app cannot serve (not approved, config error), "" when it can. */
  error: string;
  needsApproval: boolean;
  url: string;
  /** Answers and 5xx answers in the last five minutes, and the last cold start (0: none yet). */
  requests: number;
  errors: number;
  lastColdStartMs: number;
  /** Set by `reload`: what it did to this app. */
  reload?: ReloadOutcome;
  /** Set by `approve`: the plugins and permissions now approved, for people ("load proxy.in", a permission). */
  approvals?: string[];
}

/** What `app reload` did to one app. */
export interface ReloadOutcome {
  /** False when the new version was refused; the previous version keeps serving. */
  ok: boolean;
  /** What changed, for people: "image rebuilt", "config unchanged", ... */
  changes: string[];
  /** Why the new version was refused, with the fix. */
  error?: string;
}

export interface ParamStatus {
  name: string;
  type: string;
  value: unknown;
  description: string;
  required: boolean;
  /** "default", "metadata" (set by --param/param update). */
  origin: string;
}

export interface AppHostOperations {
  list(glob: string): Promise<AppStatus[]>;
  create(request: CreateAppRequest): Promise<AppStatus>;
  delete(glob: string): Promise<AppStatus[]>;
  approve(glob: string): Promise<AppStatus[]>;
  reload(glob: string, options: { approve: boolean }): Promise<AppStatus[]>;
  stop(app: string): Promise<AppStatus>;
  start(app: string): Promise<AppStatus>;
  logs(app: string, options: { follow: boolean; signal?: AbortSignal }): Promise<ReadableStream<Uint8Array>>;
  listParams(app: string): Promise<ParamStatus[]>;
  /** A null value removes the param's metadata value (back to its default). */
  updateParam(name: string, value: string | null, glob: string): Promise<AppStatus[]>;
  shutdown(): Promise<void>;
}

export type HostErrorKind = "usage" | "not-found" | "conflict" | "failed";

export class HostError extends Error {
  constructor(
    readonly kind: HostErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "HostError";
  }
}
