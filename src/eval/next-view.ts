/**
 * Next view: every method ranks the whole catalog after a session prefix; the target is the item
 * viewed next. Baselines as in the seeds and in Ludewig & Jannach (2018); Vitrine's own method is
 * the builder's next-view model (same training code and settings, weights as stored in a bundle)
 * and, as the widget does, the "often viewed next" list when the session has a single view.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NEXT_VIEW_MAX_LENGTH, countParams, trainNextView } from '../build/train-next.js';
import { cooccurrenceTopK, nextAfterTopK, type CooccurrenceScore } from '../recommend/cooccurrence.js';
import { encodeNextView, NextViewModel } from '../model/next-view.js';
import { createRng } from '../recommend/rng.js';
import { topIndices } from '../recommend/select.js';
import type { SessionSplit } from './datasets.js';
import { listBytes, popularity, rankOf, RankMetrics } from './metrics.js';

export interface MethodResult {
  method: string;
  metrics: Record<string, number | null>;
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
  scores?(prefix: Int32Array): Float32Array | Promise<Float32Array>;
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
 * Seed §1's network: one-hot of the viewed product → Dense(2N, relu) → Dense(N, softmax), rmsprop,
 * batch 2000, a few epochs, on (view → next view) pairs. Its size grows with N²: trained only when
 * its parameters fit `maxParams`; otherwise reported with its size and no metrics.
 */
export async function oneHotMethod(split: SessionSplit, maxParams: number, seed: number): Promise<NextMethod> {
  const N = split.items;
  const params = 4 * N * N + 3 * N;
  const base = { name: 'onehot-ffn', params, bytes: 4 * params };
  if (params > maxParams) {
    return { ...base, note: `not trained: ${(params / 1e6).toFixed(0)}M parameters (${(base.bytes / 1e9).toFixed(2)} GB float32) exceed this run's budget of ${(maxParams / 1e6).toFixed(0)}M` };
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of split.train) for (let i = 0; i + 1 < s.length; i++) xs.push(s[i]!), ys.push(s[i + 1]!);
  const rng = createRng(seed + 505);
  const init = (rows: number, cols: number) => tf.variable(tf.tensor2d(Float32Array.from({ length: rows * cols }, () => (rng.next() * 2 - 1) * Math.sqrt(6 / (rows + cols))), [rows, cols]));
  const W1 = init(N, 2 * N);
  const b1 = tf.variable(tf.zeros([2 * N]));
  const W2 = init(2 * N, N);
  const b2 = tf.variable(tf.zeros([N]));
  // A one-hot input times W1 is a row of W1: gather it instead of multiplying by N zeros.
  const forward = (x: tf.Tensor1D) => tf.add(tf.matMul(tf.relu(tf.add(tf.gather(W1, x), b1)), W2), b2) as tf.Tensor2D;
  const opt = tf.train.rmsprop(1e-3);
  const order = xs.map((_, i) => i);
  for (let epoch = 0; epoch < 3; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let s = 0; s < order.length; s += 2000) {
      const idx = order.slice(s, s + 2000);
      const x = tf.tensor1d(idx.map((i) => xs[i]!), 'int32');
      const y = tf.oneHot(tf.tensor1d(idx.map((i) => ys[i]!), 'int32'), N);
      opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)) as tf.Scalar, false, [W1, b1, W2, b2]);
      tf.dispose([x, y]);
    }
  }
  opt.dispose();
  return {
    ...base,
    scores: (prefix) => tf.tidy(() => forward(tf.tensor1d([prefix[prefix.length - 1]!], 'int32')).dataSync() as Float32Array),
  };
}

/**
 * Vitrine: the builder's next-view model, trained by `trainNextView` with the builder's settings and
 * read back from its bundle encoding (int8 item table, float16 rest) by the browser's `NextViewModel`.
 * A one-view session reads the builder's "often viewed next" list first, as the widget does.
 */
export async function vitrineNextMethod(split: SessionSplit, opts: { seed: number; dims?: number; epochs?: number; log?: (line: string) => void }): Promise<NextMethod & { dispose(): void }> {
  const trainable = split.train.filter((s) => s.length > 1);
  const params = await trainNextView(trainable, split.items, {
    maxLength: NEXT_VIEW_MAX_LENGTH, seed: opts.seed, dims: opts.dims ?? 64, epochs: opts.epochs,
    onEpoch: (e, loss) => opts.log?.(`vitrine next-view: epoch ${e + 1} loss ${loss.toFixed(3)}`),
  });
  const count = countParams(params);
  const { header, data } = await encodeNextView(params, NEXT_VIEW_MAX_LENGTH);
  Object.values(params).forEach((t) => (t as tf.Tensor).dispose());
  const model = NextViewModel.load(header, data.slice().buffer, split.items);
  const nextAfter = nextAfterTopK(split.train, split.items, 20);
  const after = nextAfter.map((l) => l.map(([j]) => j));
  return {
    name: 'vitrine',
    params: count,
    bytes: data.length + listBytes(nextAfter),
    scores: async (prefix) => {
      const s = await model.scores(prefix);
      if (prefix.length === 1) {
        let max = -Infinity;
        for (const v of s) max = Math.max(max, v);
        const list = after[prefix[0]!]!;
        list.forEach((j, r) => (s[j] = max + 1 + list.length - r));
      }
      return s;
    },
    dispose: () => model.dispose(),
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
  let seedRr = 0;
  let seedN = 0;
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
    seedRr += r >= 0 ? 1 / (r + 1) : 0;
    seedN++;
  }
  const metrics = { ...all.values(), ...fresh.values(':new'), [`MRR@${K}:first`]: seedRr / Math.max(1, seedN) };
  return { method: method.name, metrics, msPerQuery: calls ? ms / calls : 0, ...about };
}
