import { describe, expect, it } from 'vitest';
import { diversify } from '../../../src/recommend/rerank.js';

describe('diversify', () => {
  const hits = [0, 1, 2, 3, 4, 5, 6].map((index) => ({ index, score: 10 - index }));
  const group = (i: number) => (i < 5 ? 'shoes' : i === 5 ? 'tops' : undefined);
  it('caps each group among the first places, keeping score order, then fills up', () => {
    expect(diversify(hits, group, 4, 2).map((h) => h.index)).toEqual([0, 1, 5, 6]);
    expect(diversify(hits, group, 6, 2).map((h) => h.index)).toEqual([0, 1, 5, 6, 2, 3]);
    expect(diversify(hits, () => 'one', 3).map((h) => h.index)).toEqual([0, 1, 2]);
  });
});
