/**
 * The kNN benchmark's worker (bundled with esbuild and run from a Blob URL in Chromium, by
 * scripts/bench.mts and test/bench/run-knn.mts): every similar-items method Vitrine has against a
 * float32 brute-force scan written the same way (top-k by insertion), on the same vectors, timed
 * inside the worker (no messaging). Recall is against the float32 scan's exact top-k.
 *
 * Data (`job.data`):
 * - 'random': unit vectors spread evenly over the sphere. The hardest case for an inverted file: every
 *   point is nearly as far from every other, so cells cut true neighbourhoods apart.
 * - 'clustered': a mixture of 1500 centres, each with its own spread, varying around its centre mostly
 *   along 8 directions of its own (plus a little noise in every direction) — as real product
 *   embeddings do, whose neighbourhoods have few effective dimensions.
 * - 'demo': the demo bundle's real product embeddings (1,000 × 64 from its image model), each copy a
 *   random one of them plus Gaussian noise of norm ≈ 0.3, renormalized: a catalog of
 *   look-alikes with the real embeddings' shape.
 */
import { buildIvf, ivfBytes, ivfKernel, searchIvf, tuneNprobe } from '../../src/recommend/ivf.js';
import { int8Kernel, quantizeInt8, rowScore, searchInt8, searchInt8Js, type Neighbour, type QuantizedMatrix } from '../../src/recommend/knn.js';
import { clusteredRows, demoRows, randomRows } from './vectors.js';

interface Job {
  n: number;
  dims: number;
  queries: number;
  k: number;
  seed: number;
  data?: 'random' | 'clustered' | 'demo';
  /** For 'demo': the demo bundle's int8 embeddings, row-major (a plain array: it crosses Playwright). */
  base?: number[];
}

interface Method {
  name: string;
  ms: number[];
  recall: number;
  bytesPerItem: number;
  buildMs?: number;
  note?: string;
}

/** Above this many items Vitrine searches an IVF index instead of scanning (src/build: INDEX_ABOVE). */
const SCAN_LIMIT = 200_000;

/** The int8 rows of `q` in the order `order` gives (position p holds row order[p]). */
function permuteRows(q: QuantizedMatrix, order: Uint32Array): QuantizedMatrix {
  const { dims } = q;
  const codes = new Int8Array(q.codes.length);
  const scales = new Float32Array(q.count);
  for (let p = 0; p < order.length; p++) {
    codes.set(q.codes.subarray(order[p]! * dims, (order[p]! + 1) * dims), p * dims);
    scales[p] = q.scales[order[p]!]!;
  }
  return { codes, scales, count: q.count, dims };
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
  const data = e.data.data ?? 'random';
  const base = e.data.base && Int8Array.from(e.data.base);
  const rows = data === 'clustered' ? clusteredRows : data === 'demo' && base ? (count: number, d: number, s: number) => demoRows(base, count, d, s) : randomRows;
  const m = rows(n, dims, seed);
  const qs = rows(queries + 1, dims, seed + 1);
  const query = (i: number) => qs.subarray(i * dims, (i + 1) * dims);
  const q8 = quantizeInt8(m, dims);

  // The exact top-k of each query, timed: the baseline every ratio is against.
  scanFloat32(m, dims, query(queries), k); // warm-up (JIT), left out
  const f32: number[] = [];
  const truth: Set<number>[] = [];
  for (let i = 0; i < queries; i++) {
    const t = performance.now();
    truth.push(new Set(scanFloat32(m, dims, query(i), k)));
    f32.push(performance.now() - t);
  }
  // The float32 scan is the baseline (`f32`), not one of the methods.
  const methods: Method[] = [];
  const measure = (name: string, bytesPerItem: number, search: (q: Float32Array) => Neighbour[], extra: Partial<Method> = {}): Method => {
    // Warm-up (JIT; the kernel's first call copies the codes), left out. A worker's clock ticks in
    // 0.1 ms without cross-origin isolation, so a fast query is timed over enough repeats for 2 ms.
    search(query(queries));
    let t = performance.now();
    for (let i = 0; i < 3; i++) search(query(queries));
    const reps = Math.min(100, Math.max(1, Math.ceil(2 / Math.max((performance.now() - t) / 3, 0.02))));
    const ms: number[] = [];
    let recall = 0;
    for (let i = 0; i < queries; i++) {
      t = performance.now();
      const hits = search(query(i));
      for (let r = 1; r < reps; r++) search(query(i));
      ms.push((performance.now() - t) / reps);
      recall += hits.filter((h) => truth[i]!.has(h.index)).length / k;
    }
    const method = { name, ms, recall: recall / queries, bytesPerItem: Math.round(bytesPerItem * 100) / 100, ...extra };
    methods.push(method);
    return method;
  };

  measure('int8-js', dims + 4, (x) => searchInt8Js(q8, x, k));
  const scan = measure(`int8-${int8Kernel()}`, dims + 4, (x) => searchInt8(q8, x, k));
  let chosen = scan;
  if (n >= 50_000) {
    // The index as the builder makes it: cells, positions in cell order, nprobe tuned on the
    // catalog's own rows (validation) to recall 0.95 against an exact int8 scan; the test queries
    // above play no part in that choice. Rescoring reads the int8 rows of the short list.
    let t = performance.now();
    const { index, order } = buildIvf(m, dims, { seed });
    const rows8 = permuteRows(q8, order);
    const buildMs = performance.now() - t;
    t = performance.now();
    const tuned = tuneNprobe(index, rows8, { seed });
    const tuneMs = performance.now() - t;
    const bytes = ivfBytes(index) / n;
    const note = `${ivfKernel(index)}, nlist ${index.nlist}, ${index.rowBytes} B of 4-bit codes a row; nprobe ${tuned.nprobe} chosen on 200 of the catalog's own rows in ${(tuneMs / 1000).toFixed(1)} s (validation recall ${tuned.recall.toFixed(3)}); rescores the best 300 against their int8 rows (19 KB read per query)`;
    const search = (nprobe: number) => (x: Float32Array) =>
      searchIvf(index, x, k, { nprobe, rescore: (p) => rowScore(rows8, x, p) }).map((h) => ({ index: order[h.index]!, score: h.score }));
    for (const nprobe of [...new Set([Math.max(1, tuned.nprobe >> 2), tuned.nprobe >> 1, tuned.nprobe * 2].filter((x) => x >= 1 && x <= index.nlist && x !== tuned.nprobe))]) {
      measure(`ivf-sq4-nprobe${nprobe}`, bytes, search(nprobe), { buildMs, note: `nlist ${index.nlist}` });
    }
    const ivf = measure(`ivf-sq4-nprobe${tuned.nprobe} (chosen)`, bytes, search(tuned.nprobe), { buildMs, note });
    if (n > SCAN_LIMIT) chosen = ivf;
  }
  postMessage({ n, dims, data, f32, i8: chosen.ms, recall: chosen.recall, bytesPerItem: chosen.bytesPerItem, chosen: chosen.name, methods });
};
