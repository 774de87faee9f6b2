/**
 * An inverted file with 4-bit codes (IVF-SQ4) for catalogs too large to scan (≈ 1M products):
 * `nlist` cells from spherical k-means; each item stores its residual to its cell's centre as 4-bit
 * codes, two to a byte: by default one byte under half the dims (31 B at 64 dims), the residual's two
 * least varying dimensions left at their mean, so an item and its share of the centres stay under
 * 4 bits a dimension.
 *
 * - Items sit in cell order and are known by their position: the builder writes the catalog in the
 *   order {@link buildIvf} returns, so the index needs no id array (the rows' own order is the map).
 * - A query ranks the cells by `⟨q, centre⟩`, scans the best `nprobe` with the 4-bit codes (a
 *   WebAssembly SIMD kernel, plain JS without one), and rescores the best `candidates` exactly when
 *   the caller can (`rescore`, e.g. against the int8 rows): 4-bit scores alone misorder near ties.
 * - The residual quantizer is one range per coded dimension, `lo + step · code`, from a training
 *   sample, clipped at ±2.5 standard deviations (clipping a few outliers beats a coarser step for all).
 *   A dimension without a code stands at the sample's mean (`lo`, step 0).
 * - Builds are deterministic for a seed (samples and initial centres come from `createRng`).
 */
import { dequantizeRow, quantizeInt8, relaxedModule, rowScore, scoreInt8, searchInt8, simdModule, type Neighbour, type QuantizedMatrix } from './knn.js';
import { topPool } from './select.js';
import { createRng, type Rng } from './rng.js';

export interface IvfIndex {
  dims: number;
  count: number;
  /** Cells. */
  nlist: number;
  /** Cells a query scans unless told otherwise (the builder's measured choice). */
  nprobe: number;
  /** `nlist × dims` unit-length cell centres. */
  centroids: Float32Array;
  /** `nlist + 1` positions: cell `c` holds positions `[offsets[c], offsets[c + 1])`. */
  offsets: Uint32Array;
  /** Per dimension: a residual's code `x` stands for `lo + step · x`. */
  lo: Float32Array;
  step: Float32Array;
  /** Bytes of codes per item. */
  rowBytes: number;
  /** The dimension each code slot holds: slot `j < rowBytes` is byte `j`'s low nibble, slot `rowBytes + j` its high one. */
  slots: Uint16Array;
  /** `count × rowBytes` bytes, by position. */
  codes: Uint8Array;
}

export interface IvfBuildOptions {
  /** Cells; default `√count` rounded, at most 4096. */
  nlist?: number;
  /** Vectors sampled to train the cells and the quantizer (default 32 per cell, at least 16384). */
  sample?: number;
  /** k-means iterations (default 8). */
  iterations?: number;
  /** Bytes of codes per item, at most `⌈dims/2⌉` (default `⌈dims/2⌉ − 1`). */
  rowBytes?: number;
  nprobe?: number;
  seed?: number;
}

export interface IvfSearchOptions {
  /** Cells scanned (default: the index's `nprobe`); more is slower and finds more true neighbours. */
  nprobe?: number;
  /** How many of the best 4-bit scores `rescore` sees (default `30k`: near-duplicates tie within 4-bit error). */
  candidates?: number;
  /** The exact score of the item at a position; without it the 4-bit scores are returned. */
  rescore?: (position: number) => number;
  exclude?: (position: number) => boolean;
}

/** Standard deviations the residual quantizer's range spans either side of the mean. */
const CLIP = 2.5;
const LEVELS = 15;

/** Bytes the index occupies (every array), e.g. to report bytes per item. */
export function ivfBytes(index: IvfIndex): number {
  return index.centroids.byteLength + index.offsets.byteLength + index.lo.byteLength + index.step.byteLength + index.slots.byteLength + index.codes.byteLength;
}

/**
 * Builds an index over `count` row-major unit vectors. `order[p]` is the row stored at position `p`:
 * searches answer with positions, so a caller either stores its items in this order or maps back.
 *
 * @example
 * const { index, order } = buildIvf(embeddings, 64, { seed: 1 });
 * const hits = searchIvf(index, query, 10).map((h) => order[h.index]);
 */
