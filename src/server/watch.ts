/**
 * Dev mode's file watcher: one callback per burst of changes in a source folder (debounced, 300 ms as in Clace),
 * never two reloads at once (a change during a reload schedules one more after it).
 */
import { watch, type FSWatcher } from "node:fs";

export const DEV_DEBOUNCE_MS = 300;

export interface SourceWatcher {
  close(): void;
}

export function watchSource(dir: string, onChange: () => Promise<void>, debounceMs = DEV_DEBOUNCE_MS): SourceWatcher {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  const fire = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await onChange();
    } catch {
      // The callback reports its own failures; the watcher keeps watching.
    } finally {
      running = false;
      if (again) {
        again = false;
        void fire();
      }
    }
  };
  const watcher: FSWatcher = watch(dir, { recursive: true }, (_event, name) => {
    // Editor swap files and VCS internals are not source changes.
    if (name && /(^|\/)(\.git|node_modules)(\/|$)|\.swp$|~$/.test(String(name))) return;
    clearTimeout(timer);
    timer = setTimeout(() => void fire(), debounceMs);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
