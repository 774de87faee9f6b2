/**
 * An IVF-PQ index for catalogs too large to scan (≈ 1M items): an inverted file of `nlist` cells
 * (spherical k-means on unit vectors) whose items are stored as product-quantized residuals.
 *
 * - A query ranks the cells by `⟨q, centroid⟩`, scans the best `nprobe`, and scores each item there as
 *   `⟨q, centroid⟩ + Σ_s lut[s][code_s]` (asymmetric distance: the query stays float). For inner
 *   products the lookup table does not depend on the cell, so one table serves every probed cell.
 * - Items are stored in cell order; `ids` maps a position back to the item. Every array is a typed
 *   array, so a bundle can carry the index as is. With the defaults at 64 dims an item costs 28 B
 *   (24 code bytes + a 4-byte id) plus the shared centroids and codebooks.
 * - Builds are deterministic for a seed (training samples and initial centres come from `createRng`).
 */
import { quantizeInt8, rowScore, scoreInt8, type Neighbour, type QuantizedMatrix } from './knn.js';
import { topPool } from './select.js';
import { createRng, type Rng } from './rng.js';

export interface IvfPqIndex {
  dims: number;
  count: number;
  /** Cells. */
  nlist: number;
  /** Sub-quantizers; subspace `s` covers dims `[⌊s·dims/m⌋, ⌊(s+1)·dims/m⌋)`. */
  m: number;
  /** `nlist × dims` unit-length cell centres. */
  centroids: Float32Array;
  /** `nlist + 1` positions: cell `c` holds positions `[offsets[c], offsets[c + 1])`. */
  offsets: Uint32Array;
  /** The item at each position. */
  ids: Uint32Array;
  /** `256 × dims` floats: subspace `s`'s 256 centres of `dsub` floats each, from `256 · start(s)`. */
  codebooks: Float32Array;
  /** `count × m` codes, by position. */
  codes: Uint8Array;
}

export interface IvfPqBuildOptions {
  /** Cells; default `√count` rounded, at most 4096. */
  nlist?: number;
  /** Sub-quantizers, one code byte each; default `⌊3·dims/8⌋` (24 at 64 dims). */
  m?: number;
  /** Vectors sampled to train the cells (default 64 per cell, at least 16384). */
  sample?: number;
  /** k-means iterations for cells and codebooks (default 10). */
  iterations?: number;
  seed?: number;
}

export interface IvfPqSearchOptions {
  /** Cells scanned (default 8); more is slower and finds more of the true neighbours. */
  nprobe?: number;
  /**
   * Rescore the best `candidates` (default `10k`) exactly against these int8 vectors (the rows of the
   * catalog's embedding matrix). Costs the matrix's memory, so it is off by default.
   */
  rerank?: { vectors: QuantizedMatrix; candidates?: number };
  exclude?: (index: number) => boolean;
}

const K = 256;

/** Bytes the index occupies (every array), e.g. to report bytes per item. */
export function ivfPqBytes(index: IvfPqIndex): number {
  return index.centroids.byteLength + index.offsets.byteLength + index.ids.byteLength + index.codebooks.byteLength + index.codes.byteLength;
}

/**
 * Builds an index over `count` row-major unit vectors.
 *
 * @example
 * const index = buildIvfPq(embeddings, 64, { seed: 1 });
 * const hits = searchIvfPq(index, query, 10, { nprobe: 16 });
 */
