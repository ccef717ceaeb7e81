/**
 * DockerEngine: the ContainerEngine over the Engine API socket with docker-modem (Docker, or Podman's
 * Docker-compatible service). The only module that imports docker-modem.
 *
 * Every call goes through `request`, which accepts any HTTP status and lets each operation decide: Podman's compat
 * API answers some calls with other codes than Docker (e.g. 200 where Docker says 204 or 304), and streamed
 * answers (build, pull, push) report failures as JSON lines inside an HTTP 200.
 */
import type Modem from "docker-modem";
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
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
import { BuildkitProgress, ProtobufError, decodeStatusResponse } from "./buildkit.ts";
import { LineSplitter, TailBuffer, demuxLogs } from "./streams.ts";

export interface DockerEngineOptions {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: "http" | "https";
  /** Shown in messages: "unix:///var/run/docker.sock". */
  endpoint: string;
  kind?: EngineKind;
}

interface RequestOptions {
  query?: Record<string, unknown>;
  body?: unknown;
  file?: Readable;
  auth?: Record<string, unknown> | { base64: string };
  signal?: AbortSignal;
}

const ALL_STATUS_CODES: Record<number, boolean> = {};
for (let code = 100; code < 600; code++) ALL_STATUS_CODES[code] = true;

const BUILD_TAIL_LINES = 40;

/**
 * docker-modem (with its ssh2 dependency) takes ~100 ms to load; commands that never talk to an engine, and the
 * moments before the first engine call, should not pay for it.
 */
function loadModem(): typeof Modem {
  return require("docker-modem") as typeof Modem;
}

export class DockerEngine implements ContainerEngine {
  kind: EngineKind;
  readonly endpoint: string;
  private readonly modem: Modem;
  /** What the engine said it is, at the first ping. */
  private version: EngineVersion | undefined;

  constructor(opts: DockerEngineOptions) {
    this.endpoint = opts.endpoint;
    this.kind = opts.kind ?? "docker";
    this.modem = opts.socketPath
      ? new (loadModem())({ socketPath: opts.socketPath })
      : new (loadModem())({ host: opts.host, port: opts.port, protocol: opts.protocol ?? "http" });
  }

  /** One Engine API call; resolves with the raw response whatever its status. */
  private request(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const query = opts.query ? dropUndefined(opts.query) : {};
    const hasQuery = Object.keys(query).length > 0;
    const options: Record<string, unknown> = {};
    // docker-modem only appends a query to a path that ends in "?", and drops that "?" when there is none.
    if (hasQuery) options._query = query;
    if (opts.body !== undefined) options._body = opts.body;
    // Without a body docker-modem would send the options object itself as the POST body.
    else if (method === "POST" && !opts.file) options._body = {};
    const hasOptions = Object.keys(options).length > 0;
    return new Promise((resolve, reject) => {
      this.modem.dial(
        {
          path: hasQuery ? `${path}?` : path,
          method,
          options: hasOptions ? options : undefined,
          file: opts.file,
          authconfig: opts.auth,
          isStream: true,
          statusCodes: ALL_STATUS_CODES,
          abortSignal: opts.signal,
          // An explicit body is sent even when it is "{}"; the placeholder above is not.
          allowEmpty: opts.body !== undefined,
        },
        (err, res) => {
          if (err) reject(this.unreachable(err));
          else resolve(res as IncomingMessage);
        },
      );
    });
  }

