/**
 * The "Next for you" row's scorer: what a shopper will view next, from their current session and
 * a sample of other shoppers' recent sessions (the bundle's session file). Pure typed-array code,
 * no TF.js: the worker, the builder's validation and `npm run eval` all call these functions on
 * the same decoded file, so what is measured is what ships.
 *
 * Components, blended with weights the builder picks on held-back sessions:
 * - `sknn`: session-kNN (V-SKNN, Ludewig & Jannach 2018) with STAN's refinements (Garg et al.
 *   2019): the session's views weighted by recency, the most similar recent sessions sharing a
 *   view, and their items weighted by how close they were viewed to the shared one;
 * - `rules`: sequential rules — what other sessions viewed within a few steps after this
 *   session's latest views (1/steps apart);
 * - `model`: a learned sequence model's probabilities (the GRU in model/next-view.ts), passed in by
 *   the caller where the store's data were enough to train one.
 * Each component's scores are divided by their maximum over the products the shopper has not
 * viewed yet, so weights compare like with like; the sample's popularity breaks ties.
 */
import { latestViews, type NextViewConfig, type RuleParams, type SknnParams } from './next-view-config.js';
import type { Scored } from './select.js';
import { sessionAt, sessionLists, type SessionLists } from './sessions.js';

export { checkNextViewConfig, needsModel, VSKNN, type NextViewConfig, type RuleParams, type SknnParams } from './next-view-config.js';

/** A session sample indexed for queries: each product's sessions, most recent last. */
export interface SessionIndex {
  readonly itemCount: number;
  readonly sessions: SessionLists;
  /** Sessions of product i: `postings[postStart[i] .. postStart[i + 1])`, ascending (oldest first). */
  readonly postStart: Int32Array;
  readonly postings: Int32Array;
  /** Distinct products per session. */
  readonly distinct: Int32Array;
  /** Per product: its views in the sample over the most views of any product, in [0, 1). */
  readonly popularity: Float32Array;
  /** Scratch space, one slot per product, reused by every query (a query runs to completion). */
  readonly scratch: { weight: Float64Array; last: Int32Array; stamp: Int32Array; acc: Float64Array; touched: Int32Array; mark: Uint8Array };
}

/** Indexes a session sample (sessions in time order, oldest first) for queries. */
export function indexSessions(sessions: SessionLists, itemCount: number): SessionIndex {
  const { items, offsets } = sessions;
  const count = offsets.length - 1;
  const stamp = new Int32Array(itemCount).fill(-1);
  const postCount = new Int32Array(itemCount + 1);
  const distinct = new Int32Array(count);
  for (let s = 0; s < count; s++) {
    for (let x = offsets[s]!; x < offsets[s + 1]!; x++) {
      const i = items[x]!;
      if (stamp[i] === s) continue;
      stamp[i] = s;
      postCount[i + 1]!++;
      distinct[s]!++;
    }
  }
  const postStart = new Int32Array(itemCount + 1);
  for (let i = 0; i < itemCount; i++) postStart[i + 1] = postStart[i]! + postCount[i + 1]!;
  const fill = postStart.slice(0, itemCount);
  const postings = new Int32Array(postStart[itemCount]!);
  stamp.fill(-1);
  for (let s = 0; s < count; s++) {
    for (let x = offsets[s]!; x < offsets[s + 1]!; x++) {
      const i = items[x]!;
      if (stamp[i] === s) continue;
      stamp[i] = s;
      postings[fill[i]!++] = s;
    }
  }
  // Views, not sessions: a product viewed again and again within a session is the likelier next view.
  const views = new Float64Array(itemCount);
  for (const i of items) views[i]!++;
  let most = 0;
  for (const v of views) most = Math.max(most, v);
  const popularity = Float32Array.from(views, (v) => v / (most + 1));
  stamp.fill(-1);
  return {
    itemCount, sessions, postStart, postings, distinct, popularity,
    scratch: { weight: new Float64Array(itemCount), last: new Int32Array(itemCount).fill(-1), stamp, acc: new Float64Array(itemCount), touched: new Int32Array(itemCount), mark: new Uint8Array(itemCount) },
  };
}

