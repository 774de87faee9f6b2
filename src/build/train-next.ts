import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { encodeSequence } from '../model/next-view.js';

export interface NextViewOptions {
  /** How many of the latest items the model reads. */
  maxLength: number;
  embeddingDims?: number;
  units?: number;
  epochs?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

/**
 * The next-view model: an item embedding table and a GRU over the session so far, scored against
 * every item by a softmax layer. A few dozen numbers per item instead of seed §1's one-hot
 * network, whose size grows with the square of the catalog.
 */
export function createNextViewModel(itemCount: number, opts: NextViewOptions): tfl.LayersModel {
  const seed = opts.seed ?? 1;
  const model = tfl.sequential({ name: 'vitrine_next_view' });
  model.add(tfl.layers.embedding({
    inputDim: itemCount + 1, outputDim: opts.embeddingDims ?? 32, inputLength: opts.maxLength, maskZero: true,
    embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }), name: 'items',
  }));
  model.add(tfl.layers.gru({ units: opts.units ?? 64, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }), recurrentInitializer: tfl.initializers.orthogonal({ seed: seed + 2 }), name: 'session' }));
  model.add(tfl.layers.dense({ units: itemCount, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 3 }), name: 'next' }));
  return model;
}

/** Trains the next-view model on sessions (lists of item indices): every prefix predicts its next item. */
export async function trainNextView(sessions: readonly (readonly number[])[], itemCount: number, opts: NextViewOptions): Promise<tfl.LayersModel> {
  const xs: Int32Array[] = [];
  const ys: number[] = [];
  for (const s of sessions) {
    for (let t = 1; t < s.length; t++) {
      xs.push(encodeSequence(s.slice(0, t), opts.maxLength));
      ys.push(s[t]!);
    }
  }
  const model = createNextViewModel(itemCount, opts);
  model.compile({ optimizer: tf.train.adam(5e-3), loss: 'sparseCategoricalCrossentropy' });
  const flat = new Int32Array(xs.length * opts.maxLength);
  xs.forEach((x, i) => flat.set(x, i * opts.maxLength));
  const x = tf.tensor2d(flat, [xs.length, opts.maxLength], 'int32');
  const y = tf.tensor2d(ys, [ys.length, 1]);
  try {
    await model.fit(x, y, {
      epochs: opts.epochs ?? 6, batchSize: 256, shuffle: true, verbose: 0,
      callbacks: { onEpochEnd: async (epoch, logs) => opts.onEpoch?.(epoch, logs?.loss ?? NaN) },
    });
  } finally {
    x.dispose();
    y.dispose();
  }
  return model;
}
