/** Small AppUpstream adapters the server puts between an app and the proxy. */
import { UpstreamError, type AppUpstream, type DescribesState, type ReadyUrlProbe } from "../proxy/index.ts";

/** The upstream of an app that has no container: only fixed-URL routes serve, anything else is a config error. */
export const NO_CONTAINER: AppUpstream = {
  ensureReady: () => Promise.reject(new UpstreamError("config-error", "this app has no container: its routes must name a URL")),
  beginRequest() {},
  endRequest() {},
  openStream() {},
  closeStream() {},
};

/**
 * Wraps an upstream so that each request also stamps the app's "last request" time. The warm-path probe
 * (readyUrl) and the state shown on the status endpoint pass through.
 */
export function recordingActivity(
  upstream: AppUpstream & Partial<ReadyUrlProbe>,
  onRequest: () => void,
  describe: () => string = () => "",
): AppUpstream & ReadyUrlProbe & DescribesState {
  return {
    ensureReady: (signal) => upstream.ensureReady(signal),
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
