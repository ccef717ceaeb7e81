/**
 * The ContainerEngine seam: the few Engine API operations the lifecycle manager needs (build, pull, create, start,
 * stop, inspect, logs, events, volumes). Docker and Podman's Docker-compatible socket both sit behind it; the
 * lifecycle manager only ever sees this interface, never docker-modem.
 */
import type { Readable } from "node:stream";

export type EngineKind = "docker" | "podman";

export interface EngineVersion {
  kind: EngineKind;
  version: string;
  apiVersion: string;
}

/** Why an engine operation failed; the CLI maps these onto messages and exit codes. */
export type EngineErrorKind =
  | "unreachable" // no engine answers on the socket
  | "not-found" // the container, image or volume does not exist
  | "conflict" // name in use, container running, image in use
  | "build-failed" // the build stream carried an error line
  | "build-cache-race" // the build's cache named an image removed meanwhile (a second build rebuilds it)
  | "pull-failed" // the pull stream carried an error line, or the registry refused
  | "push-failed"
  | "bad-option" // a container option (--copt) this engine layer does not know
  | "config-error" // the spec cannot be turned into a container (a secret template, a volume)
  | "api"; // any other non-2xx answer

export class EngineError extends Error {
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    /** The build/pull output or container log lines that explain the failure. */
    readonly logTail: string = "",
    /** What the user can do about it, when we know. */
    readonly fix: string = "",
    readonly statusCode: number = 0,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

export interface BuildRequest {
  /** The build context as a tar stream (entries relative to the context root). */
  context: Readable;
  /** Image name:tag to give the result. */
  tag: string;
  /** Container file path inside the context. */
  containerFile: string;
  buildArgs?: Readonly<Record<string, string>>;
  labels?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** Each output line of the build, as it arrives (the `stream` field, without its trailing newline). */
  onLine?: (line: string) => void;
}

export interface BuildResult {
  imageId: string;
  /** The last lines of the build output. */
  logTail: string;
}

export interface PullProgress {
  status: string;
  id?: string;
  progress?: string;
  current?: number;
  total?: number;
}

export interface PortBinding {
  containerPort: number;
  protocol: "tcp" | "udp";
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** What `createContainer` needs: Engine API fields, already decided by the layer above. */
export interface CreateRequest {
  name: string;
  image: string;
  env: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  /** The container port published on 127.0.0.1 with an ephemeral host port. */
  port: number;
  /** "source:target[:ro]" binds; named volumes use their name as source. */
  binds: readonly string[];
  user?: string;
  workingDir?: string;
  /** Extra HostConfig fields (memory, cpus, ...), already validated. */
  hostConfig?: Readonly<Record<string, unknown>>;
  /** Extra top-level Config fields (Hostname, StopSignal), already validated. */
  config?: Readonly<Record<string, unknown>>;
  ulimits: readonly Ulimit[];
  cmd?: readonly string[];
}

export type ContainerStatus = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

export interface ContainerInfo {
  id: string;
  name: string;
  /** The image ID the container was created from. */
  imageId: string;
  status: ContainerStatus;
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
  startedAt: string;
  labels: Readonly<Record<string, string>>;
  /** Host port bound for each "port/proto" key; absent until the container runs. */
  hostPorts: Readonly<Record<string, number>>;
  /** Where the host ports are published: the node the container runs on (127.0.0.1 when absent: this host). */
  hostAddress?: string;
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  imageId: string;
  state: string;
  labels: Readonly<Record<string, string>>;
}

export interface ImageInfo {
  id: string;
  repoTags: readonly string[];
  repoDigests: readonly string[];
  labels: Readonly<Record<string, string>>;
  exposedPorts: readonly string[];
}

export interface ImageSummary {
  id: string;
  repoTags: readonly string[];
  labels: Readonly<Record<string, string>>;
}

export interface VolumeInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** A container event from the engine's /events stream. */
export interface EngineEvent {
  action: string; // "start", "die", "stop", "kill", "oom", "destroy", ...
  id: string;
  name: string;
  labels: Readonly<Record<string, string>>;
  exitCode?: number;
  time: number;
}

/** Label filters as the Engine API takes them: "key" or "key=value". */
export type LabelFilter = readonly string[];

export interface EventSubscription {
  close(): void;
  /** Resolves once the stream is connected (events after this point are seen). */
  readonly ready: Promise<void>;
}

export interface ContainerEngine {
  readonly kind: EngineKind;
  /** Where the engine was reached, for messages ("unix:///var/run/docker.sock"). */
  readonly endpoint: string;

  ping(): Promise<EngineVersion>;

  build(req: BuildRequest): Promise<BuildResult>;
  pull(ref: string, onProgress?: (p: PullProgress) => void, signal?: AbortSignal): Promise<void>;
  push(ref: string, onProgress?: (p: PullProgress) => void): Promise<void>;
  tagImage(source: string, repo: string, tag: string): Promise<void>;
  /** Import a root filesystem tar as an image (POST /images/create?fromSrc=-). */
  importImage(rootfs: Readable, repo: string, tag: string, changes?: readonly string[]): Promise<void>;
  inspectImage(ref: string): Promise<ImageInfo | null>;
  listImages(labels: LabelFilter): Promise<ImageSummary[]>;
  removeImage(ref: string, force?: boolean): Promise<void>;

  createContainer(req: CreateRequest): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSecs: number): Promise<void>;
  /** Freeze and thaw a container's processes (the cgroup freezer, on Docker and Podman alike). */
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  killContainer(id: string): Promise<void>;
  removeContainer(id: string): Promise<void>;
  inspectContainer(id: string): Promise<ContainerInfo | null>;
  listContainers(labels: LabelFilter, all?: boolean): Promise<ContainerSummary[]>;
  /** The last `tail` lines of stdout+stderr, demultiplexed. */
  logs(id: string, tail: number): Promise<string>;
  /**
   * Follow stdout+stderr lines until the signal aborts or the container stops: new lines only, or with `sinceSecs`
   * (a Unix time) every line written since then.
   */
  followLogs(id: string, onLine: (line: string) => void, signal: AbortSignal, sinceSecs?: number): Promise<void>;

  /** Container events matching the label filters, until close(). Reconnects on its own when the stream drops. */
  events(labels: LabelFilter, onEvent: (e: EngineEvent) => void): EventSubscription;

  createVolume(name: string, labels: Readonly<Record<string, string>>): Promise<void>;
  inspectVolume(name: string): Promise<VolumeInfo | null>;
  listVolumes(labels: LabelFilter): Promise<VolumeInfo[]>;
  removeVolume(name: string): Promise<void>;
}
