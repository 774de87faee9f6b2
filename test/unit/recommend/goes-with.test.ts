import { describe, expect, it } from 'vitest';
import { encodeLists, goesWithRow, goesWithScores, pairScores } from '../../../src/recommend/goes-with.js';

const lists: [number, number][][] = [[[1, 0.5], [2, 0.25]], [[0, 0.4], [2, 0.3]], [], [[3, 9]]];

describe('goes-with scoring', () => {
  it('a product’s row is its list, best first, never itself', () => {
    expect(goesWithRow(lists, 0)).toEqual([{ index: 1, score: 0.5 }, { index: 2, score: 0.25 }]);
    expect(goesWithRow(lists, 3)).toEqual([]);
    expect(goesWithRow(lists, 2)).toEqual([]);
  });

  it('a basket’s scores are its products’ list scores summed', () => {
    expect(Array.from(goesWithScores(lists, [0, 1], 4))).toEqual([0.4, 0.5, 0.55, 0]);
  });

  it('choosing among given products: list places first, then the pair model’s probability', () => {
    const model = (_a: number, c: Int32Array) => Float64Array.from(c, (j) => (j === 3 ? 2 : -2));
    const s = pairScores(lists, 0, Int32Array.from([2, 1, 3, 0]), model);
    expect(s[1]).toBe(2); // first on the list
    expect(s[0]).toBe(1.5); // second
    expect(s[2]).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
    expect(s[3]).toBeCloseTo(1 / (1 + Math.exp(2)), 12);
    expect(Array.from(pairScores(lists, 2, Int32Array.from([0, 1])))).toEqual([0, 0]);
  });

  it('stores four significant digits, so small conditional probabilities survive', () => {
    expect(JSON.parse(encodeLists([[[1, 0.000123456], [2, 12345.6]]]))).toEqual([[[1, 0.0001235], [2, 12350]]]);
  });
});
