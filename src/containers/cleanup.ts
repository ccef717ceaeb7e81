/**
 * Cleanup: what an app leaves in the engine (containers, built images, volumes) is found by label and removed when
 * the app no longer needs it — when it is deleted or replaced, when the process exits mid-start, and at boot for
 * apps that are gone or versions that were superseded.
 */
import type { ContainerEngine } from "./engine.ts";
import { LABEL_APP, LABEL_HASH, LABEL_MANAGED } from "./naming.ts";

/** Where removals are reported (the lifecycle's "removed" events). */
export type RemovedListener = (appId: string, what: "container" | "image" | "volume", name: string) => void;

/** Where an image that had to stay is reported, with the engine's reason (the lifecycle's "kept" events). */
export type KeptListener = (appId: string, name: string, reason: string) => void;

/** The versions of an app to keep: its current container and image hashes. */
export interface KeepVersion {
  hash: string;
  imgHash: string;
}

export function labelFilters(labels: Readonly<Record<string, string>>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

/** The label filters of everything a manager (with its labels) made for one app. */
export function appScope(appId: string, managerLabels: Readonly<Record<string, string>>): string[] {
  return [`${LABEL_MANAGED}=true`, `${LABEL_APP}=${appId}`, ...labelFilters(managerLabels)];
}

/**
 * Removes an app's containers and built images (and volumes with `volumes`); with `keep`, those of that version
 * stay. Returns the ids of the containers removed.
 */
export async function removeAppResources(
  engine: ContainerEngine,
  appId: string,
  managerLabels: Readonly<Record<string, string>>,
  removed: RemovedListener,
  options: { keep?: KeepVersion; volumes?: boolean; kept?: KeptListener } = {},
): Promise<string[]> {
  const { keep } = options;
  const scope = appScope(appId, managerLabels);
  const ids: string[] = [];
  for (const c of await engine.listContainers(scope, true)) {
    if (keep && c.labels[LABEL_HASH] === keep.hash) continue;
    await engine.removeContainer(c.id);
    ids.push(c.id);
    removed(appId, "container", c.name);
  }
  for (const img of await engine.listImages(scope)) {
    if (keep && img.labels[LABEL_HASH] === keep.imgHash) continue;
    const name = img.repoTags[0] ?? img.id;
    const refusal = await removeImageSettled(engine, img.id);
    if (refusal === null) removed(appId, "image", name);
    else options.kept?.(appId, name, refusal);
  }
  if (options.volumes) {
    for (const v of await engine.listVolumes(scope)) {
      await engine.removeVolume(v.name).catch(() => {});
      removed(appId, "volume", v.name);
    }
  }
  return ids;
}

/** How long a refused image removal is tried again: Podman on a busy machine can take seconds to let go. */
const IMAGE_RELEASE_MS = 10_000;

/**
 * Removes an image whose containers were just removed; returns null, or why the image stays. An image another
 * container uses (another app's, or one run by hand) is not removed: a forced removal on Podman would remove that
 * container with it. Podman can also count an image in use for a while after a container's removal returns, so a
 * refusal is tried again for up to IMAGE_RELEASE_MS before the image is left, and not reported as removed.
 */
async function removeImageSettled(engine: ContainerEngine, id: string): Promise<string | null> {
  const deadline = Date.now() + IMAGE_RELEASE_MS;
  for (let attempt = 0; ; attempt++) {
    let refusal: string;
    const users = (await engine.listContainers([], true)).filter((c) => sameImage(c.imageId, id));
    if (users.length > 0) {
      refusal = `in use by container ${users.map((c) => c.name || c.id.slice(0, 12)).join(", ")}`;
    } else {
      try {
        await engine.removeImage(id, true);
        return null;
      } catch (err) {
        refusal = (err as Error).message;
      }
    }
    if (Date.now() >= deadline) return refusal;
    await Bun.sleep(Math.min(250 * (attempt + 1), 1000, Math.max(0, deadline - Date.now())));
  }
}

/** Image ids as engines spell them, with or without the "sha256:" prefix. */
function sameImage(a: string, b: string): boolean {
  return a.replace(/^sha256:/, "") === b.replace(/^sha256:/, "");
}

/** The process is exiting: every container of the app goes at once, running or not (images stay). */
export async function removeAppContainersNow(
  engine: ContainerEngine,
  appId: string,
  managerLabels: Readonly<Record<string, string>>,
  removed: RemovedListener,
): Promise<void> {
  await Promise.all(
    (await engine.listContainers(appScope(appId, managerLabels), true)).map(async (c) => {
      await engine.removeContainer(c.id);
      removed(appId, "container", c.name);
    }),
  );
}

/** An app the boot reconciliation knows: its current version, and what to do with a container of that version. */
export interface KnownApp {
  hash: string;
  imageHash: string;
  /** A running (or paused) container of the current version: adopt it; true when it was. */
  adopt(containerId: string): Promise<boolean>;
  /** A stopped container of the current version: start it again on the next request. */
  knowContainer(containerId: string): void;
}

export interface Reconciled {
  adopted: string[];
  removedContainers: string[];
  removedImages: string[];
}

/**
 * At boot: adopt running containers of known apps with the current hash, remember stopped ones, and remove
 * containers and built images that no known app needs (unknown apps, superseded hashes).
 */
export async function reconcileApps(
  engine: ContainerEngine,
  scope: readonly string[],
  known: (appId: string) => KnownApp | undefined,
  removed: RemovedListener,
): Promise<Reconciled> {
  const result: Reconciled = { adopted: [], removedContainers: [], removedImages: [] };
  for (const c of await engine.listContainers(scope, true)) {
    const appId = c.labels[LABEL_APP] ?? "";
    const app = known(appId);
    if (app && c.labels[LABEL_HASH] === app.hash) {
      if (c.state === "running" || c.state === "paused") {
        if (await app.adopt(c.id)) result.adopted.push(appId);
      } else {
        app.knowContainer(c.id);
      }
      continue;
    }
    await engine.removeContainer(c.id);
    result.removedContainers.push(c.name);
    removed(appId, "container", c.name);
  }
  for (const img of await engine.listImages(scope)) {
    const appId = img.labels[LABEL_APP] ?? "";
    const app = known(appId);
    if (app && img.labels[LABEL_HASH] === app.imageHash) continue;
    try {
      await engine.removeImage(img.id, false);
      result.removedImages.push(img.repoTags[0] ?? img.id);
      removed(appId, "image", img.repoTags[0] ?? img.id);
    } catch {
      // In use by a container we do not own: leave it.
    }
  }
  return result;
}
