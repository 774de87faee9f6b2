import { describe, expect, it } from 'vitest';
import { BundleError } from '../../../src/bundle/format.js';
import { decodePopular, popularLists, POPULAR_PER_CATEGORY } from '../../../src/bundle/popular.js';

const bytes = (x: unknown) => new TextEncoder().encode(JSON.stringify(x)).buffer as ArrayBuffer;

describe('popularLists', () => {
  it('ranks by score, ties in catalog order, per category too; out-of-stock products left out', () => {
    const score = [1, 5, 5, 0, 9];
    const cats = ['shoe', 'bag', 'shoe', undefined, 'bag'];
    const lists = popularLists(score, (i) => cats[i], (i) => i !== 4);
    expect(lists.all).toEqual([1, 2, 0, 3]);
    expect(lists.byCategory).toEqual({ bag: [1], shoe: [2, 0] });
  });
  it('keeps at most POPULAR_PER_CATEGORY a category', () => {
    const lists = popularLists(new Float64Array(500), () => 'one', () => true);
    expect(lists.byCategory.one).toHaveLength(POPULAR_PER_CATEGORY);
    expect(lists.all).toHaveLength(200);
  });
});

describe('decodePopular', () => {
  it('reads what popularLists writes', () => {
    const lists = popularLists([3, 2, 1], () => 'x', () => true);
    expect(decodePopular(bytes(lists), 3, 'popular.json')).toEqual(lists);
  });
  it('refuses indices outside the bundle, naming the file and the list', () => {
    expect(() => decodePopular(bytes({ all: [0, 3], byCategory: {} }), 3, 'popular.json')).toThrow(BundleError);
    expect(() => decodePopular(bytes({ all: [0], byCategory: { bag: [1.5] } }), 3, 'popular.json')).toThrow(/popular\.json: category "bag"/);
    expect(() => decodePopular(bytes({ all: [0] }), 3, 'popular.json')).toThrow(/byCategory/);
    expect(() => decodePopular(bytes([]), 3, 'popular.json')).toThrow(/"all"/);
  });
});
