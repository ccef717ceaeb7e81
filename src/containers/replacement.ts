/**
 * Replacement: a new version of an app comes up beside the one that serves and takes over only once it is ready
 * (dev mode, zero-downtime reloads); when it fails it is removed and the old one keeps serving. `upgrade` is a
 * reload's entry: a running app is replaced, a stopped one gets its new image built first.
 */
import type { ContainerLifecycle, VersionHashes } from "./lifecycle.ts";
import type { ContainerSpec } from "./spec.ts";

/** What the replacement policy needs of the manager. */
export interface AppRegistry {
  get(appId: string): ContainerLifecycle | undefined;
  /** Makes `app` the one the manager serves for its id. */
  set(app: ContainerLifecycle): void;
  /** Registers the spec or updates the registered app to it (removing what it no longer needs). */
  add(spec: ContainerSpec): Promise<ContainerLifecycle>;
  remove(appId: string): Promise<void>;
  hashes(spec: ContainerSpec): Promise<VersionHashes>;
  /** A new version, not registered: prepared beside the serving one. */
  candidate(spec: ContainerSpec, hashes: VersionHashes): ContainerLifecycle;
}

/** What `upgrade` did. */
export interface Upgrade {
  /** The app's container now (a new one when a running app was replaced). */
  container: ContainerLifecycle;
  /** The container's spec or image changed (false: the new version needs the same container). */
  containerChanged: boolean;
  /** A new image was built for the new version. */
  imageBuilt: boolean;
  /** A running container was replaced by the new version. */
  restarted: boolean;
}

/** What `upgrade` would do (`preview`). */
export interface UpgradePreview {
  /** The new version needs another container (its spec or image differs). */
  containerChanged: boolean;
  /** The new version needs another image (a build, or another image reference). */
  imageChanged: boolean;
  /** A container is ready now, so it would be replaced once the new one is ready (else: a new one on the next request). */
  running: boolean;
}

/** What `upgradeApp(apps, spec)` would do, found without building, starting or removing anything (a dry run). */
export async function previewUpgrade(apps: AppRegistry, spec: ContainerSpec): Promise<UpgradePreview> {
  const old = apps.get(spec.appId);
  if (!old) return { containerChanged: true, imageChanged: true, running: false };
  const hashes = await apps.hashes(spec);
  const imageChanged = hashes.imgHash !== old.imageHash;
  return { containerChanged: imageChanged || hashes.hash !== old.hash, imageChanged, running: old.state === "ready" };
}

/**
 * Replace a ready app with a new version without a gap; an app that is not ready, or whose version does not
 * change, just takes the new spec. The new version's error is thrown when it fails.
 */
export async function replaceApp(apps: AppRegistry, spec: ContainerSpec): Promise<ContainerLifecycle> {
  const old = apps.get(spec.appId);
  if (!old || old.state !== "ready") return apps.add(spec);
  const hashes = await apps.hashes(spec);
  if (hashes.hash === old.hash && hashes.imgHash === old.imageHash) return apps.add(spec);
  const next = apps.candidate(spec, hashes);
  try {
    await next.ensureReady();
  } catch (err) {
    await next.stop("the new version failed; the previous version keeps serving").catch(() => {});
    await next.removeResources({ hash: old.hash, imgHash: old.imageHash }).catch(() => {});
    throw err;
  }
  next.candidate = false;
  apps.set(next);
  await old.retire(hashes);
  return next;
}

/**
 * Bring in a new version of an app before it takes over (`app reload`): a running app gets the new version built
 * and started beside it and switched once ready; a stopped one gets the new image built first, then takes the new
 * spec. When the new version fails, nothing changes (the old one keeps serving) and the error is thrown.
 */
export async function upgradeApp(apps: AppRegistry, spec: ContainerSpec): Promise<Upgrade> {
  const old = apps.get(spec.appId);
  if (!old) {
    const app = await apps.add(spec);
    try {
      const { built } = await app.prepareImage();
      return { container: app, containerChanged: true, imageBuilt: built, restarted: false };
    } catch (err) {
      // Not kept: the next upgrade must try the build again rather than find this spec already registered.
      await apps.remove(spec.appId).catch(() => {});
      throw err;
    }
  }
  const hashes = await apps.hashes(spec);
  const imageChanged = hashes.imgHash !== old.imageHash;
  if (!imageChanged && hashes.hash === old.hash) {
    await apps.add(spec);
    return { container: old, containerChanged: false, imageBuilt: false, restarted: false };
  }
  const builds = spec.image.kind === "build";
  if (old.state === "ready") {
    const next = await replaceApp(apps, spec);
    return { container: next, containerChanged: true, imageBuilt: builds && imageChanged, restarted: true };
  }
  const next = apps.candidate(spec, hashes);
  let built: boolean;
  try {
    ({ built } = await next.prepareImage());
  } catch (err) {
    await next.removeResources({ hash: old.hash, imgHash: old.imageHash }).catch(() => {});
    throw err;
  }
  await apps.add(spec);
  return { container: old, containerChanged: true, imageBuilt: built, restarted: false };
}
