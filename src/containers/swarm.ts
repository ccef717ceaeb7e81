/**
 * SwarmEngine: the ContainerEngine over Docker Swarm. Each app is one service, created at 0 replicas with a
 * host-mode published port; the lifecycle's container operations map onto it:
 *
 *   create  → the app's service at 0 replicas (or, when the service exists with another version, that service
 *             updated in place: a running one rolls to the new version start-first)
 *   start   → scale to 1 (or a fresh task when the last one died) and wait for the task to run
 *   stop    → scale to 0;  remove → remove the service;  kill → kill the task's container
 *   inspect → the service's newest task of that version: its state, its node's address and its host port
 *   logs    → /services/{id}/logs;  events → the task containers' events on this node
 *
 * A "container id" here is a version of the app's service: the container name the lifecycle chose (it names the
 * app and the hash of everything that shapes the container). Each version is recorded as a service label, so an
 * operation on a version that was replaced by a newer one finds no service and does nothing: the old version of an
 * app being reloaded cannot scale down or remove the service its successor now runs in.
 *
 * Host-mode ports with no fixed published port: each task gets its own host port on its node, so the old and the
 * new task of a start-first update can run side by side on one node. The proxy reaches a task at its node's
 * address (from /nodes) and that port. Swarm's ingress routing mesh is not used.
 *
 * Images: with a registry configured, a built image is pushed there and the service names it by digest, so a task
 * on any node runs exactly that build. Build, pull, images and volumes are the plain Docker engine's.
 */
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { DockerEngine, parseImageRef, registryOf } from "./docker.ts";
import {
  EngineError,
  type BuildRequest,
  type BuildResult,
  type ContainerEngine,
  type ContainerInfo,
  type ContainerStatus,
  type ContainerSummary,
  type CreateRequest,
  type EngineEvent,
  type EngineKind,
  type EngineVersion,
  type EventSubscription,
  type ImageInfo,
  type ImageSummary,
  type LabelFilter,
  type PullProgress,
  type VolumeInfo,
} from "./engine.ts";
import type { Readable } from "node:stream";
import { LABEL_APP } from "./naming.ts";

/** The version of the app a service (and each of its tasks) runs: the lifecycle's container name. */
export const LABEL_SWARM_VERSION = "dev.clace-lite.swarm-version";

export interface SwarmEngineOptions {
  /** "host:port" of the registry built images are pushed to; without one, services use local image names. */
  registry?: string;
  /** How long a start waits for the task to run (image pulls on another node count here). */
  startWaitSecs?: number;
}

interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: { Image: string; Labels?: Record<string, string>; StopGracePeriod?: number } & Record<string, unknown>;
    ForceUpdate?: number;
  } & Record<string, unknown>;
  Mode: { Replicated?: { Replicas?: number } };
  EndpointSpec?: { Ports?: Record<string, unknown>[] } & Record<string, unknown>;
}

interface SwarmService {
  ID: string;
  Version: { Index: number };
  Spec: ServiceSpec;
}

type TaskState =
  | "new"
  | "allocated"
  | "pending"
  | "assigned"
  | "accepted"
  | "preparing"
  | "ready"
  | "starting"
  | "running"
  | "complete"
  | "shutdown"
  | "failed"
  | "rejected"
  | "remove"
  | "orphaned";

interface SwarmTask {
  ID: string;
  NodeID?: string;
  DesiredState: string;
  CreatedAt: string;
  Spec?: { ContainerSpec?: { Labels?: Record<string, string> } };
  Status: {
    State: TaskState;
    Timestamp?: string;
    Err?: string;
    Message?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: { TargetPort: number; PublishedPort?: number; Protocol?: string }[] };
  };
}

const TERMINAL: ReadonlySet<string> = new Set(["complete", "shutdown", "failed", "rejected", "remove", "orphaned"]);
const UPDATE_ATTEMPTS = 5;

/** Refusal text shared by every way the backend cannot run: the CLI shows it as the reason the server did not start. */
const NEEDS_SWARM = "backend swarm needs a Docker engine in swarm mode";

