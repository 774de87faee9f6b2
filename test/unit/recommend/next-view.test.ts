import { describe, expect, it } from 'vitest';
import { sessionLists } from '../../../src/recommend/sessions.js';
import {
  blend, checkNextViewConfig, indexSessions, modelProbabilities, needsModel, nextViewScores, nextViewTop, ruleScores, sampleSessions, sknnScores, VSKNN,
  type Sparse,
} from '../../../src/recommend/next-view.js';
import { createRng } from '../../../src/recommend/rng.js';
import { topIndices } from '../../../src/recommend/select.js';

const index = (sessions: number[][], items: number) => indexSessions(sessionLists(sessions), items);
/** Sparse scores as a plain object, item → score. */
const asMap = (s: Sparse) => Object.fromEntries(Array.from(s.index, (i, k) => [i, s.score[k]!]));

describe('indexSessions', () => {
  it('lists each product’s sessions oldest first, once each, and its share of the views', () => {
    const ix = index([[0, 1, 0], [1, 2], [0]], 4);
    const postings = (i: number) => Array.from(ix.postings.subarray(ix.postStart[i]!, ix.postStart[i + 1]!));
    expect([0, 1, 2, 3].map(postings)).toEqual([[0, 2], [0, 1], [1], []]);
    expect(Array.from(ix.distinct)).toEqual([2, 2, 1]);
    // Views, not sessions: 0 was viewed three times (most: 3 → 3/4).
    expect(Array.from(ix.popularity)).toEqual([3 / 4, 2 / 4, 1 / 4, 0]);
  });
});

describe('session-kNN', () => {
  const ix = index([[0, 1, 2], [1, 3], [0, 4]], 5);

  it('V-SKNN by hand: recency-weighted views, similarity over √|neighbour|, neighbours summed', () => {
    // Session [0, 1]: weights 0 → ½, 1 → 1. Neighbours: s0 {0,1,2}: 1.5/√3; s1 {1,3}: 1/√2; s2 {0,4}: ½/√2.
    const s0 = 1.5 / Math.sqrt(3);
    const s1 = 1 / Math.sqrt(2);
    const s2 = 0.5 / Math.sqrt(2);
    const scores = asMap(sknnScores(ix, [0, 1], VSKNN));
    expect(scores[2]).toBeCloseTo(s0, 12);
    expect(scores[3]).toBeCloseTo(s1, 12);
    expect(scores[4]).toBeCloseTo(s2, 12);
    expect(scores[1]).toBeCloseTo(s0 + s1, 12);
    // Only the two nearest neighbours: s2 (and so product 4) drops out.
    expect(asMap(sknnScores(ix, [0, 1], { ...VSKNN, k: 2 }))[4]).toBeUndefined();
    // Exponential decay of older views: 0 → e^−1.
    expect(asMap(sknnScores(ix, [0, 1], { ...VSKNN, decay: 1 }))[4]).toBeCloseTo(Math.exp(-1) / Math.sqrt(2), 12);
  });

  it('STAN: a neighbour’s products weighted by distance from the shared view, those before it discounted', () => {
    const one = index([[5, 0, 1, 2, 3]], 6);
    const sim = 1 / Math.sqrt(5);
    const scores = asMap(sknnScores(one, [0], { ...VSKNN, proximity: 1, before: 0.5 }));
    expect(scores[1]).toBeCloseTo(sim * Math.exp(-1), 12);
    expect(scores[3]).toBeCloseTo(sim * Math.exp(-3), 12);
    expect(scores[5]).toBeCloseTo(0.5 * sim * Math.exp(-1), 12);
    // A product viewed twice in a neighbour counts once, at its nearer view.
    const twice = asMap(sknnScores(index([[2, 9, 9, 0, 2]], 10), [0], { ...VSKNN, proximity: 1 }));
    expect(twice[2]).toBeCloseTo(Math.exp(-1) / Math.sqrt(3), 12);
  });

  it('reads only the most recent sessions of a product, and can favour recent neighbours', () => {
    // Three old sessions go 0 → 1, the two newest 0 → 2.
    const ix2 = index([[0, 1], [0, 1], [0, 1], [0, 2], [0, 2]], 3);
    expect(asMap(sknnScores(ix2, [0], { ...VSKNN, sample: 2 }))[1]).toBeUndefined();
    expect(asMap(sknnScores(ix2, [0], VSKNN))[1]).toBeGreaterThan(asMap(sknnScores(ix2, [0], VSKNN))[2]!);
    const recent = asMap(sknnScores(ix2, [0], { ...VSKNN, recency: 1 }));
    expect(recent[2]).toBeGreaterThan(recent[1]!);
    expect(recent[2]).toBeCloseTo((1 + Math.exp(-1)) / Math.sqrt(2), 12);
  });

  it('leaves the index’s scratch space clean: the same query twice gives the same scores', () => {
    const a = asMap(sknnScores(ix, [0, 1, 0], { ...VSKNN, proximity: 2 }));
    expect(asMap(sknnScores(ix, [0, 1, 0], { ...VSKNN, proximity: 2 }))).toEqual(a);
    expect(ix.scratch.acc.every((x) => x === 0) && ix.scratch.weight.every((x) => x === 0)).toBe(true);
  });
});

