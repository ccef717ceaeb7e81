/**
 * "Did you mean" suggestions for every phase (undefined names, unknown attributes and keywords), as starlark-go's
 * internal/spell does them: case and underscores are ignored, and a candidate must be within a Levenshtein
 * distance of less than half the name's length.
 */

function fold(s: string): string {
  return s.replace(/_/g, "").toLowerCase();
}

/** Levenshtein distance of a and b, or any value >= max once it is known to be at least max. */
function levenshtein(a: string, b: string, max: number): number {
  if (a === b) return 0;
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
