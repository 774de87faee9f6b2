/**
 * Cosine nearest neighbours over int8-quantized, unit-length embeddings, in plain typed-array code
 * (no TF.js), so the similar row renders before any model has loaded.
 *
 * Quantization is per row: `x ≈ q * scale` with `q` in [-127, 127] and `scale = max|x| / 127`.
 *
 * Search runs a WebAssembly SIMD kernel (knn-simd.wat) where the engine can compile it, and the plain
 * JS loop where it cannot (no WebAssembly, no SIMD, or a CSP without 'wasm-unsafe-eval'); both give
 * the same neighbours and the same scores.
 */
import { KNN_RELAXED_WASM, KNN_SIMD_WASM } from './knn-simd.js';
import { topPool } from './select.js';

export interface QuantizedMatrix {
  /** Row-major `count × dims` int8 codes. */
  codes: Int8Array;
  /** One scale per row. */
  scales: Float32Array;
  count: number;
  dims: number;
}

/** Quantizes a row-major float matrix to int8 with a per-row scale. */
export function quantizeInt8(m: Float32Array, dims: number): QuantizedMatrix {
  const count = m.length / dims;
  const codes = new Int8Array(m.length);
  const scales = new Float32Array(count);
  for (let r = 0; r < count; r++) {
    const o = r * dims;
    let max = 0;
    for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs(m[o + d]!));
    const scale = max > 0 ? max / 127 : 1;
    scales[r] = scale;
    for (let d = 0; d < dims; d++) codes[o + d] = Math.round(m[o + d]! / scale);
  }
  return { codes, scales, count, dims };
}

/**
 * Per-row scales for the int8 codes of unit-length vectors, from the codes alone: `1 / ‖codes‖`, so
 * each dequantized row is unit length again. A bundle therefore stores no scales (64 bytes per
 * product at 64 dims instead of 68: a quarter of float32). Rows of zeros get scale 0.
 */
