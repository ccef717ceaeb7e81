/**
 * The proxy layer: a strict HTTP/1.1 front door on raw sockets (http1/ is the codec), routing by domain + path,
 * the streaming reverse proxy with WebSocket tunnels, error pages and HTTPS. Callers build an AppTable, mount
 * apps on it (live), and start a server over it.
 */
export { AppTable, MountConflictError, RESERVED_PREFIX, hostToDomain } from "./app-table.ts";
export type { AppLoadError, AppMount, MountedApp } from "./app-table.ts";
export { CONTAINER_URL, type ProxyRoute } from "./route.ts";
export type { PoolLimits } from "./upstream-pool.ts";
export { FixedUpstream } from "./fixed-upstream.ts";
export { createProxyServer, DEFAULT_LIMITS } from "./server.ts";
export type { ProxyServer, ProxyServerOptions, TlsFiles } from "./server.ts";
export type { AccessEntry, OwnEndpoint, ProxyEvent } from "./front.ts";
export { q as promLabel } from "./metrics.ts";
export type { MetricFamily } from "./metrics.ts";
export { loadTlsFiles, selfSignedTls, TlsSetupError } from "./tls.ts";
export { UpstreamError } from "./upstream.ts";
export type { AppUpstream, DescribesState, ReadyUrlProbe, UpstreamFailure } from "./upstream.ts";
