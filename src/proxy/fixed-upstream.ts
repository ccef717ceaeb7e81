/**
 * FixedUpstream: the AppUpstream of a route with a fixed URL (the proxy spec). Always ready, nothing to start; it
 * only counts activity so that the status endpoint can show it.
 */
import type { AppUpstream, DescribesState, ReadyUrlProbe } from "./upstream.ts";

export class FixedUpstream implements AppUpstream, ReadyUrlProbe, DescribesState {
  /** The base URL without a trailing slash, so that a request path can be appended as is. */
  readonly url: string;
  inFlight = 0;
  openStreams = 0;

  constructor(url: string) {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new Error(`proxy url ${url} must start with http:// or https://`);
    }
    const path = parsed.pathname === "/" ? "" : parsed.pathname.replace(/\/+$/, "");
    this.url = `${parsed.protocol}//${parsed.host}${path}`;
  }

  ensureReady(): Promise<string> {
    return Promise.resolve(this.url);
  }
  readyUrl(): string {
    return this.url;
  }
  state(): string {
    return "fixed";
  }
  beginRequest(): void {
    this.inFlight++;
  }
  endRequest(): void {
    this.inFlight--;
  }
  openStream(): void {
    this.openStreams++;
  }
  closeStream(): void {
    this.openStreams--;
  }
}
