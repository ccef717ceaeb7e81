/**
 * The container layer's public API: the ContainerEngine seam and its Engine API implementation, engine discovery,
 * and the lazy lifecycle: a small state machine per app (lifecycle.ts) with one policy per file (provision, readiness,
 * idle, pause, engine-events, backoff, cleanup, replacement) and the manager of one server's apps (manager.ts). Failures are StartErrors
 * with a kind.
 */
export type {
  BuildRequest,
  BuildResult,
  ContainerEngine,
  ContainerInfo,
  ContainerSummary,
  CreateRequest,
  EngineErrorKind,
  EngineEvent,
  EngineKind,
  EngineVersion,
  EventSubscription,
  ImageInfo,
  ImageSummary,
  LabelFilter,
  PullProgress,
  Ulimit,
  VolumeInfo,
} from "./engine.ts";
export { EngineError } from "./engine.ts";
export { DockerEngine, parseImageRef, registryOf } from "./docker.ts";
export { connectEngine, engineCandidates } from "./connect.ts";
export { LABEL_SWARM_VERSION, SwarmEngine, serviceName, swarmState, type SwarmEngineOptions } from "./swarm.ts";
export { collectContext, contextTar, type BuildContext } from "./context.ts";
export { LABEL_APP, LABEL_APP_NAME, LABEL_HASH, LABEL_MANAGED, containerName, imageName, volumeName } from "./naming.ts";
export { mapOptions, optionName, WIDENING_OPTIONS } from "./options.ts";
export { GoTemplate, TemplateError } from "./gotemplate.ts";
export { renderTemplate } from "./volumes.ts";
export { isHealthyStatus } from "./readiness.ts";
export type { AppContainer, AppState, ContainerEvent, StartGuard } from "./lifecycle.ts";
export { AppContainers, DEFAULT_ULIMITS, type AppContainersOptions } from "./manager.ts";
export type { Upgrade, UpgradePreview } from "./replacement.ts";
export { CrashBackoff, MAX_BACKOFF_MS, STABLE_AFTER_MS } from "./backoff.ts";
export { idleAction, type IdleAction } from "./idle.ts";
export { interpretEngineEvent, KILL_THEN_DIE_MS, type EventAction, type EventContext } from "./engine-events.ts";
export { StartError, type StartFailure } from "./start-error.ts";
export type { ContainerSpec, ContainerSettings, ImageSource, VolumeSpec } from "./spec.ts";
export { DEFAULT_CONTAINER_SETTINGS } from "./spec.ts";
