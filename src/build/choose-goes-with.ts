/**
 * The builder's "Goes with" step: picks how co-occurrence is scored for this store on its own
 * held-back baskets, writes each product's list from all baskets, and fills short lists.
 *
 * 1. The latest 15% of baskets (outfits, or co-viewed sessions when there are none) are held back;
 *    in each, one product (seeded) is hidden and ranked given the rest, by HR@10.
 * 2. Candidates: plain counts (the default), P(b | a) with popularity priors of several strengths,
 *    and cosine-like scores that discount popular partners (cooccurrence.ts); one replaces counts
 *    only when clearly better there. LLR drops insignificant pairs from the lists' tails only
 *    when that is clearly better too.
 * 3. Lists from all baskets with the choice; a list shorter than k is filled from its products'
 *    own lists (the co-purchase neighbourhood), then by the pair model (cold start: products
 *    with no purchase history at all), each fill scoring below what it follows.
 */
import { cooccurrenceTopK, type TopKLists } from '../recommend/cooccurrence.js';
import { goesWithScores } from '../recommend/goes-with.js';
import { createRng } from '../recommend/rng.js';
import { topIndices } from '../recommend/select.js';
import type { TrainedPair } from './train-pair.js';
import { bootstrapInterval, clearlyBetter, evenly, rankOf } from './validation.js';
import type { CandidateRow } from './choose-next.js';
import type { GoesWithMethod } from '../bundle/format.js';

export const GOES_WITH_METRIC = 'HR@10';
const CUTOFF = 10;
const VALIDATION_SHARE = 0.15;
const MIN_QUERIES = 30;
/** Most candidates the pair model scores for one product's list (see `fillFromPairModel`). */
const PAIR_POOL = 2048;
/** List entries kept before the LLR tail filter applies. */
const LLR_HEAD = 3;

/** How the bundle's goes-with lists were scored (recorded in the manifest). */
export type GoesWithConfig = GoesWithMethod;
/** A basket, an outfit or a session: product indices. */
type List = ArrayLike<number> & Iterable<number>;

export interface GoesWithChoice {
  config: GoesWithConfig;
  metric: typeof GOES_WITH_METRIC;
  validation?: { score: number; lo: number; hi: number; queries: number; baskets: number };
  table: CandidateRow[];
  reason: string;
}

export interface GoesWithOptions {
  seed: number;
  k?: number;
  minSupport?: number;
  /** Pairs the row may show (another category). */
  accept?: (a: number, b: number) => boolean;
  maxQueries?: number;
  log?: (line: string) => void;
}

const describe = (c: GoesWithConfig) =>
  (c.score === 'count' ? 'count'
  : c.score === 'conditional' ? `P(b|a), popularity prior ${c.prior}`
  : `cosine, α ${c.alpha}`) + (c.llrTail !== undefined ? `, LLR-filtered tail after ${c.llrTail}` : '');

const listsFor = (transactions: readonly List[], itemCount: number, c: GoesWithConfig, o: GoesWithOptions): TopKLists =>
  cooccurrenceTopK(transactions, itemCount, { k: c.k, score: c.score, prior: c.prior, alpha: c.alpha, llrTail: c.llrTail, minSupport: o.minSupport ?? 1, accept: o.accept });

/** One hidden product per held-back basket (seeded), the rest its context; at most `max`, evenly. */
export function basketQueries(baskets: readonly List[], seed: number, max: number): { context: Int32Array; target: number }[] {
  const rng = createRng(seed + 31);
  return evenly(baskets.length, max).map((k) => {
    const b = baskets[k]!;
    const h = rng.int(b.length);
    return { context: Int32Array.from(Array.from(b).filter((_, i) => i !== h)), target: b[h]! };
  });
}

/**
 * Chooses the goes-with scoring on held-back baskets (see the file's comment). `sources` are the
 * store's lists of baskets (orders, outfits, purchases in sessions), each in time order: the
 * latest 15% of each is held back.
 */
