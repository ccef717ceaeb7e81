/**
 * Readiness: an HTTP GET on the health path through the published port. A TCP connect proves nothing (the
 * engine's port proxy accepts before the app listens), so only an HTTP status line counts.
 *
 * Which answers count (following Clace, which wants 200 on its health URL): on a health path other than "/",
 * only a 2xx answer is ready, so an app whose health route answers 503 while it warms up is waited for. On "/"
 * (the default, where many apps answer 401, 404 or a redirect) any HTTP answer counts as up.
 */

export function isHealthyStatus(status: number, healthPath: string): boolean {
  if (healthPath === "/" || healthPath === "") return true;
  return status >= 200 && status < 300;
}

/** One probe; true when the app answered in a way that counts as ready. Never throws. */
export async function probeOnce(baseUrl: string, healthPath: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(baseUrl + healthPath, {
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers: { connection: "close", "user-agent": "clace-lite-health" },
      keepalive: false,
      // Health answers are discarded; decoding them is wasted work.
      decompress: false,
    } as RequestInit);
    await res.body?.cancel().catch(() => {});
    return isHealthyStatus(res.status, healthPath);
  } catch {
    return false;
  }
}