export function buildIvfPq(vectors: Float32Array, dims: number, opts: IvfPqBuildOptions = {}): IvfPqIndex {
  const count = Math.floor(vectors.length / dims);
  const nlist = Math.max(1, Math.min(count, opts.nlist ?? Math.min(4096, Math.round(Math.sqrt(count)))));
  const m = opts.m ?? Math.floor((3 * dims) / 8);
  if (!(m >= 1 && m <= dims)) throw new RangeError(`m must be in [1, ${dims}], got ${m}`);
  const iterations = opts.iterations ?? 10;
  const rng = createRng(opts.seed ?? 1);
  if (count === 0) {
    return { dims, count, nlist: 0, m, centroids: new Float32Array(0), offsets: new Uint32Array(1), ids: new Uint32Array(0), codebooks: new Float32Array(K * dims), codes: new Uint8Array(0) };
  }

  // Cells: spherical k-means on a sample, then every item to its nearest centre.
  const train = sample(vectors, dims, count, Math.max(opts.sample ?? 64 * nlist, 16384), rng);
  const centroids = sphericalKMeans(train, dims, nlist, iterations, rng);
  const cell = assign(vectors, dims, centroids);
  const offsets = new Uint32Array(nlist + 1);
  for (let i = 0; i < count; i++) offsets[cell[i]! + 1]!++;
  for (let c = 0; c < nlist; c++) offsets[c + 1]! += offsets[c]!;
  const ids = new Uint32Array(count);
  const fill = offsets.slice(0, nlist);
  for (let i = 0; i < count; i++) ids[fill[cell[i]!]!++] = i;

  // Codebooks: per subspace, k-means on the sample's residuals (16k are plenty for 256 centres).
  const pqTrain = Math.min(train.length / dims, 16384);
  const trainCell = assign(train.subarray(0, pqTrain * dims), dims, centroids);
  const residuals = new Float32Array(pqTrain * dims);
  for (let i = 0; i < pqTrain; i++) {
    for (let d = 0, c = trainCell[i]! * dims; d < dims; d++) residuals[i * dims + d] = train[i * dims + d]! - centroids[c + d]!;
  }
  const codebooks = new Float32Array(K * dims);
  for (let s = 0; s < m; s++) {
    const a = start(s, m, dims);
    const dsub = start(s + 1, m, dims) - a;
    codebooks.set(subKMeans(residuals, dims, a, dsub, iterations, rng), K * a);
  }

  // Codes, by position.
  const codes = new Uint8Array(count * m);
  const r = new Float32Array(dims);
  for (let p = 0; p < count; p++) {
    const i = ids[p]!;
    for (let d = 0, c = cell[i]! * dims; d < dims; d++) r[d] = vectors[i * dims + d]! - centroids[c + d]!;
    for (let s = 0; s < m; s++) {
      const a = start(s, m, dims);
      codes[p * m + s] = nearest(codebooks, K * a, start(s + 1, m, dims) - a, r, a);
    }
  }
  return { dims, count, nlist, m, centroids, offsets, ids, codebooks, codes };
}

/**
 * The `k` items most similar to `query` (inner product; cosine for unit vectors), best first,
 * found in the `nprobe` nearest cells, skipping items for which `exclude(index)` is true.
 */
export function searchIvfPq(index: IvfPqIndex, query: Float32Array, k: number, opts: IvfPqSearchOptions = {}): Neighbour[] {
  const { dims, nlist, m, centroids, offsets, ids, codebooks, codes } = index;
  if (query.length !== dims) throw new RangeError(`query has ${query.length} dims, the index ${dims}`);
  if (k <= 0 || nlist === 0) return [];
  const nprobe = Math.min(nlist, Math.max(1, opts.nprobe ?? 8));
  const { rerank, exclude } = opts;

  // The nprobe best cells.
  const cellScore = new Float64Array(nlist);
  for (let c = 0; c < nlist; c++) {
    let dot = 0;
    for (let d = 0, o = c * dims; d < dims; d++) dot += query[d]! * centroids[o + d]!;
    cellScore[c] = dot;
  }
  const cells = top(nlist, nprobe, (c) => cellScore[c]!);

  // lut[s·256 + j] = ⟨q_s, codebook_s[j]⟩.
  const lut = new Float32Array(m * K);
  for (let s = 0; s < m; s++) {
    const a = start(s, m, dims);
    const dsub = start(s + 1, m, dims) - a;
    for (let j = 0, o = K * a; j < K; j++, o += dsub) {
      let dot = 0;
      for (let d = 0; d < dsub; d++) dot += query[a + d]! * codebooks[o + d]!;
      lut[s * K + j] = dot;
    }
  }

  // Scan, keeping the best `pool` items.
  const best = topPool(rerank ? Math.max(k, rerank.candidates ?? 10 * k) : k);
  for (const c of cells) {
    const base = cellScore[c]!;
    for (let p = offsets[c]!, end = offsets[c + 1]!; p < end; p++) {
      let s = base;
      for (let j = 0, o = p * m; j < m; j++) s += lut[j * K + codes[o + j]!]!;
      if (s > best.floor && !exclude?.(ids[p]!)) best.add(ids[p]!, s);
    }
  }
  const hits = best.hits();
  if (!rerank) return hits;
  for (const h of hits) h.score = rowScore(rerank.vectors, query, h.index);
  return hits.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}