describe('sequential rules', () => {
  it('scores what followed the latest views, 1/steps apart, the latest view weighing most', () => {
    const ix = index([[0, 1, 2], [0, 2], [3, 4]], 5);
    expect(asMap(ruleScores(ix, [0], { window: 10, depth: 1, sample: 500 }))).toEqual({ 1: 1, 2: 1.5 });
    expect(asMap(ruleScores(ix, [0], { window: 1, depth: 1, sample: 500 }))).toEqual({ 1: 1, 2: 1 });
    // Depth 2 from [3, 0]: 0's rules at weight 1, 3's at ½.
    expect(asMap(ruleScores(ix, [3, 0], { window: 1, depth: 2, sample: 500 }))).toEqual({ 1: 1, 2: 1, 4: 0.5 });
  });
});

describe('blend and nextViewScores', () => {
  it('divides each part by its maximum over products not yet viewed, then weighs it', () => {
    const ix = index([[0], [1], [2]], 3);
    const a: Sparse = { index: Int32Array.from([0, 1, 2]), score: Float64Array.from([2, 1, 10]) };
    const b: Sparse = { index: Int32Array.from([0, 1]), score: Float64Array.from([1, 4]) };
    const out = blend(ix, [{ scores: a, weight: 1 }, { scores: b, weight: 0.5 }], new Set([2]));
    // Popularity (1/2 each) breaks ties at 1e-9.
    expect(out[0]).toBeCloseTo(2 / 2 + (0.5 * 1) / 4, 8);
    expect(out[1]).toBeCloseTo(1 / 2 + (0.5 * 4) / 4, 8);
    expect(out[0]! - 1.125).toBeCloseTo(0.5e-9, 15);
  });

  it('reads only the session’s latest views, and blends the model’s probabilities in', () => {
    const ix = index([[0, 1], [2, 3]], 4);
    const config = { maxLength: 1, sknn: { ...VSKNN, weight: 1 } };
    // [0, 2] read as [2]: only 3 scores, not 1.
    const s = nextViewScores(ix, [0, 2], config);
    expect(s[3]).toBeGreaterThan(0.5);
    expect(s[1]).toBeLessThan(1e-9);
    const withModel = nextViewScores(ix, [0, 2], { ...config, model: { weight: 1 } }, modelProbabilities([0, 10, 0, 10]));
    expect(withModel[1]).toBeCloseTo(1, 6);
    expect(withModel[3]).toBeCloseTo(1 + 1, 6);
  });

  it('a one-view session is scored without the model where the config says so: no TF.js on a first visit', () => {
    const ix = index([[0, 1], [2, 3]], 4);
    const config = { maxLength: 20, model: { weight: 1 }, oneView: { sknn: { ...VSKNN, weight: 1 } } };
    const model = modelProbabilities([0, 0, 10, 0]);
    expect(needsModel([0], config)).toBe(false);
    expect(needsModel([0, 2], config)).toBe(true);
    expect(needsModel([0], { maxLength: 20, model: { weight: 1 } })).toBe(true);
    expect(needsModel([0, 2], { maxLength: 20, sknn: { ...VSKNN, weight: 1 } })).toBe(false);
    // One view: session-kNN says 1 after 0; the model (which says 2) is not read.
    const one = nextViewScores(ix, [0], config, model);
    expect(one[1]).toBeGreaterThan(0.5);
    expect(one[2]).toBeLessThan(1e-9);
    // Two views: the model alone.
    const two = nextViewScores(ix, [1, 0], config, model);
    expect(two[2]).toBeCloseTo(1, 6);
  });

  it('scores on the bundle’s sample exactly as on every session (each product’s most recent `sample`)', () => {
    const rng = createRng(5);
    const sessions = Array.from({ length: 400 }, () => Array.from({ length: 2 + rng.int(6) }, () => rng.int(40)));
    const all = sessionLists(sessions);
    const sample = sampleSessions(all, 40, 25);
    expect(sample.offsets.length - 1).toBeLessThan(400);
    const full = indexSessions(all, 40);
    const small = indexSessions(sample, 40);
    const p = { ...VSKNN, sample: 25, proximity: 2 };
    for (let q = 0; q < 50; q++) {
      const session = Array.from({ length: 1 + rng.int(4) }, () => rng.int(40));
      const a = asMap(sknnScores(full, session, p));
      const b = asMap(sknnScores(small, session, p));
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      for (const k of Object.keys(a)) expect(b[k]).toBeCloseTo(a[k]!, 12);
      expect(asMap(ruleScores(small, session, { window: 3, depth: 2, sample: 25 }))).toEqual(asMap(ruleScores(full, session, { window: 3, depth: 2, sample: 25 })));
    }
  });
});

