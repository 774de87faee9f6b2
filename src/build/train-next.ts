import * as tf from '@tensorflow/tfjs-core';
import { gruStates, itemLogits, matMul, PARAM_NAMES, type NextViewParams } from '../model/next-view.js';
import { createRng, shuffleInPlace, type Rng } from '../recommend/rng.js';

/** How many of a shopper's latest views the next-view model reads (the builder's setting). */
export const NEXT_VIEW_MAX_LENGTH = 8;

export interface NextViewOptions {
  /** How many of the latest items the model reads. */
  maxLength: number;
  /** Item embedding size (default 64). */
  dims?: number;
  /** GRU state size (default 64). */
  hidden?: number;
  /** Passes over the sessions (default: 6, more for small logs, about 200k positions in all, at most 30). */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /**
   * Above this many items, each step scores the batch's targets plus shared negatives drawn by
   * popularity^0.75 (sampled softmax, log-q corrected) instead of the whole catalog. Default 2,048.
   */
  sampledAbove?: number;
  /** At most this many training chunks (session pieces of `maxLength + 1`), taken evenly; default 500,000. */
  maxExamples?: number;
  seed?: number;
  /**
   * Unit-length visual embeddings (`itemCount × dims`, row-major): the item table starts from them,
   * so products with few views still sit near the products they look like.
   */
  init?: Float32Array;
  onEpoch?: (epoch: number, loss: number, score?: number) => void;
  /**
   * Early stopping: scores the model after each epoch on held-back sessions (higher is better);
   * training stops when `patience` epochs in a row did not beat the best, and the best epoch's
   * weights are returned. Without it, every epoch runs.
   */
  validate?: (params: NextViewParams) => Promise<number>;
  /** Default 2. */
  patience?: number;
}

export interface TrainedNextView {
  params: NextViewParams;
  /** Epochs the returned weights had (with early stopping: the best epoch's, 1-based). */
  epochs: number;
  /** The validation score after each epoch run (with `validate`). */
  scores: number[];
}

/**
 * Sessions as training chunks of at most `maxLength + 1` items (item i as i + 1, right-padded with
 * 0): a chunk predicts each of its items from those before it. A longer session continues in the
 * next chunk, which starts at the previous chunk's last item. At most `maxChunks`, taken evenly.
 */
export function sessionChunks(sessions: Iterable<ArrayLike<number>>, maxLength: number, maxChunks = Infinity): { chunks: Int32Array; count: number; positions: number } {
  const width = maxLength + 1;
  const starts: [ArrayLike<number>, number][] = [];
  for (const s of sessions) for (let a = 0; a + 1 < s.length; a += maxLength) starts.push([s, a]);
  const every = starts.length > maxChunks ? starts.length / maxChunks : 1;
  const count = Math.floor(starts.length / every);
  const chunks = new Int32Array(count * width);
  let positions = 0;
  for (let k = 0; k < count; k++) {
    const [s, a] = starts[Math.floor(k * every)]!;
    const n = Math.min(width, s.length - a);
    for (let j = 0; j < n; j++) chunks[k * width + j] = s[a + j]! + 1;
    positions += n - 1;
  }
  return { chunks, count, positions };
}

/**
 * Mean cross-entropy of softmax(logits) against one-hot targets, weighted per row (0 = padding),
 * with its gradient in closed form: (softmax − target)·weight / Σweight. TF.js's own loss
 * exponentiates three times on the way; the wasm backend's Softmax kernel is 6× faster than its Exp.
 */
