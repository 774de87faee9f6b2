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

/**
 * The best `size` scored indices seen so far, best first (ties: the earlier added first), in typed
 * arrays, for scans over many rows: test `score > pool.floor` inline and `add` only then, so the
 * common case costs one comparison.
 */
export interface TopPool {
  /** The score a candidate must beat: -Infinity until the pool is full. */
  readonly floor: number;
  add(index: number, score: number): void;
  /** The pool's contents, best first. */
  hits(): Scored[];
}

export function topPool(size: number): TopPool {
  const index = new Int32Array(size);
  const score = new Float64Array(size);
  let len = 0;
  return {
    floor: -Infinity,
    add(r, s) {
      let i = len < size ? len++ : size - 1;
      for (; i > 0 && score[i - 1]! < s; i--) (score[i] = score[i - 1]!), (index[i] = index[i - 1]!);
      score[i] = s;
      index[i] = r;
      if (len === size) (this as { floor: number }).floor = score[size - 1]!;
    },
    hits: () => Array.from({ length: len }, (_, i) => ({ index: index[i]!, score: score[i]! })),
  };
}
