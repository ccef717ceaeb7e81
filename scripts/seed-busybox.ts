/**
 * Makes a local `busybox:latest` image from the host's static busybox when the engine has none.
 *
 * The example app builds `FROM busybox`. With registry access the engine pulls it; on machines without one
 * (air-gapped CI, offline laptops) this seeds an equivalent image so the example still builds.
 * An existing `busybox:latest` is never replaced.
 */
import { existsSync, readFileSync } from "node:fs";
import Modem from "docker-modem";
import { pack } from "tar-stream";

const IMAGE = "busybox:latest";
const HOST_BUSYBOX = "/bin/busybox";
const CONTAINERFILE = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["sh"]
`;

function dial<T>(modem: Modem, options: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => modem.dial(options as never, (err, data) => (err ? reject(err) : resolve(data as T))));
}

async function main(): Promise<number> {
  const modem = new Modem();
  try {
    await dial(modem, { path: `/images/${IMAGE}/json`, method: "GET", statusCodes: { 200: true, 404: "no such image" } });
    return 0;
  } catch (err) {
    if (!String(err).includes("no such image")) throw err;
  }
  if (!existsSync(HOST_BUSYBOX)) {
    console.error(`seed-busybox: ${IMAGE} is missing and ${HOST_BUSYBOX} is not here; install busybox-static or pull busybox.`);
    return 1;
  }
  console.error(`seed-busybox: building ${IMAGE} from ${HOST_BUSYBOX}`);
  const context = pack();
  context.entry({ name: "Containerfile" }, CONTAINERFILE);
  context.entry({ name: "busybox", mode: 0o755 }, readFileSync(HOST_BUSYBOX));
  context.finalize();
  const stream = await dial<NodeJS.ReadableStream>(modem, {
    path: "/build?",
    method: "POST",
    options: { t: IMAGE, dockerfile: "Containerfile", rm: "1", forcerm: "1" },
    file: context,
    isStream: true,
    headers: { "Content-Type": "application/x-tar" },
    statusCodes: { 200: true, 500: "server error" },
  });
  // A failed build still answers 200: the error is a JSON line in the stream.
  let output = "";
  for await (const chunk of stream) output += chunk.toString();
  const failure = output
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as { error?: string })
    .find((line) => line.error);
  if (failure) {
    console.error(`seed-busybox: build failed: ${failure.error}`);
    return 1;
  }
  return 0;
}

process.exit(await main());