export class SwarmEngine implements ContainerEngine {
  /** How many times each Swarm operation ran (scale-ups, roll-backs): its tests assert single flight with these. */
  readonly calls: Record<string, number> = {};
  private readonly nodeAddresses = new Map<string, string>();
  /** Image ids of digest references (which never name another image), so inspect asks for each once. */
  private readonly digestImageIds = new Map<string, string>();
  /**
   * For a version rolled in over a running one (a reload), the version it replaced and that version's spec, until
   * the lifecycle retires the old version (stops it) or gives up the new one (stops it: the service goes back).
   */
  private readonly replaced = new Map<string, { version: string; spec: ServiceSpec }>();
  private readonly registry: string | undefined;
  private readonly startWaitMs: number;

  private constructor(
    /** The plain engine: builds, images, volumes, and the API the services are driven through. */
    readonly docker: DockerEngine,
    /** This node's id in the swarm: tasks here can be killed and followed through the local engine. */
    readonly localNodeId: string,
    opts: SwarmEngineOptions,
  ) {
    this.registry = opts.registry || undefined;
    this.startWaitMs = (opts.startWaitSecs ?? 300) * 1000;
  }

  /**
   * A Swarm backend over `docker`, which must be a Docker engine that is a swarm manager. Refuses Podman (no Swarm)
   * and an engine outside a swarm or only a worker, saying how to fix it.
   */
  static async open(docker: DockerEngine, opts: SwarmEngineOptions = {}): Promise<SwarmEngine> {
    if (opts.registry !== undefined && opts.registry !== "") checkRegistry(opts.registry);
    const version = await docker.ping();
    const fallback = 'or set [container] backend = "docker" in the server config';
    if (version.kind !== "docker") {
      throw new EngineError(
        "config-error",
        `${NEEDS_SWARM}: the engine at ${docker.endpoint} is ${version.kind} ${version.version}, which has no Swarm`,
        "",
        `point DOCKER_HOST at a Docker engine that is a swarm manager, ${fallback}`,
      );
    }
    const swarm = await swarmState(docker);
    if (swarm.state !== "active" || !swarm.manager) {
      const what = swarm.state === "active" ? "is a swarm worker, not a manager" : `is not in a swarm (state ${swarm.state || "unknown"})`;
      throw new EngineError(
        "config-error",
        `${NEEDS_SWARM}: the engine at ${docker.endpoint} ${what}${swarm.error ? ` (${swarm.error})` : ""}`,
        "",
        swarm.state === "active"
          ? `run the server next to a manager (\`docker node promote ${swarm.nodeId}\` on a manager), ${fallback}`
          : `run \`docker swarm init --advertise-addr <this node's address>\` (or join a swarm as a manager), ${fallback}`,
      );
    }
    return new SwarmEngine(docker, swarm.nodeId, opts);
  }

  get kind(): EngineKind {
    return this.docker.kind;
  }
  get endpoint(): string {
    return `${this.docker.endpoint} (swarm)`;
  }

  private count(op: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
  }

  ping(): Promise<EngineVersion> {
    this.count("ping");
    return this.docker.ping();
  }

  // ---- images and volumes: the plain engine's ----

  build(req: BuildRequest): Promise<BuildResult> {
    this.count("build");
    return this.docker.build(req);
  }
  pull(ref: string, onProgress?: (p: PullProgress) => void, signal?: AbortSignal): Promise<void> {
    this.count("pull");
    return this.docker.pull(ref, onProgress, signal);
  }
  push(ref: string, onProgress?: (p: PullProgress) => void): Promise<void> {
    this.count("push");
    return this.docker.push(ref, onProgress);
  }
  tagImage(source: string, repo: string, tag: string): Promise<void> {
    return this.docker.tagImage(source, repo, tag);
  }
  importImage(rootfs: Readable, repo: string, tag: string, changes?: readonly string[]): Promise<void> {
    return this.docker.importImage(rootfs, repo, tag, changes);
  }
  inspectImage(ref: string): Promise<ImageInfo | null> {
    return this.docker.inspectImage(ref);
  }
  listImages(labels: LabelFilter): Promise<ImageSummary[]> {
    return this.docker.listImages(labels);
  }

  /** Removes the image here and, when it was pushed to the configured registry, its manifest there. */
  async removeImage(ref: string, force?: boolean): Promise<void> {
    this.count("removeImage");
    const info = await this.docker.inspectImage(ref);
    for (const pinned of info?.repoDigests ?? []) {
      if (this.registry !== undefined && registryOf(pinned) === this.registry) await deleteManifest(pinned);
    }
    await this.docker.removeImage(ref, force);
  }

