/** Pure parts of the container layer: option mapping, templates, image refs, engine discovery, stream parsing. */
import { expect, test } from "bun:test";
import { EngineError, engineCandidates, isHealthyStatus, mapOptions, parseImageRef, registryOf, renderTemplate } from "../../src/containers/index.ts";
import { LineSplitter, demuxLogs } from "../../src/containers/streams.ts";
import { probeOnce } from "../../src/containers/readiness.ts";

test("container options map onto HostConfig; an unknown option is an error naming it", () => {
  const m = mapOptions({ memory: "512m", cpus: "1.5", "cpu-shares": "512", "pids-limit": "100", "read-only": "", user: "1000:1000", workdir: "/app", env: "A=b=c" });
  expect(m.hostConfig).toEqual({ Memory: 512 * 1024 * 1024, NanoCpus: 1.5e9, CpuShares: 512, PidsLimit: 100, ReadonlyRootfs: true });
  expect(m.user).toBe("1000:1000");
  expect(m.workingDir).toBe("/app");
  expect(m.env).toEqual({ A: "b=c" });
  expect(() => mapOptions({ "cgroup-parent": "/x" })).toThrow(/container option "cgroup-parent" is not supported/);
  expect(() => mapOptions({ network: "host" })).toThrow(/not supported: the proxy reaches the app through its port published on 127.0.0.1/);
  let caught: unknown;
  try {
    mapOptions({ memory: "lots" });
  } catch (e) {
    caught = e;
  }
  // Checked outside the catch, so that nothing thrown fails the test instead of skipping the checks.
  expect(caught).toBeInstanceOf(EngineError);
  expect((caught as EngineError).kind).toBe("bad-option");
  expect((caught as EngineError).message).toContain("memory=lots");
});

test("secret templates substitute {{ .params.KEY }} and refuse unknown keys, naming the line", () => {
  expect(renderTemplate("user={{.params.USER}}\npass={{ .params.PASS }}\n", { USER: "u", PASS: "p w" }, "f")).toBe("user=u\npass=p w\n");
  expect(() => renderTemplate("{{ .params.NOPE }}", {}, "db.conf")).toThrow("cannot render secret template db.conf:1:4: .params.NOPE has no value");
});

test("image references split into repository, tag and digest", () => {
  expect(parseImageRef("nginx")).toEqual({ repo: "nginx", tag: "latest", digest: undefined });
  expect(parseImageRef("127.0.0.1:5000/a/b:v1")).toEqual({ repo: "127.0.0.1:5000/a/b", tag: "v1", digest: undefined });
  expect(parseImageRef("127.0.0.1:5000/a")).toEqual({ repo: "127.0.0.1:5000/a", tag: "latest", digest: undefined });
  expect(parseImageRef("x/y@sha256:abc").digest).toBe("sha256:abc");
  expect(registryOf("127.0.0.1:5000/a")).toBe("127.0.0.1:5000");
  expect(registryOf("library/nginx")).toBe("docker.io");
  expect(registryOf("ghcr.io/x/y")).toBe("ghcr.io");
});

test("engine discovery honours DOCKER_HOST, else Docker's then Podman's sockets", () => {
  expect(engineCandidates({ DOCKER_HOST: "unix:///tmp/d.sock" })).toEqual([{ endpoint: "unix:///tmp/d.sock", socketPath: "/tmp/d.sock" }]);
  expect(engineCandidates({ DOCKER_HOST: "tcp://127.0.0.1:2375" })[0]).toMatchObject({ host: "127.0.0.1", port: 2375, protocol: "http" });
  expect(engineCandidates({ XDG_RUNTIME_DIR: "/run/user/1000" }).map((c) => c.socketPath)).toEqual([
    "/var/run/docker.sock",
    "/run/podman/podman.sock",
    "/run/user/1000/podman/podman.sock",
  ]);
  expect(() => engineCandidates({ DOCKER_HOST: "ssh://x" })).toThrow(/not supported/);
});

test("the line splitter handles events split across chunks and several in one chunk", () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.push('{"a":1}\n{"b"');
  s.push(':2}\n{"c":3}\r\n{"d"');
  s.flush();
  expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d"']);
});

test("log frames are demultiplexed; unframed logs pass through", () => {
  const frame = (stream: number, text: string) => {
    const body = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = stream;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  expect(demuxLogs(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]))).toBe("out\nerr\n");
  expect(demuxLogs(Buffer.from("plain text\n"))).toBe("plain text\n");
});

test("health answers as Clace: only 200 counts, on / as on any health path", () => {
  expect(isHealthyStatus(200)).toBe(true);
  for (const status of [204, 301, 404, 500, 503]) expect(isHealthyStatus(status)).toBe(false);
});

test("a probe follows redirects within the app: 200 after them is ready, a 500 or a loop is not", async () => {
  let hits = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      hits++;
      const path = new URL(req.url).pathname;
      if (path === "/") return new Response(null, { status: 302, headers: { location: "/login?next=%2F" } });
      // A redirect naming another host is followed on the app's own address.
      if (path === "/login") return new Response(null, { status: 301, headers: { location: "http://app.example.invalid:9999/ok" } });
      if (path === "/ok") return new Response("fine");
      if (path === "/loop") return new Response(null, { status: 302, headers: { location: "/loop" } });
      if (path === "/warming") return new Response("not yet", { status: 500 });
      return new Response("no", { status: 404 });
    },
  });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    expect(await probeOnce(base, "/", 2000)).toBe(true);
    expect(hits).toBe(3);
    expect(await probeOnce(base, "/warming", 2000)).toBe(false);
    expect(await probeOnce(base, "/missing", 2000)).toBe(false);
    hits = 0;
    expect(await probeOnce(base, "/loop", 2000)).toBe(false);
    expect(hits).toBe(11);
    expect(await probeOnce("http://127.0.0.1:1", "/", 500)).toBe(false);
  } finally {
    server.stop(true);
  }
});