/**
 * The bundle's sample: each product's `perItem` most recent sessions (their union, in time order).
 * Session-kNN and the rules read at most that many sessions per product, so on the sample they
 * score exactly as on every session.
 */
export function sampleSessions(sessions: SessionLists, itemCount: number, perItem: number): SessionLists {
  const count = sessions.offsets.length - 1;
  const uses = new Int32Array(itemCount);
  const keep: number[] = [];
  for (let s = count - 1; s >= 0; s--) {
    const items = new Set(sessionAt(sessions, s));
    let wanted = false;
    for (const i of items) if (uses[i]! < perItem) wanted = true;
    if (!wanted) continue;
    for (const i of items) uses[i]!++;
    keep.push(s);
  }
  keep.reverse();
  return sessionLists(keep.map((s) => sessionAt(sessions, s)));
}

/** Sparse scores: the products a component touched and their scores. */
export interface Sparse {
  index: Int32Array;
  score: Float64Array;
}

/** Collects scores in the index's scratch space; `take()` returns them and clears it. */
function accumulator(ix: SessionIndex) {
  const { acc, touched } = ix.scratch;
  let n = 0;
  return {
    add(i: number, v: number) {
      if (acc[i] === 0) touched[n++] = i;
      acc[i]! += v;
    },
    take(): Sparse {
      const index = touched.slice(0, n);
      const score = Float64Array.from(index, (i) => acc[i]!);
      for (const i of index) acc[i] = 0;
      return { index, score };
    },
  };
}

/**
 * Session-kNN scores for the products after `session` (product indices, oldest first): each of the
 * `k` nearest of the `sample` most recent sessions sharing a product adds its similarity to its
 * products (see {@link SknnParams}).
 */
export function sknnScores(ix: SessionIndex, session: ArrayLike<number>, p: SknnParams): Sparse {
  const { weight, last } = ix.scratch;
  const { items, offsets } = ix.sessions;
  const L = session.length;
  const seen: number[] = [];
  for (let q = 0; q < L; q++) {
    const i = session[q]!;
    if (weight[i] === 0) seen.push(i);
    weight[i] = p.decay > 0 ? Math.exp((q + 1 - L) / p.decay) : (q + 1) / L;
    last[i] = q;
  }
  try {
    // Candidates: each product's most recent sessions, then the most recent `sample` of them all.
    let size = 0;
    for (const i of seen) size += Math.min(p.sample, ix.postStart[i + 1]! - ix.postStart[i]!);
    const pool = new Int32Array(size);
    size = 0;
    for (const i of seen) {
      const end = ix.postStart[i + 1]!;
      const from = Math.max(ix.postStart[i]!, end - p.sample);
      pool.set(ix.postings.subarray(from, end), size);
      size += end - from;
    }
    pool.sort();
    const count = offsets.length - 1;
    const sims: { s: number; sim: number }[] = [];
    for (let c = pool.length - 1; c >= 0 && sims.length < p.sample; c--) {
      const s = pool[c]!;
      if (c < pool.length - 1 && pool[c + 1] === s) continue;
      let sim = 0;
      for (let x = offsets[s]!; x < offsets[s + 1]!; x++) {
        const i = items[x]!;
        // Each product once: its weight is zeroed on use and restored after.
        const w = weight[i]!;
        if (w > 0) (sim += w), (weight[i] = -w);
      }
      for (let x = offsets[s]!; x < offsets[s + 1]!; x++) if (weight[items[x]!]! < 0) weight[items[x]!] = -weight[items[x]!]!;
      sim /= Math.sqrt(ix.distinct[s]!);
      if (p.recency > 0) sim *= Math.exp(-(count - 1 - s) / p.recency);
      sims.push({ s, sim });
    }
    sims.sort((a, b) => b.sim - a.sim || b.s - a.s);
    const out = accumulator(ix);
    const { stamp } = ix.scratch;
    for (let n = 0; n < Math.min(p.k, sims.length); n++) {
      const { s, sim } = sims[n]!;
      const a = offsets[s]!;
      const b = offsets[s + 1]!;
      // The shared product this session viewed last, where the neighbour viewed it.
      let best = -1;
      let at = a;
      for (let x = a; x < b; x++) {
        const q = weight[items[x]!]! > 0 ? last[items[x]!]! : -1;
        if (q > best) (best = q), (at = x);
      }
      // Outwards from there, so a product viewed twice counts once, at its closest view.
      for (let d = 0; at - d >= a || at + d < b; d++) {
        const near = p.proximity > 0 ? sim * Math.exp(-d / p.proximity) : sim;
        for (let side = 0; side < (d === 0 ? 1 : 2); side++) {
          const x = side ? at - d : at + d;
          if (x < a || x >= b) continue;
          const j = items[x]!;
          if (stamp[j] === s) continue;
          stamp[j] = s;
          const f = side ? near * p.before : near;
          if (f > 0) out.add(j, f);
        }
      }
    }
    for (let s = 0; s < Math.min(p.k, sims.length); s++) for (let x = offsets[sims[s]!.s]!; x < offsets[sims[s]!.s + 1]!; x++) stamp[items[x]!] = -1;
    return out.take();
  } finally {
    for (const i of seen) (weight[i] = 0), (last[i] = -1);
  }
}

