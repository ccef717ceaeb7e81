/**
 * "Did you mean" suggestions for every phase (undefined names, unknown attributes and keywords), as starlark-go's
 * internal/spell does them: case and underscores are ignored, and a candidate must be within a Levenshtein
 * distance of less than half the name's length. Like Go, lengths and distances count UTF-8 bytes, so a name with
 * non-ASCII letters gets the same suggestions as under starlark-go.
 */

const utf8 = new TextEncoder();

/** Without underscores, each code point lowered on its own (Go's unicode.ToLower), as UTF-8 bytes. */
function fold(s: string): Uint8Array {
  let out = "";
  for (const ch of s) {
    if (ch === "_") continue;
    const lower = ch.toLowerCase();
    out += lower.length === ch.length ? lower : String.fromCodePoint(lower.codePointAt(0)!);
  }
  return utf8.encode(out);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Levenshtein distance of a and b, or any value >= max once it is known to be at least max. */
function levenshtein(a: Uint8Array, b: Uint8Array, max: number): number {
  if (same(a, b)) return 0;
  if (Math.abs(a.length - b.length) >= max) return max;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (cur[j]! < rowMin) rowMin = cur[j]!;
    }
    if (rowMin >= max) return max;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/** The candidate nearest to x, or "" if none is close enough. Earlier candidates win ties. */
export function nearest(x: string, candidates: Iterable<string>): string {
  const fx = fold(x);
  let best = "";
  let bestD = Math.floor((fx.length + 1) / 2); // allow up to 50% typos
  for (const c of candidates) {
    const d = levenshtein(fx, fold(c), bestD);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}