export const weightedSoftmaxCrossEntropy = tf.customGrad(((logits: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor1D, save: tf.GradSaveFunc) => {
  const p = tf.softmax(logits);
  const total = tf.maximum(tf.sum(weights), 1);
  const picked = tf.sum(tf.mul(p, targets), 1);
  const value = tf.div(tf.neg(tf.sum(tf.mul(weights, tf.log(tf.add(picked, 1e-12))))), total) as tf.Scalar;
  save([p, targets, weights, total]);
  return {
    value,
    gradFunc: (dy: tf.Scalar, [sp, st, sw, sn]: tf.Tensor[]) => [
      tf.mul(tf.sub(sp!, st!), tf.reshape(tf.div(tf.mul(sw!, dy), sn!), [-1, 1])),
      tf.zerosLike(st!),
      tf.zerosLike(sw!),
    ],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (logits: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor1D) => tf.Scalar;

/** Item logits for a subset of items (`candidates`, indices into the catalog): sampled softmax. */
function candidateLogits(p: NextViewParams, states: tf.Tensor2D, candidates: tf.Tensor1D): tf.Tensor2D {
  const query = tf.add(matMul(states, p.out), p.outBias) as tf.Tensor2D;
  const table = tf.transpose(tf.gather(p.items, tf.add(candidates, tf.scalar(1, 'int32'))));
  return tf.add(matMul(query, table as tf.Tensor2D), tf.gather(p.itemBias, candidates)) as tf.Tensor2D;
}

/**
 * Draws a step's candidate items for sampled softmax: every target of the batch, plus `size`
 * negatives drawn with probability ∝ popularity^0.75 (seeded). `logQ` is log of each candidate's
 * expected draws, subtracted from its logit so the sampled loss estimates the full softmax.
 */
export class NegativeSampler {
  private readonly cdf: Float64Array;
  private readonly q: Float64Array;

  constructor(popularity: Float64Array, private readonly size: number, private readonly rng: Rng) {
    const weights = Float64Array.from(popularity, (c) => Math.pow(c + 1, 0.75));
    const total = weights.reduce((a, b) => a + b, 0);
    this.q = weights.map((x) => x / total);
    this.cdf = new Float64Array(weights.length);
    let acc = 0;
    weights.forEach((x, i) => (this.cdf[i] = acc += x / total));
  }

  draw(targets: Int32Array): { candidates: Int32Array; logQ: Float32Array; position: Int32Array } {
    const index = new Map<number, number>();
    const add = (item: number) => {
      if (!index.has(item)) index.set(item, index.size);
    };
    for (const t of targets) if (t >= 0) add(t);
    for (let k = 0; k < this.size; k++) {
      const r = this.rng.next();
      let lo = 0;
      let hi = this.cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.cdf[mid]! < r) lo = mid + 1;
        else hi = mid;
      }
      add(lo);
    }
    const candidates = Int32Array.from(index.keys());
    const logQ = Float32Array.from(candidates, (c) => Math.log(Math.max(1e-12, this.size * this.q[c]!)));
    const position = Int32Array.from(targets, (t) => (t >= 0 ? index.get(t)! : -1));
    return { candidates, logQ, position };
  }
}

const uniform = (rng: Rng, n: number, limit: number) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * limit);
const glorot = (rng: Rng, rows: number, cols: number) => uniform(rng, rows * cols, Math.sqrt(6 / (rows + cols)));

/** Initial parameters, every random draw from the seeded generator (identical on every machine and backend). */
export function initNextView(itemCount: number, popularity: Float64Array, opts: NextViewOptions): NextViewParams {
  const rng = createRng(opts.seed ?? 1);
  const dims = opts.dims ?? 64;
  const hidden = opts.hidden ?? 64;
  const items = uniform(rng, (itemCount + 1) * dims, 0.05);
  items.fill(0, 0, dims);
  if (opts.init) {
    if (opts.init.length !== itemCount * dims) throw new Error(`init has ${opts.init.length} values, expected ${itemCount}×${dims}`);
    for (let i = 0; i < itemCount * dims; i++) items[dims + i] = 0.5 * opts.init[i]!;
  }
  const total = popularity.reduce((a, b) => a + b, 0);
  const bias = Float32Array.from(popularity, (c) => Math.log((c + 1) / (total + itemCount)));
  // Unnamed: TF.js variable names are global, and several models may train in one process (the eval).
  const v = (_name: string, values: Float32Array, shape: number[]) => tf.variable(tf.tensor(values, shape), true);
  const gate = (name: string, rows: number) => v(name, glorot(rng, rows, hidden), [rows, hidden]);
  return {
    items: v('items', items, [itemCount + 1, dims]),
    itemBias: v('itemBias', bias, [itemCount]),
    Wz: gate('Wz', dims), Wr: gate('Wr', dims), Wn: gate('Wn', dims),
    Uz: gate('Uz', hidden), Ur: gate('Ur', hidden), Un: gate('Un', hidden),
    bz: v('bz', new Float32Array(hidden), [hidden]), br: v('br', new Float32Array(hidden), [hidden]), bn: v('bn', new Float32Array(hidden), [hidden]),
    out: v('out', glorot(rng, hidden, dims), [hidden, dims]),
    outBias: v('outBias', new Float32Array(dims), [dims]),
  } as unknown as NextViewParams;
}

/** A training run's fixed parts: the model, its optimizer, and the chunks it learns from. */
interface Training {
  params: NextViewParams;
  vars: tf.Variable[];
  optimizer: tf.Optimizer;
  itemCount: number;
  /** Sampled softmax above `sampledAbove` items; the full softmax without. */
  sampler?: NegativeSampler;
  chunks: Int32Array;
  /** Items each chunk reads: chunks are `maxLength + 1` wide. */
  maxLength: number;
  batch: number;
}

/**
 * Trains the next-view model on sessions (lists of item indices), GRU4Rec style: each chunk of a
 * session runs through the GRU once and every position predicts the item viewed next, full softmax
 * over the catalog. Seeded shuffling and initialisation: the same sessions give the same weights.
 */
export async function trainNextView(sessions: Iterable<ArrayLike<number>>, itemCount: number, opts: NextViewOptions): Promise<TrainedNextView> {
  const L = opts.maxLength;
  const { chunks, count, positions } = sessionChunks(sessions, L, opts.maxExamples ?? 500_000);
  const popularity = chunkPopularity(chunks, L + 1, itemCount);
  const params = initNextView(itemCount, popularity, opts);
  const vars = PARAM_NAMES.map((n) => params[n] as unknown as tf.Variable);
  const optimizer = tf.train.adam(opts.learningRate ?? 3e-3);
  const rng = createRng((opts.seed ?? 1) + 101);
  const negatives = opts.sampledAbove ?? 2048;
  const sampler = itemCount > negatives ? new NegativeSampler(popularity, negatives, createRng((opts.seed ?? 1) + 202)) : undefined;
  // About a thousand positions per step: large enough to keep TF.js's per-op cost small.
  const run: Training = { params, vars, optimizer, itemCount, sampler, chunks, maxLength: L, batch: opts.batchSize ?? Math.max(16, Math.round(1024 / L)) };
  const order = Int32Array.from({ length: count }, (_, i) => i);
  const scores: number[] = [];
  let best: { epoch: number; score: number; weights: tf.Tensor[] } | undefined;
  let epochsRun = 0;
  try {
    // Small logs need more passes (measured on the DIGINETICA sample, 7k positions: MRR@20 of new
    // items 0.065 after 6 epochs, 0.091 after 20); large ones get enough from 6. About 200k positions in all.
    const epochs = opts.epochs ?? Math.max(6, Math.min(30, Math.round(200_000 / Math.max(1, positions))));
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffleInPlace(order, rng);
      const loss = await trainEpoch(run, order);
      epochsRun = epoch + 1;
      if (!opts.validate) {
        opts.onEpoch?.(epoch, loss);
        continue;
      }
      const score = await opts.validate(params);
      scores.push(score);
      opts.onEpoch?.(epoch, loss, score);
      if (!best || score > best.score) {
        tf.dispose(best?.weights);
        best = { epoch, score, weights: vars.map((v) => v.clone()) };
      } else if (epoch - best.epoch >= (opts.patience ?? 2)) break;
    }
  } finally {
    optimizer.dispose();
  }
  if (best) {
    vars.forEach((v, k) => v.assign(best!.weights[k]!));
    tf.dispose(best.weights);
    return { params, epochs: best.epoch + 1, scores };
  }
  return { params, epochs: epochsRun, scores };
}