  createVolume(name: string, labels: Readonly<Record<string, string>>): Promise<void> {
    return this.docker.createVolume(name, labels);
  }
  inspectVolume(name: string): Promise<VolumeInfo | null> {
    return this.docker.inspectVolume(name);
  }
  listVolumes(labels: LabelFilter): Promise<VolumeInfo[]> {
    return this.docker.listVolumes(labels);
  }
  removeVolume(name: string): Promise<void> {
    return this.docker.removeVolume(name);
  }

  // ---- the API of services, tasks and nodes ----

  private async serviceByName(name: string): Promise<SwarmService | null> {
    const { status, json } = await this.docker.api("GET", `/services/${encodeURIComponent(name)}`, {}, [200, 404], `inspect service ${name}`);
    return status === 404 ? null : (json as SwarmService);
  }

  private async servicesWith(labels: LabelFilter): Promise<SwarmService[]> {
    const { json } = await this.docker.api("GET", "/services", { query: { filters: JSON.stringify({ label: labels }) } }, [200], "list services");
    return (json as SwarmService[] | null) ?? [];
  }

  /** The service that runs `version` now (none once a newer version replaced it, or the service was removed). */
  private async serviceOf(version: string): Promise<SwarmService | null> {
    return (await this.servicesWith([`${LABEL_SWARM_VERSION}=${version}`]))[0] ?? null;
  }

  private async tasksOf(serviceId: string): Promise<SwarmTask[]> {
    const { json } = await this.docker.api("GET", "/tasks", { query: { filters: JSON.stringify({ service: [serviceId] }) } }, [200], "list tasks");
    return (json as SwarmTask[] | null) ?? [];
  }

  /**
   * Tasks as they are now: Swarm learns that a task's container died a moment after the container's own "die" event,
   * which the lifecycle acts on. A task on this node that Swarm still calls running is checked against its container.
   */
  private async withLocalState(tasks: SwarmTask[]): Promise<SwarmTask[]> {
    return Promise.all(
      tasks.map(async (t) => {
        const container = t.Status.ContainerStatus?.ContainerID;
        if (t.Status.State !== "running" || t.NodeID !== this.localNodeId || !container) return t;
        const info = await this.docker.inspectContainer(container).catch(() => undefined);
        if (info === undefined || info?.running) return t;
        return { ...t, Status: { ...t.Status, State: "failed", ContainerStatus: { ContainerID: container, ExitCode: info?.exitCode ?? 1 } } };
      }),
    );
  }

  /** Where a node's host-mode ports answer: its address in the swarm (this machine's node: 127.0.0.1 here). */
  private async nodeAddress(nodeId: string): Promise<string> {
    const known = this.nodeAddresses.get(nodeId);
    if (known !== undefined) return known;
    const { json } = await this.docker.api("GET", `/nodes/${encodeURIComponent(nodeId)}`, {}, [200], `inspect node ${nodeId}`);
    const addr = (json as { Status?: { Addr?: string } }).Status?.Addr ?? "";
    const address = addr === "" || addr === "0.0.0.0" ? "127.0.0.1" : addr.includes(":") ? `[${addr}]` : addr;
    this.nodeAddresses.set(nodeId, address);
    return address;
  }

