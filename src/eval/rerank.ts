/**
 * Re-ranking (seed §4), measured with the worker's own functions (recommend/rerank.ts), each rule
 * against the same rows without it, on the same queries, with paired bootstrap intervals. Each
 * rule's setting is chosen on a validation split, never on the test split; the test split reports
 * the chosen setting, and the notes whether it is the one that ships (`RERANK`).
 *
 * - MMR on the similar row (Fashion-MNIST, see visual.ts): same-class precision and how varied the
 *   row is (intra-list distance: mean pairwise 1 − cosine of the row's embeddings).
 * - Impression discounting on the next row: a replay of each session — at every step the row shows
 *   the shipped scorer's top 8 after the views so far, re-ranked by what it showed before; products
 *   shown and not viewed next gain an impression, a viewed one starts again from 0. The shopper's
 *   next view is the log's, whatever was shown (an offline replay: it cannot tell whether a product
 *   shown less often would have been viewed less).
 */
import { SAMPLE_SESSION_LENGTH, VALIDATION_SHARE } from '../build/choose-next.js';
import { evenly, pairedDifference } from '../build/validation.js';
import { indexSessions, nextViewTop, type NextViewConfig } from '../recommend/next-view.js';
import { discountImpressions, mmr } from '../recommend/rerank.js';
import type { Scored } from '../recommend/select.js';
import { sessionLists } from '../recommend/sessions.js';
import type { SessionSplit } from './datasets.js';
import { interval } from './metrics.js';
import type { MethodResult } from './next-view.js';

/** The row's length in the replay, and how many candidates the discount re-ranks. */
export const ROW = 8;
export const CANDIDATES = 5 * ROW;
/** Steps replayed before a scored one at most (the scorer reads the latest 20 views). */
const WINDOW = 20;

/** An impression-discounting setting; strength 0 is no discounting. */
export interface Discount {
  strength: number;
  free: number;
}

/** The settings tried on the validation split, no discounting first. */
export const DISCOUNTS: Discount[] = [{ strength: 0, free: 0 }, ...[0.25, 0.5, 1, 2, 4].flatMap((strength) => [0, 1, 2, 3, 5].map((free) => ({ strength, free })))];

/**
 * Per setting and scored step of a replay: the row's reciprocal rank of the next view (0: not in
 * the row), and how stale the row was — its products' impressions so far, on average (`repeat@8`:
 * how often the shopper had already been shown them and passed them over). Per step: whether the
 * next view was new to the session.
 */
export interface Replay {
  rr: Float64Array[];
  repeats: Float64Array[];
  fresh: Uint8Array;
}

/**
 * Replays `sessions` (positions from `from` on are scored; up to WINDOW earlier ones are replayed
 * so impressions build up) once per setting in `discounts`. `top(prefix, n)` is the row's
 * candidates after `prefix`, best first, the prefix's products left out (as the worker asks).
 */
export async function replayImpressions(
  sessions: readonly { session: Int32Array; from: number }[],
  top: (prefix: Int32Array, n: number) => Scored[] | Promise<Scored[]>,
  discounts: readonly Discount[],
): Promise<Replay> {
  const rr: number[][] = discounts.map(() => []);
  const repeats: number[][] = discounts.map(() => []);
  const fresh: number[] = [];
  for (const { session, from } of sessions) {
    const shown = discounts.map(() => new Map<number, number>());
    for (let p = Math.max(1, from - WINDOW); p < session.length; p++) {
      const prefix = session.subarray(0, p);
      const target = session[p]!;
      const candidates = await top(prefix, CANDIDATES);
      if (p >= from) fresh.push(prefix.includes(target) ? 0 : 1);
      discounts.forEach((d, k) => {
        const counts = shown[k]!;
        const row = discountImpressions(candidates, (i) => counts.get(i) ?? 0, d.strength, d.free).slice(0, ROW);
        if (p >= from) {
          const r = row.findIndex((h) => h.index === target);
          rr[k]!.push(r >= 0 ? 1 / (r + 1) : 0);
          repeats[k]!.push(row.reduce((a, h) => a + (counts.get(h.index) ?? 0), 0) / Math.max(1, row.length));
        }
        for (const h of row) counts.set(h.index, (counts.get(h.index) ?? 0) + 1);
        counts.delete(target);
      });
    }
  }
  return { rr: rr.map((x) => Float64Array.from(x)), repeats: repeats.map((x) => Float64Array.from(x)), fresh: Uint8Array.from(fresh) };
}

