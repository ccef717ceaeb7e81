/**
 * The seam between the proxy and whatever makes an app's upstream exist (the container lifecycle, or a fixed URL
 * for the proxy spec). The proxy never imports the container layer; it talks to this.
 */

export interface AppUpstream {
  /**
   * Resolve to the upstream base URL (e.g. "http://127.0.0.1:32768") once the app answers, starting it if needed.
   * Rejects with an UpstreamError when the app cannot be made ready. The signal cancels this caller's wait only.
   */
  ensureReady(signal?: AbortSignal): Promise<string>;
  /** Activity accounting for idle stop: a request in flight, and a long-lived stream (WebSocket, SSE). */
  beginRequest(): void;
  endRequest(): void;
  openStream(): void;
  closeStream(): void;
}

/** Why an upstream could not be made ready, mapped by the proxy onto an HTTP status. */
export type UpstreamFailure =
  | "start-timeout" // the cold start took longer than the deadline: 504
  | "start-failed" // the build or start failed, or the container died while starting: 503
  | "overloaded" // too many requests waiting for one start: 503
  | "not-approved" // the app needs approval: 500
  | "config-error"; // the app's config does not load: 500

export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    /** The container's last log lines, when there are any. */
    readonly logTail: string = "",
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

/**
 * Optional fast path an AppUpstream may offer: the base URL when the app is known to be ready right now, without
 * a promise. The proxy uses it to skip an await per request; without it, every request goes through ensureReady.
 */
export interface ReadyUrlProbe {
  readyUrl(): string | undefined;
}

/** Optional: a short state for the server's status endpoint ("running", "stopped", "starting", ...). */
export interface DescribesState {
  state(): string;
}
