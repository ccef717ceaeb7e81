/**
 * ContainerSpec: everything the container layer needs to know about one app's container, parsed once by the
 * runtime from app.star/params.star and metadata. Plain data: no Starlark values, no strings left to re-parse.
 */

/** Where the image comes from. */
export type ImageSource =
  | {
      kind: "build";
      /** Folders merged into one build context; a later folder's file wins over an earlier one's (spec, then source). */
      contextDirs: readonly string[];
      /** The container file's path inside the merged context, e.g. "Containerfile". */
      containerFile: string;
      /** Build args (`cargs` from container.config, overridden by metadata `--carg`). */
      buildArgs: Readonly<Record<string, string>>;
    }
  | { kind: "image"; /** An image reference such as "nginx:1.27" or "127.0.0.1:5000/app:latest". */ ref: string };

/** A volume mount, after Clace's four forms have been told apart. */
export type VolumeSpec =
  | { kind: "bind"; hostPath: string; target: string; readOnly: boolean }
  | { kind: "named"; name: string; target: string; readOnly: boolean }
  /** A bare target path; the engine gets a per-app named volume keyed by the path. */
  | { kind: "unnamed"; target: string; readOnly: boolean }
  /** `cl_secret:<template>:<target>`: the template is rendered with the params and bind-mounted read-only. */
  | { kind: "secret"; templatePath: string; target: string };

/** Clace's per-app container settings (app-config keys `container.*`), with Clace's defaults below. */
export interface ContainerSettings {
  healthUrl: string;
  healthAttemptsAfterStartup: number;
  healthTimeoutSecs: number;
  idleShutdownSecs: number;
  /**
   * Pause the container after this long idle (0: never); it is stopped later, at idleShutdownSecs. A clace-lite
   * addition: a paused app wakes in tens of milliseconds instead of a cold start, while holding its memory.
   */
  idlePauseSecs: number;
  statusCheckIntervalSecs: number;
  statusHealthAttempts: number;
  /** How long a request may wait for a cold start before 504 (clace-lite addition). */
  startTimeoutSecs: number;
  /** How many requests may wait for one app's start at once; beyond it, 503. */
  maxWaitingRequests: number;
  /** Dev apps are idle-stopped only when this is set (Clace's container.idle_shutdown_dev_apps). */
  idleShutdownDevApps: boolean;
}

export const DEFAULT_CONTAINER_SETTINGS: ContainerSettings = Object.freeze({
  healthUrl: "/",
  healthAttemptsAfterStartup: 30,
  healthTimeoutSecs: 5,
  idleShutdownSecs: 180,
  // A minute idle before pausing: a burst of requests seconds apart never pays for a pause and wake, while the
  // memory of an app nobody uses is held for two minutes at most before Clace's stop frees it.
  idlePauseSecs: 60,
  statusCheckIntervalSecs: 5,
  statusHealthAttempts: 3,
  startTimeoutSecs: 120,
  maxWaitingRequests: 1000,
  idleShutdownDevApps: false,
});

export interface ContainerSpec {
  /** Stable id of the app ("app_prd_..." or a hash of the serve target); used in names and labels. */
  appId: string;
  /** A human name for messages and labels (the app path, e.g. "localhost:/bb"). */
  appName: string;
  image: ImageSource;
  /** Port inside the container. */
  port: number;
  scheme: "http" | "https";
  /** Path probed for readiness, with its leading "/". */
  healthPath: string;
  /** "app" runs a long-lived service; "command" only prepares the image. */
  lifetime: "app" | "command";
  /** The container's environment: every param, CL_APP_PATH and PORT. */
  env: Readonly<Record<string, string>>;
  volumes: readonly VolumeSpec[];
  /** Container options (`--copt`), e.g. {"memory": "512m", "cpus": "1"}. */
  options: Readonly<Record<string, string>>;
  settings: ContainerSettings;
}
