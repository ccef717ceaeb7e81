/**
 * Names and labels. An app's image and container are named from a hash of everything that shapes them, so an
 * unchanged app reuses both and a changed one gets new ones (and the old ones can be found by label and removed).
 */
import { createHash } from "node:crypto";
import type { ContainerSpec } from "./spec.ts";

export const LABEL_MANAGED = "dev.clace-lite.managed";
export const LABEL_APP = "dev.clace-lite.app";
export const LABEL_HASH = "dev.clace-lite.hash";
export const LABEL_APP_NAME = "dev.clace-lite.app-name";

/** Docker names allow [a-zA-Z0-9_.-]; image repositories only lowercase. */
export function safeName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_.-]+/g, "-").replace(/^[^a-z0-9]+/, "") || "app";
}

function sortedEntries(o: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The hash naming an app's image and container. `sourceHash` is the build context's hash (build apps) or the
 * image reference (image apps). Env, volumes, options and the port shape the container, so they are in it too.
 */
export function specHash(spec: ContainerSpec, sourceHash: string): string {
  const h = createHash("sha256");
  const image =
    spec.image.kind === "build"
      ? { kind: "build", file: spec.image.containerFile, args: sortedEntries(spec.image.buildArgs) }
      : { kind: "image", ref: spec.image.ref };
  h.update(
    JSON.stringify({
      source: sourceHash,
      image,
      port: spec.port,
      env: sortedEntries(spec.env),
      volumes: spec.volumes,
      options: sortedEntries(spec.options),
    }),
  );
  return h.digest("hex").slice(0, 20);
}

/** The hash of the image alone (source + container file + build args): env changes reuse the image. */
export function imageHash(spec: ContainerSpec, sourceHash: string): string {
  if (spec.image.kind !== "build") return "";
  const h = createHash("sha256");
  h.update(JSON.stringify({ source: sourceHash, file: spec.image.containerFile, args: sortedEntries(spec.image.buildArgs) }));
  return h.digest("hex").slice(0, 20);
}

export function imageName(appId: string, hash: string): string {
  return `cli-${safeName(appId)}:${hash}`;
}

export function containerName(appId: string, hash: string): string {
  return `clc-${safeName(appId)}-${hash}`;
}

export function volumeName(appId: string, key: string): string {
  return `clv-${safeName(appId)}-${createHash("sha256").update(key).digest("hex").slice(0, 16)}`;
}
