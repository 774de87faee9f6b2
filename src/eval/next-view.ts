/**
 * Next view: every method ranks the whole catalog after a session prefix; the target is the item
 * viewed next. Baselines as in the seeds and in Ludewig & Jannach (2018); Vitrine's own method is
 * what the builder ships for this log — the scorer it chooses on held-back training sessions, its
 * session file (and GRU, where chosen) decoded as the worker decodes them, scored by the worker's
 * own `nextViewScores`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildNextView, type NextViewChoice } from '../build/choose-next.js';
import { decodeSessions } from '../bundle/session-file.js';
import { cooccurrenceTopK, type CooccurrenceScore } from '../recommend/cooccurrence.js';
import { NextViewModel } from '../model/next-view.js';
import { indexSessions, modelProbabilities, needsModel, nextViewScores, nextViewTop } from '../recommend/next-view.js';
import { createRng, shuffleInPlace } from '../recommend/rng.js';
import { topIndices, type Scored } from '../recommend/select.js';
import type { SessionSplit } from './datasets.js';
import { interval, listBytes, popularity, rankOf, RankMetrics } from './metrics.js';

export interface MethodResult {
  method: string;
  metrics: Record<string, number | null>;
  /** Bootstrap 95% interval of each metric. */
  intervals?: Record<string, [number, number]>;
  /** What the method ships (a bundle file's bytes), when it is a model or a table. */
  bytes?: number;
  params?: number;
  msPerQuery: number;
  note?: string;
}

/** A method, trained on a split: scores every item after a session prefix (higher is better). */
export interface NextMethod {
  name: string;
  bytes?: number;
  params?: number;
  note?: string;
  /** Absent for a method that could not be trained here (it is reported with its size and no metrics). */
  scores?(prefix: Int32Array): ArrayLike<number> | Promise<ArrayLike<number>>;
}

const K = 20;

export function popularityMethod(split: SessionSplit): NextMethod {
  const pop = popularity(split.train, split.items);
  return { name: 'popularity', scores: () => pop };
}

/** Session popularity: items of the session by how often it viewed them, then global popularity. */
export function sessionPopularityMethod(split: SessionSplit): NextMethod {
  const pop = popularity(split.train, split.items);
  return {
    name: 'session-pop',
    scores: (prefix) => {
      const s = pop.slice();
      for (const i of prefix) s[i]! += 1;
      return s;
    },
  };
}

/** Item-kNN (seed §2): the last viewed item's co-occurrence list (count, Jaccard or LLR), then popularity. */
export function itemKnnMethod(split: SessionSplit, score: CooccurrenceScore, k = 100): NextMethod {
  const pop = popularity(split.train, split.items);
  const lists = cooccurrenceTopK(split.train, split.items, { k, score, minSupport: 1 });
  return {
    name: score === 'count' ? 'cooc-count' : score === 'jaccard' ? 'jaccard' : 'llr-knn',
    bytes: listBytes(lists),
    scores: (prefix) => {
      const s = pop.slice();
      const list = lists[prefix[prefix.length - 1]!]!;
      list.forEach(([j], r) => (s[j]! += list.length - r + 1));
      return s;
    },
  };
}

/**
 * V-SKNN (Ludewig & Jannach 2018): the session as a vector weighted by recency (linear decay, the
 * last view 1), its `k` most similar of the `sample` most recent training sessions sharing an item
 * (similarity: the weighted vector times the neighbour's binary one), each item scored by the summed
 * similarity of the neighbours that contain it.
 */
export function vsknnMethod(split: SessionSplit, k = 100, sample = 500): NextMethod {
  const pop = popularity(split.train, split.items);
  const sets = split.train.map((s) => new Set(s));
  const sessionsOf: number[][] = Array.from({ length: split.items }, () => []);
  split.train.forEach((s, n) => new Set(s).forEach((i) => sessionsOf[i]!.push(n)));
  return {
    name: 'v-sknn',
    scores: (prefix) => {
      const weight = new Map<number, number>();
      prefix.forEach((i, p) => weight.set(i, Math.max(weight.get(i) ?? 0, (p + 1) / prefix.length)));
      // Candidate neighbours: the most recent sessions (training order is time order) sharing an item.
      const candidates = new Set<number>();
      for (const i of weight.keys()) for (const n of sessionsOf[i]!) candidates.add(n);
      const recent = [...candidates].sort((a, b) => b - a).slice(0, sample);
      const sims = recent.map((n) => {
        let sim = 0;
        for (const [i, w] of weight) if (sets[n]!.has(i)) sim += w;
        return [n, sim / Math.sqrt(sets[n]!.size)] as const;
      });
      sims.sort((a, b) => b[1] - a[1] || b[0] - a[0]);
      const s = pop.map((p) => p * 1e-6);
      for (const [n, sim] of sims.slice(0, k)) for (const i of sets[n]!) s[i]! += sim;
      return s;
    },
  };
}