/** How often each item is a target (any position after a chunk's first), from `width`-wide chunks. */
function chunkPopularity(chunks: Int32Array, width: number, itemCount: number): Float64Array {
  const popularity = new Float64Array(itemCount);
  const count = chunks.length / width;
  for (let k = 0; k < count; k++) for (let j = 1; j < width; j++) if (chunks[k * width + j]) popularity[chunks[k * width + j]! - 1]!++;
  return popularity;
}

/** One pass over the chunks in `order`, a batch a step; returns the mean loss per target. */
async function trainEpoch(run: Training, order: Int32Array): Promise<number> {
  const width = run.maxLength + 1;
  const buf = new Int32Array(run.batch * width);
  let total = 0;
  let weight = 0;
  for (let s = 0; s < order.length; s += run.batch) {
    const m = Math.min(run.batch, order.length - s);
    for (let k = 0; k < m; k++) buf.set(run.chunks.subarray(order[s + k]! * width, (order[s + k]! + 1) * width), k * width);
    const { inputs, target, mask, n } = batchArrays(buf, m, run.maxLength);
    const x = tf.tensor2d(inputs, [m, run.maxLength], 'int32');
    const w = tf.tensor1d(mask);
    const loss = minimizeBatch(run, x, target, w);
    total += (await loss.data())[0]! * n;
    weight += n;
    tf.dispose([loss, x, w]);
  }
  return total / Math.max(1, weight);
}