export function buildIvf(vectors: Float32Array, dims: number, opts: IvfBuildOptions = {}): { index: IvfIndex; order: Uint32Array } {
  const count = Math.floor(vectors.length / dims);
  const nlist = Math.max(1, Math.min(count, opts.nlist ?? Math.min(4096, Math.round(Math.sqrt(count)))));
  const rng = createRng(opts.seed ?? 1);
  const rowBytes = opts.rowBytes ?? Math.max(1, Math.ceil(dims / 2) - 1);
  if (!(rowBytes >= 1 && 2 * rowBytes <= dims + 1)) throw new RangeError(`rowBytes must be in [1, ${Math.ceil(dims / 2)}], got ${rowBytes}`);
  if (count === 0) {
    const empty = { dims, count, nlist: 0, nprobe: 1, centroids: new Float32Array(0), offsets: new Uint32Array(1), lo: new Float32Array(dims), step: new Float32Array(dims), rowBytes, slots: new Uint16Array(0), codes: new Uint8Array(0) };
    return { index: empty, order: new Uint32Array(0) };
  }

  // Cells: spherical k-means on a sample, then every item to its nearest centre, in cell order.
  const train = sample(vectors, dims, count, Math.max(opts.sample ?? 32 * nlist, 16384), rng);
  const centroids = sphericalKMeans(train, dims, nlist, opts.iterations ?? 8, rng);
  const cell = assign(vectors, dims, centroids);
  const offsets = new Uint32Array(nlist + 1);
  for (let i = 0; i < count; i++) offsets[cell[i]! + 1]!++;
  for (let c = 0; c < nlist; c++) offsets[c + 1]! += offsets[c]!;
  const order = new Uint32Array(count);
  const fill = offsets.slice(0, nlist);
  for (let i = 0; i < count; i++) order[fill[cell[i]!]!++] = i;

  // The quantizer: mean ± CLIP·sd of the sample's residuals, per dimension.
  const trainCell = assign(train, dims, centroids);
  const n = train.length / dims;
  const mean = new Float64Array(dims);
  const sq = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    for (let d = 0, c = trainCell[i]! * dims; d < dims; d++) {
      const r = train[i * dims + d]! - centroids[c + d]!;
      mean[d]! += r;
      sq[d]! += r * r;
    }
  }
  const sd = Float64Array.from(mean, (m, d) => Math.sqrt(Math.max(0, sq[d]! / n - (m / n) ** 2)));
  // The most varying dimensions get the codes (in dimension order), the rest stand at their mean.
  const slotCount = Math.min(dims, 2 * rowBytes);
  const slots = Uint16Array.from(
    Array.from({ length: dims }, (_, d) => d)
      .sort((a, b) => sd[b]! - sd[a]! || a - b)
      .slice(0, slotCount)
      .sort((a, b) => a - b),
  );
  const lo = Float32Array.from(mean, (m) => m / n);
  const step = new Float32Array(dims);
  for (const d of slots) {
    lo[d] = mean[d]! / n - CLIP * sd[d]!;
    step[d] = (2 * CLIP * sd[d]!) / LEVELS;
  }

  const codes = new Uint8Array(count * rowBytes);
  for (let p = 0; p < count; p++) {
    const i = order[p]!;
    const c = cell[i]! * dims;
    for (let s = 0; s < slotCount; s++) {
      const d = slots[s]!;
      const r = vectors[i * dims + d]! - centroids[c + d]!;
      const x = step[d]! > 0 ? Math.max(0, Math.min(LEVELS, Math.round((r - lo[d]!) / step[d]!))) : 0;
      codes[p * rowBytes + (s % rowBytes)]! |= s < rowBytes ? x : x << 4;
    }
  }
  const index: IvfIndex = { dims, count, nlist, nprobe: Math.min(nlist, opts.nprobe ?? 8), centroids, offsets, lo, step, rowBytes, slots, codes };
  return { index, order };
}

/**
 * The `k` items most similar to `query` (inner product; cosine for unit vectors), best first, as
 * positions, found in the `nprobe` nearest cells, skipping positions for which `exclude` is true.
 */
