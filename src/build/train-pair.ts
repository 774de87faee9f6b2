import * as tf from '@tensorflow/tfjs-core';
import { matMul } from '../model/next-view.js';
import { PAIR_KIND, PAIR_TENSORS, type PairDims } from '../recommend/pair-model.js';
import { decodeTensors, encodeTensors, type NamedTensor, type TensorHeader } from '../bundle/tensor-file.js';
import { createRng, shuffleInPlace, type Rng } from '../recommend/rng.js';
import { auc } from './validation.js';

export interface PairData {
  /** Unit-length image embeddings, `items × visualDims`, row-major. */
  visual: Float32Array;
  visualDims: number;
  /** Per item, its category as 1-based index (0: none). */
  categories: Int32Array;
  categoryCount: number;
  /** Per item, its title's hashed word buckets. */
  words: readonly (readonly number[])[];
  /** Baskets and outfits: lists of items that go together. */
  positives: Iterable<ArrayLike<number>>;
  /** Which pairs of a list count as positives (the goes-with row shows other categories only). */
  accept?: (a: number, b: number) => boolean;
}

export interface PairOptions {
  buckets: number;
  seed?: number;
  epochs?: number;
  categoryDims?: number;
  wordDims?: number;
  legDims?: number;
  mergeDims?: number;
  /** Longer baskets/outfits contribute pairs among their first this-many items. */
  maxListLength?: number;
  maxPairs?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface TrainedPair {
  header: TensorHeader;
  data: Uint8Array;
  /**
   * Area under the ROC curve: pairs of held-out baskets (every tenth, whole) against pairs of a
   * product and one never bought with it. NaN when nothing could be held out.
   */
  auc: number;
  /** The AUC of the same pairs ranked by the partner's popularity alone, for reference. */
  popularityAuc: number;
  pairs: number;
  /** Scores item `i` against `candidates` (default: every catalog item), from the stored weights. */
  scoreAgainst(i: number, candidates?: Int32Array): Float32Array;
  dispose(): void;
}

/** Hash buckets for title words in the pair model (the builder's and the evaluation's). */
export const PAIR_BUCKETS = 1024;

/** Words (and attributes) per product the model reads; the rest are ignored. */
const MAX_TOKENS = 32;

const glorot = (rng: Rng, rows: number, cols: number) => Float32Array.from({ length: rows * cols }, () => (rng.next() * 2 - 1) * Math.sqrt(6 / (rows + cols)));

/** Positive pairs `[x, y]` (x < y), once per basket/outfit they occur in. */
interface Pairs {
  train: [number, number][];
  /** The pairs of the held-out baskets. */
  held: [number, number][];
  /** `train`, thinned evenly to at most `maxPairs`: what the model trains on. */
  positives: [number, number][];
  /** Whether two products are never bought together (in any list, held out or not). */
  apart(a: number, b: number): boolean;
}

/** The model's variables and its two halves: a leg embeds products, merge scores pairs of legs. */
interface PairNetwork {
  w: Record<Exclude<(typeof PAIR_TENSORS)[number], 'legs'>, tf.Variable>;
  legs(idx: tf.Tensor1D): tf.Tensor2D;
  merge(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D;
  /** Frees the variables and the constant inputs. */
  dispose(): void;
}

/**
 * Trains the pair model on basket/outfit positives, each against a random product and a product
 * of the partner's own category (so "goes with" learns to differ from "looks like"), both drawn
 * among products never bought with it. Seeded.
 */
export async function trainPairModel(data: PairData, opts: PairOptions): Promise<TrainedPair> {
  const rng = createRng((opts.seed ?? 1) + 303);
  const N = data.categories.length;
  const dims: PairDims = {
    visual: data.visualDims, categories: data.categoryCount, category: opts.categoryDims ?? 8, buckets: opts.buckets,
    words: opts.wordDims ?? 16, leg: opts.legDims ?? 32, merge: opts.mergeDims ?? 32,
  };
  const pairs = collectPairs(data, opts);
  const net = pairNetwork(data, dims, rng);
  // Everything made for training is freed on every path, a failed training included (tensors are
  // not garbage-collected: a builder that retries must not leak each attempt).
  const trained = (async () => {
    await fitPairs(net, pairs, data, opts, rng);
    const measured = heldOutAuc(net, pairs, data, rng);
    return { ...measured, ...(await encodePairModel(net, N, dims)) };
  })();
  const { header, bytes, heldAuc, popularityAuc } = await trained.finally(() => net.dispose());
  const scorer = await storedScorer(header, bytes, N, dims.leg);
  return { header, data: bytes, auc: heldAuc, popularityAuc, pairs: pairs.positives.length, ...scorer };
}

/**
 * Positive pairs, once per basket/outfit they occur in: a pair bought together a hundred times
 * weighs a hundred times (measured: with each distinct pair once, the model learned nothing on the
 * Groceries baskets, held-out AUC 0.47 — in a 169-item store nearly every pair occurs somewhere).
 * Every tenth basket (seeded) is held out whole to measure the model on pairs it never saw.
 */
function collectPairs(data: PairData, opts: PairOptions): Pairs {
  const N = data.categories.length;
  const maxLen = opts.maxListLength ?? 20;
  const train: [number, number][] = [];
  const held: [number, number][] = [];
  const together = new Set<number>();
  const split = createRng((opts.seed ?? 1) + 404);
  for (const list of data.positives) {
    const n = Math.min(list.length, maxLen);
    const out = split.next() < 0.1 ? held : train;
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        const [x, y] = list[a]! < list[b]! ? [list[a]!, list[b]!] : [list[b]!, list[a]!];
        if (x === y) continue;
        together.add(x * N + y);
        if (!data.accept || data.accept(x, y)) out.push([x, y]);
      }
    }
  }
  const maxPairs = opts.maxPairs ?? 300_000;
  const positives = train.length > maxPairs ? train.filter((_, i) => Math.floor((i * maxPairs) / train.length) !== Math.floor(((i - 1) * maxPairs) / train.length)) : train;
  const apart = (a: number, b: number) => a !== b && !together.has(a < b ? a * N + b : b * N + a);
  return { train, held, positives, apart };
}