/**
 * A batch of `m` chunks (the first `m` rows of `buf`) as model inputs: each chunk's first `L`
 * items. Targets, time-major to match the stacked states (row t·m + b is step t of chunk b): the
 * item after, −1 (an all-zero one-hot, weight 0) for padding. `n`: the targets that are not padding.
 */
function batchArrays(buf: Int32Array, m: number, L: number): { inputs: Int32Array; target: Int32Array; mask: Float32Array; n: number } {
  const width = L + 1;
  const inputs = new Int32Array(m * L);
  const target = new Int32Array(m * L);
  const mask = new Float32Array(m * L);
  let n = 0;
  for (let b = 0; b < m; b++) {
    for (let t = 0; t < L; t++) {
      inputs[b * L + t] = buf[b * width + t]!;
      const next = buf[b * width + t + 1]!;
      target[t * m + b] = next - 1;
      if (next) (mask[t * m + b] = 1), n++;
    }
  }
  return { inputs, target, mask, n };
}

/** One optimizer step on a batch; returns its loss (the caller disposes it). */
function minimizeBatch(run: Training, x: tf.Tensor2D, target: Int32Array, w: tf.Tensor1D): tf.Scalar {
  const { params, optimizer, vars, sampler } = run;
  if (sampler) {
    const { candidates, logQ, position } = sampler.draw(target);
    const cand = tf.tensor1d(candidates, 'int32');
    const correction = tf.tensor1d(logQ);
    const y = tf.oneHot(tf.tensor1d(position, 'int32'), candidates.length);
    const loss = optimizer.minimize(
      () => {
        const states = tf.concat(gruStates(params, x), 0) as tf.Tensor2D;
        return weightedSoftmaxCrossEntropy(tf.sub(candidateLogits(params, states, cand), correction) as tf.Tensor2D, y as tf.Tensor2D, w);
      },
      true,
      vars,
    )!;
    tf.dispose([cand, correction, y]);
    return loss;
  }
  const y = tf.oneHot(tf.tensor1d(target, 'int32'), run.itemCount);
  const loss = optimizer.minimize(
    () => weightedSoftmaxCrossEntropy(itemLogits(params, tf.concat(gruStates(params, x), 0) as tf.Tensor2D), y as tf.Tensor2D, w),
    true,
    vars,
  )!;
  y.dispose();
  return loss;
}

/** Parameter count (what the model costs, next to seed §1's one-hot network). */
export function countParams(p: NextViewParams): number {
  return PARAM_NAMES.reduce((a, name) => a + p[name].size, 0);
}
