/**
 * Held-back data and the statistics that decide with it: the builder picks each row's method on a
 * validation split of the store's own data, and a candidate replaces a simpler one only when it
 * wins beyond the noise of that split. `npm run eval` reports its intervals with the same code.
 */
import { createRng } from '../recommend/rng.js';

/** A mean with its bootstrap 95% interval. */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
}

const mean = (xs: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : 0;
};

/** Resampled means of `values` (with replacement, seeded), sorted. */
function resampledMeans(values: ArrayLike<number>, seed: number, rounds: number): Float64Array {
  const rng = createRng(seed);
  const n = values.length;
  const means = new Float64Array(rounds);
  for (let r = 0; r < rounds; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)]!;
    means[r] = n ? s / n : 0;
  }
  return means.sort();
}

/** The mean of per-query values (reciprocal ranks, hits) and its percentile bootstrap 95% interval. */
export function bootstrapInterval(values: ArrayLike<number>, seed = 1, rounds = 1000): Interval {
  const means = resampledMeans(values, seed, rounds);
  return { mean: mean(values), lo: means[Math.floor(0.025 * rounds)] ?? 0, hi: means[Math.min(rounds - 1, Math.floor(0.975 * rounds))] ?? 0 };
}

/**
 * Paired comparison of two methods on the same queries: the mean of `b − a` with its bootstrap 95%
 * interval. `b` wins beyond noise when the interval's low end is above zero.
 */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>, seed = 1, rounds = 1000): Interval {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} and ${b.length}`);
  return bootstrapInterval(Float64Array.from({ length: a.length }, (_, i) => b[i]! - a[i]!), seed, rounds);
}

/**
 * `b` is better than `a` by more than one standard error of the paired difference: the bar for a
 * setting to move away from its default (a softer bar than {@link pairedDifference}'s 95%, since
 * settings are tried one at a time and each is cheap to be wrong about).
 */
export function clearlyBetter(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const n = a.length;
  if (!n) return false;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const d = b[i]! - a[i]!;
    s += d;
    s2 += d * d;
  }
  const m = s / n;
  const se = Math.sqrt(Math.max(0, s2 / n - m * m) / n);
  return m > 0 && m > se;
}

/** Indices `0 … n − 1` split into the first `1 − share` (training) and the rest (validation). */
export function splitLast(n: number, share: number): { train: number; validation: number } {
  const validation = Math.min(n, Math.max(0, Math.round(n * share)));
  return { train: n - validation, validation };
}

/** `count` indices from `0 … n − 1`, taken evenly (all of them when `n ≤ count`). */
export function evenly(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, (_, k) => Math.floor((k * n) / count));
}

/**
 * 0-based rank of `target` among the items not in `excluded` (which must not hold the target): the
 * items scoring strictly higher, plus half the items tied with it — a method that scores everything
 * equal ranks the target in the middle, not first.
 */
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

/** Reciprocal rank at a cutoff: 1 / (rank + 1) when the 0-based rank is below `k`, else 0. */
export const reciprocalRank = (rank: number, k: number): number => (rank < k ? 1 / (rank + 1) : 0);

/** Area under the ROC curve of positive vs negative scores (ties count half). */
export function auc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  const all = [...Array.from(positive, (s) => [s, 1] as const), ...Array.from(negative, (s) => [s, 0] as const)].sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]![0] === all[i]![0]) j++;
    const avgRank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (all[k]![1]) rankSum += avgRank;
    i = j;
  }
  const p = positive.length;
  const n = negative.length;
  return p && n ? (rankSum - (p * (p + 1)) / 2) / (p * n) : NaN;
}
