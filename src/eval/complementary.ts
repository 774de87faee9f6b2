/**
 * Complementary ("goes with"): hold one item out of each test basket or outfit and rank it given the
 * rest (HR@10, MRR@10); on Polyvore also outfit compatibility AUC and fill-in-the-blank accuracy.
 * Vitrine's method is what the builder ships for these training baskets (`buildGoesWith`: the
 * scoring chosen on their latest 15%, lists filled from the neighbourhood and by the pair model),
 * the lists read back as the worker reads them and ranked by the worker's own functions.
 */
import { buildGoesWith, type GoesWithChoice } from '../build/choose-goes-with.js';
import { PAIR_BUCKETS, trainPairModel, type TrainedPair } from '../build/train-pair.js';
import { cooccurrenceTopK, type CooccurrenceScore, type TopKLists } from '../recommend/cooccurrence.js';
import { encodeLists, goesWithScores, pairScores, type GoesWithLists } from '../recommend/goes-with.js';
import { createRng } from '../recommend/rng.js';
import { titleBuckets } from '../recommend/text.js';
import type { BasketSplit } from './datasets.js';
import { aucInterval, interval, listBytes, popularity, rankOf, RankMetrics } from './metrics.js';
import { auc } from '../build/validation.js';
import type { MethodResult } from './next-view.js';

const K = 10;

export interface PairMethod {
  name: string;
  bytes?: number;
  /** Score of every item going with all of `context`. */
  rank(context: Int32Array): ArrayLike<number>;
  /** Scores of `candidates` going with item `a` (symmetric methods: the pair's score). */
  pair(a: number, candidates: Int32Array): ArrayLike<number>;
}

/** Lists as maps, both directions, for pair lookups. */
function pairTable(lists: TopKLists): Map<number, number>[] {
  const t = lists.map((l) => new Map(l));
  lists.forEach((l, a) => l.forEach(([b, s]) => t[b]!.has(a) || t[b]!.set(a, s)));
  return t;
}

export function popularityPairs(split: BasketSplit): PairMethod {
  const pop = popularity(split.train, split.items);
  return { name: 'popularity', rank: () => pop.slice(), pair: (_a, c) => Float64Array.from(c, (j) => pop[j]!) };
}

/** Item-kNN: each context item's co-occurrence list (count, Jaccard or LLR) summed, popularity breaking ties. */
export function cooccurrencePairs(split: BasketSplit, score: CooccurrenceScore, k = 100): PairMethod {
  const pop = popularity(split.train, split.items);
  const lists = cooccurrenceTopK(split.train, split.items, { k, score, minSupport: 1 });
  const table = pairTable(lists);
  return {
    name: score === 'count' ? 'cooc-count' : score === 'jaccard' ? 'jaccard' : 'llr-knn',
    bytes: listBytes(lists),
    rank: (context) => {
      const s = pop.map((p) => p * 1e-6);
      for (const c of context) for (const [j, v] of lists[c]!) s[j]! += v;
      return s;
    },
    pair: (a, c) => Float64Array.from(c, (j) => (table[a]!.get(j) ?? 0) + pop[j]! * 1e-6),
  };
}

/** The builder's pair model on this split: no images here, so category, title words and attributes. */
export async function trainSplitPair(split: BasketSplit, seed: number): Promise<{ model: TrainedPair; accept: (a: number, b: number) => boolean }> {
  const accept = (a: number, b: number) => !split.categories[a] || split.categories[a] !== split.categories[b];
  const groupName = (i: number) => (split.groups?.[i] ? { group: String(split.groups[i]) } : undefined);
  const model = await trainPairModel(
    {
      // No product images in these datasets: a constant visual input (the model learns nothing from it).
      visual: new Float32Array(split.items), visualDims: 1,
      categories: split.categories, categoryCount: split.categoryNames.length,
      // Polyvore's item names are bare ids: no title words to read there.
      words: split.names.map((name, i) => titleBuckets(split.groups ? '' : name, undefined, PAIR_BUCKETS, groupName(i))),
      positives: split.train,
      accept,
    },
    { buckets: PAIR_BUCKETS, seed },
  );
  return { model, accept };
}

/** The pair model alone: mean score against the context's items. */
export function pairModelPairs(split: BasketSplit, model: TrainedPair): PairMethod {
  return {
    name: 'pair-model',
    bytes: model.data.length,
    rank: (context) => {
      const s = new Float64Array(split.items);
      for (const c of context) model.scoreAgainst(c).forEach((v, j) => (s[j]! += v / context.length));
      return s;
    },
    pair: (a, c) => model.scoreAgainst(a, c),
  };
}

/**
 * Vitrine: the lists the builder ships for these baskets (chosen, filled and stored as JSON with
 * four significant digits), read back and ranked by the worker's `goesWithScores`; choosing among
 * given products (compatibility, fill in the blank) by `pairScores`: list places first, then the
 * pair model.
 */
