/**
 * The benchmarks' test vectors (unit length, row-major, seeded): evenly random, clustered like
 * product embeddings, and look-alikes of the demo bundle's real embeddings (see knn-worker.ts).
 */
import { createRng, type Rng } from '../../src/recommend/rng.js';

/** Roughly Gaussian (a sum of three uniforms), cheap and deterministic. */
const gauss = (rng: Rng) => rng.next() + rng.next() + rng.next() - 1.5;

function normalize(m: Float32Array, o: number, dims: number): void {
  let norm = 0;
  for (let d = 0; d < dims; d++) norm += m[o + d]! ** 2;
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < dims; d++) m[o + d]! *= inv;
}

export function randomRows(n: number, dims: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const m = new Float32Array(n * dims);
  for (let r = 0; r < n; r++) {
    for (let d = 0; d < dims; d++) m[r * dims + d] = gauss(rng);
    normalize(m, r * dims, dims);
  }
  return m;
}

/** The 'clustered' mixture; the same centres for every seed, so catalog and queries share them. */
export function clusteredRows(n: number, dims: number, seed: number): Float32Array {
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

/** `n` noisy copies of the rows of `base` (int8, any scale; each row normalized first). */
export function demoRows(base: Int8Array, n: number, dims: number, seed: number): Float32Array {
  const count = base.length / dims;
  const unit = new Float32Array(base.length);
  for (let r = 0; r < count; r++) {
    for (let d = 0; d < dims; d++) unit[r * dims + d] = base[r * dims + d]!;
    normalize(unit, r * dims, dims);
  }
  const rng = createRng(seed);
  const m = new Float32Array(n * dims);
  const sd = (0.3 / Math.sqrt(dims)) * 2; // gauss() has sd 0.5
  for (let r = 0; r < n; r++) {
    const b = rng.int(count);
    for (let d = 0; d < dims; d++) m[r * dims + d] = unit[b * dims + d]! + sd * gauss(rng);
    normalize(m, r * dims, dims);
  }
  return m;
}

