/**
 * Builder throughput on one Node TF.js backend (one process per backend: TF.js's backend is global):
 * the shipped MobileNetV2 backbone over decoded images in batches of 16, as the builder's image
 * step runs it. Prints one JSON line: `{ backend, size, images, seconds, perSecond }`.
 *
 *   npx tsx test/bench/builder-images.mts --backend wasm|cpu --size 224 --images 64
 */
import { parseArgs } from 'node:util';
import { DEFAULT_IMAGE_MODEL, loadImageModel } from '../../src/build/image-model.js';
import { initNodeTf } from '../../src/build/node-tf.js';
import type { Pixels } from '../../src/model/image-embedder.js';

const { values } = parseArgs({ options: { backend: { type: 'string' }, size: { type: 'string' }, images: { type: 'string' } } });
const wanted = values.backend === 'cpu' ? 'cpu' : 'wasm';
const backend = await initNodeTf(wanted);
const size = Number(values.size ?? 224);
const images = Number(values.images ?? 64);
const model = await loadImageModel(DEFAULT_IMAGE_MODEL, { size });
// Product photos as the builder decodes them: a little larger than the input, RGB.
const side = Math.round(size * 1.5);
const photo = (seed: number): Pixels => {
  const data = new Uint8Array(side * side * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1664525 + 1013904223) >>> 0) >>> 24;
  return { data, width: side, height: side, channels: 3 };
};
const batch = Array.from({ length: 16 }, (_, i) => photo(i + 1));
await model.backbone.features(batch.slice(0, 2)); // warm-up: kernels, allocations
const t = performance.now();
for (let done = 0; done < images; done += batch.length) await model.backbone.features(batch.slice(0, Math.min(batch.length, images - done)));
const seconds = (performance.now() - t) / 1000;
process.stdout.write(JSON.stringify({ backend, size, images, seconds, perSecond: images / seconds }) + '\n');