export function vitrinePairs(split: BasketSplit, model: TrainedPair, accept: (a: number, b: number) => boolean, seed: number, log?: (line: string) => void): PairMethod & { choice: GoesWithChoice; filled: { neighbours: number; pairModel: number } } {
  const part = buildGoesWith([split.train], split.items, { seed, k: 20, minSupport: 1, accept, pair: model, log });
  const file = encodeLists(part.lists);
  const lists = JSON.parse(file) as GoesWithLists;
  return {
    name: 'vitrine',
    choice: part.choice,
    filled: part.filled,
    bytes: Buffer.byteLength(file) + model.data.length,
    rank: (context) => goesWithScores(lists, context, split.items),
    pair: (a, c) => pairScores(lists, a, c, (x, cand) => model.scoreAgainst(x, cand)),
  };
}

/** The held-out queries: one seeded item per test basket (at most `max` baskets, taken evenly). */
export function basketQueries(split: BasketSplit, seed: number, max = Infinity): { context: Int32Array; target: number }[] {
  const rng = createRng(seed + 31);
  const every = split.test.length > max ? split.test.length / max : 1;
  const count = Math.floor(split.test.length / every);
  return Array.from({ length: count }, (_, q) => {
    const b = split.test[Math.floor(q * every)]!;
    const h = rng.int(b.length);
    return { context: Int32Array.from(Array.from(b).filter((_, i) => i !== h)), target: b[h]! };
  });
}

/** HR@10 and MRR@10 of the held-out item; on Polyvore also compatibility AUC and fill-in-the-blank. */
export function evaluatePairs(method: PairMethod, split: BasketSplit, queries: readonly { context: Int32Array; target: number }[], seed: number): MethodResult {
  const m = new RankMetrics(K);
  const t0 = performance.now();
  for (const q of queries) m.add(rankOf(method.rank(q.context), q.target, new Set(q.context)));
  const ms = (performance.now() - t0) / Math.max(1, queries.length);
  const v = m.values();
  const ci = m.intervals();
  const metrics: Record<string, number | null> = { [`HR@${K}`]: v[`HR@${K}`]!, [`MRR@${K}`]: v[`MRR@${K}`]! };
  const intervals: Record<string, [number, number]> = { [`HR@${K}`]: ci[`HR@${K}`]!, [`MRR@${K}`]: ci[`MRR@${K}`]! };
  if (split.compatibility) {
    const outfitScore = (items: Int32Array) => {
      let sum = 0;
      let n = 0;
      for (let a = 0; a < items.length; a++) {
        const s = method.pair(items[a]!, items.subarray(a + 1));
        for (let x = 0; x < s.length; x++) (sum += s[x]!), n++;
      }
      return n ? sum / n : 0;
    };
    const pos = split.compatibility.filter((c) => c.label).map((c) => outfitScore(c.items));
    const neg = split.compatibility.filter((c) => !c.label).map((c) => outfitScore(c.items));
    metrics.AUC = auc(pos, neg);
    intervals.AUC = aucInterval(pos, neg, seed);
    const fitb = fillInTheBlank(method, split, queries, seed);
    metrics.FITB = fitb.reduce((a, b) => a + b, 0) / Math.max(1, fitb.length);
    intervals.FITB = interval(fitb, seed);
  }
  return { method: method.name, metrics, intervals, msPerQuery: ms, ...(method.bytes !== undefined ? { bytes: method.bytes } : {}) };
}

/**
 * Fill in the blank: the held-out item against three others of its semantic group (tops, shoes, …)
 * from the test outfits, not in the outfit, seeded; a method picks the candidate that goes best with the rest. Ties share
 * the credit (a method that cannot tell them apart scores 1/4).
 */
function fillInTheBlank(method: PairMethod, split: BasketSplit, queries: readonly { context: Int32Array; target: number }[], seed: number): number[] {
  const rng = createRng(seed + 41);
  const byGroup = new Map<number, number[]>();
  // Wrong answers from the test outfits' items, like the right one (training items would stand out by familiarity).
  const inTest = new Set(split.test.flatMap((b) => [...b]));
  for (const i of inTest) {
    const g = split.groups![i]!;
    if (g) (byGroup.get(g) ?? byGroup.set(g, []).get(g)!).push(i);
  }
  const credit: number[] = [];
  for (const q of queries) {
    const pool = byGroup.get(split.groups![q.target]!);
    if (!pool || pool.length < 8) continue;
    const candidates = [q.target];
    while (candidates.length < 4) {
      const c = pool[rng.int(pool.length)]!;
      if (!candidates.includes(c) && !q.context.includes(c)) candidates.push(c);
    }
    const cand = Int32Array.from(candidates);
    const score = new Float64Array(4);
    for (const c of q.context) {
      const p = method.pair(c, cand);
      for (let x = 0; x < 4; x++) score[x]! += p[x]!;
    }
    const best = Math.max(...score);
    const tied = score.filter((s) => s === best).length;
    credit.push(score[0] === best ? 1 / tied : 0);
  }
  return credit;
}