/** Sequential-rule scores: products viewed within `window` steps after the session's latest views. */
export function ruleScores(ix: SessionIndex, session: ArrayLike<number>, p: RuleParams): Sparse {
  const { items, offsets } = ix.sessions;
  const out = accumulator(ix);
  for (let d = 0; d < Math.min(p.depth, session.length); d++) {
    const a = session[session.length - 1 - d]!;
    const w = 1 / (d + 1);
    const end = ix.postStart[a + 1]!;
    for (let x = Math.max(ix.postStart[a]!, end - p.sample); x < end; x++) {
      const s = ix.postings[x]!;
      const e = offsets[s + 1]!;
      for (let y = offsets[s]!; y < e; y++) {
        if (items[y] !== a) continue;
        for (let z = y + 1; z < Math.min(e, y + 1 + p.window); z++) if (items[z] !== a) out.add(items[z]!, w / (z - y));
      }
    }
  }
  return out.take();
}

/** One component's scores and its weight in the blend. */
export interface Part {
  scores: Sparse;
  weight: number;
}

/**
 * Blends components into a score for every product: popularity breaks ties, then each part adds
 * `weight × score / max`, the maximum taken over products not in `viewed` (the row shows only those).
 */
export function blend(ix: SessionIndex, parts: readonly Part[], viewed: ReadonlySet<number>): Float64Array {
  const out = new Float64Array(ix.itemCount);
  for (let i = 0; i < out.length; i++) out[i] = ix.popularity[i]! * 1e-9;
  for (const { scores, weight } of parts) {
    if (!(weight > 0)) continue;
    let max = 0;
    for (let k = 0; k < scores.index.length; k++) if (!viewed.has(scores.index[k]!)) max = Math.max(max, scores.score[k]!);
    if (!(max > 0)) continue;
    for (let k = 0; k < scores.index.length; k++) out[scores.index[k]!]! += (weight * scores.score[k]!) / max;
  }
  return out;
}

/** A sequence model's logits → its probabilities up to a common factor (exp of each minus the largest). */
export function modelProbabilities(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(logits[i]! - max);
  return out;
}

