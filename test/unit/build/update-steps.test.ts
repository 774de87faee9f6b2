import { describe, expect, it } from 'vitest';
import { growItemTable } from '../../../src/build/update-steps.js';
import { decodeTensors, encodeTensors } from '../../../src/bundle/tensor-file.js';

describe('growItemTable', () => {
  it('gives new products zero rows and a bias below every other, keeping the rest as stored', () => {
    const items = Float32Array.from({ length: 4 * 2 }, (_, i) => (i % 5) - 2); // 3 items + padding row, 2 dims
    const bias = Float32Array.from([0.5, -1, 2]);
    const out = Float32Array.from([1, 2, 3, 4]);
    const { header, data } = encodeTensors(
      [
        { name: 'items', shape: [4, 2], data: items, storage: 'int8' },
        { name: 'itemBias', shape: [3], data: bias, storage: 'float16' },
        { name: 'out', shape: [2, 2], data: out, storage: 'float16' },
      ],
      { kind: 'test', items: 3 },
    );
    const grown = growItemTable(header, data, 5, 'next-view/model.json');
    expect(grown.header.config.items).toBe(5);
    expect(grown.header.tensors.map((t) => [t.name, t.storage])).toEqual(header.tensors.map((t) => [t.name, t.storage]));
    const before = decodeTensors(header, data.slice().buffer);
    const after = decodeTensors(grown.header, grown.data.slice().buffer);
    expect(after.get('items')!.shape).toEqual([6, 2]);
    expect([...after.get('items')!.data.subarray(0, 8)]).toEqual([...before.get('items')!.data]);
    expect([...after.get('items')!.data.subarray(8)]).toEqual([0, 0, 0, 0]);
    const b = after.get('itemBias')!.data;
    expect([...b.subarray(0, 3)]).toEqual([...before.get('itemBias')!.data]);
    expect(b[3]).toBeLessThan(Math.min(...b.subarray(0, 3)) - 10);
    expect(b[4]).toBe(b[3]);
    expect([...after.get('out')!.data]).toEqual([...before.get('out')!.data]);
  });
});
