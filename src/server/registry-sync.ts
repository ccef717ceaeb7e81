/**
 * A server among several on one registry.
 *
 * Following: an app created, changed or deleted through any of them is mounted, remounted or unmounted here as soon
 * as the registry announces the change. Changes are applied one at a time, in the order they arrive; this server's
 * own changes arrive too and are recognised by their version (`updatedAt`), so nothing is loaded twice.
 *
 * Publishing: when this server last had a request for each app, so that another one does not pause or stop an app
 * this one serves (the lifecycle asks the registry before idling an app).
 */
import type { AppChange, AppRecord, AppStore, SharedActivity } from "../runtime/index.ts";

/** How often a server tells the others when it last had requests for each app. */
const ACTIVITY_PUBLISH_MS = 2000;

/** What the host lets the follower see and do. */
export interface SyncTarget {
  /** The `updatedAt` of the app as this server has it (mounted or being mounted); undefined when unknown here. */
  versionOf(id: string): string | undefined;
  /** Every app id this server has mounted. */
  knownIds(): string[];
  /** Mount a new app, or the new version of a known one. */
  remount(record: AppRecord): Promise<void>;
  /** The app was deleted through another server. */
  unmount(id: string): Promise<void>;
}

export async function followRegistry(store: AppStore, target: SyncTarget, log: (line: string) => void): Promise<{ close(): Promise<void> }> {
  let queue: Promise<void> = Promise.resolve();
  const apply = async (change: AppChange): Promise<void> => {
    if (change.op === "resync") {
      const records = await store.list();
      const present = new Set(records.map((r) => r.id));
      for (const id of target.knownIds()) if (!present.has(id)) await target.unmount(id);
      for (const record of records) if (target.versionOf(record.id) !== record.updatedAt) await target.remount(record);
      return;
    }
    if (change.op === "delete") {
      if (target.versionOf(change.id) !== undefined) await target.unmount(change.id);
      return;
    }
    const record = await store.get(change.id);
    if (!record) {
      if (target.versionOf(change.id) !== undefined) await target.unmount(change.id);
    } else if (target.versionOf(record.id) !== record.updatedAt) {
      await target.remount(record);
    }
  };
  const enqueue = (change: AppChange) => {
    queue = queue.then(() => apply(change)).catch((err) => log(`registry: applying a change made through another server failed: ${(err as Error).message}`));
  };
  const watching = await store.watch(enqueue);
  // What changed between reading the registry at boot and listening now.
  enqueue({ op: "resync", id: "" });
  return watching;
}

/**
 * Publishes `lastRequests()` (app id → epoch ms of the last request, 0 for none) every ACTIVITY_PUBLISH_MS, only
 * what changed since the last publication. Returns the function that stops it.
 */
export function publishActivity(activity: SharedActivity, server: string, lastRequests: () => Iterable<[string, number]>, log: (line: string) => void): () => void {
  const published = new Map<string, number>();
  let failing = false;
  const timer = setInterval(() => {
    const batch = new Map<string, number>();
    for (const [id, at] of lastRequests()) if (at > 0 && at !== published.get(id)) batch.set(id, at);
    if (batch.size === 0) return;
    activity.publish(server, batch).then(
      () => {
        failing = false;
        for (const [id, at] of batch) published.set(id, at);
      },
      (err) => {
        if (!failing) log(`registry: cannot record request activity (other servers may idle apps this one serves): ${(err as Error).message}`);
        failing = true;
      },
    );
  }, ACTIVITY_PUBLISH_MS);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}
