#!/usr/bin/env node
// Writes models/mobilenet_v2/{model.json,weights.bin}: the MobileNetV2 backbone shipped by the
// `nsfwjs` npm package (MIT). The package wraps model.json and the uint8-quantized weights in UMD
// scripts; we unwrap them, drop the classifier layers and their weights, and write a plain TF.js
// layers model both the builder and the browser load.
//
// Its output is multi-scale: the global average of the last feature map (1280-d) concatenated with
// the global averages of three intermediate blocks (320 + 576 + 96 = 2272-d in all). Measured on
// Fashion-MNIST (train-split head, test-split precision@10): the last layer alone 0.75, with the
// intermediate blocks 0.85 — texture and shape cues live below the ImageNet-specific top. Global
// pooling also frees the input size (`--image-size`): 96 px embeds 5x faster than 224 px.
// Deterministic: the same nsfwjs version gives byte-identical files.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const CUT = 'flatten_1';
const LAST = 'out_relu';
const TAPS = ['block_16_project_BN', 'block_13_expand_relu', 'block_12_add'];
const BYTES = { uint8: 1, uint16: 2, float16: 2, float32: 4, int32: 4 };

const out = process.argv[2] ?? 'models/mobilenet_v2';
const src = 'nsfwjs/dist/models/mobilenet_v2/';
// The package's `exports` hide these files from require(name/path): resolve its root instead.
const root = require.resolve('nsfwjs').replace(/dist[\\/].*$/, '');
const topo = require(join(root, src.slice('nsfwjs/'.length), 'model.min.js'));
const b64 = require(join(root, src.slice('nsfwjs/'.length), 'group1-shard1of1.min.js'));
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const data = Buffer.from(b64, 'base64');

const cfg = topo.modelTopology.model_config.config;
const cut = cfg.layers.findIndex((l) => l.name === CUT);
if (cut < 0) throw new Error(`${src}: layer ${CUT} not found`);
// Keep the convolutional trunk; the fixed 7x7 average pool and the flatten become global pools.
cfg.layers = cfg.layers.slice(0, cut + 1).filter((l) => l.name !== CUT && l.class_name !== 'AveragePooling2D');
for (const name of [LAST, ...TAPS]) {
  if (!cfg.layers.some((l) => l.name === name)) throw new Error(`${src}: layer ${name} not found`);
}
cfg.layers[0].config.batch_input_shape = [null, null, null, 3];
const pools = [LAST, ...TAPS].map((name, i) => ({
  name: `pool_${i}`,
  class_name: 'GlobalAveragePooling2D',
  config: { name: `pool_${i}`, trainable: false, data_format: 'channels_last' },
  inbound_nodes: [[[name, 0, 0, {}]]],
}));
cfg.layers.push(...pools, {
  name: 'features',
  class_name: 'Concatenate',
  config: { name: 'features', trainable: false, axis: -1 },
  inbound_nodes: [pools.map((p) => [p.name, 0, 0, {}])],
});
cfg.output_layers = [['features', 0, 0]];
const kept = new Set(cfg.layers.map((l) => l.name));

const specs = [];
const parts = [];
let offset = 0;
for (const w of topo.weightsManifest[0].weights) {
  const n = w.shape.reduce((a, b) => a * b, 1) * BYTES[w.quantization?.dtype ?? w.dtype];
  if (kept.has(w.name.split('/')[0])) {
    specs.push(w);
    parts.push(data.subarray(offset, offset + n));
  }
  offset += n;
}
if (offset !== data.length) throw new Error(`${src}: weights are ${data.length} bytes, manifest says ${offset}`);
delete topo.modelTopology.training_config;

mkdirSync(out, { recursive: true });
const weights = Buffer.concat(parts);
writeFileSync(join(out, 'weights.bin'), weights);
writeFileSync(
  join(out, 'model.json'),
  JSON.stringify({
    format: 'layers-model',
    generatedBy: `nsfwjs ${version} mobilenet_v2, pooled at ${[LAST, ...TAPS].join(', ')}`,
    modelTopology: topo.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  }),
);
console.log(`${out}: MobileNetV2 backbone, ${specs.length} weight tensors, ${weights.length} bytes`);
