import type { TopKLists } from '../recommend/cooccurrence.js';

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

/** Area under the ROC curve (ties count half): the builder's own, which measures its pair model. */
export { auc as rocAuc } from '../build/train-pair.js';

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

/** How often each item occurs in `lists`, scaled into [0, 1): a prior and a tie-breaker for sparse methods. */
export function popularity(lists: Iterable<ArrayLike<number>>, items: number): Float32Array {
  const pop = new Float32Array(items);
  for (const l of lists) for (let i = 0; i < l.length; i++) pop[l[i]!]!++;
  let max = 1;
  for (const p of pop) max = Math.max(max, p);
  return pop.map((p) => p / (max + 1));
}

/** Serialized size of top-k lists as a bundle stores them (JSON `[[index, score], …]` per item). */
export const listBytes = (lists: TopKLists): number => Buffer.byteLength(JSON.stringify(lists.map((l) => l.map(([j, s]) => [j, Math.round(s * 1000) / 1000]))));
