/**
 * A route of an app as the proxy serves it: the runtime turns `ace.proxy(...)` declarations into these, the app
 * table works out their matching once at mount.
 */

/** The marker a route uses for "the app's own container" (Clace's container.URL). */
export const CONTAINER_URL = "<CONTAINER_URL>";

export interface ProxyRoute {
  /** Route path inside the app, e.g. "/" or "/api". */
  path: string;
  /** Upstream base URL, or CONTAINER_URL for the app's container. */
  url: string;
  /** A prefix removed from the request path before it goes upstream. */
  stripPath: string;
  /** Keep the client's Host header instead of the upstream's. */
  preserveHost: boolean;
  /** Remove the app's mount path from the request path (Clace's default). */
  stripApp: boolean;
  /** Headers added to every response; "$url" in a value becomes the request URL. */
  responseHeaders: Readonly<Record<string, string>>;
}
