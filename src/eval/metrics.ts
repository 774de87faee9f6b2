/**
 * Ranking metrics for offline evaluation. A method scores every catalog item; the target's rank is
 * the number of allowed items scoring strictly higher, plus half the allowed items tied with it
 * (so a method that scores everything equal ranks the target in the middle, not first).
 */

/** 0-based rank of `target` among the items not in `excluded` (`excluded` must not contain the target). */
export function rankOf(scores: ArrayLike<number>, target: number, excluded?: ReadonlySet<number>): number {
  const t = scores[target]!;
  let higher = 0;
  let ties = 0;
  for (let i = 0; i < scores.length; i++) {
    if (i === target || excluded?.has(i)) continue;
    const s = scores[i]!;
    if (s > t || (Number.isNaN(t) && !Number.isNaN(s))) higher++;
    else if (s === t) ties++;
  }
  return higher + Math.floor(ties / 2);
}

/** Accumulates MRR@k, HR@k and NDCG@k over queries, each given its target's 0-based rank. */
export class RankMetrics {
  private n = 0;
  private rr = 0;
  private hits = 0;
  private dcg = 0;
  constructor(readonly k: number) {}

  add(rank: number): void {
    this.n++;
    if (rank >= this.k) return;
    this.rr += 1 / (rank + 1);
    this.hits++;
    this.dcg += 1 / Math.log2(rank + 2);
  }

  get count(): number {
    return this.n;
  }

  /** `{MRR@k, HR@k, NDCG@k}` (keys suffixed with `suffix`), 0 when there were no queries. */
  values(suffix = ''): Record<string, number> {
    const d = Math.max(1, this.n);
    return { [`MRR@${this.k}${suffix}`]: this.rr / d, [`HR@${this.k}${suffix}`]: this.hits / d, [`NDCG@${this.k}${suffix}`]: this.dcg / d };
  }
}

/** Area under the ROC curve of positive vs negative scores (ties count half). */
export function rocAuc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  const all = [...Array.from(positive, (s) => [s, 1] as const), ...Array.from(negative, (s) => [s, 0] as const)].sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]![0] === all[i]![0]) j++;
    const mid = (i + j + 1) / 2; // average 1-based rank of the tie group
    for (let t = i; t < j; t++) if (all[t]![1]) rankSum += mid;
    i = j;
  }
  const p = positive.length;
  const n = negative.length;
  return p && n ? (rankSum - (p * (p + 1)) / 2) / (p * n) : NaN;
}

/** Precision@k of same-label neighbours: for each row, the share of its k nearest others with its label. */
export function labelPrecision(neighbours: (row: number) => readonly number[], labels: ArrayLike<number>, k: number): number {
  let sum = 0;
  for (let r = 0; r < labels.length; r++) {
    const nb = neighbours(r).slice(0, k);
    let same = 0;
    for (const j of nb) if (labels[j] === labels[r]) same++;
    sum += same / k;
  }
  return labels.length ? sum / labels.length : 0;
}
