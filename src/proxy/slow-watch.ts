/**
 * Deferred per-exchange care. Most proxied exchanges end within a millisecond, yet two safeguards used to be paid
 * on every one of them up front: lifting Bun.serve's idle timeout (two `server.timeout` calls) and an abort
 * listener on the client's signal (add + remove). Both only matter for exchanges that last: Bun's idle timeout is
 * seconds long, and a client that goes away from a quick exchange costs nothing worth cancelling. So an exchange
 * joins this watch (a Set insert) and leaves it when it ends (a Set delete); one that is still open after one to
 * two ticks is promoted, i.e. gets the safeguards then, and leaves the watch.
 */

/** Something that wants its safeguards once it has lasted a tick. */
export interface Watched {
  promote(): void;
}

/** Promotion happens 250–500 ms after joining: far below Bun's idle timeout, within the 1 s abort budget. */
const TICK_MS = 250;

let young = new Set<Watched>();
let old = new Set<Watched>();
let timer: ReturnType<typeof setInterval> | undefined;

export function watch(w: Watched): void {
  young.add(w);
  if (timer === undefined) {
    timer = setInterval(tick, TICK_MS);
    // The watch alone never keeps the process alive.
    timer.unref();
  }
}

/** Ends the watch for an exchange that finished (a no-op when it was promoted already). */
export function unwatch(w: Watched): void {
  if (!young.delete(w)) old.delete(w);
}

function tick(): void {
  const due = old;
  old = young;
  young = due;
  if (due.size > 0) {
    // Copy first: a promotion may end an exchange, which unwatches it.
    const list = [...due];
    due.clear();
    for (const w of list) w.promote();
  }
  if (old.size === 0 && young.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}
