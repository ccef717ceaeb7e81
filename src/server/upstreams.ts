/** Small AppUpstream adapters the server puts between an app and the proxy. */
import { StartError } from "../containers/index.ts";
import { UpstreamError, type AppUpstream, type DescribesState, type ReadyUrlProbe } from "../proxy/index.ts";
import type { AppConfig } from "../runtime/index.ts";
import { staticFilesUpstream } from "./static-files.ts";

/** The upstream behind an app's CONTAINER_URL routes: its container, its file server (a static app), or none. */
export function ownUpstream(
  container: (AppUpstream & Partial<ReadyUrlProbe>) | null | undefined,
  config: AppConfig | null | undefined,
): AppUpstream & Partial<ReadyUrlProbe> {
  if (container) return container;
  if (config?.staticFiles) return staticFilesUpstream(config.staticFiles);
  return NO_CONTAINER;
}

/** The upstream of an app that has no container: only fixed-URL routes serve, anything else is a config error. */
export const NO_CONTAINER: AppUpstream = {
  ensureReady: () => Promise.reject(new UpstreamError("config-error", "this app has no container: its routes must name a URL")),
  beginRequest() {},
  endRequest() {},
  openStream() {},
  closeStream() {},
};

/**
 * Wraps an upstream so that each request also stamps the app's "last request" time, and a container's start
 * failure becomes the proxy's failure of the same kind. The warm-path probe (readyUrl) and the state shown on the
 * status endpoint pass through.
 */
export function recordingActivity(
  upstream: AppUpstream & Partial<ReadyUrlProbe>,
  onRequest: () => void,
  describe: () => string = () => "",
): AppUpstream & ReadyUrlProbe & DescribesState {
  return {
    ensureReady: (signal) => upstream.ensureReady(signal).catch(asUpstreamError),
    readyUrl: () => upstream.readyUrl?.(),
    state: describe,
    beginRequest() {
      onRequest();
      upstream.beginRequest();
    },
    endRequest: () => upstream.endRequest(),
    openStream: () => upstream.openStream(),
    closeStream: () => upstream.closeStream(),
  };
}

/** A container start failure as the proxy's UpstreamError (same kind, message and log tail); others unchanged. */
export function asUpstreamError(err: unknown): never {
  if (err instanceof StartError) throw new UpstreamError(err.kind, err.message, err.logTail);
  throw err;
}
