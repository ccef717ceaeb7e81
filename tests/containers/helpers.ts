/** Shared helpers for the container suites: specs for fixture apps, a manager that records its events. */
import { AppContainers, DEFAULT_CONTAINER_SETTINGS, type ContainerEngine, type ContainerEvent, type ContainerSettings, type ContainerSpec } from "../../src/containers/index.ts";

let counter = 0;

/** A unique app id per call, so suites never share containers. */
export function appId(name: string): string {
  return `app_tst_${name}_${process.pid}_${++counter}`;
}

export function buildSpec(id: string, dir: string, over: Partial<Omit<ContainerSpec, "settings">> & { settings?: Partial<ContainerSettings> } = {}): ContainerSpec {
  const { settings, ...rest } = over;
  return {
    appId: id,
    appName: `localhost:/${id}`,
    image: { kind: "build", contextDirs: [dir], containerFile: "Containerfile", buildArgs: {} },
    port: 8080,
    scheme: "http",
    healthPath: "/",
    lifetime: "app",
    env: { PORT: "8080", CL_APP_PATH: `/${id}` },
    volumes: [],
    options: {},
    ...rest,
    settings: { ...DEFAULT_CONTAINER_SETTINGS, statusCheckIntervalSecs: 1, ...settings },
  };
}

export function imageSpec(id: string, ref: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  return buildSpec(id, "/nonexistent", { image: { kind: "image", ref }, ...over });
}

export function recordingManager(engine: ContainerEngine, labels: Record<string, string>): { manager: AppContainers; events: ContainerEvent[] } {
  const events: ContainerEvent[] = [];
  const manager = new AppContainers(engine, { extraLabels: labels, onEvent: (e) => events.push(e), stopTimeoutSecs: 1 });
  return { manager, events };
}

export async function getText(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** Wait until `check` is true, polling; fails after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
  return Date.now() - t0;
}
