import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export interface HeadOptions {
  /** Embedding dimension shipped in the bundle. */
  dims: number;
  hidden?: number;
  epochs?: number;
  seed?: number;
}

/**
 * Adapts the generic backbone to the catalog (seed §3, "retrain for another objective"): a small
 * classifier over frozen backbone features learns the catalog's own categories; its penultimate
 * layer is the product embedding. Returns the head without the classifier: backbone features in,
 * `dims`-d embedding out (the browser normalises it, as the builder does).
 */
export async function trainProjectionHead(features: Float32Array[], labels: number[], opts: HeadOptions): Promise<tfl.LayersModel> {
  const classes = Math.max(...labels) + 1;
  const inDims = features[0]!.length;
  const init = (n: number) => tfl.initializers.glorotUniform({ seed: (opts.seed ?? 1) + n });
  const input = tfl.input({ shape: [inDims], name: 'features' });
  const hidden = tfl.layers.dense({ units: opts.hidden ?? 256, activation: 'relu', name: 'head_hidden', kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  const dropped = tfl.layers.dropout({ rate: 0.3, seed: opts.seed, name: 'head_dropout' }).apply(hidden) as tfl.SymbolicTensor;
  const embedding = tfl.layers.dense({ units: opts.dims, name: 'embedding', kernelInitializer: init(2) }).apply(dropped) as tfl.SymbolicTensor;
  const probs = tfl.layers.dense({ units: classes, activation: 'softmax', name: 'classes', kernelInitializer: init(3) }).apply(embedding) as tfl.SymbolicTensor;
  const classifier = tfl.model({ inputs: input, outputs: probs });
  classifier.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

  const x = tf.tensor2d(concatRows(features), [features.length, inDims]);
  const y = tf.tensor2d(labels, [labels.length, 1]);
  try {
    await classifier.fit(x, y, { epochs: opts.epochs ?? 40, batchSize: 64, shuffle: true, verbose: 0 });
  } finally {
    x.dispose();
    y.dispose();
  }
  return tfl.model({ inputs: input, outputs: embedding, name: 'vitrine_head' });
}

export function concatRows(rows: Float32Array[]): Float32Array {
  const dims = rows[0]?.length ?? 0;
  const m = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => m.set(r, i * dims));
  return m;
}

/** Runs the head over backbone features in batches; returns the raw (unnormalised) embeddings. */
export function applyHead(head: tfl.LayersModel, features: Float32Array[]): Float32Array {
  const inDims = features[0]!.length;
  return tf.tidy(() => {
    const out = head.predict(tf.tensor2d(concatRows(features), [features.length, inDims])) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}
