import { describe, expect, it } from 'vitest';
import { decodeTensors, encodeTensors, fromHalf, toHalf } from '../../../src/bundle/tensor-file.js';
import { createRng } from '../../../src/recommend/rng.js';

describe('float16', () => {
  it('round-trips representable values exactly and rounds the rest to nearest', () => {
    for (const x of [0, 1, -2, 0.5, 65504, -0.000060975551605224609, 2 ** -24]) expect(fromHalf(toHalf(x))).toBe(x);
    expect(fromHalf(toHalf(1 + 2 ** -11))).toBe(1); // a tie rounds to even
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
    const rng = createRng(4);
    for (let i = 0; i < 1000; i++) {
      const x = (rng.next() * 2 - 1) * 10;
      expect(Math.abs(fromHalf(toHalf(x)) - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 1e-7);
    }
  });
});

describe('encodeTensors / decodeTensors', () => {
  it('stores float32 exactly, float16 to 3 digits and int8 rows to half a step of their scale', () => {
    const rng = createRng(5);
    const data = Float32Array.from({ length: 6 * 5 }, () => rng.next() * 4 - 2);
    const { header, data: bytes } = encodeTensors(
      [
        { name: 'a', shape: [6, 5], data, storage: 'float32' },
        { name: 'b', shape: [6, 5], data, storage: 'float16' },
        { name: 'c', shape: [6, 5], data, storage: 'int8' },
      ],
      { kind: 'test' },
    );
    expect(bytes.byteLength).toBe(120 + 60 + 30 + 2 + 24); // int8 data padded to 4 bytes, then 6 scales
    const out = decodeTensors(header, bytes.slice().buffer);
    expect(out.get('a')!.data).toEqual(data);
    out.get('b')!.data.forEach((v, i) => expect(Math.abs(v - data[i]!)).toBeLessThan(2e-3));
    out.get('c')!.data.forEach((v, i) => expect(Math.abs(v - data[i]!)).toBeLessThanOrEqual(2 / 127 / 2 + 1e-6));
  });

  it('refuses an entry that lies outside the weights, or a foreign header', () => {
    const { header, data } = encodeTensors([{ name: 'w', shape: [4], data: new Float32Array(4), storage: 'float32' }], {});
    expect(() => decodeTensors({ ...header, tensors: [{ ...header.tensors[0]!, shape: [5] }] }, data.slice().buffer, 'm.json')).toThrow(/m\.json: w \(float32, 5\) lies outside the 16-byte weights file/);
    expect(() => decodeTensors({ ...header, tensors: [{ ...header.tensors[0]!, shape: [-1] }] }, data.slice().buffer, 'm.json')).toThrow(/invalid shape/);
    expect(() => decodeTensors({ format: 'other' } as never, data.slice().buffer, 'm.json')).toThrow(/not a vitrine-tensors v1 header/);
  });
});
