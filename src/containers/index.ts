/**
 * The container layer's public API: the ContainerEngine seam and its Engine API implementation, engine discovery,
 * and the lazy lifecycle manager (per-app handles the server adapts into the proxy's upstreams; failures are
 * StartErrors with a kind).
 */
export type {
  BuildRequest,
  BuildResult,
  ContainerEngine,
  ContainerInfo,
  ContainerSummary,
  CreateRequest,
  EngineCallCounts,
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
export { mapOptions } from "./options.ts";
export { renderTemplate } from "./volumes.ts";
export { isHealthyStatus } from "./readiness.ts";
export {
  AppContainer,
  AppContainers,
  DEFAULT_ULIMITS,
  type AppContainersOptions,
  type AppState,
  type ContainerEvent,
  type Upgrade,
  type UpgradePreview,
} from "./lifecycle.ts";
export { StartError, type StartFailure } from "./start-error.ts";
export type { ContainerSpec, ContainerSettings, ImageSource, VolumeSpec } from "./spec.ts";
export { DEFAULT_CONTAINER_SETTINGS } from "./spec.ts";