  /**
   * Write a service's spec. Swarm refuses a write made from a stale version of the service (another server, or
   * Swarm itself, changed it meanwhile): read it again, reapply the change, try again.
   */
  private async updateService(service: SwarmService, change: (spec: ServiceSpec) => ServiceSpec, what: string): Promise<void> {
    let current = service;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.docker.api(
          "POST",
          `/services/${current.ID}/update`,
          { query: { version: String(current.Version.Index) }, body: change(structuredClone(current.Spec)) },
          [200],
          `${what} (service ${current.Spec.Name})`,
        );
        return;
      } catch (err) {
        if (!(err instanceof EngineError) || err.kind === "not-found" || attempt >= UPDATE_ATTEMPTS) throw err;
        const again = await this.serviceByName(current.ID);
        if (!again) throw err;
        current = again;
      }
    }
  }

  // ---- containers as versions of an app's service ----

  async createContainer(req: CreateRequest): Promise<string> {
    this.count("create");
    const image = await this.imageForNodes(req.image);
    const name = serviceName(req.labels[LABEL_APP] ?? req.name);
    const existing = await this.serviceByName(name);
    if (!existing) {
      const spec = serviceSpec(name, req, image, 0, 0);
      const { status } = await this.docker.api("POST", "/services/create", { body: spec }, [200, 201, 409], `create service ${name}`);
      // 409: another server created the app's service first; it is brought to this version below like any other.
      if (status !== 409) return req.name;
    }
    const service = existing ?? (await this.serviceByName(name));
    if (!service) throw new EngineError("not-found", `service ${name} disappeared while it was being created`);
    if (service.Spec.Labels?.[LABEL_SWARM_VERSION] === req.name) return req.name;
    // Another version: updated in place. Replicas stay as they are, so a running app rolls to the new version
    // start-first (its old task serves until the new one runs) and a stopped one stays stopped.
    this.count("rollingUpdate");
    const previous = service.Spec.Labels?.[LABEL_SWARM_VERSION];
    if (previous && replicasOf(service.Spec) > 0) this.replaced.set(req.name, { version: previous, spec: service.Spec });
    const port = await freeHostPort();
    await this.updateService(
      service,
      (spec) => {
        const next = serviceSpec(name, req, image, replicasOf(spec), port);
        next.TaskTemplate.ForceUpdate = spec.TaskTemplate.ForceUpdate ?? 0;
        return next;
      },
      `update to ${req.name}`,
    );
    return req.name;
  }

  /** Scale the version's service to one task (or start a fresh task when the last one died) and wait for it to run. */
  async startContainer(id: string): Promise<void> {
    this.count("start");
    let service = await this.serviceOf(id);
    if (!service) throw new EngineError("not-found", `no service runs ${id} (removed, or replaced by a newer version)`);
    const tasks = await this.withLocalState((await this.tasksOf(service.ID)).filter((t) => versionOf(t) === id));
    // A task Swarm is about to run counts as live too: a rolling update makes the new task with the desired state
    // "ready" and only then turns it to "running" (a second update here would roll the same version out again).
    const live = tasks.some((t) => (t.DesiredState === "running" || t.DesiredState === "ready") && !TERMINAL.has(t.Status.State));
    // Replicas but no task of this version yet: the version was just rolled in and Swarm has yet to make its task.
    if (live || (tasks.length === 0 && replicasOf(service.Spec) > 0)) {
      await this.waitTaskRuns(service.ID, id, new Set(tasks.filter((t) => TERMINAL.has(t.Status.State)).map((t) => t.ID)));
      return;
    }
    // Restart condition "none": a task that died stays dead until asked for; a forced update starts a new one.
    const what = replicasOf(service.Spec) === 0 ? "scaleUp" : "restartTask";
    const known = new Set(tasks.map((t) => t.ID));
    for (let attempt = 1; ; attempt++) {
      this.count(what);
      await this.runOneTask(service, id);
      const task = await this.waitTaskRuns(service.ID, id, known);
      // Rejected: the node could not start it. The one cause a second try cures is the host port, taken between
      // choosing it and binding it; the lifecycle reports any other.
      if (task.Status.State !== "rejected" || attempt >= 2) return;
      known.add(task.ID);
      service = (await this.serviceOf(id)) ?? service;
    }
  }

  /** One task of the service on a newly chosen host port: scaled to 1, or a fresh task when one should run. */
  private async runOneTask(service: SwarmService, id: string): Promise<void> {
    const port = await freeHostPort();
    await this.updateService(
      service,
      (spec) => {
        const next = withPublishedPort(withReplicas(spec, 1), port);
        if (replicasOf(spec) > 0) next.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
        return next;
      },
      `start ${id}`,
    );
  }

  /** Wait for a task of the version not in `known` to run or end (a task that ended is a failed start). */
  private async waitTaskRuns(serviceId: string, id: string, known: ReadonlySet<string>): Promise<SwarmTask> {
    const deadline = Date.now() + this.startWaitMs;
    // Polled often: this wait is on the cold-start path of the first request (one GET /tasks each).
    for (let delay = 10; ; delay = Math.min(50, delay * 2)) {
      const fresh = (await this.tasksOf(serviceId)).filter((t) => versionOf(t) === id && !known.has(t.ID));
      const done = fresh.find((t) => t.Status.State === "running" || TERMINAL.has(t.Status.State));
      if (done) return done;
      if (Date.now() > deadline) {
        const state = fresh.map((t) => `${t.Status.State}${t.Status.Err ? `: ${t.Status.Err}` : ""}`).join(", ") || "no task scheduled";
        throw new EngineError("api", `the task of ${id} did not run within ${this.startWaitMs / 1000}s (${state})`);
      }
      await Bun.sleep(delay);
    }
  }

  /**
   * Scale the version's service to 0. Two cases are not a plain stop: the old version of a reload being retired
   * (its service already runs the new one: nothing to do), and a new version that is given up while the version it
   * replaced still serves (the service goes back to the replaced version's spec instead of stopping).
   */
  async stopContainer(id: string, timeoutSecs: number): Promise<void> {
    this.count("stop");
    for (const [next, r] of this.replaced) if (r.version === id) this.replaced.delete(next);
    const service = await this.serviceOf(id);
    if (!service) return;
    const back = this.replaced.get(id);
    if (back) {
      this.replaced.delete(id);
      this.count("rollBack");
      await this.updateService(service, () => back.spec, `roll ${id} back to ${back.version}`);
      return;
    }
    if (replicasOf(service.Spec) !== 0) {
      this.count("scaleDown");
      await this.updateService(
        service,
        (spec) => {
          const next = withReplicas(spec, 0);
          next.TaskTemplate.ContainerSpec.StopGracePeriod = timeoutSecs * 1e9;
          return next;
        },
        `scale ${id} to 0`,
      );
    }
    await this.waitTasksDown(service.ID, (timeoutSecs + 15) * 1000);
  }

  /** Wait until no task of the service runs (a stop returns once the app is down, as a container stop does). */
  private async waitTasksDown(serviceId: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (let delay = 20; ; delay = Math.min(200, delay * 2)) {
      const tasks = await this.tasksOf(serviceId).catch(() => [] as SwarmTask[]);
      if (tasks.every((t) => TERMINAL.has(t.Status.State) || (t.DesiredState !== "running" && t.Status.State !== "running"))) return;
      if (Date.now() > deadline) return;
      await Bun.sleep(delay);
    }
  }

  pauseContainer(_id: string): Promise<void> {
    return Promise.reject(new EngineError("api", "backend swarm does not pause tasks: an idle app is scaled to 0 instead"));
  }
  unpauseContainer(_id: string): Promise<void> {
    return Promise.reject(new EngineError("api", "backend swarm does not pause tasks"));
  }

  /** Kill the version's running task (its container, through this node's engine when it runs here). */
  async killContainer(id: string): Promise<void> {
    this.count("kill");
    const service = await this.serviceOf(id);
    if (!service) return;
    const task = newestTask((await this.tasksOf(service.ID)).filter((t) => versionOf(t) === id && t.Status.State === "running"));
    const container = task?.Status.ContainerStatus?.ContainerID;
    if (!task || !container) return;
    if (task.NodeID !== this.localNodeId) {
      throw new EngineError("api", `the task of ${id} runs on node ${task.NodeID}; kill its container ${container.slice(0, 12)} there`);
    }
    await this.docker.killContainer(container);
  }

  /** Remove the service running this version, and wait for its task containers on this node to go. */
  async removeContainer(id: string): Promise<void> {
    this.count("remove");
    const service = await this.serviceOf(id);
    if (!service) return;
    await this.docker.api("DELETE", `/services/${service.ID}`, {}, [200, 204, 404], `remove service ${service.Spec.Name}`);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const left = await this.docker.listContainers([`com.docker.swarm.service.id=${service.ID}`], true);
      if (left.length === 0) return;
      await Bun.sleep(100);
    }
  }

  async inspectContainer(id: string): Promise<ContainerInfo | null> {
    this.count("inspect");
    const service = await this.serviceOf(id);
    if (!service) return null;
    const task = pickTask(await this.withLocalState((await this.tasksOf(service.ID)).filter((t) => versionOf(t) === id)));
    const labels = service.Spec.TaskTemplate.ContainerSpec.Labels ?? {};
    const base = {
      id,
      name: id,
      imageId: await this.imageIdOf(service.Spec.TaskTemplate.ContainerSpec.Image),
      labels,
    };
    if (!task) {
      // No task yet (0 replicas, never started): a created container.
      return { ...base, status: "created", running: false, exitCode: 0, oomKilled: false, startedAt: "", hostPorts: {} };
    }
    const state = task.Status.State;
    const running = state === "running" && task.DesiredState === "running";
    const hostPorts: Record<string, number> = {};
    if (running) {
      for (const p of task.Status.PortStatus?.Ports ?? []) {
        if (p.PublishedPort) hostPorts[`${p.TargetPort}/${p.Protocol ?? "tcp"}`] = p.PublishedPort;
      }
    }
    const status: ContainerStatus = running ? "running" : TERMINAL.has(state) || task.DesiredState !== "running" ? "exited" : "created";
    return {
      ...base,
      status,
      running,
      exitCode: task.Status.ContainerStatus?.ExitCode ?? (state === "rejected" || state === "failed" ? 1 : 0),
      oomKilled: false,
      startedAt: running ? (task.Status.Timestamp ?? task.CreatedAt) : "",
      hostPorts,
      hostAddress: running && task.NodeID ? await this.nodeAddress(task.NodeID) : undefined,
    };
  }

  private async imageIdOf(ref: string): Promise<string> {
    const known = this.digestImageIds.get(ref);
    if (known !== undefined) return known;
    const id = (await this.docker.inspectImage(ref).catch(() => null))?.id ?? "";
    if (id && ref.includes("@sha256:")) this.digestImageIds.set(ref, id);
    return id;
  }

  /** One entry per app service: its current version, running when a task of it runs. */
  async listContainers(labels: LabelFilter, all = true): Promise<ContainerSummary[]> {
    this.count("list");
    const out: ContainerSummary[] = [];
    for (const service of await this.servicesWith(labels)) {
      const version = service.Spec.Labels?.[LABEL_SWARM_VERSION];
      if (!version) continue;
      const running = (await this.tasksOf(service.ID)).some((t) => versionOf(t) === version && t.Status.State === "running" && t.DesiredState === "running");
      if (!all && !running) continue;
      const image = service.Spec.TaskTemplate.ContainerSpec.Image;
      out.push({ id: version, name: version, image, imageId: "", state: running ? "running" : "exited", labels: service.Spec.TaskTemplate.ContainerSpec.Labels ?? {} });
    }
    return out;
  }

  /** The service's log tail, and why its newest task failed when Swarm says (an image a node could not pull). */
  async logs(id: string, tail: number): Promise<string> {
    this.count("logs");
    const service = await this.serviceOf(id);
    if (!service) return "";
    const text = await this.docker.serviceLogs(service.ID, tail);
    const task = pickTask((await this.tasksOf(service.ID)).filter((t) => versionOf(t) === id));
    const err = task?.Status.Err ? `task ${task.Status.State}: ${task.Status.Err}\n` : "";
    return text + err;
  }

  async followLogs(id: string, onLine: (line: string) => void, signal: AbortSignal, sinceSecs?: number): Promise<void> {
    this.count("followLogs");
    const service = await this.serviceOf(id);
    if (!service) return;
    await this.docker.followServiceLogs(service.ID, onLine, signal, sinceSecs);
  }

  /**
   * The task containers' events on this node, as events of their version. A task that ends because its service
   * moved to a newer version (a rolling update) or was scaled down is not a crash: its "die" is dropped when its
   * version no longer runs. Tasks on other nodes are watched by the lifecycle's status checks (inspect).
   */
  events(labels: LabelFilter, onEvent: (e: EngineEvent) => void): EventSubscription {
    return this.docker.events(labels, (e) => {
      const version = e.labels[LABEL_SWARM_VERSION];
      if (!version || e.action === "destroy") return;
      const mapped: EngineEvent = { ...e, id: version, name: version };
      if (e.action !== "die" && e.action !== "oom") return onEvent(mapped);
      void this.serviceOf(version)
        .then((service) => {
          if (service && replicasOf(service.Spec) > 0) onEvent(mapped);
        })
        .catch(() => onEvent(mapped));
    });
  }

  /**
   * The reference a task on any node can run: a digest the image already has in its own repository (an image
   * pulled from a registry); else, with a registry configured, the image pushed there and named by its digest; else
   * the local name, which only this node has.
   */
  private async imageForNodes(ref: string): Promise<string> {
    const info = await this.docker.inspectImage(ref);
    if (!info) return ref;
    const { repo, tag } = parseImageRef(ref);
    const own = info.repoDigests.find((d) => d.startsWith(`${repo}@`));
    if (own && registryOf(repo) !== "docker.io") return own;
    if (this.registry === undefined) return own ?? ref;
    const target = `${this.registry}/${registryOf(repo) === "docker.io" ? repo : repo.slice(repo.indexOf("/") + 1)}`;
    let pinned = info.repoDigests.find((d) => d.startsWith(`${target}@`));
    if (!pinned) {
      await this.docker.tagImage(ref, target, tag);
      this.count("push");
      await this.docker.push(`${target}:${tag}`);
      pinned = (await this.docker.inspectImage(ref))?.repoDigests.find((d) => d.startsWith(`${target}@`));
      if (!pinned) throw new EngineError("push-failed", `pushed ${target}:${tag} but the engine shows no digest for it`);
    }
    return pinned;
  }
}

