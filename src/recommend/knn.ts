/**
 * Cosine nearest neighbours over int8-quantized, unit-length embeddings, in plain typed-array code
 * (no TF.js), so the similar row renders before any model has loaded.
 *
 * Quantization is per row: `x ≈ q * scale` with `q` in [-127, 127] and `scale = max|x| / 127`.
 */

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
 * best first, skipping rows for which `exclude(index)` is true.
 */
export function searchInt8(q: QuantizedMatrix, query: Float32Array, k: number, exclude?: (index: number) => boolean): Neighbour[] {
  const { codes, scales, count, dims } = q;
  if (query.length !== dims) throw new RangeError(`query has ${query.length} dims, the index ${dims}`);
  // A bounded min-heap would win for large k; for k ≤ 50 a sorted insertion list is faster.
  const top: Neighbour[] = [];
  let floor = -Infinity;
  for (let r = 0; r < count; r++) {
    if (exclude?.(r)) continue;
    const o = r * dims;
    let dot = 0;
    for (let d = 0; d < dims; d++) dot += query[d]! * codes[o + d]!;
    const score = dot * scales[r]!;
    if (top.length < k || score > floor) {
      let i = top.length;
      while (i > 0 && top[i - 1]!.score < score) i--;
      top.splice(i, 0, { index: r, score });
      if (top.length > k) top.pop();
      floor = top[top.length - 1]!.score;
    }
  }
  return top;
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
