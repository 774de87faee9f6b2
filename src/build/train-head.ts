import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng, shuffleInPlace, type Rng } from '../recommend/rng.js';
import { matMul } from '../model/next-view.js';
import { weightedSoftmaxCrossEntropy } from './train-next.js';

export interface HeadOptions {
  /** Embedding dimension shipped in the bundle. */
  dims: number;
  hidden?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** L2 weight decay on the head's kernels (default 0: dropout regularises). */
  l2?: number;
  /** Dropout on the hidden layer while training (default 0.3). */
  dropout?: number;
  /** Cosine-softmax temperature: logits are `scale · cos` (default 16). */
  scale?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface TrainedHead {
  /** Backbone features in, `dims`-d embedding out (unnormalised; the browser normalises as the builder does). */
  head: tfl.LayersModel;
  /** Class probabilities for backbone features: the catalog lint's category predictions. */
  classify(features: readonly Float32Array[]): Float32Array;
  dispose(): void;
}

/** Row-major matrix from equal-length rows. */
export function concatRows(rows: readonly Float32Array[]): Float32Array {
  const dims = rows[0]?.length ?? 0;
  const m = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => m.set(r, i * dims));
  return m;
}

const glorot = (rng: Rng, rows: number, cols: number) => Float32Array.from({ length: rows * cols }, () => (rng.next() * 2 - 1) * Math.sqrt(6 / (rows + cols)));

/** Per-feature mean and standard deviation over the training rows (a constant feature gets std 1). */
export function featureStats(features: readonly Float32Array[]): { mean: Float32Array; std: Float32Array } {
  const dims = features[0]!.length;
  const mean = new Float64Array(dims);
  const sq = new Float64Array(dims);
  for (const r of features) for (let d = 0; d < dims; d++) mean[d]! += r[d]!;
  for (let d = 0; d < dims; d++) mean[d]! /= features.length;
  for (const r of features) for (let d = 0; d < dims; d++) sq[d]! += (r[d]! - mean[d]!) ** 2;
  const std = Float32Array.from(sq, (s) => {
    const v = Math.sqrt(s / features.length);
    return v > 1e-6 ? v : 1;
  });
  return { mean: Float32Array.from(mean), std };
}

/**
 * Adapts the generic backbone to the catalog (seed §3, "retrain for another objective"): a small
 * classifier over frozen backbone features learns the catalog's own categories; its penultimate
 * layer is the product embedding.
 *
 * The classifier is a cosine softmax: logits are `scale · cos(embedding, class weight)`, so training
 * shapes exactly the angles the nearest-neighbour search later compares (a plain softmax also
 * rewards embedding length, which search throws away). Inputs are standardised per feature — the
 * backbone's multi-scale features differ in scale by orders of magnitude — and the standardisation
 * is folded into the first layer's weights, so the shipped head takes raw backbone features.
 * Measured on Fashion-MNIST (test-split precision@10, 20k training images): plain softmax on raw
 * features 0.75, this head 0.85.
 *
 * Trained with TF.js core ops, a seeded loop and the fast matMul (tf.layers' Dense gradients take
 * wasm's slow transposed path); the weights then go into a tf.layers model, which the bundle stores
 * and the browser loads.
 */
export async function trainProjectionHead(features: readonly Float32Array[], labels: readonly number[], opts: HeadOptions): Promise<TrainedHead> {
  const rng = createRng(opts.seed ?? 1);
  const classes = Math.max(...labels) + 1;
  const inDims = features[0]!.length;
  const net = headNetwork(featureStats(features), classes, opts, rng);
  const n = features.length;
  const x = tf.tidy(() => net.standardize(tf.tensor2d(concatRows(features), [n, inDims])));
  const y = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), classes);
  try {
    await fitHead(net, x, y, opts, rng);
  } finally {
    tf.dispose([x, y]);
  }
  return {
    head: layersHead(net),
    classify: (rows) =>
      tf.tidy(() => tf.softmax(net.logits(net.standardize(tf.tensor2d(concatRows(rows), [rows.length, inDims])))).dataSync() as Float32Array),
    dispose: () => tf.dispose([net.W1, net.b1, net.W2, net.b2, net.W3, net.meanT, net.stdT]),
  };
}

/** The classifier being trained: its weights, the feature standardisation, and its logits. */
interface HeadNetwork {
  W1: tf.Variable;
  b1: tf.Variable;
  W2: tf.Variable;
  b2: tf.Variable;
  /** The class weights (the cosine softmax's), `dims × classes`. */
  W3: tf.Variable;
  meanT: tf.Tensor1D;
  stdT: tf.Tensor1D;
  standardize(x: tf.Tensor2D): tf.Tensor2D;
  /** `scale · cos(embedding, class weight)`; with `dropSeed`, dropout on the hidden layer (training). */
  logits(x: tf.Tensor2D, dropSeed?: number): tf.Tensor2D;
}

