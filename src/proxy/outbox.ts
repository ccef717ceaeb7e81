/**
 * Ordered writes to a Bun socket with backpressure: what the socket does not take at once is kept, in order, and
 * written on drain. `send` says whether everything went out, so the caller can pause whatever feeds it.
 */
import type { Socket } from "bun";

export class Outbox {
  private queue: Uint8Array[] | undefined;

  /** Bytes still waiting for the socket. */
  get pending(): boolean {
    return this.queue !== undefined;
  }

  /**
   * Write `bytes` (copied if they must wait); false when the socket is backed up. A string must be ASCII (a head
   * without obs-text): it is written without first becoming a Buffer, which matters on the hot path.
   */
  send(socket: Socket<unknown>, bytes: Uint8Array | string): boolean {
    const queue = this.queue;
    if (queue !== undefined) {
      queue.push(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : Buffer.from(bytes));
      return false;
    }
    const written = socket.write(bytes);
    if (written >= bytes.length) return true;
    const rest = typeof bytes === "string" ? Buffer.from(bytes.slice(Math.max(written, 0)), "latin1") : Buffer.from(bytes.subarray(Math.max(written, 0)));
    this.queue = [rest];
    return false;
  }

  /** On drain: write what waits; true when the queue is empty. */
  flush(socket: Socket<unknown>): boolean {
    const queue = this.queue;
    if (queue === undefined) return true;
    while (queue.length > 0) {
      const b = queue[0]!;
      const written = socket.write(b);
      if (written < b.length) {
        queue[0] = b.subarray(Math.max(written, 0));
        return false;
      }
      queue.shift();
    }
    this.queue = undefined;
    return true;
  }

  clear(): void {
    this.queue = undefined;
  }
}

/** A head (latin1 text) and the body bytes after it, in one buffer: one allocation, one write. */
export function headWith(head: string, pieces: readonly Uint8Array[]): Uint8Array {
  let n = head.length;
  for (let i = 0; i < pieces.length; i++) n += pieces[i]!.length;
  const out = Buffer.allocUnsafe(n);
  let at = out.write(head, 0, "latin1");
  for (let i = 0; i < pieces.length; i++) {
    out.set(pieces[i]!, at);
    at += pieces[i]!.length;
  }
  return out;
}

/** One buffer from pieces (a single piece is returned as it is). */
export function joined(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  let n = 0;
  for (let i = 0; i < pieces.length; i++) n += pieces[i]!.length;
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  for (let i = 0; i < pieces.length; i++) {
    out.set(pieces[i]!, at);
    at += pieces[i]!.length;
  }
  return out;
}