/** Sessions taken evenly so that about `maxSteps` positions are scored. */
export function replaySessions<S extends { session: Int32Array; from: number }>(sessions: readonly S[], maxSteps: number): S[] {
  const steps = sessions.reduce((a, s) => a + Math.max(0, s.session.length - Math.max(1, s.from)), 0);
  if (steps <= maxSteps) return sessions.slice();
  return evenly(sessions.length, Math.max(1, Math.round((sessions.length * maxSteps) / steps))).map((k) => sessions[k]!);
}

/** HR@8 and MRR@8 over all scored steps and over new items only, from reciprocal ranks. */
export function rowMetrics(rr: Float64Array, fresh: Uint8Array): Record<string, number> {
  const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const hit = (xs: Float64Array) => xs.map((r) => (r > 0 ? 1 : 0));
  const only = rr.filter((_, k) => fresh[k]);
  return { [`HR@${ROW}`]: mean(hit(rr)), [`MRR@${ROW}`]: mean(rr), [`HR@${ROW}:new`]: mean(hit(only)), [`MRR@${ROW}:new`]: mean(only) };
}

/** The next-view scorer as the builder validated it: the training sessions' first 85% indexed, their latest 15% replayed. */
export function validationReplay(split: SessionSplit, config: NextViewConfig): { sessions: { session: Int32Array; from: number }[]; top: (prefix: Int32Array, n: number) => Scored[] } {
  const cut = Math.round(split.train.length * (1 - VALIDATION_SHARE));
  const train = split.train.slice(0, cut);
  const known = new Uint8Array(split.items);
  for (const s of train) for (const i of s) known[i] = 1;
  const ix = indexSessions(sessionLists(train, SAMPLE_SESSION_LENGTH), split.items);
  // The GRU the builder validated was trained on these 85% only and is not kept: where the shipped
  // scorer blends it in, the replay uses the scorer it ships for one-view sessions (no GRU).
  const scorer: NextViewConfig = config.model ? { maxLength: config.maxLength, ...config.oneView } : config;
  const sessions = split.train.slice(cut).flatMap((raw) => {
    const s = Array.from(raw).filter((i) => known[i]).filter((it, k, a) => k === 0 || a[k - 1] !== it);
    return s.length > 1 ? [{ session: Int32Array.from(s), from: 1 }] : [];
  });
  return { sessions, top: (prefix, n) => nextViewTop(ix, prefix, scorer, n, new Set(prefix)) };
}

/** One row of a choice table: a setting's validation score, and its gain over no re-ranking. */
export interface SettingRow {
  name: string;
  metrics: Record<string, number>;
  chosen?: boolean;
}

const diff = (a: Float64Array, b: Float64Array, seed: number): [number, number, number] => {
  const d = pairedDifference(a, b, seed);
  return [d.mean, d.lo, d.hi];
};

/** The share of HR@8 impression discounting may give up, on average over the datasets, for fresher rows: the rule that picks its setting. */
export const DISCOUNT_MAX_LOSS = 0.02;

/**
 * The discount setting (of `DISCOUNTS`, replayed in that order) that makes the rows least stale
 * (the largest mean relative drop in repeat@8 over the datasets' validation replays) while HR@8
 * drops by at most DISCOUNT_MAX_LOSS of itself on average; no discounting when none does.
 *
 * Why a bound on the loss and not the best HR@8: in a replay the shopper never saw the rows, so a
 * product passed over says nothing about them — the replay can show what discounting costs, not
 * what it gains (a shopper not shown the same products again and again). Only the row's products
 * can be viewed from it, so HR@8's relative change is the same over all next views and over new ones.
 */