/** A dense per-product score array as a component. */
export function denseScores(scores: ArrayLike<number>): Sparse {
  const index = new Int32Array(scores.length);
  const score = new Float64Array(scores.length);
  for (let i = 0; i < index.length; i++) (index[i] = i), (score[i] = scores[i]!);
  return { index, score };
}

/**
 * The components of `config` for `session` (its latest `config.maxLength` views), unweighted
 * parts first computed, for {@link blend}. `model` is the sequence model's probability per product.
 */
export function nextViewParts(ix: SessionIndex, session: ArrayLike<number>, config: NextViewConfig, model?: ArrayLike<number>): Part[] {
  const recent = latestViews(session, config.maxLength);
  const parts: Part[] = [];
  if (!recent.length) return parts;
  if (config.oneView && recent.length === 1) return nextViewParts(ix, recent, { maxLength: config.maxLength, sknn: config.oneView.sknn, rules: config.oneView.rules });
  if (config.sknn?.weight) parts.push({ scores: sknnScores(ix, recent, config.sknn), weight: config.sknn.weight });
  if (config.rules?.weight) parts.push({ scores: ruleScores(ix, recent, config.rules), weight: config.rules.weight });
  if (config.model?.weight && model) parts.push({ scores: denseScores(model), weight: config.model.weight });
  return parts;
}

/**
 * Every product's score of being viewed next after `session` (product indices, oldest first;
 * higher is likelier): the blend of `config`'s components. `model` is the sequence model's
 * probability per product when `config.model` has weight. The session's own products are scored
 * too (re-views); the row leaves them out.
 */
export function nextViewScores(ix: SessionIndex, session: ArrayLike<number>, config: NextViewConfig, model?: ArrayLike<number>): Float64Array {
  return blend(ix, nextViewParts(ix, session, config, model), new Set(Array.from(session)));
}

/** Scores at or below this are popularity alone (a share below 1, times 1e-9): the method said nothing. */
const SCORED = 1e-9;

/**
 * The row: the `k` best products after `session` that are not in `exclude` and that the method
 * scored (popularity alone only orders ties), best first — exactly {@link nextViewScores}' order
 * and values, computed over the products the components touched only, so a large catalog is not
 * swept per query.
 */
export function nextViewTop(ix: SessionIndex, session: ArrayLike<number>, config: NextViewConfig, k: number, exclude: ReadonlySet<number>, model?: ArrayLike<number>): Scored[] {
  const parts = nextViewParts(ix, session, config, model);
  const viewed = new Set(Array.from(session));
  const { acc, touched, mark } = ix.scratch;
  let n = 0;
  // As `blend` does, in the same order: popularity's tie-break first, then each part normalised.
  for (const { scores, weight } of parts) {
    if (!(weight > 0)) continue;
    let max = 0;
    for (let j = 0; j < scores.index.length; j++) if (!viewed.has(scores.index[j]!)) max = Math.max(max, scores.score[j]!);
    if (!(max > 0)) continue;
    for (let j = 0; j < scores.index.length; j++) {
      const i = scores.index[j]!;
      if (!mark[i]) (mark[i] = 1), (touched[n++] = i), (acc[i] = ix.popularity[i]! * 1e-9);
      acc[i]! += (weight * scores.score[j]!) / max;
    }
  }
  const top: Scored[] = [];
  for (let t = 0; t < n; t++) {
    const i = touched[t]!;
    const score = acc[i]!;
    (acc[i] = 0), (mark[i] = 0);
    if (score <= SCORED || exclude.has(i)) continue;
    if (top.length === k && !(score > top[k - 1]!.score || (score === top[k - 1]!.score && i < top[k - 1]!.index))) continue;
    let at = top.length;
    while (at > 0 && (top[at - 1]!.score < score || (top[at - 1]!.score === score && top[at - 1]!.index > i))) at--;
    top.splice(at, 0, { index: i, score });
    if (top.length > k) top.pop();
  }
  return top;
}