describe('nextViewTop (the row)', () => {
  it('is nextViewScores’ top k over the products the method scored, without sweeping the catalog', () => {
    const rng = createRng(9);
    const sessions = Array.from({ length: 300 }, () => Array.from({ length: 2 + rng.int(6) }, () => rng.int(60)));
    const ix = indexSessions(sessionLists(sessions), 60);
    const configs = [
      { maxLength: 20, sknn: { ...VSKNN, weight: 1 } },
      { maxLength: 20, sknn: { ...VSKNN, proximity: 2, weight: 0.5 }, rules: { window: 3, depth: 2, sample: 500, weight: 1 } },
      { maxLength: 20, model: { weight: 1 }, rules: { window: 10, depth: 1, sample: 500, weight: 0.25 } },
    ];
    for (let q = 0; q < 60; q++) {
      const session = Array.from({ length: 1 + rng.int(4) }, () => rng.int(60));
      const model = modelProbabilities(Array.from({ length: 60 }, () => rng.next() * 4));
      const config = configs[q % 3]!;
      const exclude = new Set([...session, rng.int(60)]);
      const dense = topIndices(nextViewScores(ix, session, config, model), 8, exclude).filter((h) => h.score > 1e-9);
      expect(nextViewTop(ix, session, config, 8, exclude, model)).toEqual(dense);
    }
    expect(ix.scratch.acc.every((x) => x === 0) && ix.scratch.mark.every((x) => x === 0)).toBe(true);
    // A product no session ever showed: nothing to say, an empty row (not the most popular products).
    expect(nextViewTop(index([[0, 1]], 3), [2], configs[0]!, 8, new Set([2]))).toEqual([]);
  });
});

describe('checkNextViewConfig', () => {
  it('accepts the builder’s configs and names the first bad field', () => {
    expect(checkNextViewConfig({ maxLength: 20, sknn: { ...VSKNN, weight: 1 }, rules: { window: 10, depth: 3, sample: 500, weight: 0.5 }, model: { weight: 0.25 } })).toBe('');
    expect(checkNextViewConfig(null)).toMatch(/not an object/);
    expect(checkNextViewConfig({ maxLength: 0 })).toMatch(/config.maxLength must be a number from 1/);
    expect(checkNextViewConfig({ maxLength: 20, sknn: { ...VSKNN, weight: 1, k: 'many' } })).toMatch(/sknn.k must be a number/);
    expect(checkNextViewConfig({ maxLength: 20, rules: { window: 10, depth: 3, sample: 500, weight: Infinity } })).toMatch(/rules.weight/);
    expect(checkNextViewConfig({ maxLength: 20, sknn: { ...VSKNN, weight: 1, before: 2 } })).toMatch(/sknn.before must be a number from 0 to 1/);
    expect(checkNextViewConfig({ maxLength: 20, model: { weight: 1 }, oneView: { rules: { window: 10, depth: 3, sample: 500, weight: 1 } } })).toBe('');
    expect(checkNextViewConfig({ maxLength: 20, oneView: { rules: { window: 10, depth: 3, sample: 500, weight: 1 } } })).toMatch(/oneView is given without a model/);
    expect(checkNextViewConfig({ maxLength: 20, model: { weight: 1 }, oneView: { rules: { window: 0, depth: 3, sample: 500, weight: 1 } } })).toMatch(/^oneView.rules.window must be/);
    expect(checkNextViewConfig({ maxLength: 20, model: { weight: 1 }, oneView: { model: { weight: 1 } } })).toMatch(/oneView may only hold sknn and rules/);
  });
});
