import { describe, expect, it } from 'vitest';
import { buildIvf, ivfBytes, ivfKernel, ivfVector, searchIvf, tuneNprobe } from '../../../src/recommend/ivf.js';
import { quantizeInt8, rowScore, searchFloat32 } from '../../../src/recommend/knn.js';
import { createRng } from '../../../src/recommend/rng.js';

const dims = 64;
const gauss = (rng: { next(): number }) => rng.next() + rng.next() + rng.next() - 1.5;

/** Unit vectors around `clusters` centres, each cluster varying along 4 directions of its own. */
function clustered(count: number, clusters: number, seed: number): Float32Array {
  const base = createRng(1);
  const centres = Float32Array.from({ length: clusters * dims }, () => gauss(base));
  const dirs = Float32Array.from({ length: clusters * 4 * dims }, () => gauss(base) * 0.25);
  const rng = createRng(seed);
  const m = new Float32Array(count * dims);
  for (let r = 0; r < count; r++) {
    const c = rng.int(clusters);
    const z = [0, 1, 2, 3].map(() => gauss(rng));
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      let x = centres[c * dims + d]! + 0.05 * gauss(rng);
      for (let j = 0; j < 4; j++) x += z[j]! * dirs[(c * 4 + j) * dims + d]!;
      norm += (m[r * dims + d] = x) ** 2;
    }
    for (let d = 0; d < dims; d++) m[r * dims + d]! /= Math.sqrt(norm);
  }
  return m;
}

/** The rows of `m` in the order `order` gives. */
function reorder(m: Float32Array, order: Uint32Array, d = dims): Float32Array {
  const out = new Float32Array(m.length);
  order.forEach((i, p) => out.set(m.subarray(i * d, (i + 1) * d), p * d));
  return out;
}

const data = clustered(8000, 40, 3);
const queries = clustered(60, 40, 4);
const { index, order } = buildIvf(data, dims, { nlist: 64, seed: 5 });
const sorted = reorder(data, order);
const rows = quantizeInt8(sorted, dims);

describe('buildIvf', () => {
  it('lists every row once, in cell order, each in the cell of its nearest centre', () => {
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 8000 }, (_, i) => i));
    expect(index.offsets[0]).toBe(0);
    expect(index.offsets[index.nlist]).toBe(8000);
    for (let c = 0; c < index.nlist; c++) expect(index.offsets[c + 1]!).toBeGreaterThanOrEqual(index.offsets[c]!);
    for (let c = 0; c < index.nlist; c += 7) {
      for (let p = index.offsets[c]!; p < index.offsets[c + 1]!; p += 13) {
        const v = sorted.subarray(p * dims, (p + 1) * dims);
        const best = searchFloat32(index.centroids, dims, v, 1)[0]!.index;
        expect(best).toBe(c);
      }
    }
  });

  it('codes one byte under half the dims by default: 31 B a product at 64 dims, plus the cells', () => {
    expect(index.rowBytes).toBe(31);
    expect(index.codes.length).toBe(8000 * 31);
    // Cells cost 4·dims + 4 bytes each, √count of them: under 1 B a product from ~70k products on.
    expect(ivfBytes(index)).toBe(8000 * 31 + index.nlist * (4 * dims + 4) + 4 + 8 * dims + 2 * index.slots.length);
  });

  it('decodes each row closer to the vector it codes than its centre is (4-bit residuals)', () => {
    let err = 0;
    let residual = 0;
    for (let p = 0; p < 8000; p += 17) {
      const v = ivfVector(index, p);
      const c = Math.max(0, [...index.offsets].findIndex((o) => o > p) - 1);
      for (let d = 0; d < dims; d++) {
        err += (v[d]! - sorted[p * dims + d]!) ** 2;
        residual += (index.centroids[c * dims + d]! - sorted[p * dims + d]!) ** 2;
      }
    }
    expect(Math.sqrt(err / residual)).toBeLessThan(0.3);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const small = data.subarray(0, 2000 * dims);
    const a = buildIvf(small, dims, { nlist: 16, iterations: 3, seed: 9 });
    const b = buildIvf(small, dims, { nlist: 16, iterations: 3, seed: 9 });
    const c = buildIvf(small, dims, { nlist: 16, iterations: 3, seed: 10 });
    expect(Buffer.from(a.index.codes).equals(Buffer.from(b.index.codes))).toBe(true);
    expect([...a.order]).toEqual([...b.order]);
    expect(Buffer.from(a.index.centroids.buffer).equals(Buffer.from(c.index.centroids.buffer))).toBe(false);
  });

  it('refuses a row size that cannot hold the dims, and builds an empty index for no rows', () => {
    expect(() => buildIvf(data.subarray(0, 100 * dims), dims, { rowBytes: 40 })).toThrow(RangeError);
    const empty = buildIvf(new Float32Array(0), dims);
    expect(empty.index.count).toBe(0);
    expect(searchIvf(empty.index, queries.subarray(0, dims), 10)).toEqual([]);
  });
});

