/**
 * The crash-backoff policy: an app whose starts keep failing is not started on every request. After two failures
 * in a row the next try waits 1 s, then 2 s, 4 s ... (at most 30 s); a container that ran for a while is a fresh
 * start again. Pure bookkeeping (time is passed in), so the lifecycle only asks it before each start.
 */
import { StartError } from "./start-error.ts";

/** After this long ready, a container that dies is a fresh crash, not part of a crash loop. */
export const STABLE_AFTER_MS = 30_000;
export const MAX_BACKOFF_MS = 30_000;

/** A start refused because the app is backing off. */
export interface BackoffRefusal {
  error: StartError;
  retryInMs: number;
  failures: number;
}

export class CrashBackoff {
  private failures = 0;
  private lastFailureAt = 0;
  private last: StartError | undefined;

  /** Failures in a row. */
  get count(): number {
    return this.failures;
  }

  record(failure: StartError, now = Date.now()): void {
    this.failures++;
    this.lastFailureAt = now;
    this.last = failure;
  }

  /** A container ran from `readyAt` until now: long enough, and the failures before it no longer count. */
  ranSince(readyAt: number, now = Date.now()): void {
    if (now - readyAt >= STABLE_AFTER_MS) this.failures = 0;
  }

  /** A new version of the app: its predecessor's failures say nothing about it. */
  reset(): void {
    this.failures = 0;
  }

  /** Why a start now must wait (undefined: go ahead). */
  refusal(appName: string, now = Date.now()): BackoffRefusal | undefined {
    if (this.failures < 2) return undefined;
    const wait = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 2));
    const left = this.lastFailureAt + wait - now;
    if (left <= 0) return undefined;
    const error = new StartError(
      "start-failed",
      `app ${appName} is crash-looping (${this.failures} failures in a row); next try in ${Math.ceil(left / 1000)}s. Last failure: ${this.last?.message ?? "unknown"}`,
      this.last?.logTail ?? "",
      true,
    );
    return { error, retryInMs: left, failures: this.failures };
  }
}
