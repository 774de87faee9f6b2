import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng, type Rng } from '../recommend/rng.js';
import { matMul } from '../model/next-view.js';
import { weightedSoftmaxCrossEntropy } from './train-next.js';

export interface HeadOptions {
  /** Embedding dimension shipped in the bundle. */
  dims: number;
  hidden?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** L2 weight decay on the head's kernels. */
  l2?: number;
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

/**
 * Adapts the generic backbone to the catalog (seed §3, "retrain for another objective"): a small
 * classifier over frozen backbone features learns the catalog's own categories; its penultimate
 * layer is the product embedding. Trained with TF.js core ops, a seeded loop and the fast matMul
 * (tf.layers' Dense gradients take wasm's slow transposed path); the weights then go into a
 * tf.layers model, which the bundle stores and the browser loads.
 */
export async function trainProjectionHead(features: readonly Float32Array[], labels: readonly number[], opts: HeadOptions): Promise<TrainedHead> {
  const seed = opts.seed ?? 1;
  const rng = createRng(seed);
  const classes = Math.max(...labels) + 1;
  const inDims = features[0]!.length;
  const hidden = opts.hidden ?? 256;
  const v = (values: Float32Array, shape: number[]) => tf.variable(tf.tensor(values, shape), true);
  const W1 = v(glorot(rng, inDims, hidden), [inDims, hidden]);
  const b1 = v(new Float32Array(hidden), [hidden]);
  const W2 = v(glorot(rng, hidden, opts.dims), [hidden, opts.dims]);
  const b2 = v(new Float32Array(opts.dims), [opts.dims]);
  const W3 = v(glorot(rng, opts.dims, classes), [opts.dims, classes]);
  const b3 = v(new Float32Array(classes), [classes]);
  const embed = (x: tf.Tensor2D) => tf.add(matMul(tf.relu(tf.add(matMul(x, W1 as tf.Tensor2D), b1)) as tf.Tensor2D, W2 as tf.Tensor2D), b2) as tf.Tensor2D;
  const logits = (x: tf.Tensor2D) => tf.add(matMul(embed(x), W3 as tf.Tensor2D), b3) as tf.Tensor2D;

  const n = features.length;
  const x = tf.tensor2d(concatRows(features), [n, inDims]);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), classes);
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
  const batchSize = opts.batchSize ?? 128;
  const l2 = opts.l2 ?? 1e-4;
  // Small catalogs need passes over the data; large ones get enough from fewer: about 2,500 steps.
  const epochs = opts.epochs ?? Math.max(5, Math.min(60, Math.round((2500 * batchSize) / n)));
  const order = Int32Array.from({ length: n }, (_, i) => i);
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      let total = 0;
      for (let s = 0; s < n; s += batchSize) {
        const m = Math.min(batchSize, n - s);
        const idx = tf.tensor1d(order.subarray(s, s + m), 'int32');
        const xb = tf.gather(x, idx) as tf.Tensor2D;
        const yb = tf.gather(y, idx) as tf.Tensor2D;
        const ones = tf.ones([m]) as tf.Tensor1D;
        const loss = optimizer.minimize(
          () => tf.add(weightedSoftmaxCrossEntropy(logits(xb), yb, ones), tf.mul(l2, tf.add(tf.sum(tf.square(W1)), tf.sum(tf.square(W2))))) as tf.Scalar,
          true,
          [W1, b1, W2, b2, W3, b3],
        )!;
        total += (await loss.data())[0]! * m;
        tf.dispose([loss, idx, xb, yb, ones]);
      }
      opts.onEpoch?.(epoch, total / n);
    }
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
  }
  const head = tfl.sequential({
    name: 'vitrine_head',
    layers: [
      tfl.layers.dense({ inputShape: [inDims], units: hidden, activation: 'relu', name: 'head_hidden' }),
      tfl.layers.dense({ units: opts.dims, name: 'embedding' }),
    ],
  });
  head.layers[0]!.setWeights([W1, b1]);
  head.layers[1]!.setWeights([W2, b2]);
  return {
    head,
    classify: (rows) =>
      tf.tidy(() => tf.softmax(logits(tf.tensor2d(concatRows(rows), [rows.length, inDims]))).dataSync() as Float32Array),
    dispose: () => tf.dispose([W1, b1, W2, b2, W3, b3]),
  };
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