/** The swarm this engine's node is in, from /info. */
export async function swarmState(docker: DockerEngine): Promise<{ state: string; manager: boolean; nodeId: string; error: string }> {
  const { json } = await docker.api("GET", "/info", {}, [200], "engine info");
  const s = (json as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string; Error?: string } }).Swarm ?? {};
  return { state: s.LocalNodeState ?? "", manager: s.ControlAvailable === true, nodeId: s.NodeID ?? "", error: s.Error ?? "" };
}

/** The service of an app: one per app id, whatever its version (a valid service name: at most 63 characters). */
export function serviceName(appId: string): string {
  const safe = appId.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "app";
  if (safe.length <= 59) return `clc-${safe}`;
  // Too long: a prefix plus a hash of the whole id keeps names apart.
  return `clc-${safe.slice(0, 46)}-${createHash("sha256").update(appId).digest("hex").slice(0, 12)}`;
}

function versionOf(task: SwarmTask): string | undefined {
  return task.Spec?.ContainerSpec?.Labels?.[LABEL_SWARM_VERSION];
}

function replicasOf(spec: ServiceSpec): number {
  return spec.Mode.Replicated?.Replicas ?? 0;
}

function withReplicas(spec: ServiceSpec, replicas: number): ServiceSpec {
  return { ...spec, Mode: { Replicated: { Replicas: replicas } } };
}

