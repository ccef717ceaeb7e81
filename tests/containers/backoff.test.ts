import { describe, expect, test } from "bun:test";
import { CrashBackoff, MAX_BACKOFF_MS, STABLE_AFTER_MS, StartError } from "../../src/containers/index.ts";

const failure = (n: number) => new StartError("start-failed", `failure ${n}`, `log ${n}`);

describe("crash backoff", () => {
  test("one failure is retried at once; from the second the waits double up to the limit", () => {
    const b = new CrashBackoff();
    b.record(failure(1), 0);
    expect(b.refusal("a", 0)).toBeUndefined();
    b.record(failure(2), 0);
    expect(b.refusal("a", 0)?.retryInMs).toBe(1000);
    expect(b.refusal("a", 1000)).toBeUndefined();
    b.record(failure(3), 1000);
    expect(b.refusal("a", 1000)?.retryInMs).toBe(2000);
    for (let i = 4; i < 20; i++) b.record(failure(i), 5000);
    expect(b.refusal("a", 5000)?.retryInMs).toBe(MAX_BACKOFF_MS);
  });

  test("a refusal is a StartError marked as backing off, with the last failure's message and log lines", () => {
    const b = new CrashBackoff();
    b.record(failure(1), 0);
    b.record(failure(2), 0);
    const r = b.refusal("localhost:/x", 10)!;
    expect(r.error).toBeInstanceOf(StartError);
    expect(r.error.kind).toBe("start-failed");
    expect(r.error.backingOff).toBe(true);
    expect(r.failures).toBe(2);
    expect(r.error.message).toContain("app localhost:/x is crash-looping (2 failures in a row)");
    expect(r.error.message).toContain("Last failure: failure 2");
    expect(r.error.logTail).toBe("log 2");
  });

  test("a container that ran long enough, or a new version, starts the count again", () => {
    const b = new CrashBackoff();
    b.record(failure(1), 0);
    b.record(failure(2), 0);
    b.ranSince(0, STABLE_AFTER_MS - 1);
    expect(b.count).toBe(2);
    b.ranSince(0, STABLE_AFTER_MS);
    expect(b.count).toBe(0);
    b.record(failure(3), 0);
    b.record(failure(4), 0);
    b.reset();
    expect(b.refusal("a", 0)).toBeUndefined();
  });
});