export function chooseGoesWith(sources: readonly (readonly List[])[], itemCount: number, opts: GoesWithOptions): GoesWithChoice {
  const log = opts.log ?? (() => {});
  const k = opts.k ?? 20;
  const count: GoesWithConfig = { score: 'count', k };
  const train: List[] = [];
  const heldRaw: List[] = [];
  for (const lists of sources) {
    const cut = Math.round(lists.length * (1 - VALIDATION_SHARE));
    train.push(...lists.slice(0, cut));
    heldRaw.push(...lists.slice(cut));
  }
  const known = new Uint8Array(itemCount);
  for (const t of train) for (let i = 0; i < t.length; i++) known[t[i]!] = 1;
  const held = heldRaw.map((t) => [...new Set(Array.from(t).filter((i) => known[i]))]).filter((t) => t.length > 1);
  const queries = basketQueries(held, opts.seed, opts.maxQueries ?? 2000);
  if (queries.length < MIN_QUERIES) {
    const reason = `${queries.length} held-back baskets to validate on (fewer than ${MIN_QUERIES})`;
    log(`goes with: plain counts, unvalidated: ${reason}`);
    return { config: count, metric: GOES_WITH_METRIC, table: [], reason: `plain counts, unvalidated: ${reason}` };
  }
  log(`goes with: choosing on ${queries.length} held-back baskets (${GOES_WITH_METRIC}, 95% bootstrap intervals)`);
  const rows: CandidateRow[] = [];
  const hits = (c: GoesWithConfig) => {
    const lists = listsFor(train, itemCount, c, opts);
    return Float64Array.from(queries, (q) => (rankOf(goesWithScores(lists, q.context, itemCount), q.target, new Set(q.context)) < CUTOFF ? 1 : 0));
  };
  const scored = (c: GoesWithConfig) => {
    const h = hits(c);
    const ci = bootstrapInterval(h, opts.seed);
    const row: CandidateRow = { name: describe(c), score: ci.mean, lo: ci.lo, hi: ci.hi };
    rows.push(row);
    log(`  ${row.name.padEnd(44)} ${GOES_WITH_METRIC} ${ci.mean.toFixed(4)} [${ci.lo.toFixed(4)}, ${ci.hi.toFixed(4)}]`);
    return { c, h, row };
  };
  const base = scored(count);
  const candidates = [
    ...[0, 1, 5, 20].map((prior) => scored({ score: 'conditional', prior, k })),
    ...[0.5, 0.65, 0.8].map((alpha) => scored({ score: 'cosine', alpha, k })),
  ];
  const mean = (h: Float64Array) => h.reduce((a, b) => a + b, 0) / h.length;
  const top = candidates.reduce((a, b) => (mean(b.h) > mean(a.h) ? b : a));
  let best = clearlyBetter(base.h, top.h) ? top : base;
  const filtered = scored({ ...best.c, llrTail: LLR_HEAD });
  const filterWins = clearlyBetter(best.h, filtered.h);
  if (filterWins) best = filtered;
  best.row.chosen = true;
  const reason =
    (best.c.score === 'count'
      ? `plain counts: no other scoring was clearly better (the best, ${top.row.name}, scored ${top.row.score.toFixed(4)})`
      : `${describe({ ...best.c, llrTail: undefined })} is clearly better than plain counts (${best.row.score.toFixed(4)} vs ${base.row.score.toFixed(4)})`) +
    (filterWins ? '; the LLR tail filter helps' : '');
  log(`  chosen: ${reason}`);
  return {
    config: best.c, metric: GOES_WITH_METRIC, table: rows, reason,
    validation: { score: best.row.score, lo: best.row.lo, hi: best.row.hi, queries: queries.length, baskets: held.length },
  };
}

/**
 * Fills lists shorter than `k` from the co-purchase neighbourhood: products on the lists of the
 * products on this list (scored by the product of the two scores), below the list's last entry.
 * Returns how many lists it added to.
 */