function withPublishedPort(spec: ServiceSpec, port: number): ServiceSpec {
  const ports = (spec.EndpointSpec?.Ports ?? []).map((p) => ({ ...p, PublishedPort: port }));
  return { ...spec, EndpointSpec: { ...spec.EndpointSpec, Ports: ports } };
}

/**
 * A host port free on this machine (IPv4 and IPv6) for the next task. Chosen here rather than left to the engine:
 * a host-mode port the engine picks can differ between IPv4 and IPv6 and Swarm does not say which is which. Each
 * task gets a new one, so the old and the new task of a start-first update run side by side on one node. On other
 * nodes the port is only as free as Swarm's own bookkeeping of host-mode ports knows.
 */
function freeHostPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "::", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function newestTask(tasks: readonly SwarmTask[]): SwarmTask | undefined {
  let best: SwarmTask | undefined;
  for (const t of tasks) if (!best || t.CreatedAt > best.CreatedAt) best = t;
  return best;
}

/** The task that says how the version is: one Swarm wants running, else the newest. */
function pickTask(tasks: readonly SwarmTask[]): SwarmTask | undefined {
  return newestTask(tasks.filter((t) => t.DesiredState === "running")) ?? newestTask(tasks);
}

/** HostConfig fields (from --copt) and where a service spec keeps them. */
const RESOURCE_LIMITS: Readonly<Record<string, string>> = { Memory: "MemoryBytes", NanoCpus: "NanoCPUs", PidsLimit: "Pids" };

