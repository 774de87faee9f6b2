import { describe, expect, it } from 'vitest';
import { cooccurrenceTopK, llr } from '../../../src/recommend/cooccurrence.js';

/** G² = 2 Σ O·ln(O/E), computed the textbook way, independently of the entropy form under test. */
function gSquared(k11: number, k12: number, k21: number, k22: number): number {
  const n = k11 + k12 + k21 + k22;
  const cells = [
    [k11, (k11 + k12) * (k11 + k21)],
    [k12, (k11 + k12) * (k12 + k22)],
    [k21, (k21 + k22) * (k11 + k21)],
    [k22, (k21 + k22) * (k12 + k22)],
  ];
  return 2 * cells.reduce((sum, [o, rowTimesCol]) => (o! > 0 ? sum + o! * Math.log((o! * n) / rowTimesCol!) : sum), 0);
}

describe('llr', () => {
  it('matches the textbook G² statistic', () => {
    const tables: [number, number, number, number][] = [[1, 0, 0, 1], [10, 0, 0, 10], [5, 1995, 0, 100000], [1000, 1995, 1000, 100000], [3, 7, 11, 979]];
    for (const t of tables) {
      expect(llr(...t)).toBeCloseTo(gSquared(...t), 8);
    }
    expect(llr(1, 0, 0, 1)).toBeCloseTo(4 * Math.log(2), 12);
  });

  it('is zero for independent items and grows with association', () => {
    expect(llr(10, 10, 10, 10)).toBeCloseTo(0, 10);
    expect(llr(20, 5, 5, 70)).toBeGreaterThan(llr(10, 15, 15, 60));
  });
});

describe('cooccurrenceTopK', () => {
  // Item 0 is in every basket (merely popular); 1 and 2 go together; 3 is noise.
  const baskets: number[][] = [];
  for (let i = 0; i < 30; i++) baskets.push([0, 3]);
  for (let i = 0; i < 8; i++) baskets.push([0, 1, 2]);
  for (let i = 0; i < 40; i++) baskets.push([0]);
  baskets.push([0, 1, 3]);

  it('LLR ranks the specific partner above the merely popular item; raw count does not', () => {
    expect(cooccurrenceTopK(baskets, 4, { k: 2, score: 'llr' })[1]![0]![0]).toBe(2);
    expect(cooccurrenceTopK(baskets, 4, { k: 2, score: 'count' })[1]![0]![0]).toBe(0);
  });

  it('LLR leaves out pairs seen together less often than chance, however large their G²', () => {
    // 0 is in most baskets, yet with 3 only once: 3 is bought *instead of* 0. Raw count lists it.
    const t: number[][] = [];
    for (let i = 0; i < 60; i++) t.push([0, 1]);
    for (let i = 0; i < 20; i++) t.push([3, 2]);
    t.push([0, 3]);
    const llrLists = cooccurrenceTopK(t, 4, { k: 5, score: 'llr', minSupport: 1 });
    expect(llrLists[3]!.map(([j]) => j)).toEqual([2]);
    expect(llr(1, 20, 60, 0)).toBeGreaterThan(10); // the G² that used to rank 0 for 3
    expect(cooccurrenceTopK(t, 4, { k: 5, score: 'count', minSupport: 1 })[3]!.map(([j]) => j)).toEqual([2, 0]);
  });

  it('scores Jaccard as |A∩B| / |A∪B|', () => {
    const [[other, score]] = cooccurrenceTopK([[0, 1], [0, 1], [0], [1, 2], [1, 2]], 3, { k: 1, score: 'jaccard' })[0]!;
    expect(other).toBe(1);
    expect(score).toBeCloseTo(2 / 5, 12);
  });

  it('drops pairs under the minimum support, pairs the filter rejects, and counts duplicates once', () => {
    const lists = cooccurrenceTopK([[0, 1, 1, 1], [0, 2], [0, 2]], 3, { k: 5, score: 'count', minSupport: 2 });
    expect(lists[0]).toEqual([[2, 2]]);
    expect(cooccurrenceTopK([[0, 1], [0, 1], [0, 2], [0, 2]], 3, { k: 5, score: 'count', accept: (a, b) => a + b !== 1 })[0]).toEqual([[2, 2]]);
  });

  it('never lists an item with itself and keeps at most k', () => {
    // (Items in every basket tell LLR nothing — it lists none of them — so count here.)
    const lists = cooccurrenceTopK([[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]], 4, { k: 2, score: 'count' });
    lists.forEach((l, i) => {
      expect(l.length).toBe(2);
      expect(l.some(([j]) => j === i)).toBe(false);
    });
  });
});

describe('conditional and cosine scores, and the LLR tail filter', () => {
  // 0 is in most baskets; 1 and 2 go together; 3 is rare.
  const t: number[][] = [];
  for (let i = 0; i < 40; i++) t.push([0, 1]);
  for (let i = 0; i < 20; i++) t.push([1, 2]);
  for (let i = 0; i < 50; i++) t.push([0]);
  t.push([1, 3]);
  // Frequencies: 0 → 90, 1 → 61, 2 → 20, 3 → 1; n = 111.

  it('P(b | a) with a popularity prior of β pseudo-baskets: (both + β·f(b)/n) / (f(a) + β)', () => {
    const plain = cooccurrenceTopK(t, 4, { k: 5, score: 'conditional', minSupport: 1 })[1]!;
    expect(plain).toEqual([[0, 40 / 61], [2, 20 / 61], [3, 1 / 61]]);
    const prior = cooccurrenceTopK(t, 4, { k: 5, score: 'conditional', prior: 5, minSupport: 1 })[1]!;
    expect(prior[0]![1]).toBeCloseTo((40 + (5 * 90) / 111) / 66, 12);
    expect(prior[2]![1]).toBeCloseTo((1 + (5 * 1) / 111) / 66, 12);
  });

  it('cosine with exponent α discounts popular partners: α = 0.5 puts 2 before 0 for 1', () => {
    const cos = cooccurrenceTopK(t, 4, { k: 5, score: 'cosine', alpha: 0.5, minSupport: 1 })[1]!;
    expect(cos.map(([j]) => j)).toEqual([2, 0, 3]);
    expect(cos[0]![1]).toBeCloseTo(20 / Math.sqrt(61 * 20), 12);
    // α = 1 is P(b | a): the popular partner first again.
    expect(cooccurrenceTopK(t, 4, { k: 5, score: 'cosine', alpha: 1, minSupport: 1 })[1]!.map(([j]) => j)).toEqual([0, 2, 3]);
  });

  it('LLR drops insignificant pairs from the tail only, after the first few', () => {
    // For 1: 0 and 2 are significant partners, 3 (seen together once) is not.
    expect(cooccurrenceTopK(t, 4, { k: 5, score: 'count', minSupport: 1, llrTail: 1 })[1]!.map(([j]) => j)).toEqual([0, 2]);
    // Within the head, nothing is dropped.
    expect(cooccurrenceTopK(t, 4, { k: 5, score: 'count', minSupport: 1, llrTail: 3 })[1]!.map(([j]) => j)).toEqual([0, 2, 3]);
  });
});
