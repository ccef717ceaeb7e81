/** Small AppUpstream adapters the server puts between an app and the proxy. */
import { UpstreamError, type AppUpstream } from "../proxy/index.ts";

/** The upstream of an app that has no container: only fixed-URL routes serve, anything else is a config error. */
export const NO_CONTAINER: AppUpstream = {
  ensureReady: () => Promise.reject(new UpstreamError("config-error", "this app has no container: its routes must name a URL")),
  beginRequest() {},
  endRequest() {},
  openStream() {},
  closeStream() {},
};

/** Wraps an upstream so that each request also stamps the app's "last request" time. */
export function recordingActivity(upstream: AppUpstream, onRequest: () => void): AppUpstream {
  return {
    ensureReady: (signal) => upstream.ensureReady(signal),
    beginRequest() {
      onRequest();
      upstream.beginRequest();
    },
    endRequest: () => upstream.endRequest(),
    openStream: () => upstream.openStream(),
    closeStream: () => upstream.closeStream(),
  };
}