/** A service spec for one version of an app: host-mode port, the lifecycle's labels, and the request's options. */
export function serviceSpec(name: string, req: CreateRequest, image: string, replicas: number, publishedPort: number): ServiceSpec {
  const labels = { ...req.labels, [LABEL_SWARM_VERSION]: req.name };
  const hc = { ...req.hostConfig } as Record<string, unknown>;
  const containerSpec: Record<string, unknown> & { Image: string; Labels: Record<string, string> } = {
    ...req.config,
    Image: image,
    Labels: labels,
    Env: Object.entries(req.env).map(([k, v]) => `${k}=${v}`),
    // An init as PID 1 stops a PID-1 app that ignores SIGTERM, as on plain Docker.
    Init: true,
    Ulimits: req.ulimits,
    Mounts: req.binds.map(bindToMount),
  };
  if (req.user) containerSpec.User = req.user;
  if (req.workingDir) containerSpec.Dir = req.workingDir;
  if (req.cmd) containerSpec.Args = [...req.cmd];
  const limits: Record<string, number> = {};
  const reservations: Record<string, number> = {};
  for (const [key, value] of Object.entries(hc)) {
    if (value === undefined) continue;
    const limit = RESOURCE_LIMITS[key];
    if (limit) limits[limit] = value as number;
    else if (key === "MemoryReservation") reservations.MemoryBytes = value as number;
    else if (key === "ReadonlyRootfs") containerSpec.ReadOnly = value;
    else if (key === "CapAdd") containerSpec.CapabilityAdd = value;
    else if (key === "CapDrop") containerSpec.CapabilityDrop = value;
    else if (key === "Sysctls") containerSpec.Sysctls = value;
    else if (key === "GroupAdd") containerSpec.Groups = value;
    else if (key === "ExtraHosts") containerSpec.Hosts = (value as string[]).map(extraHostToHostsLine);
    else if (key === "Dns" || key === "DnsSearch" || key === "DnsOptions") {
      const dns = (containerSpec.DNSConfig ??= {}) as Record<string, unknown>;
      dns[key === "Dns" ? "Nameservers" : key === "DnsSearch" ? "Search" : "Options"] = value;
    } else if (key === "Tmpfs") {
      for (const [target, options] of Object.entries(value as Record<string, string>)) {
        if (options) throw new EngineError("bad-option", `tmpfs options ("${options}" for ${target}) are not available with backend swarm`);
        (containerSpec.Mounts as unknown[]).push({ Type: "tmpfs", Target: target });
      }
    } else {
      throw new EngineError("bad-option", `the container option behind HostConfig.${key} is not available with backend swarm`, "", "remove that --copt, or use backend docker");
    }
  }
  const resources: Record<string, unknown> = {};
  if (Object.keys(limits).length > 0) resources.Limits = limits;
  if (Object.keys(reservations).length > 0) resources.Reservations = reservations;
  return {
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: containerSpec,
      Resources: resources,
      // The lifecycle decides restarts (on the next request, with its crash-loop backoff), as on plain Docker.
      RestartPolicy: { Condition: "none" },
      ForceUpdate: 0,
    },
    Mode: { Replicated: { Replicas: replicas } },
    UpdateConfig: { Parallelism: 1, Order: "start-first", FailureAction: "continue" },
    // Host mode, reached at the task's node; the port is chosen anew for each task (freeHostPort).
    EndpointSpec: { Mode: "vip", Ports: [{ Protocol: "tcp", TargetPort: req.port, PublishMode: "host", PublishedPort: publishedPort }] },
  } as ServiceSpec;
}

