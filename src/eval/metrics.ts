import type { TopKLists } from '../recommend/cooccurrence.js';
import { createRng } from '../recommend/rng.js';
import { bootstrapInterval } from '../build/validation.js';
import { auc } from '../build/validation.js';

/**
 * Ranking metrics for offline evaluation; a target's rank is the builder's `rankOf` (items scoring
 * strictly higher, plus half the ties).
 */
export { rankOf } from '../build/validation.js';

/**
 * Accumulates MRR@k, HR@k and NDCG@k over queries, each given its target's 0-based rank, and keeps
 * every query's values for bootstrap intervals.
 */
export class RankMetrics {
  private readonly rr: number[] = [];
  private readonly hit: number[] = [];
  private readonly gain: number[] = [];
  constructor(readonly k: number) {}

  add(rank: number): void {
    const inTop = rank < this.k;
    this.rr.push(inTop ? 1 / (rank + 1) : 0);
    this.hit.push(inTop ? 1 : 0);
    this.gain.push(inTop ? 1 / Math.log2(rank + 2) : 0);
  }

  get count(): number {
    return this.rr.length;
  }

  /** Each query's reciprocal rank (0 outside the top k). */
  reciprocalRanks(): Float64Array {
    return Float64Array.from(this.rr);
  }

  /** `{MRR@k, HR@k, NDCG@k}` (keys suffixed with `suffix`), 0 when there were no queries. */
  values(suffix = ''): Record<string, number> {
    const d = Math.max(1, this.count);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    return { [`MRR@${this.k}${suffix}`]: sum(this.rr) / d, [`HR@${this.k}${suffix}`]: sum(this.hit) / d, [`NDCG@${this.k}${suffix}`]: sum(this.gain) / d };
  }

  /** Bootstrap 95% intervals of the same metrics. */
  intervals(suffix = '', seed = 1): Record<string, [number, number]> {
    const ci = (xs: number[]): [number, number] => {
      const i = bootstrapInterval(xs, seed);
      return [i.lo, i.hi];
    };
    return { [`MRR@${this.k}${suffix}`]: ci(this.rr), [`HR@${this.k}${suffix}`]: ci(this.hit), [`NDCG@${this.k}${suffix}`]: ci(this.gain) };
  }
}

/** A mean's bootstrap 95% interval, as the tables print it. */
export function interval(values: ArrayLike<number>, seed = 1): [number, number] {
  const i = bootstrapInterval(values, seed);
  return [i.lo, i.hi];
}

/**
 * ROC AUC with a bootstrap 95% interval: positives and negatives resampled (seeded), 200 rounds.
 */
export function aucInterval(positive: readonly number[], negative: readonly number[], seed = 1, rounds = 200): [number, number] {
  const rng = createRng(seed + 7);
  const draws: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const p = positive.map(() => positive[rng.int(positive.length)]!);
    const n = negative.map(() => negative[rng.int(negative.length)]!);
    draws.push(auc(p, n));
  }
  draws.sort((a, b) => a - b);
  return [draws[Math.floor(0.025 * rounds)]!, draws[Math.floor(0.975 * rounds)]!];
}

/** Area under the ROC curve (ties count half): the builder's own, which measures its pair model. */


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

/**
 * How often each item occurs in `lists`, scaled into [0, 1): a prior and a tie-breaker for sparse
 * methods. Float64, as every method's scores here: in float32, a score plus a small tie-breaker
 * rounds distinct scores into ties, which rank half-way up.
 */
export function popularity(lists: Iterable<ArrayLike<number>>, items: number): Float64Array {
  const pop = new Float64Array(items);
  for (const l of lists) for (let i = 0; i < l.length; i++) pop[l[i]!]!++;
  let max = 1;
  for (const p of pop) max = Math.max(max, p);
  return pop.map((p) => p / (max + 1));
}

/** Serialized size of top-k lists as a bundle stores them (JSON `[[index, score], …]` per item). */
export const listBytes = (lists: TopKLists): number => Buffer.byteLength(JSON.stringify(lists.map((l) => l.map(([j, s]) => [j, Math.round(s * 1000) / 1000]))));
