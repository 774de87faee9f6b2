/**
 * Worker side of test/e2e/tensor-leaks.spec.ts (bundled with esbuild by the spec): the demo bundle's
 * image embedder loaded through the widget's own reader and runtime, then queries that succeed and
 * queries and loads that fail, counting TF.js tensors after each phase.
 */
import * as tf from '@tensorflow/tfjs-core';
import { openBundle } from '../../../src/bundle/reader.js';
import { Backbone, ImageEmbedder, selectBackend } from '../../../src/model/runtime.js';
import type { Pixels } from '../../../src/model/image-embedder.js';

const image = (side: number, channels: 1 | 3 | 4, seed: number): Pixels => {
  const data = new Uint8Array(side * side * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 7) & 255;
  return { data, width: side, height: side, channels };
};

self.onmessage = async (e: MessageEvent<{ base: string; rounds: number }>) => {
  const { base, rounds } = e.data;
  try {
    await selectBackend('wasm', { wasmBase: `${base}dist/` });
    const bundle = await openBundle(`${base}models/demo/manifest.json`);
    const m = bundle.manifest.imageModel!;
    const spec = { size: m.inputSize, range: m.inputRange ?? ([0, 1] as const) };
    const [backbone, head] = await Promise.all([bundle.model(m.backbone), bundle.model(m.head)]);
    const start = tf.memory().numTensors;
    const embedder = await ImageEmbedder.load(await Backbone.load(backbone, m.backbone.format === 'graph' ? 'graph' : 'layers', spec), head);
    const loaded = tf.memory().numTensors;
    const failures: string[] = [];
    for (let r = 0; r < rounds; r++) {
      await embedder.embed([image(40, 3, r)]);
      // A failing query: an image whose pixels do not fill its size.
      await embedder.embed([{ data: new Uint8Array(7), width: 40, height: 40, channels: 3 }]).then(() => failures.push('a short image was embedded'), () => {});
    }
    const afterQueries = tf.memory().numTensors;
    embedder.dispose();
    const disposed = tf.memory().numTensors;
    // Failing loads: a head whose weights are cut short, on a fresh backbone each time.
    for (let r = 0; r < rounds; r++) {
      const net = await Backbone.load(backbone, m.backbone.format === 'graph' ? 'graph' : 'layers', spec);
      await ImageEmbedder.load(net, { ...head, weights: head.weights.slice(0, 64) }).then(() => failures.push('a broken head loaded'), () => {});
    }
    self.postMessage({ start, loaded, afterQueries, disposed, afterFailedLoads: tf.memory().numTensors, failures });
  } catch (err) {
    self.postMessage({ error: String((err as Error)?.stack ?? err) });
  }
};