export function unitScales(codes: Int8Array, dims: number): Float32Array {
  const scales = new Float32Array(codes.length / dims);
  for (let r = 0, o = 0; r < scales.length; r++, o += dims) {
    let s = 0;
    for (let d = 0; d < dims; d++) s += codes[o + d]! * codes[o + d]!;
    scales[r] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  return scales;
}

/** The float vector of row `r`. */
export function dequantizeRow(q: QuantizedMatrix, r: number): Float32Array {
  const v = new Float32Array(q.dims);
  const s = q.scales[r]!;
  for (let d = 0; d < q.dims; d++) v[d] = q.codes[r * q.dims + d]! * s;
  return v;
}

export interface Neighbour {
  index: number;
  score: number;
}

/**
 * The `k` rows most similar to `query` (a float vector; cosine when rows and query are unit length),
 * best first (lower index first on equal scores), skipping rows for which `exclude(index)` is true.
 *
 * The first call on a matrix copies its codes into WebAssembly memory (kept while `q.codes` lives);
 * the matrix must not be modified afterwards. The kernel ranks rows with an int16 copy of the query,
 * then the best `2k + 8` are rescored exactly as {@link searchInt8Js} scores them.
 *
 * @example
 * const hits = searchInt8(matrix, dequantizeRow(matrix, self), 8, (j) => j === self);
 */
export function searchInt8(q: QuantizedMatrix, query: Float32Array, k: number, exclude?: (index: number) => boolean): Neighbour[] {
  if (query.length !== q.dims) throw new RangeError(`query has ${query.length} dims, the index ${q.dims}`);
  if (k <= 0) return [];
  const scores = scoreInt8(q, query);
  if (!scores) return searchInt8Js(q, query, k, exclude);
  // Candidates by kernel score, then exact rescoring: the kernel's only error is the query's int16
  // rounding (~1e-5 of a score), so a margin of k + 8 keeps every true top-k row in the pool.
  const pool = topPool(Math.min(q.count, 2 * k + 8));
  for (let r = 0; r < q.count; r++) {
    const s = scores[r]!;
    if (s > pool.floor && !exclude?.(r)) pool.add(r, s);
  }
  return pool
    .hits()
    .map((h) => ({ index: h.index, score: rowScore(q, query, h.index) }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k);
}

/** Row `r`'s exact score against a float query: `query · codes[r] · scales[r]`. */
export function rowScore(q: QuantizedMatrix, query: Float32Array, r: number): number {
  const { codes, dims } = q;
  let dot = 0;
  for (let d = 0, o = r * dims; d < dims; d++) dot += query[d]! * codes[o + d]!;
  return dot * q.scales[r]!;
}

/** {@link searchInt8} in plain JS: the fallback, and the reference the kernel is tested against. */
export function searchInt8Js(q: QuantizedMatrix, query: Float32Array, k: number, exclude?: (index: number) => boolean): Neighbour[] {
  if (query.length !== q.dims) throw new RangeError(`query has ${query.length} dims, the index ${q.dims}`);
  if (k <= 0) return [];
  const pool = topPool(Math.min(q.count, k));
  for (let r = 0; r < q.count; r++) {
    if (exclude?.(r)) continue;
    const score = rowScore(q, query, r);
    if (score > pool.floor) pool.add(r, score);
  }
  return pool.hits();
}

/** Exact float32 cosine top-k (the reference for recall measurements). */
export function searchFloat32(m: Float32Array, dims: number, query: Float32Array, k: number, exclude?: (index: number) => boolean): Neighbour[] {
  const all: Neighbour[] = [];
  for (let r = 0, o = 0; o < m.length; r++, o += dims) {
    if (exclude?.(r)) continue;
    let dot = 0;
    for (let d = 0; d < dims; d++) dot += query[d]! * m[o + d]!;
    all.push({ index: r, score: dot });
  }
  return all.sort((a, b) => b.score - a.score).slice(0, k);
}

/** Which code {@link searchInt8} runs here. */
export function int8Kernel(): 'wasm-simd' | 'js' {
  return simdModule() ? 'wasm-simd' : 'js';
}

/** One matrix's copy in its own WebAssembly memory, with room for a query and the scores. */
interface Scan {
  scales: Float32Array;
  score: (codes: number, scales: number, query: number, out: number, rows: number, stride: number) => void;
  rows: number;
  stride: number;
  scalesAt: number;
  query: Int16Array;
  out: Float32Array;
}

let simd: WebAssembly.Module | null | undefined;
let relaxed: WebAssembly.Module | null | undefined;
const scans = new WeakMap<Int8Array, Scan | null>();

/** The compiled SIMD kernels (knn-simd.wat), or null where they cannot run. */
export function simdModule(): WebAssembly.Module | null {
  return simd === undefined ? (simd = compile(KNN_SIMD_WASM)) : simd;
}

/** The 4-bit kernel with relaxed SIMD (knn-simd-relaxed.wat), or null where the engine lacks it. */
export function relaxedModule(): WebAssembly.Module | null {
  return relaxed === undefined ? (relaxed = compile(KNN_RELAXED_WASM)) : relaxed;
}

function compile(base64: string): WebAssembly.Module | null {
  try {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    // A CSP without 'wasm-unsafe-eval' throws here (CompileError or EvalError): the JS loop it is.
    return null;
  }
}

function scanOf(q: QuantizedMatrix): Scan | null {
  const cached = scans.get(q.codes);
  if (cached !== undefined && (cached === null || cached.scales === q.scales)) return cached;
  const mod = simdModule();
  let scan: Scan | null = null;
  if (mod) {
    try {
      scan = load(mod, q);
    } catch {
      // Out of memory for the copy (RangeError from grow) or an instantiation refused: use JS.
    }
  }
  scans.set(q.codes, scan);
  return scan;
}

function load(mod: WebAssembly.Module, q: QuantizedMatrix): Scan {
  const { codes, scales, count, dims } = q;
  // Rows padded to 16 bytes and the count to 4, as the kernel requires; padding rows score 0.
  const stride = Math.ceil(dims / 16) * 16;
  const rows = Math.ceil(count / 4) * 4;
  const scalesAt = rows * stride;
  const queryAt = scalesAt + rows * 4;
  const outAt = queryAt + stride * 2;
  const instance = new WebAssembly.Instance(mod);
  const memory = instance.exports.memory as WebAssembly.Memory;
  const pages = Math.ceil((outAt + rows * 4) / 65536);
  if (pages > 1) memory.grow(pages - 1);
  const heap = new Int8Array(memory.buffer);
  if (stride === dims) heap.set(codes);
  else for (let r = 0; r < count; r++) heap.set(codes.subarray(r * dims, (r + 1) * dims), r * stride);
  new Float32Array(memory.buffer, scalesAt, count).set(scales);
  return {
    scales,
    score: instance.exports.score as Scan['score'],
    rows,
    stride,
    scalesAt,
    query: new Int16Array(memory.buffer, queryAt, stride),
    out: new Float32Array(memory.buffer, outAt, count),
  };
}

/**
 * Every row's score against `query` from the SIMD kernel, up to one positive factor per call and the
 * query's int16 rounding, or null where the kernel cannot run. The array is reused by the next call
 * on the same matrix.
 */
export function scoreInt8(q: QuantizedMatrix, query: Float32Array): Float32Array | null {
  const scan = q.count > 0 ? scanOf(q) : null;
  if (!scan) return null;
  let max = 0;
  for (let d = 0; d < q.dims; d++) max = Math.max(max, Math.abs(query[d]!));
  // |Σ code·q| ≤ 127 · stride · qmax must fit an i32.
  const qmax = Math.min(32767, Math.floor(0x7fffffff / (127 * scan.stride)));
  const f = max > 0 ? qmax / max : 0;
  for (let d = 0; d < q.dims; d++) scan.query[d] = Math.round(query[d]! * f);
  scan.score(0, scan.scalesAt, scan.query.byteOffset, scan.out.byteOffset, scan.rows, scan.stride);
  return scan.out;
}