export function chooseDiscount(validations: readonly { dataset: string; replay: Replay }[]): { chosen: Discount; rows: SettingRow[] } {
  const hits = (rr: Float64Array) => rr.reduce((a, r) => a + (r > 0 ? 1 : 0), 0);
  const sum = (rr: Float64Array) => rr.reduce((a, r) => a + r, 0);
  const change = (k: number, of: (r: Replay, k: number) => number) => validations.map(({ replay }) => (of(replay, 0) ? of(replay, k) / of(replay, 0) - 1 : 0));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const hr = DISCOUNTS.map((_, k) => change(k, (r, j) => hits(r.rr[j]!)));
  const mrr = DISCOUNTS.map((_, k) => mean(change(k, (r, j) => sum(r.rr[j]!))));
  const stale = DISCOUNTS.map((_, k) => mean(change(k, (r, j) => sum(r.repeats[j]!))));
  let best = 0;
  DISCOUNTS.forEach((d, k) => d.strength > 0 && mean(hr[k]!) >= -DISCOUNT_MAX_LOSS && stale[k]! < stale[best]! - 1e-12 && (best = k));
  const rows = DISCOUNTS.map((d, k): SettingRow => ({
    name: d.strength ? `strength ${d.strength}, free ${d.free}` : 'no discounting',
    metrics: {
      'mean repeat@8 change': stale[k]!, 'mean HR@8 change': mean(hr[k]!), 'mean MRR@8 change': mrr[k]!,
      ...Object.fromEntries(validations.map((v, n) => [`${v.dataset} HR@8 change`, hr[k]![n]!])),
    },
    ...(k === best ? { chosen: true } : {}),
  }));
  return { chosen: DISCOUNTS[best]!, rows };
}

/** The test split's replay: the rows without and with the shipped discount, with the paired differences. */
export function discountResults(replay: Replay, shipped: Discount, seed: number): MethodResult[] {
  const [plain, discounted] = replay.rr as [Float64Array, Float64Array];
  const [plainRepeats, discountedRepeats] = replay.repeats as [Float64Array, Float64Array];
  const hit = (xs: Float64Array) => xs.map((r) => (r > 0 ? 1 : 0));
  const fresh = (xs: Float64Array) => xs.filter((_, k) => replay.fresh[k]);
  const result = (method: string, rr: Float64Array, repeats: Float64Array, withDiff: boolean): MethodResult => {
    const metrics: Record<string, number | null> = { ...rowMetrics(rr, replay.fresh), [`repeat@${ROW}`]: repeats.reduce((a, b) => a + b, 0) / Math.max(1, repeats.length) };
    const intervals: Record<string, [number, number]> = {
      [`HR@${ROW}`]: interval(hit(rr), seed), [`MRR@${ROW}`]: interval(rr, seed),
      [`HR@${ROW}:new`]: interval(hit(fresh(rr)), seed), [`MRR@${ROW}:new`]: interval(fresh(rr), seed), [`repeat@${ROW}`]: interval(repeats, seed),
    };
    for (const [name, a, b] of [
      [`Δ HR@${ROW}`, hit(plain), hit(rr)], [`Δ MRR@${ROW}`, plain, rr],
      [`Δ HR@${ROW}:new`, hit(fresh(plain)), hit(fresh(rr))], [`Δ MRR@${ROW}:new`, fresh(plain), fresh(rr)], [`Δ repeat@${ROW}`, plainRepeats, repeats],
    ] as const) {
      if (!withDiff) {
        metrics[name] = null;
        continue;
      }
      const [m, lo, hi] = diff(a, b, seed);
      metrics[name] = m;
      intervals[name] = [lo, hi];
    }
    return { method, metrics, intervals, msPerQuery: 0 };
  };
  return [result('vitrine', plain, plainRepeats, false), result(`vitrine + impressions (strength ${shipped.strength}, free ${shipped.free})`, discounted, discountedRepeats, true)];
}

/** Mean pairwise 1 − cosine of a row's unit vectors (0 for fewer than two). */
export function intraListDistance(vectors: readonly Float32Array[]): number {
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < vectors.length; a++) {
    for (let b = a + 1; b < vectors.length; b++) {
      let cos = 0;
      for (let d = 0; d < vectors[a]!.length; d++) cos += vectors[a]![d]! * vectors[b]![d]!;
      sum += 1 - cos;
      pairs++;
    }
  }
  return pairs ? sum / pairs : 0;
}

/** MMR's lambdas tried on the validation split (1: plain kNN order). */
export const LAMBDAS = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
/** The precision MMR may give up for variety, and the least weight on relevance: the rule that picks lambda. */
export const MMR_MAX_DROP = 0.01;
export const MMR_MIN_LAMBDA = 0.5;