export function searchIvf(index: IvfIndex, query: Float32Array, k: number, opts: IvfSearchOptions = {}): Neighbour[] {
  const { dims, nlist, centroids, offsets, lo, step, codes } = index;
  if (query.length !== dims) throw new RangeError(`query has ${query.length} dims, the index ${dims}`);
  if (k <= 0 || nlist === 0) return [];
  const nprobe = Math.min(nlist, Math.max(1, opts.nprobe ?? index.nprobe));
  const { rescore, exclude } = opts;
  const { rowBytes, slots } = index;

  const cells = nearestCells(index, query, nprobe);

  // ⟨q, lo + step·x⟩ = ⟨q, lo⟩ + Σ_d (q_d·step_d)·x_d: a constant plus a weighted sum of codes.
  let base = 0;
  for (let d = 0; d < dims; d++) base += query[d]! * lo[d]!;
  const w = new Float32Array(2 * rowBytes); // by slot
  for (let s = 0; s < slots.length; s++) w[s] = query[slots[s]!]! * step[slots[s]!]!;
  const pool = topPool(rescore ? Math.max(k, opts.candidates ?? 30 * k) : k);
  const scan = scannerOf(index);
  scan?.prepare(w);
  const lut = scan ? null : lutOf(w, rowBytes);
  for (const c of cells) {
    const from = offsets[c]!;
    const to = offsets[c + 1]!;
    let add = base;
    for (let d = 0, o = c * dims; d < dims; d++) add += query[d]! * centroids[o + d]!;
    if (scan) {
      const n = scan.score(from, to - from, add, pool.floor);
      for (let t = 0; t < n; t++) {
        const p = from + scan.rows[2 * t]!;
        const s = scan.scores[2 * t + 1]!;
        if (s > pool.floor && !exclude?.(p)) pool.add(p, s);
      }
    } else if (lut) {
      for (let p = from; p < to; p++) {
        let s = add;
        for (let j = 0, o = p * rowBytes; j < rowBytes; j++) s += lut[(j << 8) | codes[o + j]!]!;
        if (s > pool.floor && !exclude?.(p)) pool.add(p, s);
      }
    }
  }
  const hits = pool.hits();
  if (!rescore) return hits.slice(0, k);
  for (const h of hits) h.score = rescore(h.index);
  return hits.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}

/**
 * The `k` rows of `rows` nearest `query` through `index`, rescored against `rows`, together with
 * the rows past the index — products an update added since it was built — scanned.
 */
export function searchIndexed(index: IvfIndex, rows: QuantizedMatrix, query: Float32Array, k: number, exclude?: (position: number) => boolean): Neighbour[] {
  const hits = searchIvf(index, query, k, { rescore: (p) => rowScore(rows, query, p), exclude });
  for (let p = index.count; p < rows.count; p++) if (!exclude?.(p)) hits.push({ index: p, score: rowScore(rows, query, p) });
  return hits.sort((x, y) => y.score - x.score || x.index - y.index).slice(0, k);
}

/** The float vector the codes at position `p` stand for (centre + decoded residual). */
export function ivfVector(index: IvfIndex, p: number): Float32Array {
  const { dims, offsets, centroids, lo, step, codes } = index;
  let c = 0;
  for (let a = 0, b = index.nlist - 1; a <= b; ) {
    const m = (a + b) >> 1;
    if (offsets[m]! <= p) (c = m), (a = m + 1);
    else b = m - 1;
  }
  const { rowBytes, slots } = index;
  const v = new Float32Array(dims);
  for (let d = 0; d < dims; d++) v[d] = centroids[c * dims + d]! + lo[d]!;
  for (let s = 0; s < slots.length; s++) {
    const byte = codes[p * rowBytes + (s % rowBytes)]!;
    v[slots[s]!]! += step[slots[s]!]! * (s < rowBytes ? byte & 15 : byte >> 4);
  }
  return v;
}

/** Which code {@link searchIvf} runs here for this index. */
export function ivfKernel(index: IvfIndex): 'wasm-relaxed-simd' | 'wasm-simd' | 'js' {
  return scannerOf(index) ? (relaxedModule() ? 'wasm-relaxed-simd' : 'wasm-simd') : 'js';
}

/** `lut[j·256 + b]`: what the code byte `b` at byte `j` of a row adds to its score (`w` by slot). */
function lutOf(w: Float32Array, rowBytes: number): Float32Array {
  const lut = new Float32Array(rowBytes * 256);
  for (let j = 0; j < rowBytes; j++) {
    for (let b = 0; b < 256; b++) lut[(j << 8) | b] = w[j]! * (b & 15) + w[rowBytes + j]! * (b >> 4);
  }
  return lut;
}

/** The index's codes in WebAssembly memory, with room for a query and a cell's scores. */
interface Scanner {
  /** Loads the query's weights by slot (as int8 and one scale). */
  prepare(w: Float32Array): void;
  /**
   * Scores `rows` rows from position `from` (`add` plus the 4-bit sum) and returns how many beat
   * `floor` (up to float32 rounding): their offsets from `from` are `rows[2t]`, their scores
   * `scores[2t + 1]`, in arrays the next call reuses.
   */
  score(from: number, rows: number, add: number, floor: number): number;
  rows: Int32Array;
  scores: Float32Array;
}

