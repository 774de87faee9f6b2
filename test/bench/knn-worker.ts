/**
 * The kNN benchmark's worker (bundled by scripts/bench.mts with esbuild, run from a Blob URL in
 * Chromium): Vitrine's similar-items search against a float32 brute-force scan written the same way
 * (top-k by insertion), on the same random unit vectors, timed inside the worker (no messaging).
 */
import { quantizeInt8, searchInt8 } from '../../src/recommend/knn.js';
import { createRng } from '../../src/recommend/rng.js';

interface Job {
  n: number;
  dims: number;
  queries: number;
  k: number;
  seed: number;
}

function unitRows(n: number, dims: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const m = new Float32Array(n * dims);
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      // Sum of uniforms: roughly Gaussian, so directions are spread evenly.
      const x = rng.next() + rng.next() + rng.next() - 1.5;
      m[r * dims + d] = x;
      norm += x * x;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < dims; d++) m[r * dims + d]! *= inv;
  }
  return m;
}

/** The float32 baseline: a plain-JS scan with the same top-k insertion as searchInt8. */
function scanFloat32(m: Float32Array, dims: number, query: Float32Array, k: number): number[] {
  const idx: number[] = [];
  const sc: number[] = [];
  const n = m.length / dims;
  for (let r = 0; r < n; r++) {
    const o = r * dims;
    let dot = 0;
    for (let d = 0; d < dims; d++) dot += query[d]! * m[o + d]!;
    if (idx.length < k || dot > sc[sc.length - 1]!) {
      let i = idx.length;
      while (i > 0 && sc[i - 1]! < dot) i--;
      idx.splice(i, 0, r);
      sc.splice(i, 0, dot);
      if (idx.length > k) idx.pop(), sc.pop();
    }
  }
  return idx;
}

self.onmessage = (e: MessageEvent<Job>) => {
  const { n, dims, queries, k, seed } = e.data;
  const m = unitRows(n, dims, seed);
  const q = quantizeInt8(m, dims);
  const qs = unitRows(queries + 2, dims, seed + 1);
  const query = (i: number) => qs.subarray(i * dims, (i + 1) * dims);
  // Warm-up (JIT) on two queries, left out.
  scanFloat32(m, dims, query(queries), k);
  searchInt8(q, query(queries + 1), k);
  const f32: number[] = [];
  const i8: number[] = [];
  let recall = 0;
  for (let i = 0; i < queries; i++) {
    let t = performance.now();
    const exact = scanFloat32(m, dims, query(i), k);
    f32.push(performance.now() - t);
    t = performance.now();
    const found = searchInt8(q, query(i), k);
    i8.push(performance.now() - t);
    const truth = new Set(exact);
    recall += found.filter((h) => truth.has(h.index)).length / k;
  }
  postMessage({ n, dims, f32, i8, recall: recall / queries, bytesPerItem: dims + 4 });
};