/** "source:target[:ro]" as a service mount: an absolute source is a bind (it must exist on every node), else a volume. */
function bindToMount(bind: string): Record<string, unknown> {
  const [source = "", target = "", mode = ""] = bind.split(":");
  return { Type: source.startsWith("/") ? "bind" : "volume", Source: source, Target: target, ReadOnly: mode.split(",").includes("ro") };
}

/** Docker's "host:ip" extra host as a hosts-file line ("ip host"). */
function extraHostToHostsLine(entry: string): string {
  const i = entry.indexOf(":");
  return `${entry.slice(i + 1)} ${entry.slice(0, i)}`;
}

/** A registry setting must be "host" or "host:port", as image references spell it. */
export function checkRegistry(registry: string): void {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i.test(registry) && !/^\[[0-9a-f:]+\](:\d{1,5})?$/i.test(registry)) {
    throw new EngineError("config-error", `registry "${registry}" is not a host or host:port as image references spell it (e.g. "127.0.0.1:5000")`);
  }
}

/**
 * Delete a pushed manifest from its registry (the registry's storage frees the layers at its next garbage
 * collection). Loopback registries speak plain HTTP, as the engine treats them; others HTTPS.
 */
async function deleteManifest(pinned: string): Promise<void> {
  const at = pinned.indexOf("@");
  const repo = pinned.slice(0, at);
  const host = registryOf(repo);
  const path = repo.slice(host.length + 1);
  const scheme = /^(127\.|localhost(:|$)|\[::1\])/.test(host) ? "http" : "https";
  await fetch(`${scheme}://${host}/v2/${path}/manifests/${pinned.slice(at + 1)}`, { method: "DELETE" }).catch(() => undefined);
}
