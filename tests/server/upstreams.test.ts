import { expect, test } from "bun:test";
import { StartError, type StartFailure } from "../../src/containers/index.ts";
import { UpstreamError } from "../../src/proxy/index.ts";
import { recordingActivity } from "../../src/server/upstreams.ts";

test("a container's start failure reaches the proxy as the failure of the same kind, with its message and log tail", async () => {
  for (const kind of ["start-timeout", "start-failed", "overloaded", "config-error"] as StartFailure[]) {
    const failing = {
      ensureReady: () => Promise.reject(new StartError(kind, `app /x: ${kind}`, "last line")),
      beginRequest() {},
      endRequest() {},
      openStream() {},
      closeStream() {},
    };
    let stamped = 0;
    const adapted = recordingActivity(failing, () => stamped++);
    const err = await adapted.ensureReady().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).failure).toBe(kind);
    expect((err as UpstreamError).message).toBe(`app /x: ${kind}`);
    expect((err as UpstreamError).logTail).toBe("last line");
    adapted.beginRequest();
    expect(stamped).toBe(1);
  }
  // Anything else passes through unchanged.
  const other = new Error("boom");
  const passing = recordingActivity({ ensureReady: () => Promise.reject(other), beginRequest() {}, endRequest() {}, openStream() {}, closeStream() {} }, () => {});
  expect(await passing.ensureReady().catch((e: unknown) => e)).toBe(other);
});
