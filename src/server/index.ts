/**
 * src/server: the host that serves apps — one app (`serve`, `check`) or the apps of a registry with an admin API
 * (`server start`) — over the proxy, the runtime and the container lifecycle. The CLI imports from here only.
 */
export { homePaths, LABEL_OWNER, serverIdentity, serverOwner, type HomePaths } from "./home.ts";
export { HostError, type AppHostOperations, type AppStatus, type CreateAppRequest, type HostErrorKind, type ParamStatus, type ReloadOutcome } from "./types.ts";
export { describeConfigSource, loadServerConfig, ServerConfigError, type LoadedServerConfig, type ServerConfig } from "./config.ts";
export { METADATA_FIELDS, type MetadataField } from "./metadata-update.ts";
export { accessLine, FileAccessLog, StreamAccessLog, type AccessLogFormat } from "./access-log.ts";
export { listenOrExplain, PortInUseError, type ListenPort } from "./listen.ts";
export { acquireServerLock, ServerLockedError, type ServerLock } from "./lock.ts";
export { secureStateFiles } from "./state-perms.ts";
export { ActivityTracker, type ActivityChange, type AppActivity } from "./activity.ts";
export { statusEndpoints, type StatusDetail, type StatusRow, type StatusSource } from "./status-page.ts";
export { adminHandler } from "./admin-api.ts";
export { AppHost, type AppHostOptions, type DevReloadOutcome, type MountedApp } from "./host.ts";
export { claimServerHome, startServer, type ServerStartOptions } from "./server-start.ts";
export { startHost, type ExitPolicy, type HostListen, type RunningHost, type StartHostOptions } from "./start.ts";
export { startSingleApp, type SingleApp, type SingleAppOptions } from "./single.ts";
