/**
 * src/runtime: apps. Loads an app folder (app.star + params.star overlaid on a spec) into a typed AppConfig, runs
 * the permission audit, and serves the bundled specs. Other folders import from here only.
 */
export type { AppConfig, AuditResult, ParamInfo, ParamType, ParamValue, Permission, ProxyRoute, StaticFiles } from "./app-config.ts";
export { CONTAINER_URL } from "./app-config.ts";
export { RuntimeError, type RuntimeErrorKind } from "./errors.ts";
export { auditApp, defaultAppId, loadApp, DEFAULT_EVAL_LIMITS, EVAL_LIMIT_SETTINGS, type EvalLimits, type LoadOptions } from "./loader.ts";
export { auditAppIsolated, loadAppIsolated } from "./isolated.ts";
export { listSpecs, readSpec, specDir, type Spec, type SpecInfo } from "./specs.ts";
export { ACCEPTED_CONF_KEYS, CONF_KEYS, confKeyNotApplied, containerSettingsFromConf } from "./conf.ts";
export { parseKeyValues, parseParamValue } from "./params.ts";
export { argMatches, callPermitted, describePermission, type Approval } from "./permissions.ts";
export { describeReach, reachDiff, uncoveredReach, type ReachItem } from "./reach.ts";
export { parseVolume } from "./volumes.ts";
export { readContainerfile } from "./containerfile.ts";
export { APP_STAR_NAMES, PARAMS_STAR_NAMES } from "./dialect.ts";
export { EMPTY_METADATA, SqliteAppStore, type AppChange, type AppMetadata, type AppRecord, type AppStore, type PendingChange, type SharedActivity } from "./registry/store.ts";
export { PostgresAppStore, RegistryError, redactUrl } from "./registry/postgres.ts";
export { openAppStore } from "./registry/open.ts";
export {
  AppPathError,
  compileAppGlob,
  formatAppLocation,
  isPathWithin,
  locationsOverlap,
  parseAppLocation,
  RESERVED_PATH_PREFIX,
  type AppLocation,
} from "./registry/paths.ts";
export {
  materializeSource,
  parseGitSource,
  CANDIDATE_SUFFIX,
  REPLACED_SUFFIX,
  SourceError,
  STAGING_SUFFIX,
  swapInSource,
  type MaterializedSource,
  type SourceRequest,
} from "./registry/sources.ts";
