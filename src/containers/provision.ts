/**
 * Provisioning an app's container: the image (built from the app's context, or pulled) and the container made from
 * it, with its volumes, options and labels; then the host port the engine published for it. Engine calls only; the
 * lifecycle decides when.
 */
import { BuildOutputFilter } from "./build-output.ts";
import { collectContext, contextTar } from "./context.ts";
import { EngineError, type ContainerEngine, type PullProgress, type Ulimit } from "./engine.ts";
import { LABEL_APP, LABEL_APP_NAME, LABEL_HASH, LABEL_MANAGED, containerName, imageName } from "./naming.ts";
import { mapOptions, mergeUlimits } from "./options.ts";
import type { ContainerSpec } from "./spec.ts";
import { planVolumes } from "./volumes.ts";

/** What provisioning one app needs to know. */
export interface Provision {
  engine: ContainerEngine;
  spec: ContainerSpec;
  /** Names the container (source, env, volumes, options, port). */
  hash: string;
  /** Names the built image (source, container file, build args). */
  imgHash: string;
  /** The manager's labels (owner), added to everything created. */
  managerLabels: Readonly<Record<string, string>>;
  runDir: string;
  ulimits: readonly Ulimit[];
  /** Cancels a build or pull in progress. */
  signal?: AbortSignal;
  /** A build or pull begins (`reason`: what is pulled). */
  onBuilding(reason?: string): void;
  onBuildLine(line: string): void;
  onPullProgress(progress: PullProgress): void;
}

/** The labels of an app's container or built image, `hash` naming which version. */
export function appLabels(p: Pick<Provision, "spec" | "managerLabels">, hash: string): Record<string, string> {
  return {
    ...p.managerLabels,
    [LABEL_MANAGED]: "true",
    [LABEL_APP]: p.spec.appId,
    [LABEL_APP_NAME]: p.spec.appName,
    [LABEL_HASH]: hash,
  };
}

/** The image the app's container runs: the built one (built when missing) or the pulled reference. */
export async function ensureImage(p: Provision): Promise<{ ref: string; id: string }> {
  const { engine, spec } = p;
  if (spec.image.kind === "build") {
    const ref = imageName(spec.appId, p.imgHash);
    const existing = await engine.inspectImage(ref);
    if (existing) return { ref, id: existing.id };
    p.onBuilding();
    const source = spec.image;
    const ctx = collectContext(source.contextDirs, source.containerFile);
    const labels = appLabels(p, p.imgHash);
    const build = () => {
      const output = new BuildOutputFilter(Object.keys(labels));
      return engine.build({
        context: contextTar(ctx),
        tag: ref,
        containerFile: source.containerFile,
        buildArgs: source.buildArgs,
        labels,
        signal: p.signal,
        onLine: (line) => {
          const shown = output.line(line);
          if (shown !== null) p.onBuildLine(shown);
        },
      });
    };
    try {
      return { ref, id: (await build()).imageId };
    } catch (err) {
      if (!(err instanceof EngineError && err.kind === "build-cache-race")) throw err;
      return { ref, id: (await build()).imageId };
    }
  }
  const ref = spec.image.ref;
  let info = await engine.inspectImage(ref);
  if (!info) {
    p.onBuilding(`pulling ${ref}`);
    await engine.pull(ref, p.onPullProgress, p.signal);
    info = await engine.inspectImage(ref);
    if (!info) throw new EngineError("pull-failed", `pulled ${ref} but the engine does not show it`);
  }
  return { ref, id: info.id };
}

/** Creates the app's container (its volumes first); one another server process created first is used instead. */
export async function createAppContainer(p: Provision, imageRef: string): Promise<string> {
  const { engine, spec } = p;
  const opts = mapOptions(spec.options);
  const volumes = planVolumes(spec, p.runDir);
  for (const v of volumes) {
    if (v.create && !(await engine.inspectVolume(v.create))) {
      await engine.createVolume(v.create, { ...p.managerLabels, [LABEL_MANAGED]: "true", [LABEL_APP]: spec.appId });
    }
  }
  const name = containerName(spec.appId, p.hash);
  try {
    return await engine.createContainer({
      name,
      image: imageRef,
      env: { ...opts.env, ...spec.env },
      labels: { ...opts.labels, ...appLabels(p, p.hash) },
      port: spec.port,
      binds: volumes.map((v) => v.bind),
      user: opts.user,
      workingDir: opts.workingDir,
      hostConfig: opts.hostConfig,
      config: opts.config,
      ulimits: mergeUlimits(p.ulimits, opts.ulimits),
    });
  } catch (err) {
    if (err instanceof EngineError && err.kind === "conflict") {
      const info = await engine.inspectContainer(name);
      if (info) return info.id;
    }
    throw err;
  }
}

/**
 * The "address:port" the container answers on: the host port published for the app's port, on the node it runs on
 * (127.0.0.1: this host). The port is assigned at start and changes on every start; the binding may lag the start
 * briefly. `died` makes the error of a container that exited meanwhile.
 */
export async function publishedAddress(engine: ContainerEngine, id: string, spec: ContainerSpec, died: (exitCode: number) => Promise<Error>): Promise<string> {
  const key = `${spec.port}/tcp`;
  for (let i = 0; ; i++) {
    const info = await engine.inspectContainer(id);
    if (!info) throw new EngineError("not-found", `the container of app ${spec.appName} disappeared while starting`);
    const port = info.hostPorts[key];
    if (port) return `${info.hostAddress ?? "127.0.0.1"}:${port}`;
    if (!info.running && info.status !== "created") throw await died(info.exitCode);
    if (i >= 100) throw new EngineError("api", `the engine published no host port for ${key} after start`);
    await Bun.sleep(i < 10 ? 10 : 50);
  }
}