const scanners = new WeakMap<Uint8Array, Scanner | null>();

function scannerOf(index: IvfIndex): Scanner | null {
  const cached = scanners.get(index.codes);
  if (cached !== undefined) return cached;
  const mod = index.count > 0 ? (relaxedModule() ?? simdModule()) : null;
  let scanner: Scanner | null = null;
  if (mod) {
    try {
      scanner = loadScanner(mod, index);
    } catch {
      // Out of memory for the copy, or instantiation refused: the JS loop it is.
    }
  }
  scanners.set(index.codes, scanner);
  return scanner;
}

function loadScanner(mod: WebAssembly.Module, index: IvfIndex): Scanner {
  const { rowBytes } = index;
  const width = Math.ceil(rowBytes / 16) * 16;
  let largest = 0;
  for (let c = 0; c < index.nlist; c++) largest = Math.max(largest, index.offsets[c + 1]! - index.offsets[c]!);
  // The kernel reads `width` bytes a row and four rows at a time: up to three rows and a chunk past the end.
  const codesEnd = (index.count + 4) * rowBytes + width;
  const queryAt = Math.ceil(codesEnd / 16) * 16;
  const outAt = queryAt + 2 * width;
  const instance = new WebAssembly.Instance(mod);
  const memory = instance.exports.memory as WebAssembly.Memory;
  const pages = Math.ceil((outAt + (largest + 4) * 8) / 65536);
  if (pages > 1) memory.grow(pages - 1);
  new Uint8Array(memory.buffer).set(index.codes);
  // Lanes past a row's bytes stay 0: they would read the next row's codes.
  const query = new Int8Array(memory.buffer, queryAt, 2 * width);
  const rows = new Int32Array(memory.buffer, outAt, 2 * largest + 8);
  const scores = new Float32Array(memory.buffer, outAt, 2 * largest + 8);
  type Score4 = (codes: number, query: number, out: number, rows: number, stride: number, width: number, scale: number, add: number, floor: number) => number;
  const score4 = instance.exports.score4 as Score4;
  let scale = 0;
  return {
    prepare(w) {
      let max = 0;
      for (let s = 0; s < w.length; s++) max = Math.max(max, Math.abs(w[s]!));
      const f = max > 0 ? 127 / max : 0;
      for (let j = 0; j < rowBytes; j++) {
        query[j] = Math.round(w[j]! * f);
        query[width + j] = Math.round(w[rowBytes + j]! * f);
      }
      scale = max > 0 ? max / 127 : 0;
    },
    // A float32 floor just under the pool's, so no row the pool would take is dropped by rounding.
    score: (from, n, add, floor) => score4(from * rowBytes, queryAt, outAt, n, rowBytes, width, scale, add, floor === -Infinity ? -Infinity : floor - 1e-6),
    rows,
    scores,
  };
}

const quantizedCentres = new WeakMap<Float32Array, QuantizedMatrix>();

/**
 * Every cell's `⟨q, centre⟩` up to a positive factor, to rank them: through the int8 kernel when it
 * runs (its error, ~1e-3, only reorders near-ties).
 */
function cellScores(index: Pick<IvfIndex, 'centroids' | 'dims' | 'nlist'>, query: Float32Array): ArrayLike<number> {
  const { centroids, dims, nlist } = index;
  let q = quantizedCentres.get(centroids);
  if (!q) quantizedCentres.set(centroids, (q = quantizeInt8(centroids, dims)));
  const fast = scoreInt8(q, query);
  if (fast) return fast;
  const out = new Float64Array(nlist);
  for (let c = 0; c < nlist; c++) {
    let dot = 0;
    for (let d = 0, o = c * dims; d < dims; d++) dot += query[d]! * centroids[o + d]!;
    out[c] = dot;
  }
  return out;
}

/** The `n` cells whose centres are nearest `query`, nearest first: the cells a search scans. */
export function nearestCells(index: Pick<IvfIndex, 'centroids' | 'dims' | 'nlist'>, query: Float32Array, n: number): number[] {
  return best(index.nlist, Math.min(index.nlist, n), cellScores(index, query));
}

/** The `k` highest of `scores`, best first. */
function best(n: number, k: number, scores: ArrayLike<number>): number[] {
  const pool = topPool(k);
  for (let i = 0; i < n; i++) if (scores[i]! > pool.floor) pool.add(i, scores[i]!);
  return pool.hits().map((h) => h.index);
}

