/**
 * README claims checked as a user meets them: examples/hello is served; --rm-image removes the built image (and
 * without it the image stays for the next run); `server start --config` turns HTTPS off, serves the named
 * certificate, routes the default domain and gives apps the [app_config] defaults; `app reload` pulls an image
 * app again and runs the new image.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectContext, contextTar, DEFAULT_ULIMITS, LABEL_APP, LABEL_MANAGED, parseImageRef, type ContainerEngine } from "../../src/containers/index.ts";
import { defaultAppId } from "../../src/runtime/index.ts";
import { suiteLabels, sweep, testEngine } from "../fixtures/engine.ts";
import { BUSYBOX_IMAGE, busyboxImage, writeAppDir } from "../fixtures/images.ts";
import { startRegistry, type TestRegistry } from "../fixtures/registry.ts";
import { appFolder, CliProcess, containersOf, runCli, tempHome } from "./helpers.ts";

const ROOT = join(import.meta.dir, "..", "..");
const EXAMPLE = join(ROOT, "examples", "hello");
const labels = suiteLabels("readme-claims");
let engine: ContainerEngine;
const cleanup: string[] = [];

async function imagesOf(appId: string) {
  return engine.listImages([`${LABEL_MANAGED}=true`, `${LABEL_APP}=${appId}`]);
}

beforeAll(async () => {
  engine = await testEngine();
  await busyboxImage(engine);
});

afterAll(async () => {
  await sweep(engine, labels);
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

describe("serve", () => {
  test("examples/hello is served; --rm-image removes its image at exit, and without it the image stays", async () => {
    // The example builds FROM busybox: the bootstrap script seeds it offline, as on a fresh machine.
    const seeded = Bun.spawnSync(["bun", join(ROOT, "scripts", "seed-busybox.ts")], { stdout: "pipe", stderr: "pipe", env: process.env });
    expect(seeded.exitCode).toBe(0);
    const appId = defaultAppId({ source: EXAMPLE, domain: "", path: "/" });
    const page = await Bun.file(join(EXAMPLE, "www", "index.html")).text();
    for (const rmImage of [false, true]) {
      const serve = new CliProcess(["serve", EXAMPLE, "--approve", "--port", "0", "--wait-ready=90", ...(rmImage ? ["--rm-image"] : [])]);
      try {
        const [, url] = await serve.waitFor(/^ready (http:\/\/\S+) in [\d.]+s$/m, 100_000);
        const res = await fetch(url!);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe(page);
        serve.signal("SIGINT");
        await serve.exited();
      } finally {
        await serve.stop();
      }
      expect(await containersOf(engine, appId)).toEqual([]);
      const left = (await imagesOf(appId)).length;
      if (left !== (rmImage ? 0 : 1)) throw new Error(`${left} image(s) of the app after serve${rmImage ? " --rm-image" : ""} exited; what it printed:\n${serve.stderr}`);
    }
  }, 200_000);
});

describe("serve --rm-image and an image in use", () => {
  test("an image another container runs is left with that container, and a warning names it", async () => {
    const dir = appFolder({
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "shared image\n",
    });
    cleanup.push(dir);
    const appId = defaultAppId({ source: dir, domain: "", path: "/" });
    const serve = new CliProcess(["serve", dir, "--approve", "--port", "0", "--wait-ready=90", "--rm-image"]);
    const name = `clace-lite-test-user-${process.pid}`;
    let other = "";
    try {
      await serve.waitFor(/^ready (http:\/\/\S+) in [\d.]+s$/m, 100_000);
      const [image] = await imagesOf(appId);
      // A container the user started by hand from the app's image (no clace-lite labels of its own app).
      other = await engine.createContainer({ name, image: image!.id, env: {}, labels: { ...labels, [LABEL_APP]: "app_by_hand" }, port: 8080, binds: [], ulimits: DEFAULT_ULIMITS });
      await engine.startContainer(other);
      serve.signal("SIGINT");
      await serve.exited();
      expect(serve.stderr).toMatch(new RegExp(`warning: could not remove image \\S+: in use by container ${name}`));
      expect(serve.stderr).not.toMatch(/removed image/);
      expect((await engine.inspectContainer(other))?.running).toBe(true);
      expect(await imagesOf(appId)).toHaveLength(1);
    } finally {
      await serve.stop();
      if (other) await engine.removeContainer(other).catch(() => {});
      for (const i of await imagesOf(appId)) await engine.removeImage(i.id, true).catch(() => {});
    }
  }, 150_000);
});

describe("server start --config", () => {
  test("HTTPS off, the default domain, [app_config] defaults; then the named certificate files", async () => {
    const home = tempHome();
    cleanup.push(home);
    const config = join(home, "clace-lite.toml");
    writeFileSync(
      config,
      `[http]\nhost = "127.0.0.1"\nport = 0\n\n[https]\nport = -1\n\n[system]\ndefault_domain = "apps.test"\n\n[app_config]\n"container.idle_shutdown_secs" = "2"\n`,
    );
    const env = { CL_HOME: home };
    const dir = appFolder({
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": "configured\n",
    });
    cleanup.push(dir);
    let server = new CliProcess(["server", "start", "--config", config], env);
    try {
      const [line, base] = await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\/.*$/m);
      expect(line).not.toContain("https://"); // [https] port = -1
      expect((await runCli(["app", "create", "--spec", "container", "--approve", dir, "/cfg"], env)).code).toBe(0);
      // The default domain is the one apps without a domain live in; another host falls back to it too.
      const viaDefault = await fetch(`${base}/cfg/`, { headers: { host: "apps.test" } });
      expect(await viaDefault.text()).toBe("configured\n");
      const listed = JSON.parse((await runCli(["app", "list", "--json"], env)).stdout) as { id: string; url: string }[];
      expect(listed[0]!.url).toStartWith("http://apps.test:");
      // [app_config] container.idle_shutdown_secs = 2: the container stops soon after the request.
      const deadline = Date.now() + 20_000;
      while ((await containersOf(engine, listed[0]!.id)).some((c) => c.state === "running")) {
        if (Date.now() > deadline) throw new Error("the [app_config] idle period did not apply");
        await Bun.sleep(250);
      }
      await runCli(["app", "delete", "all"], env);
      expect((await runCli(["server", "stop"], env)).code).toBe(0);
      await server.exited();

      // Named certificate files: HTTPS serves that certificate.
      const certs = mkdtempSync(join(tmpdir(), "clace-lite-certs-"));
      cleanup.push(certs);
      const made = Bun.spawnSync([
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(certs, "k.pem"),
        "-out", join(certs, "c.pem"), "-days", "2", "-subj", "/CN=named.test", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ]);
      expect(made.exitCode).toBe(0);
      writeFileSync(config, `[http]\nport = 0\n\n[https]\nport = 0\ncert_file = "${join(certs, "c.pem")}"\nkey_file = "${join(certs, "k.pem")}"\n`);
      server = new CliProcess(["server", "start", "--config", config], env);
      const [, https] = await server.waitFor(/ and (https:\/\/[\d.]+:\d+)\//);
      const cert = await Bun.file(join(certs, "c.pem")).text();
      const res = await fetch(`${https!.replace("127.0.0.1", "localhost")}/`, { tls: { ca: cert } } as RequestInit);
      expect(res.status).toBe(404); // no app at /: the point is that the handshake with the named certificate worked
      // --https-port off wins over the config's port.
      expect((await runCli(["server", "stop"], env)).code).toBe(0);
      await server.exited();
      server = new CliProcess(["server", "start", "--config", config, "--https-port", "off"], env);
      const [offLine] = await server.waitFor(/listening on http:\/\/[\d.]+:\d+\/.*$/m);
      expect(offLine).not.toContain("https://");
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe("app reload of an image app", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  /** Builds a page image, pushes it as `ref`, and keeps no local copy under that name. */
  async function publish(ref: string, page: string): Promise<string> {
    const dir = writeAppDir({
      Containerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nEXPOSE 8080\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
      "www/index.html": page,
    });
    cleanup.push(dir);
    const built = await engine.build({ context: contextTar(collectContext([dir], "Containerfile")), tag: ref, containerFile: "Containerfile", labels });
    await engine.push(ref);
    return built.imageId;
  }

  test("pulls again and serves the new image; an unchanged tag says so", async () => {
    const home = tempHome();
    cleanup.push(home);
    const env = { CL_HOME: home };
    const ref = `${registry.host}/clace-lite-test/reload:${process.pid}`;
    const v1 = await publish(ref, "image one\n");
    const server = new CliProcess(["server", "start", "--port", "0", "--https-port", "off"], env);
    try {
      const [, base] = await server.waitFor(/listening on (http:\/\/[\d.]+:\d+)\//);
      const created = await runCli(["app", "create", "--spec", "image", "--approve", "--param", `image=${ref}`, "--param", "port=8080", "-", "/img"], env);
      expect(created.code).toBe(0);
      expect(await (await fetch(`${base}/img/`)).text()).toBe("image one\n");
      const same = await runCli(["app", "reload", "/img"], env);
      expect(same.code).toBe(0);
      expect(same.stdout).toContain("image re-pulled: unchanged");
      // A new image under the same tag in the registry; this machine still has the old one under it.
      await publish(ref, "image two\n");
      const { repo, tag } = parseImageRef(ref);
      await engine.tagImage(v1, repo, tag);
      const reloaded = await runCli(["app", "reload", "/img"], env);
      expect(reloaded.code).toBe(0);
      expect(reloaded.stdout).toContain("image re-pulled: new image");
      expect(await (await fetch(`${base}/img/`)).text()).toBe("image two\n");
      await runCli(["app", "delete", "all"], env);
    } finally {
      await server.stop();
      await engine.removeImage(ref, true).catch(() => {});
    }
  }, 120_000);
});
