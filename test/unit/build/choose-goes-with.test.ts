import { beforeAll, describe, expect, it } from 'vitest';
import { buildGoesWith, chooseGoesWith, fillFromNeighbours, fillFromPairModel } from '../../../src/build/choose-goes-with.js';
import { initNodeTf } from '../../../src/build/node-tf.js';
import { trainPairModel } from '../../../src/build/train-pair.js';
import { createRng } from '../../../src/recommend/rng.js';
import { hashToken } from '../../../src/recommend/text.js';
import type { TopKLists } from '../../../src/recommend/cooccurrence.js';

beforeAll(async () => {
  await initNodeTf();
});

/**
 * A store where plain counts mislead: product 0 is in most baskets (a hub, bought with anything);
 * products 1…40 come in pairs (2k+1, 2k+2) bought together. Hiding one of a pair from a basket
 * that also holds the hub, counts rank by the hub's big counts; P(b | a) lets each product vote once.
 */
function hubStore(baskets: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: baskets }, () => {
    const k = rng.int(20);
    const b = [2 * k + 1, 2 * k + 2];
    if (rng.next() < 0.7) b.push(0);
    if (rng.next() < 0.5) b.push(1 + rng.int(40));
    return b;
  });
}

describe('chooseGoesWith', () => {
  it('moves away from plain counts when the held-back baskets say so clearly, and shows every candidate', () => {
    const lines: string[] = [];
    const choice = chooseGoesWith([hubStore(3000, 1)], 41, { seed: 1, log: (l) => lines.push(l) });
    expect(choice.config.score).not.toBe('count');
    expect(choice.reason).toMatch(/clearly better than plain counts/);
    expect(choice.validation!.queries).toBe(450);
    const count = choice.table.find((r) => r.name === 'count')!;
    const chosen = choice.table.find((r) => r.chosen)!;
    expect(chosen.score).toBeGreaterThan(count.score);
    expect(choice.validation!.score).toBe(chosen.score);
    expect(chosen.lo).toBeLessThanOrEqual(chosen.score);
    expect(chosen.hi).toBeGreaterThanOrEqual(chosen.score);
    // Counts, P(b|a) at four prior strengths, cosine at three α, the LLR tail on the winner.
    expect(choice.table).toHaveLength(9);
    expect(lines.some((l) => /chosen: /.test(l))).toBe(true);
  });

  it('keeps plain counts, unvalidated, when there are too few baskets to tell', () => {
    const choice = chooseGoesWith([hubStore(60, 2)], 41, { seed: 1 });
    expect(choice.config).toEqual({ score: 'count', k: 20 });
    expect(choice.validation).toBeUndefined();
    expect(choice.reason).toMatch(/fewer than 30/);
  });

  it('holds back the latest baskets of each source: validation never sees a basket the lists learned from', () => {
    // Source a's baskets all pair 1 with 2 until its last 15%, which pair 1 with 3 only.
    const a = [...Array.from({ length: 170 }, () => [1, 2]), ...Array.from({ length: 30 }, () => [1, 3])];
    const choice = chooseGoesWith([a, Array.from({ length: 100 }, () => [4, 5])], 6, { seed: 1 });
    // Hiding 1 or 3 from [1, 3]: 3 was never seen in training, so those baskets drop out; the
    // source b's last 15 baskets and a's last 30 (minus the unknown 3) are what is left.
    expect(choice.validation?.queries ?? 0).toBe(0);
    expect(choice.reason).toMatch(/15 held-back baskets/);
  });
});

describe('filling short lists', () => {
  it('from the co-purchase neighbourhood, below the list’s last entry', () => {
    const lists: TopKLists = [[[1, 4]], [[0, 4], [2, 2]], [[1, 2], [3, 1]], [[2, 1]]];
    expect(fillFromNeighbours(lists, 3, () => true)).toBe(4);
    // 0 → 1 → 2 (4 × 2): half the last score, the best of the neighbourhood.
    expect(lists[0]).toEqual([[1, 4], [2, 2]]);
    // 1 → {0, 2} → 3 (via 2: 2 × 1).
    expect(lists[1]).toEqual([[0, 4], [2, 2], [3, 1]]);
    // 2 → 1 → 0 (2 × 4); 3 → 2 → 1 (1 × 2).
    expect(lists[2]).toEqual([[1, 2], [3, 1], [0, 0.5]]);
    expect(lists[3]).toEqual([[2, 1], [1, 0.5]]);
    // Nothing a filter forbids.
    const again: TopKLists = [[[1, 4]], [[0, 4], [2, 2]], [[1, 2]]];
    fillFromNeighbours(again, 3, (_a, b) => b !== 2);
    expect(again[0]).toEqual([[1, 4]]);
  });

  it('by the pair model for products with no baskets at all: other-category products of its style', async () => {
    // Two categories; tops 0…19 go with bottoms 20…39 of the same style (i % 4). Product 3 has no
    // baskets: only its features (style words, category) say what goes with it.
    const n = 40;
    const rng = createRng(7);
    const visual = Float32Array.from({ length: n * 8 }, () => rng.next() - 0.5);
    const categories = Int32Array.from({ length: n }, (_, i) => (i < 20 ? 1 : 2));
    const words = Array.from({ length: n }, (_, i) => [hashToken(`style:${i % 4}`, 64)]);
    const positives: number[][] = [];
    for (let i = 0; i < 20; i++) for (let j = 20; j < 40; j++) if (i % 4 === j % 4 && i !== 3) positives.push([i, j]);
    const pair = await trainPairModel({ visual, visualDims: 8, categories, categoryCount: 2, words, positives }, { buckets: 64, seed: 1, epochs: 60 });
    const other = (a: number, b: number) => categories[a] !== categories[b];
    const part = buildGoesWith([positives], n, { seed: 1, k: 5, accept: other, pair });
    expect(part.lists[3]!.length).toBe(5);
    const styleHits = part.lists[3]!.filter(([j]) => j >= 20 && j % 4 === 3).length;
    expect(styleHits).toBeGreaterThanOrEqual(4);
    // Probabilities, best first, of products the filter allows.
    expect(part.lists[3]!.every(([j, s]) => j >= 20 && s > 0 && s < 1)).toBe(true);
    // A list with entries keeps them first; the model's picks come after, below them.
    const lists: TopKLists = Array.from({ length: n }, () => []);
    lists[3] = [[23, 5]];
    fillFromPairModel(lists, pair, 3, other, 1);
    expect(lists[3]![0]).toEqual([23, 5]);
    expect(lists[3]!.slice(1).every(([j, s]) => j !== 23 && s < 2.5)).toBe(true);
    pair.dispose();
  });
});
