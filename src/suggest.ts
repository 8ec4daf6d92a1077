/**
 * "Did you mean …?" for names people type: config options, queue names.
 */

// Optimal string alignment distance: edits, counting a swap of two
// neighbours as one (the commonest typo).
function distance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate `name` most likely meant: one or two edits away (one for
 * short names, where two would match nearly anything), ignoring case in
 * `name`; `undefined` when none is that close.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const allowed = name.length < 6 ? 1 : 2;
  let best: { name: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(name.toLowerCase(), candidate);
    if (d <= allowed && (best === undefined || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}