/**
 * Seed §1's network: one-hot of the viewed product → Dense(2V, relu) → Dense(V, softmax), rmsprop,
 * batch 2000, three epochs, on (view → next view) pairs. Its size grows with V²: V is capped to the
 * most viewed products whose network fits `maxParams` (a view of any other product can be neither
 * read nor predicted), and it is trained only when the work — training pairs × parameters — fits
 * `maxWork` (the wasm backend here does a few GFLOP/s); otherwise reported with its size and no metrics.
 */
export async function oneHotMethod(split: SessionSplit, maxParams: number, seed: number, maxWork = 2e11): Promise<NextMethod> {
  const N = split.items;
  const fullParams = 4 * N * N + 3 * N;
  let V = N;
  while (4 * V * V + 3 * V > maxParams) V = Math.floor(V * 0.99);
  const params = 4 * V * V + 3 * V;
  const base = { name: 'onehot-ffn', params, bytes: 4 * params };
  const views = popularity(split.train, N);
  const top = Array.from(views.keys()).sort((a, b) => views[b]! - views[a]! || a - b).slice(0, V);
  const slot = new Int32Array(N).fill(-1);
  top.forEach((i, v) => (slot[i] = v));
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of split.train) for (let i = 0; i + 1 < s.length; i++) if (slot[s[i]!]! >= 0 && slot[s[i + 1]!]! >= 0) xs.push(slot[s[i]!]!), ys.push(slot[s[i + 1]!]!);
  const capped = V < N ? `vocabulary capped to the ${V.toLocaleString('en')} most viewed of ${N.toLocaleString('en')} products (the full network: ${(fullParams / 1e6).toFixed(0)}M parameters, ${((4 * fullParams) / 1e9).toFixed(2)} GB float32)` : '';
  if (xs.length * params > maxWork) {
    return { ...base, note: `not trained: ${xs.length.toLocaleString('en')} training pairs × ${(params / 1e6).toFixed(0)}M parameters exceed this run's work budget${capped ? `; ${capped}` : ''}` };
  }
  const rng = createRng(seed + 505);
  const init = (rows: number, cols: number) => tf.variable(tf.tensor2d(Float32Array.from({ length: rows * cols }, () => (rng.next() * 2 - 1) * Math.sqrt(6 / (rows + cols))), [rows, cols]));
  const W1 = init(V, 2 * V);
  const b1 = tf.variable(tf.zeros([2 * V]));
  const W2 = init(2 * V, V);
  const b2 = tf.variable(tf.zeros([V]));
  // A one-hot input times W1 is a row of W1: gather it instead of multiplying by V zeros.
  const forward = (x: tf.Tensor1D) => tf.add(tf.matMul(tf.relu(tf.add(tf.gather(W1, x), b1)), W2), b2) as tf.Tensor2D;
  const opt = tf.train.rmsprop(1e-3);
  const order = xs.map((_, i) => i);
  for (let epoch = 0; epoch < 3; epoch++) {
    shuffleInPlace(order, rng);
    for (let s = 0; s < order.length; s += 2000) {
      const idx = order.slice(s, s + 2000);
      const x = tf.tensor1d(idx.map((i) => xs[i]!), 'int32');
      const y = tf.oneHot(tf.tensor1d(idx.map((i) => ys[i]!), 'int32'), V);
      opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)) as tf.Scalar, false, [W1, b1, W2, b2]);
      tf.dispose([x, y]);
    }
  }
  opt.dispose();
  return {
    ...base,
    note: `${capped || `all ${N} products`}; ${xs.length.toLocaleString('en')} training pairs`,
    scores: (prefix) => {
      // Products outside the vocabulary score lowest (all tied); an unknown last view predicts nothing.
      const out = new Float64Array(N).fill(-Infinity);
      const last = slot[prefix[prefix.length - 1]!]!;
      if (last < 0) return out.fill(0);
      const logits = tf.tidy(() => forward(tf.tensor1d([last], 'int32')).dataSync() as Float32Array);
      top.forEach((i, v) => (out[i] = logits[v]!));
      return out;
    },
  };
}

/**
 * Vitrine: exactly what the builder ships for these training sessions (`buildNextView`: the
 * scorer chosen on their latest 15%, the session file and the GRU where chosen), decoded as the
 * worker decodes it and scored by the worker's `nextViewScores`.
 */