export function fillFromNeighbours(lists: TopKLists, k: number, ok: (a: number, b: number) => boolean): number {
  let filled = 0;
  const direct = lists.map((l) => l.slice());
  direct.forEach((list, a) => {
    if (!list.length || list.length >= k) return;
    const listed = new Set([a, ...list.map(([j]) => j)]);
    const via = new Map<number, number>();
    for (const [x, sx] of list) for (const [b, sb] of direct[x]!) if (!listed.has(b) && ok(a, b)) via.set(b, (via.get(b) ?? 0) + sx * sb);
    if (!via.size) return;
    const floor = list[list.length - 1]![1];
    const best = [...via].sort((p, q) => q[1] - p[1] || p[0] - q[0]).slice(0, k - list.length);
    const top = best[0]![1];
    for (const [b, v] of best) lists[a]!.push([b, (0.5 * floor * v) / top]);
    filled++;
  });
  return filled;
}

/**
 * Fills lists shorter than `k` with the pair model's best picks among the products `ok` allows,
 * below the list's last entry (a product with no list: the pair model's probability). Scoring
 * every product against every other is quadratic (measured: 200 s of a 10k-product build), so a
 * pool over PAIR_POOL is cut to a seeded sample: the picks come from fewer products, the build
 * stays linear. Returns how many lists it added to.
 */
export function fillFromPairModel(lists: TopKLists, pair: TrainedPair, k: number, ok: (a: number, b: number) => boolean, seed: number): number {
  let filled = 0;
  const rng = createRng(seed ^ 0x5eed);
  const n = lists.length;
  lists.forEach((list, i) => {
    if (list.length >= k) return;
    const listed = new Set([i, ...list.map(([j]) => j)]);
    const pool: number[] = [];
    for (let j = 0; j < n; j++) if (!listed.has(j) && ok(i, j)) pool.push(j);
    // A partial Fisher–Yates shuffle picks the sample (only when the pool is over the cap).
    const size = Math.min(pool.length, PAIR_POOL);
    if (pool.length > size) {
      for (let a = 0; a < size; a++) {
        const b = a + rng.int(pool.length - a);
        [pool[a], pool[b]] = [pool[b]!, pool[a]!];
      }
    }
    const candidates = Int32Array.from(pool.slice(0, size));
    if (!candidates.length) return;
    const probability = Float64Array.from(pair.scoreAgainst(i, candidates), (x) => 1 / (1 + Math.exp(-x)));
    const floor = list.length ? 0.5 * list[list.length - 1]![1] : 1;
    for (const p of topIndices(probability, k - list.length)) list.push([candidates[p.index]!, floor * p.score]);
    filled++;
  });
  return filled;
}

export interface GoesWithPart {
  choice: GoesWithChoice;
  lists: TopKLists;
  filled: { neighbours: number; pairModel: number };
}

/**
 * The row's bundle part: the choice on held-back baskets, the lists from all `transactions`, and
 * the fills. `inStock` products only are filled in (the worker drops the others anyway).
 * The pair model is trained by the caller on the same baskets.
 */
export function buildGoesWith(sources: readonly (readonly List[])[], itemCount: number, opts: GoesWithOptions & { pair?: TrainedPair; inStock?: (i: number) => boolean }): GoesWithPart {
  const choice = chooseGoesWith(sources, itemCount, opts);
  const lists = listsFor(sources.flat(), itemCount, choice.config, opts);
  const ok = (a: number, b: number) => (opts.inStock?.(b) ?? true) && (opts.accept?.(a, b) ?? true);
  const neighbours = fillFromNeighbours(lists, choice.config.k, ok);
  const pairModel = opts.pair ? fillFromPairModel(lists, opts.pair, choice.config.k, ok, opts.seed) : 0;
  return { choice, lists, filled: { neighbours, pairModel } };
}
