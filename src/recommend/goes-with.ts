/**
 * The "Goes with" row's scorer, on the bundle's goes-with lists (one top-k list per product,
 * best first, as the builder chose and filled them). Pure code: the worker, the builder's
 * validation and `npm run eval` all rank with these functions, on the same decoded file.
 */
import type { Scored } from './select.js';

/** A top-k list per product: `[otherIndex, score]`, best first. */
export type GoesWithLists = readonly (readonly (readonly [number, number])[])[];

/** The products that go with product `a`, best first: its list, without `a` itself. */
export function goesWithRow(lists: GoesWithLists, a: number): Scored[] {
  return (lists[a] ?? []).filter(([j]) => j !== a).map(([index, score]) => ({ index, score }));
}

/**
 * Every product's score of going with all of `context` (a basket, an outfit): the sum of the
 * context products' list scores. A product on no list scores 0.
 */
export function goesWithScores(lists: GoesWithLists, context: ArrayLike<number>, itemCount: number): Float64Array {
  const out = new Float64Array(itemCount);
  for (let c = 0; c < context.length; c++) for (const [j, s] of lists[context[c]!] ?? []) out[j]! += s;
  return out;
}

/**
 * Scores of `candidates` going with product `a` — for choosing among given products (fill in the
 * blank, outfit compatibility): a candidate on a's list scores in (1, 2] by its place there; any
 * other scores in (0, 1) by the pair model (`pair`: logits), or 0 without one.
 */
export function pairScores(lists: GoesWithLists, a: number, candidates: Int32Array, pair?: (a: number, candidates: Int32Array) => ArrayLike<number>): Float64Array {
  const list = lists[a] ?? [];
  const place = new Map(list.map(([j], r) => [j, r]));
  const model = pair?.(a, candidates);
  return Float64Array.from(candidates, (j, k) => {
    const r = place.get(j);
    if (r !== undefined) return 1 + 1 / (r + 1);
    return model ? 1 / (1 + Math.exp(-model[k]!)) : 0;
  });
}

/** Lists as the bundle stores them: JSON, scores to four significant digits. */
export function encodeLists(lists: GoesWithLists): string {
  return JSON.stringify(lists.map((l) => l.map(([j, s]) => [j, Number(s.toPrecision(4))])));
}