/** First dim of subspace `s` of `m`. */
function start(s: number, m: number, dims: number): number {
  return Math.floor((s * dims) / m);
}

/** The `k` best of `0..n-1` by `score`, best first. */
function top(n: number, k: number, score: (i: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = score(i);
    if (out.length === k && s <= score(out[k - 1]!)) continue;
    let j = out.length < k ? out.length : k - 1;
    out[j] = i;
    for (; j > 0 && score(out[j - 1]!) < s; j--) (out[j] = out[j - 1]!), (out[j - 1] = i);
  }
  return out;
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

/** The index of the centre with the largest inner product, for each row (via the SIMD kernel when it runs). */
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

/**
 * k-means (L2) with 256 centres on dims `[a, a + dsub)` of the rows, sorted by their first coordinate
 * so {@link nearest} can search a strip instead of all 256.
 */
function subKMeans(rows: Float32Array, dims: number, a: number, dsub: number, iterations: number, rng: Rng): Float32Array {
  const n = rows.length / dims;
  const cb = new Float32Array(K * dsub);
  for (let j = 0; j < K; j++) {
    const o = rng.int(n) * dims + a;
    for (let d = 0; d < dsub; d++) cb[j * dsub + d] = rows[o + d]!;
  }
  const sums = new Float64Array(K * dsub);
  const sizes = new Uint32Array(K);
  for (let it = 0; ; it++) {
    sortByFirst(cb, dsub);
    if (it === iterations) return cb;
    sums.fill(0);
    sizes.fill(0);
    for (let i = 0; i < n; i++) {
      const j = nearest(cb, 0, dsub, rows, i * dims + a);
      sizes[j]!++;
      for (let d = 0; d < dsub; d++) sums[j * dsub + d]! += rows[i * dims + a + d]!;
    }
    for (let j = 0; j < K; j++) {
      const o = sizes[j] ? -1 : rng.int(n) * dims + a;
      for (let d = 0; d < dsub; d++) cb[j * dsub + d] = o < 0 ? sums[j * dsub + d]! / sizes[j]! : rows[o + d]!;
    }
  }
}

function sortByFirst(cb: Float32Array, dsub: number): void {
  const order = Array.from({ length: K }, (_, j) => j).sort((x, y) => cb[x * dsub]! - cb[y * dsub]!);
  const copy = cb.slice();
  order.forEach((j, to) => cb.set(copy.subarray(j * dsub, (j + 1) * dsub), to * dsub));
}

/**
 * The centre (of 256 at `cb[o..]`, sorted by first coordinate) nearest to `x[xo..xo + dsub)`: walks out
 * from the first coordinate's place both ways, stopping when that coordinate alone is farther than the best.
 */
function nearest(cb: Float32Array, o: number, dsub: number, x: Float32Array, xo: number): number {
  const x0 = x[xo]!;
  let lo = 0;
  let hi = K;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cb[o + mid * dsub]! < x0) lo = mid + 1;
    else hi = mid;
  }
  let best = Infinity;
  let arg = 0;
  for (let up = lo, down = lo - 1; up < K || down >= 0; ) {
    const du = up < K ? (cb[o + up * dsub]! - x0) ** 2 : Infinity;
    const dd = down >= 0 ? (x0 - cb[o + down * dsub]!) ** 2 : Infinity;
    const j = du <= dd ? up++ : down--;
    const gap = Math.min(du, dd);
    if (gap >= best) break;
    let dist = gap;
    for (let d = 1; d < dsub && dist < best; d++) dist += (cb[o + j * dsub + d]! - x[xo + d]!) ** 2;
    if (dist < best) (best = dist), (arg = j);
  }
  return arg;
}
