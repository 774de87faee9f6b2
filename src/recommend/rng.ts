/**
 * A small seeded PRNG (mulberry32): the same seed gives the same stream on every machine,
 * so generated demo data and evaluation splits are reproducible.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T;
  /** Index drawn with probability proportional to `weights[i]`. */
  weighted(weights: ArrayLike<number>): number;
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick: (xs) => xs[int(xs.length)]!,
    weighted(weights) {
      let total = 0;
      for (let i = 0; i < weights.length; i++) total += weights[i]!;
      let r = next() * total;
      for (let i = 0; i < weights.length; i++) {
        r -= weights[i]!;
        if (r < 0) return i;
      }
      return weights.length - 1;
    },
  };
}

/** `0 … n − 1` in a random order (Fisher–Yates, drawing from `rng`). */
export function shuffledIndices(n: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, rng);
  return order;
}

/** Shuffles `xs` in place (Fisher–Yates, drawing from `rng`): a training loop's order, epoch after epoch. */
export function shuffleInPlace(xs: number[] | Int32Array, rng: Rng): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}
