import { describe, expect, it } from 'vitest';
import { discountImpressions, diversify, mmr, RERANK } from '../../../src/recommend/rerank.js';

describe('diversify', () => {
  const hits = [0, 1, 2, 3, 4, 5, 6].map((index) => ({ index, score: 10 - index }));
  const group = (i: number) => (i < 5 ? 'shoes' : i === 5 ? 'tops' : undefined);
  it('caps each group among the first places, keeping score order, then fills up', () => {
    expect(diversify(hits, group, 4, 2).map((h) => h.index)).toEqual([0, 1, 5, 6]);
    expect(diversify(hits, group, 6, 2).map((h) => h.index)).toEqual([0, 1, 5, 6, 2, 3]);
    expect(diversify(hits, () => 'one', 3).map((h) => h.index)).toEqual([0, 1, 2]);
  });
});

/** A unit vector at `degrees` in the plane. */
const at = (degrees: number) => Float32Array.of(Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180));

describe('mmr', () => {
  // Items 10 and 11 are near-duplicates (1° apart); 12 points elsewhere but scores a little lower.
  const vectors = new Map([[10, at(0)], [11, at(1)], [12, at(90)], [13, at(2)]]);
  const hits = [{ index: 10, score: 0.9 }, { index: 11, score: 0.89 }, { index: 12, score: 0.8 }, { index: 13, score: 0.5 }];
  const vectorOf = (i: number) => vectors.get(i);

  it('lets a different product overtake a near-duplicate of one already picked', () => {
    // Relevance over the candidates: 1, 0.975, 0.75, 0. After 10: 11 scores 0.5·0.975 − 0.5·cos 1° ≈ −0.012, 12: 0.5·0.75 − 0 = 0.375.
    expect(mmr(hits, vectorOf, 3, 0.5).map((h) => h.index)).toEqual([10, 12, 11]);
    // Scores come through unchanged.
    expect(mmr(hits, vectorOf, 2, 0.5)).toEqual([hits[0], hits[2]]);
  });

  it('keeps score order at lambda 1, returns at most limit, and the first pick is always the most relevant', () => {
    expect(mmr(hits, vectorOf, 10, 1).map((h) => h.index)).toEqual([10, 11, 12, 13]);
    expect(mmr(hits, vectorOf, 0)).toEqual([]);
    expect(mmr([], vectorOf, 5)).toEqual([]);
    expect(mmr(hits, vectorOf, 1, 0)[0]!.index).toBe(10);
  });

  it('at lambda 0 picks the least similar each time; a product without a vector is unlike all', () => {
    // 14 (no vector) is the most relevant; every other is unlike it (cosine 0), so the earliest, 10,
    // follows; then 12 (90° from 10) before 11 and 13 (1° and 2°).
    const withUnknown = [...hits, { index: 14, score: 0.95 }];
    expect(mmr(withUnknown, vectorOf, 3, 0).map((h) => h.index)).toEqual([14, 10, 12]);
    expect(mmr(hits, vectorOf, 4, 0).map((h) => h.index)).toEqual([10, 12, 13, 11]);
  });

  it('rescales scores of any kind: counts and reciprocal ranks rank as cosines do', () => {
    const counts = hits.map((h, r) => ({ index: h.index, score: [90, 89, 80, 50][r]! }));
    expect(mmr(counts, vectorOf, 3, 0.5).map((h) => h.index)).toEqual([10, 12, 11]);
    // All scores equal: relevance 1 for all, so only similarity decides after the first.
    const tied = hits.map((h) => ({ ...h, score: 1 }));
    expect(mmr(tied, vectorOf, 2, 0.5).map((h) => h.index)).toEqual([10, 12]);
  });

  it('refuses a lambda outside [0, 1]', () => {
    expect(() => mmr(hits, vectorOf, 3, 1.5)).toThrow(/lambda must be in \[0, 1\]/);
    expect(() => mmr(hits, vectorOf, 3, NaN)).toThrow(RangeError);
  });
});

describe('discountImpressions', () => {
  const hits = [0, 1, 2, 3, 4].map((index) => ({ index, score: 1 / (index + 1) }));
  it('sinks what was shown often without a pick, by rank: (r + 1) × (1 + strength × (shown − free))', () => {
    // Item 0 shown 3 times, free 1, strength 1: position 1 × 3 = 3, after 1 (2) and tied with 2 (3): stable, 0 stays first of the tie.
    const shown = (i: number) => (i === 0 ? 3 : 0);
    expect(discountImpressions(hits, shown, 1, 1).map((h) => h.index)).toEqual([1, 0, 2, 3, 4]);
    // Strength 2: 1 × 5 = 5, tied with item 4 (5): after 1, 2, 3.
    expect(discountImpressions(hits, shown, 2, 1).map((h) => h.index)).toEqual([1, 2, 3, 0, 4]);
    // Within the free impressions nothing moves; strength 0 moves nothing.
    expect(discountImpressions(hits, () => 1, 5, 1)).toEqual(hits);
    expect(discountImpressions(hits, shown, 0, 0)).toEqual(hits);
  });

  it('returns every hit, scores unchanged, and uses the defaults', () => {
    const shown = (i: number) => (i < 2 ? 10 : 0);
    const out = discountImpressions(hits, shown);
    expect(out).toHaveLength(hits.length);
    expect([...out].sort((a, b) => a.index - b.index)).toEqual(hits);
    expect(out.map((h) => h.index)).toEqual(discountImpressions(hits, shown, RERANK.strength, RERANK.free).map((h) => h.index));
    expect(out[0]!.index).toBe(2);
  });

  it('refuses a negative strength or free', () => {
    expect(() => discountImpressions(hits, () => 0, -1)).toThrow(RangeError);
  });
});
