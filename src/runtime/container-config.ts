/**
 * From container.config(...) to a ContainerSpec: resolves src ("auto" → Containerfile, then Dockerfile, in the
 * source before the spec; "image:<ref>"; or a named file), reads the port from EXPOSE when port=0, merges volumes
 * (Containerfile VOLUME, config, --cvol), build args (config cargs, then --carg) and settings (--conf).
 */
import { join } from "node:path";
import type { ContainerSettings, ContainerSpec, ImageSource, VolumeSpec } from "../containers/index.ts";
import { CONTAINER_URL, type ProxyRoute } from "./app-config.ts";
import { readContainerfile } from "./containerfile.ts";
import { buildEnv } from "./env.ts";
import { RuntimeError } from "./errors.ts";
import type { AppFiles } from "./files.ts";
import type { ResolvedParam } from "./params.ts";
import type { ContainerConfigDecl } from "./session.ts";
import { mergeVolumes, parseVolume, type VolumeContext } from "./volumes.ts";
import { resolveSecrets, SecretError, type SecretSources } from "./secrets.ts";
// The option table itself, not the containers index: loading an app must not load the engine client.
import { EngineError, mapOptions } from "../containers/index.ts";

const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * --copt and --carg are checked when the app is loaded (created, served, reloaded), so a bad one is refused then,
 * named with its flag and the reason, instead of failing the first request.
 */
function checkFlags(copts: Readonly<Record<string, string>>, cargs: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(copts)) {
    try {
      mapOptions({ [key]: value });
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      throw new RuntimeError("config", err.message, `--copt ${key}${value ? `=${value}` : ""}`, err.fix || undefined);
    }
  }
  for (const key of Object.keys(cargs)) {
    if (!BUILD_ARG_NAME.test(key)) {
      throw new RuntimeError(
        "config",
        `build arg name ${JSON.stringify(key)} is not valid: a name is letters, digits and _, not starting with a digit`,
        `--carg ${key}`,
        "give --carg NAME=value",
      );
    }
  }
}

export const IMAGE_PREFIX = "image:";
const AUTO_FILES = ["Containerfile", "Dockerfile"];

export interface ContainerInputs {
  appId: string;
  appName: string;
  appPath: string;
  files: AppFiles;
  params: readonly ResolvedParam[];
  routes: readonly ProxyRoute[];
  settings: ContainerSettings;
  cargs: Readonly<Record<string, string>>;
  cvols: readonly string[];
  copts: Readonly<Record<string, string>>;
  /**
   * Resolve `{{secret ...}}` in param values and build args with these sources and the allow-list of the
   * container.in config permission; left out (the audit), values stay as written.
   */
  secrets?: { sources: SecretSources; allowed: readonly (readonly string[])[] | undefined };
}

/** Each value with its secret templates resolved; `what` names a value in errors ("param", "build arg"). */
function withSecrets(values: Readonly<Record<string, string>>, what: string, secrets: ContainerInputs["secrets"]): Readonly<Record<string, string>> {
  if (!secrets) return values;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    try {
      out[key] = resolveSecrets(value, secrets.allowed, secrets.sources, `${what} ${key}`);
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      throw new RuntimeError("config", err.message, undefined, err.fix);
    }
  }
  return Object.freeze(out);
}

/** Finds the container file for src="auto": the source's Containerfile/Dockerfile first, then the spec's. */
export function findAutoContainerfile(files: AppFiles, buildDir: string): string | null {
  for (const wanted of ["source", "spec"] as const) {
    for (const f of AUTO_FILES) {
      const name = buildDir ? join(buildDir, f) : f;
      if (files.origin(name) === wanted) return f;
    }
  }
  return null;
}

function healthPath(decl: ContainerConfigDecl, settings: ContainerSettings, routes: readonly ProxyRoute[], appPath: string): string {
  // "/" counts as unset, so the app-config key container.health_url applies (Clace's GetHealthUrl).
  const h = decl.health === "/" || decl.health === "" ? settings.healthUrl : decl.health;
  let path = h.startsWith("/") ? h : `/${h}`;
  // An app that is not stripped of its mount path answers under it, health path included (checkAppPathStripping).
  const first = routes.find((r) => r.url === CONTAINER_URL);
  if (first && !first.stripApp && appPath !== "/") path = appPath.replace(/\/+$/, "") + path;
  return path;
}

