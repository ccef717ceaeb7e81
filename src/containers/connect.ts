/**
 * Finding the engine: DOCKER_HOST (unix:// or tcp://) when set, else the Docker socket, else Podman's rootful and
 * rootless Docker-compatible sockets. The first that answers a version call wins.
 */
import { existsSync } from "node:fs";
import { DockerEngine } from "./docker.ts";
import { EngineError } from "./engine.ts";

export interface ConnectOptions {
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface EngineCandidate {
  endpoint: string;
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: "http" | "https";
}

/** The places to look for an engine, in order. */
export function engineCandidates(env: Readonly<Record<string, string | undefined>> = process.env): EngineCandidate[] {
  const dockerHost = env.DOCKER_HOST?.trim();
  if (dockerHost) {
    if (dockerHost.startsWith("unix://")) return [{ endpoint: dockerHost, socketPath: dockerHost.slice("unix://".length) }];
    if (dockerHost.startsWith("tcp://") || dockerHost.startsWith("http://") || dockerHost.startsWith("https://")) {
      const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
      const tls = dockerHost.startsWith("https://");
      return [
        {
          endpoint: dockerHost,
          host: url.hostname,
          port: Number(url.port || (tls ? 2376 : 2375)),
          protocol: tls ? "https" : "http",
        },
      ];
    }
    if (dockerHost.startsWith("/")) return [{ endpoint: `unix://${dockerHost}`, socketPath: dockerHost }];
    throw new EngineError(
      "unreachable",
      `DOCKER_HOST=${dockerHost} is not supported`,
      "",
      "use unix:///path/to/socket or tcp://host:port",
    );
  }
  const sockets = ["/var/run/docker.sock", "/run/podman/podman.sock"];
  if (env.XDG_RUNTIME_DIR) sockets.push(`${env.XDG_RUNTIME_DIR}/podman/podman.sock`);
  return sockets.map((s) => ({ endpoint: `unix://${s}`, socketPath: s }));
}

/** Connect to the first engine that answers; fails with an "unreachable" EngineError that says what was tried. */
export async function connectEngine(opts: ConnectOptions = {}): Promise<DockerEngine> {
  const candidates = engineCandidates(opts.env ?? process.env);
  const tried: string[] = [];
  for (const c of candidates) {
    if (c.socketPath && !existsSync(c.socketPath)) {
      tried.push(`${c.endpoint} (no such socket)`);
      continue;
    }
    const engine = new DockerEngine({ ...c });
    try {
      await engine.ping();
      return engine;
    } catch (err) {
      tried.push(`${c.endpoint} (${(err as Error).message})`);
    }
  }
  throw new EngineError(
    "unreachable",
    `no container engine answers; tried ${tried.join(", ")}`,
    "",
    "start Docker (`dockerd &`) or Podman (`podman system service --time=0 unix:///run/podman/podman.sock &`), or set DOCKER_HOST",
  );
}
