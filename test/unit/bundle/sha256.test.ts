import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex, sha256Js } from '../../../src/bundle/sha256.js';
import { createRng } from '../../../src/recommend/rng.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('sha256', () => {
  it('the pure-JS fallback matches node:crypto at every padding boundary', () => {
    const rng = createRng(3);
    for (const len of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 1000, 70_001]) {
      const data = new Uint8Array(len).map(() => rng.int(256));
      expect(hex(sha256Js(data)), `length ${len}`).toBe(createHash('sha256').update(data).digest('hex'));
    }
  });

  it('gives the FIPS 180-4 test vector', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc').buffer as ArrayBuffer)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