/**
 * The network, its variables drawn from `rng`. Constant inputs: image embeddings, categories, and
 * each product's word buckets as a padded index list (bucket `buckets` is a zero row), averaged
 * after the lookup.
 */
function pairNetwork(data: PairData, dims: PairDims, rng: Rng): PairNetwork {
  const N = data.categories.length;
  const V = tf.tensor2d(data.visual, [N, dims.visual]);
  const C = tf.tensor1d(data.categories, 'int32');
  const T = Math.max(1, Math.min(MAX_TOKENS, data.words.reduce((m, ws) => Math.max(m, ws.length), 0)));
  const tokens = new Int32Array(N * T).fill(dims.buckets);
  const counts = new Float32Array(N);
  data.words.forEach((ws, i) => {
    const n = Math.min(T, ws.length);
    for (let k = 0; k < n; k++) tokens[i * T + k] = ws[k]!;
    counts[i] = Math.max(1, n);
  });
  const Tok = tf.tensor2d(tokens, [N, T], 'int32');
  const Cnt = tf.tensor2d(counts, [N, 1]);
  const zeroRow = tf.zeros([1, dims.words]);
  const w = pairVariables(dims, rng);
  const legs = (idx: tf.Tensor1D): tf.Tensor2D => {
    const text = tf.div(tf.sum(tf.gather(tf.concat([w.wordTable, zeroRow], 0), tf.gather(Tok, idx)), 1), tf.gather(Cnt, idx));
    const x = tf.concat([tf.gather(V, idx), tf.gather(w.catTable, tf.gather(C, idx)), text], 1) as tf.Tensor2D;
    return tf.relu(tf.add(matMul(x, w.legW as tf.Tensor2D), w.legB)) as tf.Tensor2D;
  };
  const merge = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D => {
    const m = tf.concat([tf.add(a, b), tf.mul(a, b), tf.abs(tf.sub(a, b))], 1) as tf.Tensor2D;
    const h = tf.relu(tf.add(matMul(m, w.m1W as tf.Tensor2D), w.m1B)) as tf.Tensor2D;
    return tf.reshape(tf.add(matMul(h, w.m2W as tf.Tensor2D), w.m2B), [-1]) as tf.Tensor1D;
  };
  const dispose = () => {
    tf.dispose([V, C, Tok, Cnt, zeroRow]);
    Object.values(w).forEach((x) => x.dispose());
  };
  return { w, legs, merge, dispose };
}

/** The trainable weights, drawn from `rng` in this order. */
function pairVariables(dims: PairDims, rng: Rng): PairNetwork['w'] {
  const input = dims.visual + dims.category + dims.words;
  // A variable shares its initial tensor's data; the tensor itself is freed at once.
  const v = (values: Float32Array, shape: number[]) => tf.tidy(() => tf.variable(tf.tensor(values, shape), true));
  return {
    catTable: v(Float32Array.from({ length: (dims.categories + 1) * dims.category }, () => (rng.next() * 2 - 1) * 0.1), [dims.categories + 1, dims.category]),
    wordTable: v(Float32Array.from({ length: dims.buckets * dims.words }, () => (rng.next() * 2 - 1) * 0.1), [dims.buckets, dims.words]),
    legW: v(glorot(rng, input, dims.leg), [input, dims.leg]),
    legB: v(new Float32Array(dims.leg), [dims.leg]),
    m1W: v(glorot(rng, 3 * dims.leg, dims.merge), [3 * dims.leg, dims.merge]),
    m1B: v(new Float32Array(dims.merge), [dims.merge]),
    m2W: v(glorot(rng, dims.merge, 1), [dims.merge, 1]),
    m2B: v(new Float32Array(1), [1]),
  };
}