/** The network, its weights drawn from `rng`. */
function headNetwork({ mean, std }: { mean: Float32Array; std: Float32Array }, classes: number, opts: HeadOptions, rng: Rng): HeadNetwork {
  const inDims = mean.length;
  const hidden = opts.hidden ?? 256;
  const scale = opts.scale ?? 16;
  const dropout = opts.dropout ?? 0.3;
  const v = (values: Float32Array, shape: number[]) => tf.variable(tf.tensor(values, shape), true);
  const W1 = v(glorot(rng, inDims, hidden), [inDims, hidden]);
  const b1 = v(new Float32Array(hidden), [hidden]);
  const W2 = v(glorot(rng, hidden, opts.dims), [hidden, opts.dims]);
  const b2 = v(new Float32Array(opts.dims), [opts.dims]);
  const W3 = v(glorot(rng, opts.dims, classes), [opts.dims, classes]);
  const meanT = tf.tensor1d(mean);
  const stdT = tf.tensor1d(std);
  const standardize = (x: tf.Tensor2D) => tf.div(tf.sub(x, meanT), stdT) as tf.Tensor2D;
  const embed = (x: tf.Tensor2D, dropSeed?: number) => {
    let h = tf.relu(tf.add(matMul(x, W1 as tf.Tensor2D), b1)) as tf.Tensor2D;
    if (dropSeed !== undefined && dropout > 0) h = tf.dropout(h, dropout, undefined, dropSeed) as tf.Tensor2D;
    return tf.add(matMul(h, W2 as tf.Tensor2D), b2) as tf.Tensor2D;
  };
  const unit = (t: tf.Tensor2D, axis: number) => tf.div(t, tf.add(tf.norm(t, 2, axis, true), 1e-8)) as tf.Tensor2D;
  const logits = (x: tf.Tensor2D, dropSeed?: number) =>
    tf.mul(matMul(unit(embed(x, dropSeed), 1), unit(W3 as tf.Tensor2D, 0)), scale) as tf.Tensor2D;
  return { W1, b1, W2, b2, W3, meanT, stdT, standardize, logits };
}

/** Adam on shuffled batches of the standardised features `x` against one-hot `y`; dropout seeded per step. */
async function fitHead(net: HeadNetwork, x: tf.Tensor2D, y: tf.Tensor, opts: HeadOptions, rng: Rng): Promise<void> {
  const { W1, b1, W2, b2, W3 } = net;
  const seed = opts.seed ?? 1;
  const n = x.shape[0];
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
  const batchSize = opts.batchSize ?? 128;
  const l2 = opts.l2 ?? 0;
  // Small catalogs need passes over the data; large ones get enough from fewer: about 3,000 steps.
  const epochs = opts.epochs ?? Math.max(5, Math.min(60, Math.round((3000 * batchSize) / n)));
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let step = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffleInPlace(order, rng);
      let total = 0;
      for (let s = 0; s < n; s += batchSize) {
        const m = Math.min(batchSize, n - s);
        const idx = tf.tensor1d(order.subarray(s, s + m), 'int32');
        const xb = tf.gather(x, idx) as tf.Tensor2D;
        const yb = tf.gather(y, idx) as tf.Tensor2D;
        const ones = tf.ones([m]) as tf.Tensor1D;
        const dropSeed = seed * 100003 + step++;
        const loss = optimizer.minimize(
          () => {
            const ce = weightedSoftmaxCrossEntropy(net.logits(xb, dropSeed), yb, ones);
            return (l2 > 0 ? tf.add(ce, tf.mul(l2, tf.add(tf.sum(tf.square(W1)), tf.sum(tf.square(W2))))) : ce) as tf.Scalar;
          },
          true,
          [W1, b1, W2, b2, W3],
        )!;
        total += (await loss.data())[0]! * m;
        tf.dispose([loss, idx, xb, yb, ones]);
      }
      opts.onEpoch?.(epoch, total / n);
    }
  } finally {
    optimizer.dispose();
  }
}

/** The trained embedding layers as a tf.layers model that takes raw backbone features. */
function layersHead(net: HeadNetwork): tfl.LayersModel {
  const { W1, b1, W2, b2, meanT, stdT } = net;
  const [inDims, hidden] = W1.shape as [number, number];
  const head = tfl.sequential({
    name: 'vitrine_head',
    layers: [
      tfl.layers.dense({ inputShape: [inDims], units: hidden, activation: 'relu', name: 'head_hidden' }),
      tfl.layers.dense({ units: W2.shape[1]!, name: 'embedding' }),
    ],
  });
  // Fold the standardisation into the first layer: ((x - μ) / σ)·W + b = x·(W / σ) + (b - (μ / σ)·W).
  tf.tidy(() => {
    const w = tf.div(W1, tf.reshape(stdT, [inDims, 1]));
    const b = tf.sub(b1, tf.reshape(matMul(tf.reshape(tf.div(meanT, stdT), [1, inDims]) as tf.Tensor2D, W1 as tf.Tensor2D), [hidden]));
    head.layers[0]!.setWeights([w, b]);
  });
  head.layers[1]!.setWeights([W2, b2]);
  return head;
}

/** Runs a features-in model over rows in batches; returns its outputs row-major. */
export function applyRows(model: tfl.LayersModel, features: readonly Float32Array[], batch = 512): Float32Array {
  const inDims = features[0]!.length;
  const parts: Float32Array[] = [];
  for (let s = 0; s < features.length; s += batch) {
    const part = features.slice(s, s + batch);
    parts.push(tf.tidy(() => (model.predict(tf.tensor2d(concatRows(part), [part.length, inDims])) as tf.Tensor).dataSync() as Float32Array));
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}
