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
 */
import { buildIvfPq, ivfPqBytes, searchIvfPq, type IvfPqIndex } from '../../src/recommend/ivfpq.js';
import { int8Kernel, quantizeInt8, searchInt8, searchInt8Js, type Neighbour } from '../../src/recommend/knn.js';
import { createRng, type Rng } from '../../src/recommend/rng.js';

interface Job {
  n: number;
  dims: number;
  queries: number;
  k: number;
  seed: number;
  data?: 'random' | 'clustered';
}

interface Method {
  name: string;
  ms: number[];
  recall: number;
  bytesPerItem: number;
  buildMs?: number;
  note?: string;
}

/** Above this many items Vitrine would search an IVF-PQ index instead of scanning. */
const SCAN_LIMIT = 200_000;
/** The IVF-PQ setting Vitrine would use (the top-level figures). */
const NPROBE = 16;

/** Roughly Gaussian (a sum of three uniforms), cheap and deterministic. */
const gauss = (rng: Rng) => rng.next() + rng.next() + rng.next() - 1.5;

function normalize(m: Float32Array, o: number, dims: number): void {
  let norm = 0;
  for (let d = 0; d < dims; d++) norm += m[o + d]! ** 2;
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < dims; d++) m[o + d]! *= inv;
}

function randomRows(n: number, dims: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const m = new Float32Array(n * dims);
  for (let r = 0; r < n; r++) {
    for (let d = 0; d < dims; d++) m[r * dims + d] = gauss(rng);
    normalize(m, r * dims, dims);
  }
  return m;
}

/** The 'clustered' mixture; the same centres for every seed, so catalog and queries share them. */
function clusteredRows(n: number, dims: number, seed: number): Float32Array {
  const C = 1500;
  const R = 8;
  const centres = randomRows(C, dims, 1);
  const directions = randomRows(C * R, dims, 2);
  const spreads = Float32Array.from({ length: C }, (_, c) => 0.3 + 0.5 * createRng(3 + c).next());
  const rng = createRng(seed);
  const m = new Float32Array(n * dims);
  const z = new Float32Array(R);
  for (let r = 0; r < n; r++) {
    const c = rng.int(C);
    const s = spreads[c]!;
    for (let j = 0; j < R; j++) z[j] = gauss(rng) * s * (2 / Math.sqrt(R));
    for (let d = 0; d < dims; d++) {
      let x = centres[c * dims + d]! + 0.2 * s * gauss(rng) * (2 / Math.sqrt(dims));
      for (let j = 0; j < R; j++) x += z[j]! * directions[(c * R + j) * dims + d]!;
      m[r * dims + d] = x;
    }
    normalize(m, r * dims, dims);
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
  const data = e.data.data ?? 'random';
  const rows = data === 'clustered' ? clusteredRows : randomRows;
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
    const t = performance.now();
    const index: IvfPqIndex = buildIvfPq(m, dims, { seed });
    const buildMs = performance.now() - t;
    const bytes = ivfPqBytes(index) / n;
    const note = `nlist ${index.nlist}, m ${index.m}`;
    for (const nprobe of [4, 8, 16, 32, 64]) {
      const ivf = measure(`ivfpq-nprobe${nprobe}`, bytes, (x) => searchIvfPq(index, x, k, { nprobe }), { buildMs, note });
      if (nprobe === NPROBE && n > SCAN_LIMIT) chosen = ivf;
    }
    measure(`ivfpq-nprobe${NPROBE}+int8-rerank`, bytes + dims + 4, (x) => searchIvfPq(index, x, k, { nprobe: NPROBE, rerank: { vectors: q8 } }), {
      buildMs,
      note: `${note}; rescores the best ${10 * k} against the int8 matrix, so both are held`,
    });
  }
  postMessage({ n, dims, data, f32, i8: chosen.ms, recall: chosen.recall, bytesPerItem: chosen.bytesPerItem, chosen: chosen.name, methods });
};
