/** A scored item index. */
export interface Scored {
  index: number;
  score: number;
}

/**
 * Indices of the `k` highest of `scores`, best first (ties: lower index first), skipping `exclude`.
 * One pass with a short sorted list: O(n·k) worst case, O(n) in practice for the small k of a row.
 */
export function topIndices(scores: ArrayLike<number>, k: number, exclude: ReadonlySet<number> = new Set()): Scored[] {
  const top: Scored[] = [];
  if (k <= 0) return top;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (exclude.has(i) || Number.isNaN(s) || (top.length === k && s <= top[k - 1]!.score)) continue;
    let j = top.length;
    while (j > 0 && top[j - 1]!.score < s) j--;
    top.splice(j, 0, { index: i, score: s });
    if (top.length > k) top.pop();
  }
  return top;
}