  private unreachable(err: Error): Error {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT" || code === "ECONNREFUSED" || code === "EACCES" || code === "ECONNRESET") {
      return new EngineError(
        "unreachable",
        `cannot reach the container engine at ${this.endpoint}: ${err.message}`,
        "",
        "start the engine (e.g. `dockerd &` or `podman system service --time=0 &`) or set DOCKER_HOST",
      );
    }
    return err;
  }

  /** A request whose JSON (or empty) body is wanted; non-accepted statuses become EngineErrors. */
  private async call(
    method: string,
    path: string,
    opts: RequestOptions,
    ok: readonly number[],
    what: string,
  ): Promise<{ status: number; json: unknown }> {
    const res = await this.request(method, path, opts);
    const text = await readText(res);
    const status = res.statusCode ?? 0;
    const json = parseJson(text);
    if (!ok.includes(status)) throw apiError(status, what, json, text);
    return { status, json };
  }

  /**
   * One Engine API call whose JSON answer is wanted, for backends layered on this engine (the Swarm backend's
   * services, tasks and nodes): statuses outside `ok` become EngineErrors that name `what`.
   */
  async api(
    method: "GET" | "POST" | "DELETE",
    path: string,
    opts: { query?: Record<string, unknown>; body?: unknown },
    ok: readonly number[],
    what: string,
  ): Promise<{ status: number; json: unknown }> {
    return this.call(method, path, opts, ok, what);
  }

  async ping(): Promise<EngineVersion> {
    const { json } = await this.call("GET", "/version", {}, [200], "engine version");
    const v = json as { Version?: string; ApiVersion?: string; Components?: { Name?: string }[] };
    const isPodman = (v.Components ?? []).some((c) => /podman/i.test(c.Name ?? ""));
    this.kind = isPodman ? "podman" : "docker";
    this.version = { kind: this.kind, version: v.Version ?? "", apiVersion: v.ApiVersion ?? "" };
    return this.version;
  }

  /**
   * BuildKit when the engine offers it: Docker since API 1.39 builds with it through `/build?version=2` (the only
   * way `RUN --mount=type=cache` works), unless DOCKER_BUILDKIT=0 asks for the classic builder as the docker CLI
   * honours it. Podman's compat API builds with Buildah whatever the version says, so it gets the classic request.
   */
  private async useBuildkit(): Promise<boolean> {
    if (process.env.DOCKER_BUILDKIT === "0") return false;
    this.version ??= await this.ping();
    if (this.kind !== "docker") return false;
    const [major = 0, minor = 0] = this.version.apiVersion.split(".").map(Number);
    return major > 1 || (major === 1 && minor >= 39);
  }

  async build(req: BuildRequest): Promise<BuildResult> {
    const buildkit = await this.useBuildkit();
    const res = await this.request("POST", "/build", {
      query: {
        t: req.tag,
        dockerfile: req.containerFile,
        rm: "1",
        forcerm: "1",
        version: buildkit ? "2" : undefined,
        buildargs: req.buildArgs && Object.keys(req.buildArgs).length > 0 ? JSON.stringify(req.buildArgs) : undefined,
        labels: req.labels ? JSON.stringify(req.labels) : undefined,
      },
      file: req.context,
      signal: req.signal,
    });
    const tail = new TailBuffer(BUILD_TAIL_LINES);
    const emit = (line: string): void => {
      tail.push(line);
      req.onLine?.(line);
    };
    const progress = new BuildkitProgress(emit);
    let imageId = "";
    let error = "";
    let badTrace = "";
    if ((res.statusCode ?? 0) !== 200) {
      const text = await readText(res);
      throw new EngineError("build-failed", `build of ${req.tag} failed: ${errorMessage(parseJson(text), text)}`, text);
    }
    await forEachJsonLine(res, (obj) => {
      const o = obj as { id?: string; stream?: string; aux?: unknown; error?: string; errorDetail?: { message?: string } };
      if (o.id === "moby.buildkit.trace" && typeof o.aux === "string") {
        try {
          progress.push(decodeStatusResponse(o.aux));
        } catch (err) {
          // One undecodable update costs its lines, not the build; say so once in the log.
          if (!(err instanceof ProtobufError)) throw err;
          if (!badTrace) emit((badTrace = `(build progress not readable: ${err.message})`));
        }
        return;
      }
      if (typeof o.stream === "string") {
        for (const line of o.stream.split("\n")) {
          if (line.trim() === "") continue;
          emit(line);
          const m = /^Successfully built ([0-9a-f]+)/.exec(line);
          if (m && !imageId) imageId = m[1]!;
        }
      }
      const aux = o.aux as { ID?: string } | undefined;
      if (aux && typeof aux === "object" && aux.ID) imageId = aux.ID;
      if (o.error || o.errorDetail) {
        error = o.errorDetail?.message ?? o.error ?? "unknown build error";
        progress.flush();
        emit(error);
      }
    });
    progress.flush();
    if (error || !imageId) {
      const step = progress.failedStep ? ` at step ${progress.failedStep}` : "";
      throw new EngineError(
        // The classic builder's cache can hit an image that is being removed at that moment; only its text says so.
        /unknown parent image|No such image/i.test(error) ? "build-cache-race" : "build-failed",
        `build of ${req.tag} failed${step}: ${error || "the engine reported no image"}`,
        tail.text(),
        "fix the container file or the step named in the build output",
      );
    }
    return { imageId, logTail: tail.text() };
  }

  async pull(ref: string, onProgress?: (p: PullProgress) => void, signal?: AbortSignal): Promise<void> {
    const { repo, tag, digest } = parseImageRef(ref);
    if (this.kind === "podman" && this.tlsVerifyParam(repo) === "false") {
      // Podman's compat pull has no way to allow a plain-HTTP registry; its own pull endpoint does.
      const res = await this.request("POST", "/v4.0.0/libpod/images/pull", {
        query: { reference: digest ? `${repo}@${digest}` : `${repo}:${tag}`, tlsVerify: "false" },
        auth: registryAuth(registryOf(repo)),
        signal,
      });
      await this.readProgress(res, "pull-failed", `pull of ${ref}`, onProgress);
      return;
    }
    const res = await this.request("POST", "/images/create", {
      query: { fromImage: repo, tag: digest ?? tag },
      auth: registryAuth(registryOf(repo)),
      signal,
    });
    await this.readProgress(res, "pull-failed", `pull of ${ref}`, onProgress);
  }

  async push(ref: string, onProgress?: (p: PullProgress) => void): Promise<void> {
    const { repo, tag } = parseImageRef(ref);
    const res = await this.request("POST", `/images/${repo}/push`, {
      query: { tag, tlsVerify: this.tlsVerifyParam(repo) },
      auth: registryAuth(registryOf(repo)),
    });
    await this.readProgress(res, "push-failed", `push of ${ref}`, onProgress);
  }

  /**
   * Docker treats registries on 127.0.0.0/8 as insecure (plain HTTP) by default; Podman does not, but takes
   * `tlsVerify=false` on push and pull. Sent to Podman only, for loopback registries only.
   */
  private tlsVerifyParam(repo: string): string | undefined {
    if (this.kind !== "podman") return undefined;
    const host = registryOf(repo).replace(/:\d+$/, "");
    return host === "localhost" || /^127\./.test(host) ? "false" : undefined;
  }

  private async readProgress(
    res: IncomingMessage,
    kind: "pull-failed" | "push-failed",
    what: string,
    onProgress?: (p: PullProgress) => void,
  ): Promise<void> {
    if ((res.statusCode ?? 0) !== 200) {
      const text = await readText(res);
      const msg = errorMessage(parseJson(text), text);
      throw new EngineError(kind, `${what} failed: ${msg}`, text, "check the image reference and the registry");
    }
    const tail = new TailBuffer(20);
    let error = "";
    await forEachJsonLine(res, (obj) => {
      const o = obj as PullProgress & { error?: string; errorDetail?: { message?: string }; progressDetail?: { current?: number; total?: number } };
      if (o.error || o.errorDetail) {
        error = o.errorDetail?.message ?? o.error ?? "unknown error";
        tail.push(error);
        return;
      }
      // Podman's own pull endpoint reports progress as `stream` lines.
      const stream = (o as { stream?: string }).stream;
      if (typeof o.status !== "string" && typeof stream === "string" && stream.trim() !== "") {
        tail.push(stream.trim());
        onProgress?.({ status: stream.trim() });
      }
      if (typeof o.status === "string") {
        tail.push(o.id ? `${o.id}: ${o.status}` : o.status);
        onProgress?.({
          status: o.status,
          id: o.id,
          progress: o.progress,
          current: o.progressDetail?.current,
          total: o.progressDetail?.total,
        });
      }
    });
    if (error) throw new EngineError(kind, `${what} failed: ${error}`, tail.text(), "check the image reference and the registry");
  }

  async tagImage(source: string, repo: string, tag: string): Promise<void> {
    await this.call("POST", `/images/${encodeURIComponent(source)}/tag`, { query: { repo, tag } }, [200, 201], `tag ${source}`);
  }

  async importImage(rootfs: Readable, repo: string, tag: string, changes: readonly string[] = []): Promise<void> {
    // An array value becomes a repeated query parameter (changes=...&changes=...).
    const res = await this.request("POST", "/images/create", {
      query: { fromSrc: "-", repo, tag, changes: changes.length > 0 ? [...changes] : undefined },
      file: rootfs,
    });
    await this.readProgress(res, "pull-failed", `import of ${repo}:${tag}`);
    // Podman's compat API ignores `tag` on import and names the image repo:latest; tag it as asked.
    if (tag !== "latest" && !(await this.inspectImage(`${repo}:${tag}`))) {
      const latest = await this.inspectImage(repo);
      if (latest) await this.tagImage(latest.id, repo, tag);
    }
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    const res = await this.request("GET", `/images/${encodeURIComponent(ref)}/json`);
    const text = await readText(res);
    if (res.statusCode === 404) return null;
    const json = parseJson(text);
    if (res.statusCode !== 200) throw apiError(res.statusCode ?? 0, `inspect image ${ref}`, json, text);
    const o = json as {
      Id: string;
      RepoTags?: string[] | null;
      RepoDigests?: string[] | null;
      Config?: { Labels?: Record<string, string> | null; ExposedPorts?: Record<string, unknown> | null };
    };
    return {
      id: o.Id,
      repoTags: o.RepoTags ?? [],
      repoDigests: o.RepoDigests ?? [],
      labels: o.Config?.Labels ?? {},
      exposedPorts: Object.keys(o.Config?.ExposedPorts ?? {}),
    };
  }

  async listImages(labels: LabelFilter): Promise<ImageSummary[]> {
    // Podman 4.3's compat API matches no image when given several label filters; send one, check the rest here.
    const { json } = await this.call(
      "GET",
      "/images/json",
      { query: { filters: JSON.stringify({ label: labels.slice(0, 1) }) } },
      [200],
      "list images",
    );
    return ((json as { Id: string; RepoTags?: string[] | null; Labels?: Record<string, string> | null }[]) ?? [])
      .filter((i) => matchesLabels(i.Labels ?? {}, labels))
      .map((i) => ({ id: i.Id, repoTags: (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>"), labels: i.Labels ?? {} }));
  }

  async removeImage(ref: string, force = false): Promise<void> {
    await this.call("DELETE", `/images/${encodeURIComponent(ref)}`, { query: { force: force ? "1" : undefined } }, [200, 404], `remove image ${ref}`);
  }

  async createContainer(req: CreateRequest): Promise<string> {
    const portKey = `${req.port}/tcp`;
    const env = Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
    const body: Record<string, unknown> = {
      ...req.config,
      Image: req.image,
      Env: env,
      Labels: req.labels,
      ExposedPorts: { [portKey]: {} },
      HostConfig: {
        ...req.hostConfig,
        PortBindings: { [portKey]: [{ HostIp: "127.0.0.1", HostPort: "" }] },
        // An init as PID 1 stops a PID-1 app that ignores SIGTERM; in the host's PID namespace the app is not PID 1,
        // and Podman refuses an init there ("PID namespace isn't private").
        Init: (req.hostConfig as { PidMode?: string } | undefined)?.PidMode !== "host",
        Binds: req.binds.length > 0 ? req.binds : undefined,
        Ulimits: req.ulimits,
      },
    };
    if (req.user) body.User = req.user;
    if (req.workingDir) body.WorkingDir = req.workingDir;
    if (req.cmd) body.Cmd = req.cmd;
    const { json } = await this.call(
      "POST",
      "/containers/create",
      { query: { name: req.name }, body },
      [200, 201],
      `create container ${req.name}`,
    );
    return (json as { Id: string }).Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call("POST", `/containers/${id}/start`, { body: {} }, [200, 204, 304], `start container ${short(id)}`);
  }

  async stopContainer(id: string, timeoutSecs: number): Promise<void> {
    await this.call("POST", `/containers/${id}/stop`, { query: { t: String(timeoutSecs) }, body: {} }, [200, 204, 304, 404], `stop container ${short(id)}`);
  }

  async pauseContainer(id: string): Promise<void> {
    await this.call("POST", `/containers/${id}/pause`, { body: {} }, [200, 204], `pause container ${short(id)}`);
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.call("POST", `/containers/${id}/unpause`, { body: {} }, [200, 204], `unpause container ${short(id)}`);
  }

  async killContainer(id: string): Promise<void> {
    await this.call("POST", `/containers/${id}/kill`, { body: {} }, [200, 204, 409], `kill container ${short(id)}`);
  }

  async removeContainer(id: string): Promise<void> {
    await this.call("DELETE", `/containers/${id}`, { query: { force: "true", v: "true" } }, [200, 204, 404], `remove container ${short(id)}`);
  }

  async inspectContainer(id: string): Promise<ContainerInfo | null> {
    const res = await this.request("GET", `/containers/${encodeURIComponent(id)}/json`);
    const text = await readText(res);
    if (res.statusCode === 404) return null;
    const json = parseJson(text);
    if (res.statusCode !== 200) throw apiError(res.statusCode ?? 0, `inspect container ${short(id)}`, json, text);
    const o = json as {
      Id: string;
      Name: string;
      Image: string;
      State: { Status: string; Running: boolean; ExitCode: number; OOMKilled: boolean; StartedAt: string };
      Config: { Labels?: Record<string, string> | null };
      NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
    };
    const hostPorts: Record<string, number> = {};
    for (const [key, bindings] of Object.entries(o.NetworkSettings?.Ports ?? {})) {
      const b = (bindings ?? []).find((x) => x.HostPort && (x.HostIp === "127.0.0.1" || x.HostIp === "" || x.HostIp === "0.0.0.0"));
      if (b) hostPorts[key] = Number(b.HostPort);
    }
    return {
      id: o.Id,
      name: o.Name.replace(/^\//, ""),
      imageId: o.Image,
      status: o.State.Status as ContainerStatus,
      running: o.State.Running,
      exitCode: o.State.ExitCode,
      oomKilled: o.State.OOMKilled,
      startedAt: o.State.StartedAt,
      labels: o.Config.Labels ?? {},
      hostPorts,
    };
  }

  async listContainers(labels: LabelFilter, all = true): Promise<ContainerSummary[]> {
    const { json } = await this.call(
      "GET",
      "/containers/json",
      { query: { all: all ? "1" : undefined, filters: JSON.stringify({ label: labels }) } },
      [200],
      "list containers",
    );
    return ((json as { Id: string; Names?: string[]; Image: string; ImageID: string; State: string; Labels?: Record<string, string> | null }[]) ?? [])
      .filter((c) => matchesLabels(c.Labels ?? {}, labels))
      .map((c) => ({
        id: c.Id,
        name: (c.Names?.[0] ?? "").replace(/^\//, ""),
        image: c.Image,
        imageId: c.ImageID,
        state: c.State,
        labels: c.Labels ?? {},
      }));
  }

  async logs(id: string, tail: number): Promise<string> {
    return this.logsAt(`/containers/${id}`, id, tail);
  }

  /** The last `tail` lines of a Swarm service's tasks (the same framed stream as a container's). */
  async serviceLogs(serviceId: string, tail: number): Promise<string> {
    return this.logsAt(`/services/${serviceId}`, serviceId, tail);
  }

  private async logsAt(base: string, id: string, tail: number): Promise<string> {
    const res = await this.request("GET", `${base}/logs`, { query: { stdout: "1", stderr: "1", tail: String(tail) } });
    const buf = await readBuffer(res);
    if (res.statusCode === 404) return "";
    if (res.statusCode !== 200) throw apiError(res.statusCode ?? 0, `logs of ${short(id)}`, parseJson(buf.toString()), buf.toString());
    return demuxLogs(buf);
  }

  async followLogs(id: string, onLine: (line: string) => void, signal: AbortSignal, sinceSecs?: number): Promise<void> {
    return this.followLogsAt(`/containers/${id}`, id, onLine, signal, sinceSecs);
  }

  /** Follow a Swarm service's task logs, as followLogs does a container's. */
  async followServiceLogs(serviceId: string, onLine: (line: string) => void, signal: AbortSignal, sinceSecs?: number): Promise<void> {
    return this.followLogsAt(`/services/${serviceId}`, serviceId, onLine, signal, sinceSecs);
  }

  private async followLogsAt(base: string, id: string, onLine: (line: string) => void, signal: AbortSignal, sinceSecs?: number): Promise<void> {
    const res = await this.request("GET", `${base}/logs`, {
      query:
        sinceSecs === undefined
          ? { stdout: "1", stderr: "1", follow: "1", tail: "0" }
          : { stdout: "1", stderr: "1", follow: "1", since: String(Math.floor(sinceSecs)) },
      signal,
    });
    if (res.statusCode !== 200) {
      const text = await readText(res);
      throw apiError(res.statusCode ?? 0, `logs of ${short(id)}`, parseJson(text), text);
    }
    const lines = new LineSplitter(onLine);
    let pending: Buffer = Buffer.alloc(0);
    await new Promise<void>((resolve) => {
      res.on("data", (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        // Frames: 8-byte header (stream, 0, 0, 0, size BE32) then the payload.
        while (pending.length >= 8 && pending[0]! <= 2 && pending[1] === 0) {
          const size = pending.readUInt32BE(4);
          if (pending.length < 8 + size) break;
          lines.push(pending.subarray(8, 8 + size).toString());
          pending = pending.subarray(8 + size);
        }
      });
      res.on("end", resolve);
      res.on("error", () => resolve());
      res.on("close", resolve);
    });
    lines.flush();
  }

  events(labels: LabelFilter, onEvent: (e: EngineEvent) => void): EventSubscription {
    let closed = false;
    let controller = new AbortController();
    let markReady!: () => void;
    const ready = new Promise<void>((r) => (markReady = r));
    const connect = async (attempt: number): Promise<void> => {
      if (closed) return;
      try {
        const res = await this.request("GET", "/events", {
          query: { filters: JSON.stringify({ type: ["container"], label: labels }) },
          signal: controller.signal,
        });
        if (res.statusCode !== 200) throw new Error(`events answered ${res.statusCode}`);
        markReady();
        attempt = 0;
        const splitter = new LineSplitter((line) => {
          const e = parseJson(line) as {
            Action?: string;
            status?: string;
            id?: string;
            Actor?: { ID?: string; Attributes?: Record<string, string> };
            time?: number;
          } | null;
          if (!e) return;
          const attrs = e.Actor?.Attributes ?? {};
          const action = (e.Action ?? e.status ?? "").split(":")[0]!;
          const exit = attrs.exitCode;
          const { name = "", exitCode: _x, image: _i, ...rest } = attrs;
          onEvent({
            action,
            id: e.Actor?.ID ?? e.id ?? "",
            name,
            labels: rest,
            exitCode: exit !== undefined ? Number(exit) : undefined,
            time: e.time ?? 0,
          });
        });
        await new Promise<void>((resolve) => {
          res.on("data", (chunk: Buffer) => splitter.push(chunk.toString()));
          res.on("end", resolve);
          res.on("error", () => resolve());
          res.on("close", resolve);
        });
      } catch {
        // Reconnect below; the engine may be restarting.
      }
      if (closed) return;
      await Bun.sleep(Math.min(5000, 100 * 2 ** attempt));
      controller = new AbortController();
      void connect(attempt + 1);
    };
    void connect(0);
    return {
      ready,
      close() {
        closed = true;
        controller.abort();
      },
    };
  }

  async createVolume(name: string, labels: Readonly<Record<string, string>>): Promise<void> {
    await this.call("POST", "/volumes/create", { body: { Name: name, Labels: labels } }, [200, 201], `create volume ${name}`);
  }

  async inspectVolume(name: string): Promise<VolumeInfo | null> {
    const res = await this.request("GET", `/volumes/${encodeURIComponent(name)}`);
    const text = await readText(res);
    if (res.statusCode === 404) return null;
    const json = parseJson(text);
    if (res.statusCode !== 200) throw apiError(res.statusCode ?? 0, `inspect volume ${name}`, json, text);
    const o = json as { Name: string; Labels?: Record<string, string> | null };
    return { name: o.Name, labels: o.Labels ?? {} };
  }

  async listVolumes(labels: LabelFilter): Promise<VolumeInfo[]> {
    // Podman 4.3 matches a volume that has ANY of several labels (Docker: all of them); the rest are dropped here,
    // so that one app's delete never reaches another app's data.
    const { json } = await this.call("GET", "/volumes", { query: { filters: JSON.stringify({ label: labels }) } }, [200], "list volumes");
    const vols = (json as { Volumes?: { Name: string; Labels?: Record<string, string> | null }[] | null }).Volumes ?? [];
    return vols.filter((v) => matchesLabels(v.Labels ?? {}, labels)).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async removeVolume(name: string): Promise<void> {
    await this.call("DELETE", `/volumes/${encodeURIComponent(name)}`, { query: { force: "1" } }, [200, 204, 404], `remove volume ${name}`);
  }
}

/** Split "host:5000/a/b:tag@sha256:..." into repository, tag and digest. */
export function parseImageRef(ref: string): { repo: string; tag: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) return { repo: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { repo: rest, tag: "latest", digest };
}

/** The registry host of a repository ("docker.io" when the first part is not a host). */
export function registryOf(repo: string): string {
  const first = repo.split("/")[0]!;
  if (repo.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")) return first;
  return "docker.io";
}

/** Credentials for a registry from ~/.docker/config.json, when present; an empty auth otherwise (push needs one). */
function registryAuth(registry: string): Record<string, unknown> | { base64: string } {
  const empty = { base64: Buffer.from("{}").toString("base64") };
  const home = process.env.DOCKER_CONFIG ?? join(homedir(), ".docker");
  let config: { auths?: Record<string, { auth?: string; identitytoken?: string }> };
  try {
    config = JSON.parse(readFileSync(join(home, "config.json"), "utf8"));
  } catch {
    return empty;
  }
  const auths = config.auths ?? {};
  const candidates = registry === "docker.io" ? ["https://index.docker.io/v1/", "docker.io", "index.docker.io"] : [registry, `https://${registry}`, `http://${registry}`];
  for (const key of candidates) {
    const entry = auths[key];
    if (!entry) continue;
    if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: registry };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString();
      const i = decoded.indexOf(":");
      return { username: decoded.slice(0, i), password: decoded.slice(i + 1), serveraddress: registry };
    }
  }
  return empty;
}

/** Label filters as the Engine API applies them: "key" (present) or "key=value". */
function matchesLabels(labels: Readonly<Record<string, string>>, filters: LabelFilter): boolean {
  return filters.every((f) => {
    const i = f.indexOf("=");
    return i < 0 ? f in labels : labels[f.slice(0, i)] === f.slice(i + 1);
  });
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

function readBuffer(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks)));
    res.on("error", reject);
  });
}

async function readText(res: IncomingMessage): Promise<string> {
  return (await readBuffer(res)).toString();
}

function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Call `fn` with each JSON object of a newline-delimited stream, however the chunks split it. */
function forEachJsonLine(res: IncomingMessage, fn: (obj: unknown) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const splitter = new LineSplitter((line) => {
      const obj = parseJson(line);
      if (obj !== null) fn(obj);
    });
    res.on("data", (c: Buffer) => splitter.push(c.toString()));
    res.on("end", () => {
      splitter.flush();
      resolve();
    });
    res.on("error", reject);
  });
}

function errorMessage(json: unknown, text: string): string {
  const o = json as { message?: string; cause?: string } | null;
  return o?.message ?? o?.cause ?? (text.trim() || "no details");
}

function apiError(status: number, what: string, json: unknown, text: string): EngineError {
  const msg = errorMessage(json, text);
  const kind = status === 404 ? "not-found" : status === 409 ? "conflict" : "api";
  return new EngineError(kind, `${what}: ${msg} (HTTP ${status})`, "", "", status);
}

function short(id: string): string {
  return id.length > 12 && /^[0-9a-f]+$/.test(id) ? id.slice(0, 12) : id;
}