/**
 * Per query and lambda: the row's same-class precision and intra-list distance, MMR re-ranking the
 * query's `candidates` (nearest first) to `k`.
 */
export function mmrRows(
  queries: readonly number[],
  candidates: (q: number) => Scored[],
  vectorOf: (i: number) => Float32Array,
  sameClass: (q: number, i: number) => boolean,
  k: number,
  lambdas: readonly number[],
): { precision: Float64Array[]; distance: Float64Array[] } {
  const precision = lambdas.map(() => new Float64Array(queries.length));
  const distance = lambdas.map(() => new Float64Array(queries.length));
  queries.forEach((q, n) => {
    const hits = candidates(q);
    lambdas.forEach((lambda, l) => {
      const row = lambda === 1 ? hits.slice(0, k) : mmr(hits, vectorOf, k, lambda);
      precision[l]![n] = row.filter((h) => sameClass(q, h.index)).length / k;
      distance[l]![n] = intraListDistance(row.map((h) => vectorOf(h.index)));
    });
  });
  return { precision, distance };
}

/**
 * The smallest lambda (the most variety) whose validation precision stays within MMR_MAX_DROP of
 * plain kNN's, not below MMR_MIN_LAMBDA: relevance never weighs less than likeness to what the row
 * already shows (same-class precision cannot see a row drifting to the 40th-nearest products of
 * the class; smaller lambdas are measured and shown all the same).
 */
export function chooseLambda(rows: { precision: Float64Array[]; distance: Float64Array[] }, lambdas: readonly number[] = LAMBDAS): { lambda: number; rows: SettingRow[] } {
  const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const p = rows.precision.map(mean);
  const ild = rows.distance.map(mean);
  const plain = lambdas.indexOf(1);
  let best = plain;
  lambdas.forEach((l, k) => l >= MMR_MIN_LAMBDA && p[k]! >= p[plain]! - MMR_MAX_DROP && l < lambdas[best]! && (best = k));
  return {
    lambda: lambdas[best]!,
    rows: lambdas.map((l, k) => ({ name: l === 1 ? 'plain kNN (λ 1)' : `mmr λ ${l}`, metrics: { 'P@10': p[k]!, 'ILD@10': ild[k]! }, ...(k === best ? { chosen: true } : {}) })),
  };
}

/** The test split's rows without and with MMR at `lambda`, with the paired differences. */
export function mmrResults(rows: { precision: Float64Array[]; distance: Float64Array[] }, seed: number, lambda: number): MethodResult[] {
  const [p0, p1] = rows.precision as [Float64Array, Float64Array];
  const [d0, d1] = rows.distance as [Float64Array, Float64Array];
  const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const delta = (a: Float64Array, b: Float64Array) => diff(a, b, seed);
  const [dp, dplo, dphi] = delta(p0, p1);
  const [dd, ddlo, ddhi] = delta(d0, d1);
  return [
    { method: 'vitrine', metrics: { 'P@10': mean(p0), 'ILD@10': mean(d0), 'Δ P@10': null, 'Δ ILD@10': null }, intervals: { 'P@10': interval(p0, seed), 'ILD@10': interval(d0, seed) }, msPerQuery: 0 },
    {
      method: `vitrine + mmr (λ ${lambda})`, metrics: { 'P@10': mean(p1), 'ILD@10': mean(d1), 'Δ P@10': dp, 'Δ ILD@10': dd },
      intervals: { 'P@10': interval(p1, seed), 'ILD@10': interval(d1, seed), 'Δ P@10': [dplo, dphi], 'Δ ILD@10': [ddlo, ddhi] }, msPerQuery: 0,
    },
  ];
}

/** Notes for a choice table: each setting's validation figures, the chosen one marked, and whether it is what ships. */
export function choiceNotes(what: string, rows: readonly SettingRow[], chosen: string, shipped: string): string[] {
  return [
    ...rows.map((r) => `  validation: ${r.name}: ${Object.entries(r.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}${r.chosen ? ' ← chosen' : ''}`),
    chosen === shipped ? `${what}: the validation split chose ${chosen}, which is what ships (RERANK)` : `${what}: the validation split chose ${chosen}; RERANK ships ${shipped} — update src/recommend/rerank.ts`,
  ];
}