export async function vitrineNextMethod(split: SessionSplit, opts: { seed: number; maxEpochs?: number; log?: (line: string) => void }): Promise<NextMethod & { dispose(): void; choice: NextViewChoice; top(prefix: Int32Array, k: number): Promise<Scored[]> }> {
  const part = await buildNextView(split.train, split.items, { seed: opts.seed, maxEpochs: opts.maxEpochs, log: opts.log });
  const config = part.choice.config;
  const ix = indexSessions(decodeSessions(part.sessions, split.items, 'next-view/sessions.bin'), split.items);
  const model = part.model ? NextViewModel.load(part.model.header, part.model.data.slice().buffer, split.items) : undefined;
  const modelBytes = part.model ? part.model.data.length + JSON.stringify(part.model.header).length : 0;
  return {
    name: 'vitrine',
    choice: part.choice,
    bytes: part.sessions.length + modelBytes,
    ...(part.model ? { params: part.model.params } : {}),
    scores: async (prefix) => nextViewScores(ix, prefix, config, model && needsModel(prefix, config) ? modelProbabilities(await model.scores(prefix)) : undefined),
    /** The row as the worker computes it: the `k` best after `prefix`, its products left out. */
    top: async (prefix, k) => nextViewTop(ix, prefix, config, k, new Set(prefix), model && needsModel(prefix, config) ? modelProbabilities(await model.scores(prefix)) : undefined),
    dispose: () => model?.dispose(),
  };
}

interface Query {
  prefix: Int32Array;
  target: number;
}

/** The test queries: each predicted position of each test session, at most `max` (taken evenly). */
export function nextQueries(split: SessionSplit, max = Infinity): Query[] {
  const all: Query[] = [];
  for (const { session, from } of split.test) for (let p = Math.max(1, from); p < session.length; p++) all.push({ prefix: session.subarray(0, p), target: session[p]! });
  if (all.length <= max) return all;
  const every = all.length / max;
  return Array.from({ length: max }, (_, k) => all[Math.floor(k * every)]!);
}

/**
 * Evaluates one method: MRR/HR/NDCG@20 over all next views and over new items only (targets not in
 * the prefix; the prefix's items removed from the candidates), and seed §2's protocol (the first
 * item of each test session → its later items: reciprocal rank of the first of them in the top 20).
 */
export async function evaluateNext(method: NextMethod, split: SessionSplit, queries: readonly Query[]): Promise<MethodResult> {
  const about = {
    ...(method.bytes !== undefined ? { bytes: method.bytes } : {}),
    ...(method.params !== undefined ? { params: method.params } : {}),
    ...(method.note ? { note: method.note } : {}),
  };
  const score = method.scores?.bind(method);
  const metricNames = [...Object.keys(new RankMetrics(K).values()), ...Object.keys(new RankMetrics(K).values(':new')), `MRR@${K}:first`];
  if (!score) return { method: method.name, metrics: Object.fromEntries(metricNames.map((k) => [k, null])), msPerQuery: 0, ...about };
  const all = new RankMetrics(K);
  const fresh = new RankMetrics(K);
  const seedRr: number[] = [];
  let ms = 0;
  let calls = 0;
  const timed = async (prefix: Int32Array) => {
    const t = performance.now();
    const s = await score(prefix);
    ms += performance.now() - t;
    calls++;
    return s;
  };
  for (const q of queries) {
    const scores = await timed(q.prefix);
    all.add(rankOf(scores, q.target));
    const seen = new Set(q.prefix);
    if (!seen.has(q.target)) fresh.add(rankOf(scores, q.target, seen));
  }
  // Seed §2's protocol on at most as many test sessions as there are queries (taken evenly).
  const n = Math.min(split.test.length, Math.max(1, queries.length));
  for (let k = 0; k < n; k++) {
    const { session } = split.test[Math.floor((k * split.test.length) / n)]!;
    const later = new Set(Array.from(session.subarray(1)).filter((i) => i !== session[0]));
    if (!later.size) continue;
    const scores = await timed(session.subarray(0, 1));
    const top = topIndices(scores, K, new Set([session[0]!]));
    const r = top.findIndex((h) => later.has(h.index));
    seedRr.push(r >= 0 ? 1 / (r + 1) : 0);
  }
  const metrics = { ...all.values(), ...fresh.values(':new'), [`MRR@${K}:first`]: seedRr.reduce((a, b) => a + b, 0) / Math.max(1, seedRr.length) };
  const intervals = { ...all.intervals(), ...fresh.intervals(':new'), [`MRR@${K}:first`]: interval(seedRr) };
  return { method: method.name, metrics, intervals, msPerQuery: calls ? ms / calls : 0, ...about };
}
