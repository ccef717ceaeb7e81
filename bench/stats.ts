/** What the benches report of a set of timings. */

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** "median 229 ms, min 195, max 491". */
export function summary(xs: readonly number[]): string {
  return `median ${median(xs).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`;
}

/** Waits for the first byte of `url`'s answer, then drops the rest: when the app answered. */
export async function firstByte(url: string): Promise<void> {
  const res = await fetch(url);
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
}