/** Adam over shuffled batches: each positive (a, b), then a with a random partner and with one of b's category (the hard negative). */
async function fitPairs(net: PairNetwork, pairs: Pairs, data: PairData, opts: PairOptions, rng: Rng): Promise<void> {
  const { positives } = pairs;
  const negatives = negativeDraws(pairs, data, rng);
  const optimizer = tf.train.adam(3e-3);
  const vars = Object.values(net.w);
  const batch = 512;
  const order = Int32Array.from({ length: positives.length }, (_, i) => i);
  try {
    // Small catalogs need many passes; large ones get enough from fewer: about 1,500 steps.
    const epochs = opts.epochs ?? Math.max(4, Math.min(150, Math.round((1500 * batch) / Math.max(1, positives.length))));
    for (let epoch = 0; epoch < epochs && positives.length; epoch++) {
      shuffleInPlace(order, rng);
      let total = 0;
      for (let s = 0; s < order.length; s += batch) {
        const m = Math.min(batch, order.length - s);
        // Labels 1, 0, 0: the positive, the random partner, the hard negative.
        const left = new Int32Array(3 * m);
        const right = new Int32Array(3 * m);
        const labels = new Float32Array(3 * m);
        for (let k = 0; k < m; k++) {
          const [a, b] = positives[order[s + k]!]!;
          left.set([a, a, a], 3 * k);
          right.set([b, negatives.random(a), negatives.sameCategory(a, b)], 3 * k);
          labels[3 * k] = 1;
        }
        const [l, r, y] = [tf.tensor1d(left, 'int32'), tf.tensor1d(right, 'int32'), tf.tensor1d(labels)];
        const loss = optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(y, net.merge(net.legs(l), net.legs(r))) as tf.Scalar, true, vars)!;
        total += (await loss.data())[0]! * m;
        tf.dispose([loss, l, r, y]);
      }
      opts.onEpoch?.(epoch, total / positives.length);
    }
  } finally {
    optimizer.dispose();
  }
}

/**
 * Negatives for `a`: products never bought with it (a few tries, then whatever was drawn: a tiny
 * store may have none), at random or of a given product's category.
 */
function negativeDraws(pairs: Pairs, data: PairData, rng: Rng) {
  const N = data.categories.length;
  const negative = (a: number, draw: () => number) => {
    let x = draw();
    for (let t = 0; t < 8 && !pairs.apart(a, x); t++) x = draw();
    return x;
  };
  const byCategory = new Map<number, number[]>();
  data.categories.forEach((c, i) => c && (byCategory.get(c) ?? byCategory.set(c, []).get(c)!).push(i));
  const sameCategoryAs = (b: number): number => {
    const pool = byCategory.get(data.categories[b]!);
    return pool && pool.length > 1 ? pool[rng.int(pool.length)]! : rng.int(N);
  };
  return {
    random: (a: number) => negative(a, () => rng.int(N)),
    sameCategory: (a: number, b: number) => negative(a, () => sameCategoryAs(b)),
  };
}

/**
 * AUC on the held-out baskets' pairs, each against a product never bought with its first one
 * (random negatives are mostly positives in a small store: 83% of them on Groceries); NaN when
 * nothing was held out.
 */
function heldOutAuc(net: PairNetwork, pairs: Pairs, data: PairData, rng: Rng): { heldAuc: number; popularityAuc: number } {
  const { held, train } = pairs;
  const N = data.categories.length;
  if (!held.length) return { heldAuc: NaN, popularityAuc: NaN };
  const h = held.length;
  const left = new Int32Array(2 * h);
  const right = new Int32Array(2 * h);
  const ok = (a: number, x: number) => pairs.apart(a, x) && (!data.accept || data.accept(a, x));
  let kept = 0;
  held.forEach(([a, b]) => {
    let x = rng.int(N);
    for (let t = 0; t < 50 && !ok(a, x); t++) x = rng.int(N);
    if (!ok(a, x)) return;
    left[kept] = left[h + kept] = a;
    right[kept] = b;
    right[h + kept] = x;
    kept++;
  });
  if (!kept) return { heldAuc: NaN, popularityAuc: NaN };
  const idx = (arr: Int32Array) => Int32Array.from([...arr.subarray(0, kept), ...arr.subarray(h, h + kept)]);
  const scores = tf.tidy(() => net.merge(net.legs(tf.tensor1d(idx(left), 'int32')), net.legs(tf.tensor1d(idx(right), 'int32'))).dataSync() as Float32Array);
  // The same pairs ranked by the partner's popularity alone: what the AUC owes to popularity
  // (in a small, dense store, products never bought with another are mostly rare ones).
  const bought = new Float64Array(N);
  for (const [a, b] of train) (bought[a]! += 1), (bought[b]! += 1);
  return {
    heldAuc: auc(scores.subarray(0, kept), scores.subarray(kept)),
    popularityAuc: auc(Float64Array.from(right.subarray(0, kept), (b) => bought[b]!), Float64Array.from(right.subarray(h, h + kept), (x) => bought[x]!)),
  };
}

