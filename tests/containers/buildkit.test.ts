/**
 * BuildKit builds: the progress decoder on hand-made protobuf, and real builds through `/build?version=2` (a
 * `RUN --mount=type=cache` step offline, a failing step's log tail, the classic builder when asked for).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { StartError, type AppContainers, type ContainerEvent, type DockerEngine } from "../../src/containers/index.ts";
import { BuildkitProgress, ProtobufError, decodeStatusResponse } from "../../src/containers/buildkit.ts";
import { suiteLabels, sweep, testEngine, wantedEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage, writeAppDir } from "../fixtures/images.ts";
import { appId, buildSpec, getText, recordingManager } from "./helpers.ts";

// --- a tiny protobuf encoder, only for building test payloads -------------------------------------------------
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
function field(num: number, value: number[] | string | number | Uint8Array): number[] {
  if (typeof value === "number") return [...varint(num * 8), ...varint(value)];
  const bytes = typeof value === "string" ? [...new TextEncoder().encode(value)] : [...value];
  return [...varint(num * 8 + 2), ...varint(bytes.length), ...bytes];
}
const ts = (secs: number, nanos = 0): number[] => [...field(1, secs), ...(nanos ? field(2, nanos) : [])];
function status(parts: number[][]): string {
  return Buffer.from(parts.flat()).toString("base64");
}
const vertex = (...fields: number[][]): number[] => field(1, fields.flat());
const log = (digest: string, msg: string): number[] => field(3, [...field(1, digest), ...field(3, 1), ...field(4, msg)]);

describe("BuildKit progress decoding", () => {
  test("decodes vertexes (name, times, cached, error) and logs, skipping fields it does not read", () => {
    const payload = status([
      vertex(field(1, "sha256:a"), field(2, "sha256:input"), field(3, "[1/2] FROM base"), field(5, ts(100)), field(6, ts(101, 500_000_000))),
      vertex(field(1, "sha256:b"), field(3, "[2/2] RUN x"), field(4, 1)),
      // A VertexStatus (field 2) with a fixed64 inside, a field 9 fixed32 from a newer engine: both skipped.
      field(2, [...field(1, "id"), 0x21, 1, 2, 3, 4, 5, 6, 7, 8]),
      [0x4d, 1, 2, 3, 4],
      log("sha256:a", "hello\n"),
      vertex(field(1, "sha256:c"), field(3, "[3/3] RUN y"), field(7, "exit code: 2")),
    ]);
    const s = decodeStatusResponse(payload);
    expect(s.vertexes.map((v) => [v.digest, v.name, v.cached, v.error])).toEqual([
      ["sha256:a", "[1/2] FROM base", false, ""],
      ["sha256:b", "[2/2] RUN x", true, ""],
      ["sha256:c", "[3/3] RUN y", false, "exit code: 2"],
    ]);
    expect(s.vertexes[0]!.started).toBe(100);
    expect(s.vertexes[0]!.completed).toBe(101.5);
    expect(s.logs.length).toBe(1);
    expect(new TextDecoder().decode(s.logs[0]!.msg)).toBe("hello\n");
  });

  test("truncated payloads are refused with a ProtobufError", () => {
    const whole = [...vertex(field(1, "sha256:a"), field(3, "a long vertex name"))];
    expect(() => decodeStatusResponse(Buffer.from(whole.slice(0, whole.length - 3)).toString("base64"))).toThrow(ProtobufError);
    expect(() => decodeStatusResponse(Buffer.from([0x08, 0xff]).toString("base64"))).toThrow(ProtobufError);
  });

  test("prints plain progress: a step once, its log lines joined across updates, then DONE/CACHED/ERROR", () => {
    const lines: string[] = [];
    const p = new BuildkitProgress((l) => lines.push(l));
    const a = (...f: number[][]) => vertex(field(1, "sha256:a"), field(3, "[1/2] RUN make"), ...f);
    p.push(decodeStatusResponse(status([a(field(5, ts(10)))])));
    p.push(decodeStatusResponse(status([a(field(5, ts(10)))]))); // the same state again: no new line
    p.push(decodeStatusResponse(status([log("sha256:a", "compil"), log("sha256:a", "ing\nlinking\n")])));
    p.push(decodeStatusResponse(status([a(field(5, ts(10)), field(6, ts(12, 250_000_000)))])));
    p.push(decodeStatusResponse(status([vertex(field(1, "sha256:b"), field(3, "[2/2] COPY . ."), field(4, 1))])));
    p.push(decodeStatusResponse(status([vertex(field(1, "sha256:c"), field(3, "[3/3] RUN false"), field(5, ts(13)))])));
    p.push(decodeStatusResponse(status([log("sha256:c", "no newline at the end")])));
    p.push(decodeStatusResponse(status([vertex(field(1, "sha256:c"), field(3, "[3/3] RUN false"), field(5, ts(13)), field(7, "exit code: 1"))])));
    p.flush();
    expect(lines).toEqual([
      "#1 [1/2] RUN make",
      "#1 compiling",
      "#1 linking",
      "#1 DONE 2.3s",
      "#2 [2/2] COPY . .",
      "#2 CACHED",
      "#3 [3/3] RUN false",
      "#3 no newline at the end",
      "#3 ERROR: exit code: 1",
    ]);
    expect(p.failedStep).toBe("[3/3] RUN false");
  });
});

describe("builds on the real engine", () => {
  const labels = suiteLabels("buildkit");
  let engine: DockerEngine;
  let manager: AppContainers;
  let events: ContainerEvent[];
  const dirs: string[] = [];
  const savedBuildkit = process.env.DOCKER_BUILDKIT;

  beforeAll(async () => {
    engine = await testEngine();
    await busyboxImage(engine);
    ({ manager, events } = recordingManager(engine, labels));
    await manager.start();
  });

  afterAll(async () => {
    if (savedBuildkit === undefined) delete process.env.DOCKER_BUILDKIT;
    else process.env.DOCKER_BUILDKIT = savedBuildkit;
    manager?.close();
    await sweep(engine, labels);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, 60_000);

  const buildLines = (id: string): string[] =>
    events.flatMap((e) => (e.type === "build-line" && e.appId === id ? [e.line] : []));

  test("a RUN --mount=type=cache step builds offline, and the cache persists to the next build", async () => {
    const containerfile = (marker: string) =>
      `FROM ${BUSYBOX_IMAGE}\n` +
      `RUN --mount=type=cache,target=/cache echo ${marker} >> /cache/runs && cat /cache/runs > /runs.txt\n` +
      `RUN mkdir -p /www && cp /runs.txt /www/index.html\n` +
      `EXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`;
    const first = writeAppDir({ Containerfile: containerfile(`first-${process.pid}`) });
    const second = writeAppDir({ Containerfile: containerfile(`second-${process.pid}`) });
    dirs.push(first, second);
    const id1 = appId("cache1");
    const url1 = await (await manager.add(buildSpec(id1, first))).ensureReady();
    expect((await getText(url1 + "/")).body).toContain(`first-${process.pid}`);

    const id2 = appId("cache2");
    const url2 = await (await manager.add(buildSpec(id2, second))).ensureReady();
    const body = (await getText(url2 + "/")).body;
    if (wantedEngine() === "docker") {
      // BuildKit kept /cache between the two builds: the second run sees the first run's line too.
      expect(body).toContain(`first-${process.pid}`);
      const lines = buildLines(id2);
      expect(lines.some((l) => /^#\d+ \[(stage-0 )?2\/3\] RUN --mount=type=cache/.test(l))).toBe(true);
      expect(lines.some((l) => /^#\d+ DONE \d+\.\d+s$/.test(l))).toBe(true);
    }
    expect(body).toContain(`second-${process.pid}`);
  }, 120_000);

  test("a failing step names the step, and the log tail has its output", async () => {
    const dir = writeAppDir({ Containerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo bk-about-to-fail && false\nEXPOSE 8080\n` });
    dirs.push(dir);
    const err = (await (await manager.add(buildSpec(appId("bkfail"), dir))).ensureReady().catch((e) => e)) as StartError;
    expect(err).toBeInstanceOf(StartError);
    expect(err.logTail).toContain("bk-about-to-fail");
    expect(err.logTail).toContain("RUN echo bk-about-to-fail && false");
    if (wantedEngine() === "docker") {
      expect(err.message).toContain("at step [2/2] RUN echo bk-about-to-fail && false");
      expect(err.logTail).toMatch(/#\d+ ERROR: .*exit code: 1/);
    }
  }, 60_000);

  test("DOCKER_BUILDKIT=0 builds with the classic builder (its own output, no BuildKit steps)", async () => {
    process.env.DOCKER_BUILDKIT = "0";
    try {
      const dir = writeAppDir({
        Containerfile: `FROM ${BUSYBOX_IMAGE}\nRUN mkdir -p /www && echo classic > /www/index.html\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      });
      dirs.push(dir);
      const id = appId("classic");
      const url = await (await manager.add(buildSpec(id, dir))).ensureReady();
      expect((await getText(url + "/")).body).toBe("classic\n");
      const lines = buildLines(id);
      expect(lines.some((l) => /^(STEP|Step) 2\/\d+ ?: RUN mkdir/.test(l)), lines.join("\n")).toBe(true);
      expect(lines.some((l) => /^#\d+ /.test(l))).toBe(false);
    } finally {
      delete process.env.DOCKER_BUILDKIT;
    }
  }, 60_000);
});
