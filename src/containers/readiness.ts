/**
 * Readiness, as Clace decides it: an HTTP GET on the health path (default "/") through the published port, ready
 * only on **200**, redirects followed. A TCP connect proves nothing (the engine's port proxy accepts before the app
 * listens), and an app that answers 500 or 404 while it warms up is waited for, not served.
 *
 * Redirects are followed within the app: a Location naming another host (an app that redirects to its public name
 * or to its own address inside the container) is probed at the same path on the container's published port, so
 * probes never leave this machine.
 */

/** The redirects one probe follows before giving up, as Go's HTTP client. */
const MAX_REDIRECTS = 10;

export function isHealthyStatus(status: number): boolean {
  return status === 200;
}

/** The URL a redirect leads to, kept on the container's published address. */
export function redirectTarget(current: string, location: string, origin: string): string {
  const next = new URL(location, current);
  return origin + next.pathname + next.search;
}

/** One probe (with its redirects); true when the app answered 200. Never throws. */
export async function probeOnce(baseUrl: string, healthPath: string, timeoutMs: number): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs);
  let url = baseUrl + healthPath;
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await fetch(url, {
        redirect: "manual",
        signal,
        headers: { connection: "close", "user-agent": "clace-lite-health" },
        keepalive: false,
        // Health answers are discarded; decoding them is wasted work.
        decompress: false,
      } as RequestInit);
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        url = redirectTarget(url, location, baseUrl);
        continue;
      }
      return isHealthyStatus(res.status);
    }
    return false;
  } catch {
    return false;
  }
}
