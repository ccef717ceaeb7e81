/**
 * The proxy layer: Bun.serve routing by domain + path, the streaming reverse proxy, the WebSocket bridge, error
 * pages and HTTPS. Callers build an AppTable, mount apps on it (live), and start a server over it.
 */
export { AppTable, MountConflictError, RESERVED_PREFIX, hostToDomain } from "./app-table.ts";
export type { AppLoadError, AppMount, MountedApp } from "./app-table.ts";
export { FixedUpstream } from "./fixed-upstream.ts";
export { createProxyServer } from "./server.ts";
export type { ProxyServer, ProxyServerOptions, TlsFiles } from "./server.ts";
export { loadTlsFiles, selfSignedTls, TlsSetupError } from "./tls.ts";
export { UpstreamError } from "./upstream.ts";
export type { AppUpstream, DescribesState, ReadyUrlProbe, UpstreamFailure } from "./upstream.ts";
