import { describe, expect, it } from 'vitest';
import { topIndices } from '../../../src/recommend/select.js';

describe('topIndices', () => {
  it('selects the k best, best first, lower index on ties, skipping excluded and NaN', () => {
    expect(topIndices([0.1, 0.9, 0.5, 0.9, NaN, 0.7], 3, new Set([5]))).toEqual([
      { index: 1, score: 0.9 },
      { index: 3, score: 0.9 },
      { index: 2, score: 0.5 },
    ]);
    expect(topIndices([1, 2], 0)).toEqual([]);
  });
});