function noPort(where: string, skipped: readonly string[]): RuntimeError {
  const hint = skipped.length > 0 ? ` (EXPOSE ${skipped.map((s) => JSON.stringify(s)).join(", ")} is not a plain port number)` : "";
  return new RuntimeError(
    "config",
    `the container port is not known: ${where} has no numeric EXPOSE and container.config sets no port${hint}`,
    where,
    "add `EXPOSE <port>` to the container file, or pass port=<port> to container.config (or --param port=<port> when the spec has that param)",
  );
}

export function buildContainerSpec(decl: ContainerConfigDecl, input: ContainerInputs): ContainerSpec {
  checkFlags(input.copts, input.cargs);
  const { files } = input;
  let image: ImageSource;
  let port = decl.port;
  let fileVolumes: string[] = [];

  if (decl.src.startsWith(IMAGE_PREFIX)) {
    const ref = decl.src.slice(IMAGE_PREFIX.length).trim();
    if (ref === "") {
      throw new RuntimeError("config", `container.config: src ${JSON.stringify(decl.src)} names no image`, undefined, 'write src="image:<ref>", e.g. "image:nginx:1.27"');
    }
    image = { kind: "image", ref };
    if (port === 0 && decl.lifetime !== "command") {
      throw new RuntimeError(
        "config",
        `the container port is not known for image ${ref}: container.config sets no port`,
        undefined,
        "pass port=<port> to container.config (the image spec takes --param port=<port>)",
      );
    }
  } else {
    const fileName = decl.src === "auto" ? findAutoContainerfile(files, decl.buildDir) : decl.src;
    const pathInApp = fileName === null ? null : decl.buildDir ? join(decl.buildDir, fileName) : fileName;
    const content = pathInApp === null ? null : files.read(pathInApp);
    if (fileName === null || content === null) {
      const looked = decl.src === "auto" ? "a Containerfile or Dockerfile" : JSON.stringify(decl.src);
      const where = files.sourceDir === null ? "the spec" : files.spec ? "the app source or its spec" : "the app source";
      throw new RuntimeError(
        "config",
        `container.config: ${looked} was not found in ${where}${decl.buildDir ? ` (build_dir ${JSON.stringify(decl.buildDir)})` : ""}`,
        undefined,
        decl.src === "auto" ? "add a Containerfile to the app folder, or use a spec that has one (--spec NAME)" : "check the src file name",
      );
    }
    const info = readContainerfile(content);
    if (port === 0) port = info.port;
    if (port === 0 && decl.lifetime !== "command") throw noPort(pathInApp!, info.skippedExpose);
    fileVolumes = info.volumes;
    image = {
      kind: "build",
      contextDirs: Object.freeze(files.contextDirs(decl.buildDir)),
      containerFile: fileName,
      buildArgs: withSecrets({ ...decl.cargs, ...input.cargs }, "build arg", input.secrets),
    };
  }

  const ctx = (origin: string): VolumeContext => ({
    sourceDir: files.sourceDir,
    findTemplate: (name) => files.diskPath(name),
    origin,
  });
  const volumes: VolumeSpec[] = mergeVolumes(
    fileVolumes.map((v) => parseVolume(v, ctx("VOLUME in the container file"))),
    decl.volumes.map((v) => parseVolume(v, ctx("container.config volumes"))),
    input.cvols.map((v) => parseVolume(v, ctx("--cvol"))),
  );

  return Object.freeze({
    appId: input.appId,
    appName: input.appName,
    image: Object.freeze(image),
    port,
    scheme: decl.scheme as "http" | "https",
    healthPath: healthPath(decl, input.settings, input.routes, input.appPath),
    lifetime: decl.lifetime as "app" | "command",
    env: withSecrets(buildEnv(input.params, input.appPath, port), "param", input.secrets),
    volumes: Object.freeze(volumes.map((v) => Object.freeze(v))),
    options: Object.freeze({ ...input.copts }),
    settings: input.settings,
  });
}
