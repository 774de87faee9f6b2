import { afterEach, describe, expect, it, vi } from 'vitest';
import { dequantizeRow, int8Kernel, quantizeInt8, searchFloat32, searchInt8, searchInt8Js, unitScales } from '../../../src/recommend/knn.js';
import { createRng } from '../../../src/recommend/rng.js';

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

describe('searchInt8 on the WebAssembly SIMD kernel', () => {
  // Odd sizes on purpose: 40 dims pad rows to 48 bytes, 1001 rows pad the count to 1004.
  const dims = 40;
  const m = unitRows(1001, dims, 3);
  const q = quantizeInt8(m, dims);

  it('runs here (Node 20 has WebAssembly SIMD), so the tests below test the kernel', () => {
    expect(int8Kernel()).toBe('wasm-simd');
  });

  it('returns exactly what the plain JS scan returns: same rows, same order, same scores', () => {
    for (let i = 0; i < 30; i++) {
      const query = m.subarray(i * dims, (i + 1) * dims);
      for (const k of [1, 10, 37]) expect(searchInt8(q, query, k)).toEqual(searchInt8Js(q, query, k));
    }
    // A query that is not a row, and one scaled far from unit length (the int16 query rescales).
    const other = unitRows(1, dims, 99).map((x) => x * 1e-3);
    expect(searchInt8(q, other, 10)).toEqual(searchInt8Js(q, other, 10));
  });

  it('keeps each matrix apart (the codes are cached per matrix)', () => {
    const m2 = unitRows(300, dims, 4);
    const q2 = quantizeInt8(m2, dims);
    const query = m2.subarray(5 * dims, 6 * dims);
    expect(searchInt8(q2, query, 1)[0]!.index).toBe(5);
    expect(searchInt8(q, query, 5)).toEqual(searchInt8Js(q, query, 5));
    expect(searchInt8(q2, query, 5)).toEqual(searchInt8Js(q2, query, 5));
  });

  it('applies exclude while selecting, so k rows still come back', () => {
    const query = m.subarray(0, dims);
    const odd = (j: number) => j % 2 === 1;
    const hits = searchInt8(q, query, 20, odd);
    expect(hits).toHaveLength(20);
    expect(hits.every((h) => h.index % 2 === 0)).toBe(true);
    expect(hits).toEqual(searchInt8Js(q, query, 20, odd));
    // Everything but three rows excluded: those three, whatever their scores.
    expect(searchInt8(q, query, 10, (j) => j > 2).map((h) => h.index).sort()).toEqual([0, 1, 2]);
  });

  it('returns every row when k exceeds the count, and none for k = 0 or an empty matrix', () => {
    const small = quantizeInt8(unitRows(7, dims, 5), dims);
    const query = m.subarray(0, dims);
    expect(searchInt8(small, query, 50)).toEqual(searchInt8Js(small, query, 50));
    expect(searchInt8(small, query, 50)).toHaveLength(7);
    expect(searchInt8(q, query, 0)).toEqual([]);
    expect(searchInt8(quantizeInt8(new Float32Array(0), dims), query, 5)).toEqual([]);
  });
});

describe('searchInt8 without the kernel', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  // The module decides once, on first use, so each case imports a fresh copy.
  const fresh = () => import('../../../src/recommend/knn.js');
  const dims = 64;
  const m = unitRows(500, dims, 6);
  const query = m.subarray(0, dims);

  it('falls back to the JS scan where WebAssembly is missing', async () => {
    vi.stubGlobal('WebAssembly', undefined);
    vi.resetModules();
    const knn = await fresh();
    expect(knn.int8Kernel()).toBe('js');
    const q = knn.quantizeInt8(m, dims);
    expect(knn.searchInt8(q, query, 10)).toEqual(knn.searchInt8Js(q, query, 10));
  });

  it("falls back where compiling is refused (a CSP without 'wasm-unsafe-eval') and never throws for it", async () => {
    const real = WebAssembly;
    const Module = function () {
      throw new real.CompileError('WebAssembly.Module(): Refused to compile or instantiate WebAssembly module');
    };
    vi.stubGlobal('WebAssembly', { ...real, validate: real.validate, Module });
    vi.resetModules();
    const knn = await fresh();
    const q = knn.quantizeInt8(m, dims);
    expect(knn.searchInt8(q, query, 10)).toEqual(knn.searchInt8Js(q, query, 10));
    expect(knn.int8Kernel()).toBe('js');
  });

  it('falls back where instantiating fails', async () => {
    const real = WebAssembly;
    const Instance = function () {
      throw new real.RuntimeError('out of memory');
    };
    vi.stubGlobal('WebAssembly', { ...real, validate: real.validate, Module: real.Module, Instance });
    vi.resetModules();
    const knn = await fresh();
    const q = knn.quantizeInt8(m, dims);
    expect(knn.searchInt8(q, query, 10)).toEqual(knn.searchInt8Js(q, query, 10));
  });
});

describe('unitScales', () => {
  it('derives per-row scales from int8 codes of unit vectors: dequantized rows are unit length, ranking as good as stored scales', () => {
    const dims = 64;
    const n = 2000;
    const m = new Float32Array(n * dims);
    let seed = 3;
    const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let d = 0; d < dims; d++) s += (m[r * dims + d] = rnd()) ** 2;
      for (let d = 0; d < dims; d++) m[r * dims + d]! /= Math.sqrt(s);
    }
    const q = quantizeInt8(m, dims);
    const derived = { ...q, scales: unitScales(q.codes, dims) };
    for (let r = 0; r < n; r += 97) {
      const v = dequantizeRow(derived, r);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
      // Close to the stored max/127 scale.
      expect(Math.abs(derived.scales[r]! - q.scales[r]!) / q.scales[r]!).toBeLessThan(0.02);
    }
    let same = 0;
    for (let i = 0; i < 50; i++) {
      const query = m.subarray(i * dims, (i + 1) * dims);
      const exact = new Set(searchFloat32(m, dims, query, 10).map((h) => h.index));
      same += searchInt8(derived, query, 10).filter((h) => exact.has(h.index)).length;
    }
    expect(same / 500).toBeGreaterThan(0.95);
    expect(unitScales(new Int8Array(8), 4)).toEqual(new Float32Array([0, 0]));
  });
});
