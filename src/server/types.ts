/**
 * What the multi-app server can be asked to do, independent of transport: the admin API maps HTTP routes onto
 * these operations, and tests can call them directly.
 */
import type { MetadataUpdate } from "./metadata-update.ts";

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
  /** Check and plan only: nothing is stored, built or started; the answer's `plan` says what would happen. */
  dryRun?: boolean;
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
  /** The stored settings `app update-metadata` changes (params: `param list`). */
  metadata: { conf: Record<string, string>; copts: Record<string, string>; cargs: Record<string, string>; cvols: string[] };
  /** A metadata change waiting for approval (`app approve` applies it), one line per change; empty when none. */
  pending: string[];
  /** Set by `reload`, `update-metadata`, and `approve` of a waiting change: what it did to this app. */
  reload?: ReloadOutcome;
  /** Set by a dry run: what the command would do to this app, one line each. Nothing was changed. */
  plan?: string[];
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

/** `dryRun`: check and plan only; nothing is stored, built, started, stopped or removed. */
export interface DryRunOption {
  dryRun?: boolean;
}

export interface AppHostOperations {
  list(glob: string): Promise<AppStatus[]>;
  create(request: CreateAppRequest): Promise<AppStatus>;
  delete(glob: string, options?: DryRunOption): Promise<AppStatus[]>;
  /** Approves what apps ask for; an app with a metadata change waiting for approval gets it applied. */
  approve(glob: string, options?: DryRunOption): Promise<AppStatus[]>;
  reload(glob: string, options: { approve: boolean } & DryRunOption): Promise<AppStatus[]>;
  /**
   * Changes stored metadata (spec, app-config, container options, build args, volumes) of the matching apps; each
   * keeps its id (and so its volumes) and gets the change through a reload. Bad values change no app.
   */
  updateMetadata(update: MetadataUpdate, glob: string, options: { approve: boolean } & DryRunOption): Promise<AppStatus[]>;
  stop(app: string): Promise<AppStatus>;
  start(app: string): Promise<AppStatus>;
  logs(app: string, options: { follow: boolean; signal?: AbortSignal }): Promise<ReadableStream<Uint8Array>>;
  listParams(app: string): Promise<ParamStatus[]>;
  /** A null value removes the param's metadata value (back to its default). */
  updateParam(name: string, value: string | null, glob: string, options?: DryRunOption): Promise<AppStatus[]>;
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
