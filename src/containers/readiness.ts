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

/** What a start waits on: the container's published address and how long it may take to answer. */
export interface HealthTarget {
  url: string;
  healthPath: string;
  /** The whole wait (Clace: health_attempts_after_startup probes, one a second). */
  budgetMs: number;
  /** One probe's limit. */
  probeTimeoutMs: number;
}

/** What the wait asks of the start it belongs to. */
export interface StartWatch {
  /** An error to stop with at once (the process is leaving), checked before each probe. */
  interrupted(): Error | undefined;
  /** The start was cancelled: stop probing. */
  cancelled(): boolean;
  /** Throws when the container no longer runs. */
  checkAlive(): Promise<void>;
  /** True once since the last call when a die event arrived: check the container at once. */
  takeDieSignal(): boolean;
  /** Waits `ms`, or less when woken (a die event, a cancel). */
  pause(ms: number): Promise<void>;
}

/**
 * Probes every ~25 ms at first, backing off to 250 ms, until the app answers 200, the budget is spent ("deadline")
 * or the start is cancelled. A die event makes it check the container at once; a check every ~250 ms covers lost
 * events. Throws what `checkAlive` or `interrupted` throw.
 */
export async function waitUntilHealthy(target: HealthTarget, watch: StartWatch): Promise<"ready" | "deadline" | "cancelled"> {
  const deadline = Date.now() + target.budgetMs;
  let delay = 25;
  let lastCheck = Date.now();
  for (;;) {
    const stop = watch.interrupted();
    if (stop) throw stop;
    if (watch.cancelled()) return "cancelled";
    if (await probeOnce(target.url, target.healthPath, Math.min(target.probeTimeoutMs, Math.max(100, deadline - Date.now())))) return "ready";
    if (watch.cancelled()) return "cancelled";
    if (Date.now() >= deadline) return "deadline";
    if (watch.takeDieSignal() || Date.now() - lastCheck >= 250) {
      lastCheck = Date.now();
      await watch.checkAlive();
    }
    await watch.pause(delay);
    delay = Math.min(250, Math.round(delay * 1.5));
  }
}

/** Crash detection between requests: what one status check of a ready container found. */
export type StatusVerdict =
  /** The engine did not answer: look again next time. */
  | { kind: "unknown" }
  | { kind: "exited"; exitCode?: number }
  | { kind: "healthy" }
  | { kind: "unhealthy" };

/** One status check (Clace's container.status_check_interval_secs): is the container running, does it answer? */
export async function checkStatus(
  inspect: () => Promise<{ running: boolean; exitCode: number } | null | undefined>,
  target: Pick<HealthTarget, "url" | "healthPath" | "probeTimeoutMs">,
): Promise<StatusVerdict> {
  const info = await inspect();
  if (info === undefined) return { kind: "unknown" };
  if (!info || !info.running) return { kind: "exited", exitCode: info?.exitCode };
  return (await probeOnce(target.url, target.healthPath, target.probeTimeoutMs)) ? { kind: "healthy" } : { kind: "unhealthy" };
}
