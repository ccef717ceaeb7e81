/**
 * Following a registry that other servers share: an app created, changed or deleted through any of them is
 * mounted, remounted or unmounted here as soon as the registry announces the change. Changes are applied one at
 * a time, in the order they arrive; this server's own changes arrive too and are recognised by their version
 * (`updatedAt`), so nothing is loaded twice.
 */
import type { AppChange, AppRecord, AppStore } from "../runtime/index.ts";

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