/** `n` distinct rows, in random order (all of them when `n ≥ count`). */
function sample(vectors: Float32Array, dims: number, count: number, n: number, rng: Rng): Float32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  n = Math.min(n, count);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(count - i);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const out = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) out.set(vectors.subarray(order[i]! * dims, (order[i]! + 1) * dims), i * dims);
  return out;
}

/** The index of the centre with the largest inner product, for each row (via the int8 kernel when it runs). */
function assign(vectors: Float32Array, dims: number, centroids: Float32Array): Int32Array {
  const n = vectors.length / dims;
  const nc = centroids.length / dims;
  const q = quantizeInt8(centroids, dims);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = vectors.subarray(i * dims, (i + 1) * dims);
    const scores = scoreInt8(q, x);
    let arg = 0;
    let max = -Infinity;
    for (let c = 0; c < nc; c++) {
      let s: number;
      if (scores) s = scores[c]!;
      else {
        s = 0;
        for (let d = 0, o = c * dims; d < dims; d++) s += x[d]! * centroids[o + d]!;
      }
      if (s > max) (max = s), (arg = c);
    }
    out[i] = arg;
  }
  return out;
}

/** k-means on the unit sphere: centres are renormalized means; an empty cell takes a random row. */
function sphericalKMeans(train: Float32Array, dims: number, k: number, iterations: number, rng: Rng): Float32Array {
  const n = train.length / dims;
  const centres = sample(train, dims, n, k, rng);
  for (let it = 0; it < iterations; it++) {
    const cell = assign(train, dims, centres);
    centres.fill(0);
    for (let i = 0; i < n; i++) for (let d = 0, o = cell[i]! * dims; d < dims; d++) centres[o + d]! += train[i * dims + d]!;
    for (let c = 0; c < k; c++) {
      const o = c * dims;
      let norm = 0;
      for (let d = 0; d < dims; d++) norm += centres[o + d]! ** 2;
      const r = norm === 0 ? rng.int(n) : -1;
      if (r >= 0) centres.set(train.subarray(r * dims, (r + 1) * dims), o);
      else for (let d = 0; d < dims; d++) centres[o + d]! /= Math.sqrt(norm);
    }
  }
  return centres;
}

export interface NprobeChoice {
  nprobe: number;
  /** Mean recall@k of the chosen setting on the sample. */
  recall: number;
  /** Each setting tried, in order. */
  tried: { nprobe: number; recall: number }[];
}

/**
 * The fewest cells a query must scan for recall@k ≥ `target` against an exact int8 scan, measured
 * with `queries` of the catalog's own rows as queries (each excluding itself), rescored against
 * `rows` (the int8 rows in position order) as a search would be. Tries a ladder of settings, halving
 * the gap between the last too-few and the first enough, so the choice costs a few dozen searches.
 */
export function tuneNprobe(
  index: IvfIndex,
  rows: QuantizedMatrix,
  opts: { target?: number; queries?: number; k?: number; seed?: number } = {},
): NprobeChoice {
  const { target = 0.95, k = 10 } = opts;
  const rng = createRng(opts.seed ?? 1);
  const picks = Array.from({ length: Math.min(index.count, opts.queries ?? 200) }, () => rng.int(index.count));
  const cases = picks.map((p) => {
    const query = dequantizeRow(rows, p);
    const truth = new Set(searchInt8(rows, query, k, (j) => j === p).map((h) => h.index));
    return { p, query, truth };
  });
  const tried: { nprobe: number; recall: number }[] = [];
  const recallAt = (nprobe: number) => {
    let sum = 0;
    for (const { p, query, truth } of cases) {
      const hits = searchIvf(index, query, k, { nprobe, rescore: (j) => rowScore(rows, query, j), exclude: (j) => j === p });
      sum += hits.filter((h) => truth.has(h.index)).length / Math.max(1, truth.size);
    }
    const recall = cases.length ? sum / cases.length : 1;
    tried.push({ nprobe, recall });
    return recall;
  };
  // Doubling until enough, then bisection between the last two.
  let lo = 0;
  let hi = 1;
  while (hi < index.nlist && recallAt(hi) < target) (lo = hi), (hi = Math.min(index.nlist, hi * 2));
  if (hi === index.nlist && !tried.some((t) => t.nprobe === hi)) recallAt(hi);
  while (hi - lo > Math.max(1, Math.ceil(hi / 16))) {
    const mid = (lo + hi) >> 1;
    if (recallAt(mid) >= target) hi = mid;
    else lo = mid;
  }
  return { nprobe: hi, recall: tried.find((t) => t.nprobe === hi)!.recall, tried };
}
