import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '../recommend/rng.js';

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
  /** Backbone features in, class probabilities out: the catalog lint's category predictions. */
  classifier: tfl.LayersModel;
}

/** Row-major matrix from equal-length rows. */
export function concatRows(rows: readonly Float32Array[]): Float32Array {
  const dims = rows[0]?.length ?? 0;
  const m = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => m.set(r, i * dims));
  return m;
}

/**
 * Adapts the generic backbone to the catalog (seed §3, "retrain for another objective"): a small
 * classifier over frozen backbone features learns the catalog's own categories; its penultimate
 * layer is the product embedding. Trained with a seeded loop (TF.js's `fit` shuffles with
 * `Math.random`), so the same inputs give the same weights.
 */
export async function trainProjectionHead(features: readonly Float32Array[], labels: readonly number[], opts: HeadOptions): Promise<TrainedHead> {
  const seed = opts.seed ?? 1;
  const classes = Math.max(...labels) + 1;
  const inDims = features[0]!.length;
  const init = (n: number) => tfl.initializers.glorotUniform({ seed: seed + n });
  const reg = () => tfl.regularizers.l2({ l2: opts.l2 ?? 1e-4 });
  const input = tfl.input({ shape: [inDims], name: 'features' });
  const hidden = tfl.layers.dense({ units: opts.hidden ?? 256, activation: 'relu', name: 'head_hidden', kernelInitializer: init(1), kernelRegularizer: reg() }).apply(input) as tfl.SymbolicTensor;
  const embedding = tfl.layers.dense({ units: opts.dims, name: 'embedding', kernelInitializer: init(2), kernelRegularizer: reg() }).apply(hidden) as tfl.SymbolicTensor;
  const probs = tfl.layers.dense({ units: classes, activation: 'softmax', name: 'classes', kernelInitializer: init(3) }).apply(embedding) as tfl.SymbolicTensor;
  const classifier = tfl.model({ inputs: input, outputs: probs, name: 'vitrine_classifier' });

  const n = features.length;
  const x = tf.tensor2d(concatRows(features), [n, inDims]);
  const y = tf.tensor1d(Int32Array.from(labels), 'int32');
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
  const rng = createRng(seed);
  const batchSize = opts.batchSize ?? 64;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  try {
    for (let epoch = 0; epoch < (opts.epochs ?? 40); epoch++) {
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      let total = 0;
      for (let s = 0; s < n; s += batchSize) {
        const idx = tf.tensor1d(order.subarray(s, Math.min(n, s + batchSize)), 'int32');
        const loss = optimizer.minimize(() =>
          tf.tidy(() => {
            const xb = tf.gather(x, idx);
            const yb = tf.oneHot(tf.gather(y, idx), classes);
            const p = classifier.apply(xb, { training: true }) as tf.Tensor;
            const ce = tf.losses.softmaxCrossEntropy(yb, tf.log(tf.clipByValue(p, 1e-7, 1)));
            const penalty = classifier.losses.length ? tf.addN(classifier.losses.map((l) => (typeof l === 'function' ? l() : l)) as tf.Scalar[]) : tf.scalar(0);
            return tf.add(ce, penalty) as tf.Scalar;
          }),
        true);
        total += (await loss!.data())[0]! * (Math.min(n, s + batchSize) - s);
        loss!.dispose();
        idx.dispose();
      }
      opts.onEpoch?.(epoch, total / n);
    }
  } finally {
    x.dispose();
    y.dispose();
    optimizer.dispose();
  }
  return { head: tfl.model({ inputs: input, outputs: embedding, name: 'vitrine_head' }), classifier };
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