describe('searchIvf', () => {
  const recall = (nprobe: number, rescore: boolean) => {
    let sum = 0;
    for (let i = 0; i < 60; i++) {
      const q = queries.subarray(i * dims, (i + 1) * dims);
      const exact = new Set(searchFloat32(sorted, dims, q, 10).map((h) => h.index));
      const hits = searchIvf(index, q, 10, { nprobe, ...(rescore ? { rescore: (p: number) => rowScore(rows, q, p) } : {}) });
      sum += hits.filter((h) => exact.has(h.index)).length / 10;
    }
    return sum / 60;
  };

  it('finds the true neighbours, more of them as it scans more cells and rescores', () => {
    const few = recall(1, true);
    const more = recall(8, true);
    expect(more).toBeGreaterThanOrEqual(few);
    expect(more).toBeGreaterThan(0.9);
    expect(recall(8, false)).toBeLessThanOrEqual(more + 1e-9);
  });

  it('answers best first, without excluded positions, at most k', () => {
    const q = queries.subarray(0, dims);
    const hits = searchIvf(index, q, 20, { nprobe: 8, exclude: (p) => p % 2 === 0, rescore: (p) => rowScore(rows, q, p) });
    expect(hits).toHaveLength(20);
    for (const h of hits) expect(h.index % 2).toBe(1);
    for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score);
    expect(searchIvf(index, q, 0)).toEqual([]);
    expect(() => searchIvf(index, q.subarray(0, 10), 5)).toThrow(RangeError);
  });

  it('scores as the decoded vectors say, whichever kernel runs', () => {
    // The 4-bit score of a position is ⟨q, centre + decoded residual⟩, up to the query's int8 rounding.
    const q = queries.subarray(dims, 2 * dims);
    const hits = searchIvf(index, q, 30, { nprobe: index.nlist });
    for (const h of hits) {
      const v = ivfVector(index, h.index);
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += q[d]! * v[d]!;
      expect(h.score).toBeCloseTo(dot, 2);
    }
    const all = Array.from({ length: 8000 }, (_, p) => {
      const v = ivfVector(index, p);
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += q[d]! * v[d]!;
      return dot;
    }).sort((a, b) => b - a);
    expect(hits[0]!.score).toBeCloseTo(all[0]!, 2);
    expect(['wasm-relaxed-simd', 'wasm-simd', 'js']).toContain(ivfKernel(index));
  });
});

describe('tuneNprobe', () => {
  it('picks the fewest cells that reach the target on the catalog’s own rows', () => {
    const choice = tuneNprobe(index, rows, { target: 0.9, queries: 100, seed: 2 });
    expect(choice.recall).toBeGreaterThanOrEqual(0.9);
    expect(choice.tried.find((t) => t.nprobe === choice.nprobe)!.recall).toBe(choice.recall);
    // Every setting tried below the choice fell short (so the choice is the smallest on its ladder).
    for (const t of choice.tried) if (t.nprobe < choice.nprobe) expect(t.recall).toBeLessThan(0.9);
    expect(tuneNprobe(index, rows, { target: 0.999, queries: 100, seed: 2 }).nprobe).toBeGreaterThanOrEqual(choice.nprobe);
  });
});
