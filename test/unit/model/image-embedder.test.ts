import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeTf } from '../../../src/build/node-tf.js';
import { trainPairModel } from '../../../src/build/train-pair.js';
import { Backbone, ImageEmbedder } from '../../../src/model/image-embedder.js';
import { saveLayers, type ModelArtifacts } from '../../../src/model/model-io.js';
import { createRng } from '../../../src/recommend/rng.js';

beforeAll(async () => {
  await initNodeTf();
});

const spec = { size: 8, range: [0, 1] as const };
const artifacts = async (model: tfl.LayersModel): Promise<ModelArtifacts> => {
  const saved = await saveLayers(model, 'weights.bin');
  model.dispose();
  return { modelJson: JSON.parse(saved.json), weights: saved.weights.slice().buffer };
};
/** A tiny CNN backbone (8 × 8 RGB in, 6 features out) and heads that do or do not fit it. */
const backbone = () => artifacts(tfl.sequential({ layers: [tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 6, kernelSize: 3 }), tfl.layers.globalAveragePooling2d({})] }));
const head = (inputs: number) => artifacts(tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [inputs], units: 4, useBias: false })] }));
const pixels = { data: new Uint8Array(8 * 8 * 4).fill(128), width: 8, height: 8, channels: 4 as const };

describe('ImageEmbedder', () => {
  it('frees every tensor after loads that succeed and loads that fail (a head that does not fit, a head that does not load)', async () => {
    const [b, good, wrong] = await Promise.all([backbone(), head(6), head(7)]);
    const broken: ModelArtifacts = { modelJson: good.modelJson, weights: new ArrayBuffer(3) };
    const start = tf.memory().numTensors;
    for (let round = 0; round < 3; round++) {
      const e = await ImageEmbedder.load(await Backbone.load(b, 'layers', spec), good);
      expect(await e.embed([pixels])).toHaveLength(4);
      e.dispose();
      // The backbone is handed over: a failed load disposes it with the head.
      await expect(ImageEmbedder.load(await Backbone.load(b, 'layers', spec), wrong)).rejects.toThrow();
      await expect(ImageEmbedder.load(await Backbone.load(b, 'layers', spec), broken)).rejects.toThrow();
      expect(tf.memory().numTensors, `after round ${round}`).toBe(start);
    }
  });
});

describe('trainPairModel', () => {
  it('frees its tensors when training fails half-way, as when it succeeds', async () => {
    const n = 24;
    const rng = createRng(2);
    const data = {
      visual: Float32Array.from({ length: n * 4 }, () => rng.next()), visualDims: 4,
      categories: Int32Array.from({ length: n }, (_, i) => 1 + (i % 2)), categoryCount: 2,
      words: Array.from({ length: n }, (_, i) => [i % 8]),
      positives: Array.from({ length: 40 }, (_, i) => [i % n, (i * 7 + 1) % n]),
    };
    const start = tf.memory().numTensors;
    for (let round = 0; round < 2; round++) {
      const ok = await trainPairModel(data, { buckets: 16, seed: round, epochs: 2 });
      ok.dispose();
      expect(tf.memory().numTensors).toBe(start);
      await expect(trainPairModel(data, { buckets: 16, seed: round, epochs: 3, onEpoch: (e) => { if (e === 1) throw new Error('interrupted'); } })).rejects.toThrow('interrupted');
      expect(tf.memory().numTensors, `after a failed training, round ${round}`).toBe(start);
    }
  });
});
