import { describe, expect, it } from 'vitest';
import { decodeIvf, encodeIvf } from '../../../src/bundle/ivf-file.js';
import { BundleError } from '../../../src/bundle/format.js';
import { buildIvf, searchIvf } from '../../../src/recommend/ivf.js';
import { createRng } from '../../../src/recommend/rng.js';

const dims = 16;
const rng = createRng(4);
const count = 500;
const vectors = Float32Array.from({ length: count * dims }, () => rng.next() - 0.5);
const { index } = buildIvf(vectors, dims, { nlist: 12, nprobe: 3, seed: 2 });
const bytes = encodeIvf(index);
const buffer = () => bytes.slice().buffer;

describe('ivf-file', () => {
  it('round-trips an index: same arrays, same search results', () => {
    const back = decodeIvf(buffer(), count, dims, 'similar/index.ivf');
    expect(back).toMatchObject({ dims, count, nlist: 12, nprobe: 3, rowBytes: index.rowBytes });
    for (const key of ['centroids', 'offsets', 'lo', 'step', 'slots', 'codes'] as const) expect([...back[key]]).toEqual([...index[key]]);
    const q = vectors.subarray(0, dims);
    expect(searchIvf(back, q, 5)).toEqual(searchIvf(index, q, 5));
  });

  it('reads an index of fewer products than an updated bundle holds (the rest are scanned)', () => {
    expect(decodeIvf(buffer(), count + 5, dims, 'similar/index.ivf').count).toBe(count);
  });

  const refused: [string, (b: Uint8Array) => ArrayBuffer, number, number, RegExp][] = [
    ['another file', () => new TextEncoder().encode('{"not": "an index"} and more bytes').buffer, count, dims, /not a Vitrine search index/],
    ['a truncated file', (b) => b.slice(0, b.length - 7).buffer, count, dims, /has \d+ bytes, its header says \d+/],
    ['too short for a header', (b) => b.slice(0, 10).buffer, count, dims, /too short/],
    ['an index of more products than the bundle holds', (b) => b.slice().buffer, count - 1, dims, /indexes 500 products, the bundle has 499/],
    ['other dims', (b) => b.slice().buffer, count, 32, /has 16 dims, similar.dims is 32/],
    ['cells that run backwards', (b) => {
      const c = b.slice();
      const at = 28 + 12 * dims * 4 + 5 * 4; // offsets[5]
      new DataView(c.buffer).setUint32(at, 10_000, true);
      return c.buffer;
    }, count, dims, /cell \d+ ends before it starts|cell offsets run/],
    ['a centre that is not a number', (b) => {
      const c = b.slice();
      new DataView(c.buffer).setFloat32(28, Number.NaN, true);
      return c.buffer;
    }, count, dims, /not finite/],
    ['nprobe beyond its cells', (b) => {
      const c = b.slice();
      new DataView(c.buffer).setUint32(16, 13, true);
      return c.buffer;
    }, count, dims, /nprobe 13 is not within its 12 cells/],
  ];
  for (const [what, make, n, d, why] of refused) {
    it(`refuses ${what} with the file's name and the reason`, () => {
      let err: unknown;
      try {
        decodeIvf(make(bytes), n, d, 'similar/index.ivf');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BundleError);
      expect(String((err as Error).message)).toContain('similar/index.ivf');
      expect(String((err as Error).message)).toMatch(why);
    });
  }
});
