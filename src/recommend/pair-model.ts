/**
 * The complementary (goes-with) pair model of seed §3, in plain typed-array code: a Siamese scorer
 * f(i, j). Each leg reads one product — its image embedding, a learned category embedding and a
 * hashed bag of title words — into a small vector; the legs meet as [a + b, a·b, |a − b|]
 * (symmetric: f(i, j) = f(j, i)), then a small MLP scores the pair. The builder trains it with
 * TF.js and stores every catalog product's leg; the worker only computes the leg of a product
 * that is not in the bundle, so this row needs no TF.js for scoring.
 */
import { decodeTensors, type TensorHeader } from '../bundle/tensor-file.js';

export const PAIR_KIND = 'pair-siamese';

export interface PairDims {
  /** Image embedding size. */
  visual: number;
  /** Categories known to the model; category index 0 means "unknown". */
  categories: number;
  category: number;
  buckets: number;
  words: number;
  leg: number;
  merge: number;
}

/** Weight names, in file order; `legs` are the precomputed catalog legs (one row per product). */
export const PAIR_TENSORS = ['catTable', 'wordTable', 'legW', 'legB', 'm1W', 'm1B', 'm2W', 'm2B', 'legs'] as const;
type Weights = Record<(typeof PAIR_TENSORS)[number], Float32Array>;

export function pairShapes(d: PairDims, items: number): Record<(typeof PAIR_TENSORS)[number], number[]> {
  const input = d.visual + d.category + d.words;
  return {
    catTable: [d.categories + 1, d.category], wordTable: [d.buckets, d.words], legW: [input, d.leg], legB: [d.leg],
    m1W: [3 * d.leg, d.merge], m1B: [d.merge], m2W: [d.merge, 1], m2B: [1], legs: [items, d.leg],
  };
}

/** y = relu?(x · W + b) for a row vector x, W row-major `x.length × out`. */
function dense(x: Float32Array, W: Float32Array, b: Float32Array, relu: boolean): Float32Array {
  const out = b.slice();
  const n = out.length;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const row = i * n;
    for (let j = 0; j < n; j++) out[j]! += xi * W[row + j]!;
  }
  if (relu) for (let j = 0; j < n; j++) if (out[j]! < 0) out[j] = 0;
  return out;
}

export class PairModel {
  private readonly hidden: Float32Array;
  private readonly merged: Float32Array;

  private constructor(
    readonly dims: PairDims,
    private readonly w: Weights,
    readonly items: number,
  ) {
    this.hidden = new Float32Array(dims.merge);
    this.merged = new Float32Array(3 * dims.leg);
  }

  /** Loads from the bundle's header and weights, checking every shape against the bundle. */
  static load(header: TensorHeader, weights: ArrayBuffer, itemCount: number, file = 'pair-model'): PairModel {
    const c = header.config ?? {};
    if (c.kind !== PAIR_KIND) throw new Error(`${file}: model kind ${JSON.stringify(c.kind)} is not ${PAIR_KIND}`);
    const dims = c as unknown as PairDims;
    for (const k of ['visual', 'categories', 'category', 'buckets', 'words', 'leg', 'merge'] as const) {
      if (!Number.isInteger(dims[k]) || dims[k] < 0 || dims[k] > 1e6) throw new Error(`${file}: config.${k} is not a size`);
    }
    const shapes = pairShapes(dims, itemCount);
    const decoded = decodeTensors(header, weights, file);
    const w = {} as Weights;
    for (const name of PAIR_TENSORS) {
      const t = decoded.get(name);
      if (!t || t.shape.join('×') !== shapes[name].join('×')) throw new Error(`${file}: ${name} should be ${shapes[name].join('×')}, is ${t ? t.shape.join('×') : 'missing'}`);
      w[name] = t.data;
    }
    return new PairModel(dims, w, itemCount);
  }

  /** A product's leg from its features: image embedding, category (1-based; 0 unknown), title word buckets. */
  leg(visual: Float32Array, category: number, buckets: readonly number[]): Float32Array {
    const d = this.dims;
    const x = new Float32Array(d.visual + d.category + d.words);
    x.set(visual.subarray(0, d.visual));
    const c = category >= 0 && category <= d.categories ? category : 0;
    x.set(this.w.catTable.subarray(c * d.category, (c + 1) * d.category), d.visual);
    // As in training: at most 32 tokens, averaged.
    const valid = buckets.filter((b) => b >= 0 && b < d.buckets).slice(0, 32);
    for (const b of valid) {
      for (let k = 0; k < d.words; k++) x[d.visual + d.category + k]! += this.w.wordTable[b * d.words + k]! / valid.length;
    }
    return dense(x, this.w.legW, this.w.legB, true);
  }

  /** The stored leg of catalog product `i`. */
  catalogLeg(i: number): Float32Array {
    return this.w.legs.subarray(i * this.dims.leg, (i + 1) * this.dims.leg);
  }

  /** f(a, b) as a logit (higher: goes together better). */
  score(a: Float32Array, b: Float32Array): number {
    const L = this.dims.leg;
    const m = this.merged;
    for (let k = 0; k < L; k++) {
      m[k] = a[k]! + b[k]!;
      m[L + k] = a[k]! * b[k]!;
      m[2 * L + k] = Math.abs(a[k]! - b[k]!);
    }
    const h = this.hidden;
    h.set(this.w.m1B);
    const n = h.length;
    for (let i = 0; i < m.length; i++) {
      const v = m[i]!;
      if (v === 0) continue;
      for (let j = 0; j < n; j++) h[j]! += v * this.w.m1W[i * n + j]!;
    }
    let out = this.w.m2B[0]!;
    for (let j = 0; j < n; j++) if (h[j]! > 0) out += h[j]! * this.w.m2W[j]!;
    return out;
  }
}
