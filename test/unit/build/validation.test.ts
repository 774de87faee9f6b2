import { describe, expect, it } from 'vitest';
import { auc, bootstrapInterval, clearlyBetter, evenly, pairedDifference, rankOf, reciprocalRank } from '../../../src/build/validation.js';
import { createRng } from '../../../src/recommend/rng.js';

describe('validation statistics', () => {
  it('ROC AUC counts ordered pairs, ties as half', () => {
    expect(auc([0.9, 0.4], [0.5, 0.1])).toBeCloseTo(0.75, 10);
    expect(auc([1, 1], [1, 1])).toBeCloseTo(0.5, 10);
    expect(auc([], [1])).toBeNaN();
  });

  it('a bootstrap interval brackets the mean and narrows with more data', () => {
    const rng = createRng(3);
    const small = Array.from({ length: 50 }, () => (rng.next() < 0.3 ? 1 : 0));
    const large = Array.from({ length: 5000 }, () => (rng.next() < 0.3 ? 1 : 0));
    const a = bootstrapInterval(small);
    const b = bootstrapInterval(large);
    expect(a.lo).toBeLessThan(a.mean);
    expect(a.hi).toBeGreaterThan(a.mean);
    expect(b.hi - b.lo).toBeLessThan((a.hi - a.lo) / 5);
    // About ±1.96 standard errors for a proportion near 0.3 with 5000 samples: ±0.0127.
    expect(b.hi - b.lo).toBeGreaterThan(0.02);
    expect(b.hi - b.lo).toBeLessThan(0.031);
    // Seeded: the same interval every time.
    expect(bootstrapInterval(small)).toEqual(a);
  });

  it('a paired difference is beyond noise only when the gain is consistent', () => {
    const base = Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const better = base.map((x, i) => (i % 10 === 1 ? 1 : x));
    const noisy = base.map((x, i) => (i % 20 === 1 ? 1 : i % 20 === 3 ? 0 : x));
    expect(pairedDifference(base, better).lo).toBeGreaterThan(0);
    expect(pairedDifference(base, noisy).lo).toBeLessThanOrEqual(0);
    expect(clearlyBetter(base, better)).toBe(true);
    expect(clearlyBetter(better, base)).toBe(false);
    expect(clearlyBetter(base, base)).toBe(false);
    expect(() => pairedDifference([1], [1, 2])).toThrow(/differ in length/);
  });

  it('ranks count strictly higher items and half the ties; excluded items do not count', () => {
    expect(rankOf([0.1, 0.9, 0.5, 0.5, 0.5], 2)).toBe(2);
    expect(rankOf([0.1, 0.9, 0.5, 0.5, 0.5], 2, new Set([1]))).toBe(1);
    expect(reciprocalRank(0, 20)).toBe(1);
    expect(reciprocalRank(19, 20)).toBe(1 / 20);
    expect(reciprocalRank(20, 20)).toBe(0);
    expect(evenly(10, 3)).toEqual([0, 3, 6]);
    expect(evenly(2, 3)).toEqual([0, 1]);
  });
});
