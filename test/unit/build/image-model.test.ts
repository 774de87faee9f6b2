import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadImageModel } from '../../../src/build/image-model.js';
import { initNodeTf } from '../../../src/build/node-tf.js';
import { saveLayers } from '../../../src/model/model-io.js';

const dir = mkdtempSync(join(tmpdir(), 'vitrine-image-model-'));
const red = { data: new Uint8Array(16 * 8 * 4).map((_, i) => (i % 4 === 0 || i % 4 === 3 ? 255 : 0)), width: 16, height: 8, channels: 4 as const };

beforeAll(async () => {
  await initNodeTf();
});

describe('loadImageModel', () => {
  it('takes a graph model (a converted SavedModel) and pools a feature map over space', async () => {
    // The smallest graph model there is: the image's mean colour.
    writeFileSync(join(dir, 'graph.json'), JSON.stringify({
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'image', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '3' }] } } } },
          { name: 'axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: { dim: [{ size: '2' }] } } } } },
          { name: 'mean', op: 'Mean', input: ['image', 'axes'], attr: { keep_dims: { b: false }, T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' } } },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [{ paths: ['graph.bin'], weights: [{ name: 'axes', shape: [2], dtype: 'int32' }] }],
    }));
    writeFileSync(join(dir, 'graph.bin'), new Uint8Array(new Int32Array([1, 2]).buffer));
    const m = await loadImageModel(join(dir, 'graph.json'), { size: 32, range: [-1, 1] });
    expect([m.format, m.spec.size, m.spec.range]).toEqual(['graph', 32, [-1, 1]]);
    const f = await m.backbone.features([red]);
    expect(Array.from(f).map((x) => Math.round(x * 100) / 100)).toEqual([1, -1, -1]);
    expect(JSON.parse(m.files.json).weightsManifest[0].paths).toEqual(['weights.bin']);
  });

  it('cuts a layers model at a named layer and reads its input size', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [20, 20, 3], filters: 4, kernelSize: 3, name: 'conv' }),
        tfl.layers.globalAveragePooling2d({ name: 'pool' }),
        tfl.layers.dense({ units: 10, activation: 'softmax', name: 'classes' }),
      ],
    });
    const saved = await saveLayers(model, 'layers.bin');
    writeFileSync(join(dir, 'layers.json'), saved.json);
    writeFileSync(join(dir, 'layers.bin'), saved.weights);
    const m = await loadImageModel(join(dir, 'layers.json'), { layer: 'pool' });
    expect([m.format, m.spec.size]).toEqual(['layers', 20]);
    expect((await m.backbone.features([red, red])).length).toBe(2 * 4);
    await expect(loadImageModel(join(dir, 'layers.json'), { layer: 'nope' })).rejects.toThrow(/has no layer "nope"/);
  });

  it('names a missing model, a non-model and missing weights', async () => {
    await expect(loadImageModel(join(dir, 'none.json'))).rejects.toThrow(/--image-model .*none\.json: no such file/);
    writeFileSync(join(dir, 'junk.json'), '{"hello": 1}');
    await expect(loadImageModel(join(dir, 'junk.json'))).rejects.toThrow(/not a TF\.js model\.json/);
    writeFileSync(join(dir, 'orphan.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['gone.bin'], weights: [] }] }));
    await expect(loadImageModel(join(dir, 'orphan.json'))).rejects.toThrow(/its weights file gone\.bin is missing/);
  });
});
