import { describe, expect, it } from 'vitest';
import { dequantizeRow, quantizeInt8, searchFloat32, searchInt8 } from '../../src/recommend/knn.js';
import { createRng } from '../../src/recommend/rng.js';
import { topIndices } from '../../src/recommend/select.js';
import { diversify } from '../../src/recommend/rerank.js';

function unitRows(count: number, dims: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const m = new Float32Array(count * dims);
  for (let r = 0; r < count; r++) {
    let s = 0;
    for (let d = 0; d < dims; d++) s += (m[r * dims + d] = rng.next() * 2 - 1) ** 2;
    for (let d = 0; d < dims; d++) m[r * dims + d]! /= Math.sqrt(s);
  }
  return m;
}

describe('int8 quantization', () => {
  it('reconstructs every value within half a step of its row scale', () => {
    const m = unitRows(50, 32, 1);
    const q = quantizeInt8(m, 32);
    for (let r = 0; r < 50; r++) {
      const v = dequantizeRow(q, r);
      for (let d = 0; d < 32; d++) expect(Math.abs(v[d]! - m[r * 32 + d]!)).toBeLessThanOrEqual(q.scales[r]! / 2 + 1e-7);
    }
  });

  it('keeps an all-zero row finite', () => {
    const q = quantizeInt8(new Float32Array(8), 4);
    expect([...q.scales].every(Number.isFinite)).toBe(true);
    expect([...q.codes]).toEqual(new Array(8).fill(0));
  });
});

describe('searchInt8', () => {
  const dims = 64;
  const m = unitRows(2000, dims, 2);
  const q = quantizeInt8(m, dims);

  it('finds nearly the same top 10 as exact float32 search', () => {
    let recall = 0;
    for (let i = 0; i < 100; i++) {
      const query = m.subarray(i * dims, (i + 1) * dims);
      const exact = new Set(searchFloat32(m, dims, query, 10).map((n) => n.index));
      recall += searchInt8(q, query, 10).filter((n) => exact.has(n.index)).length / 10;
    }
    expect(recall / 100).toBeGreaterThan(0.95);
  });

  it('returns best first, k at most, and honours exclude', () => {
    const query = m.subarray(0, dims);
    const hits = searchInt8(q, query, 5, (j) => j === 0);
    expect(hits).toHaveLength(5);
    expect(hits.some((h) => h.index === 0)).toBe(false);
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
    expect(searchInt8(q, query, 1)[0]!.index).toBe(0);
  });

  it('refuses a query of the wrong dimension', () => {
    expect(() => searchInt8(q, new Float32Array(3), 5)).toThrow(/3 dims, the index 64/);
  });
});

describe('topIndices', () => {
  it('selects the k best, best first, lower index on ties, skipping excluded and NaN', () => {
    expect(topIndices([0.1, 0.9, 0.5, 0.9, NaN, 0.7], 3, new Set([5]))).toEqual([
      { index: 1, score: 0.9 },
      { index: 3, score: 0.9 },
      { index: 2, score: 0.5 },
    ]);
    expect(topIndices([1, 2], 0)).toEqual([]);
  });
});

describe('diversify', () => {
  const hits = [0, 1, 2, 3, 4, 5, 6].map((index) => ({ index, score: 10 - index }));
  const group = (i: number) => (i < 5 ? 'shoes' : i === 5 ? 'tops' : undefined);
  it('caps each group among the first places, keeping score order, then fills up', () => {
    expect(diversify(hits, group, 4, 2).map((h) => h.index)).toEqual([0, 1, 5, 6]);
    expect(diversify(hits, group, 6, 2).map((h) => h.index)).toEqual([0, 1, 5, 6, 2, 3]);
    expect(diversify(hits, () => 'one', 3).map((h) => h.index)).toEqual([0, 1, 2]);
  });
});