/** The trained weights as the bundle stores them, with every product's leg precomputed (int8). */
async function encodePairModel(net: PairNetwork, N: number, dims: PairDims): Promise<{ header: TensorHeader; bytes: Uint8Array }> {
  const allLegs = tf.tidy(() => net.legs(tf.range(0, N, 1, 'int32') as tf.Tensor1D).dataSync() as Float32Array);
  const tensors: NamedTensor[] = [];
  for (const name of PAIR_TENSORS) {
    if (name === 'legs') tensors.push({ name, shape: [N, dims.leg], data: allLegs, storage: 'int8' });
    else tensors.push({ name, shape: net.w[name].shape.slice(), data: (await net.w[name].data()) as Float32Array, storage: 'float16' });
  }
  const { header, data: bytes } = encodeTensors(tensors, { kind: PAIR_KIND, ...dims });
  return { header, bytes };
}

/**
 * Batched scoring for the builder's goes-with lists, with the weights as stored (decoded).
 * Products with the same inputs (same category and words, no distinct image) have the same leg:
 * each distinct leg is scored once and the scores spread (a catalog without images has few).
 */
async function storedScorer(header: TensorHeader, bytes: Uint8Array, N: number, legDims: number): Promise<Pick<TrainedPair, 'scoreAgainst' | 'dispose'>> {
  const stored = new Map<string, tf.Tensor>();
  for (const [name, t] of decodeTensors(header, bytes.slice().buffer)) stored.set(name, tf.tensor(t.data, t.shape));
  const S = (n: string) => stored.get(n)! as tf.Tensor2D;
  const { legOf, firstOf } = distinctRows((await S('legs').data()) as Float32Array, N, legDims);
  const shared = firstOf.length < N / 2;
  if (shared) {
    const legs = tf.tidy(() => tf.gather(S('legs'), tf.tensor1d(firstOf, 'int32')));
    stored.get('legs')!.dispose();
    stored.set('legs', legs);
  }
  const score = (i: number, rows?: Int32Array): Float32Array =>
    tf.tidy(() => {
      const all = S('legs');
      const b = rows ? tf.gather(all, tf.tensor1d(rows, 'int32')) : all;
      const a = tf.tile(tf.slice(all, [i, 0], [1, -1]), [b.shape[0], 1]);
      const m = tf.concat([tf.add(a, b), tf.mul(a, b), tf.abs(tf.sub(a, b))], 1) as tf.Tensor2D;
      const h = tf.relu(tf.add(tf.matMul(m, S('m1W')), S('m1B'))) as tf.Tensor2D;
      return tf.reshape(tf.add(tf.matMul(h, S('m2W')), S('m2B')), [-1]).dataSync() as Float32Array;
    });
  return {
    scoreAgainst: (i, candidates) => {
      if (!shared) return score(i, candidates);
      const byLeg = score(legOf[i]!);
      return candidates ? Float32Array.from(candidates, (j) => byLeg[legOf[j]!]!) : Float32Array.from(legOf, (u) => byLeg[u]!);
    },
    dispose: () => stored.forEach((t) => t.dispose()),
  };
}

/** Each of the `n` rows' distinct value (`legOf`, numbered in first-seen order), and each distinct value's first row. */
function distinctRows(rows: Float32Array, n: number, width: number): { legOf: Int32Array; firstOf: number[] } {
  const distinct = new Map<string, number>();
  const legOf = new Int32Array(n);
  const firstOf: number[] = [];
  for (let r = 0; r < n; r++) {
    const key = rows.subarray(r * width, (r + 1) * width).join(',');
    let u = distinct.get(key);
    if (u === undefined) distinct.set(key, (u = firstOf.push(r) - 1));
    legOf[r] = u;
  }
  return { legOf, firstOf };
}
