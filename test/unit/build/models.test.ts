import { describe, expect, it, beforeAll } from 'vitest';
import { initNodeTf } from '../../../src/build/node-tf.js';
import { trainNextView } from '../../../src/build/train-next.js';
import { trainPairModel } from '../../../src/build/train-pair.js';
import { auc } from '../../../src/build/validation.js';
import { trainProjectionHead, applyRows } from '../../../src/build/train-head.js';
import { lintCategories } from '../../../src/build/lint.js';
import { encodeNextView, NextViewModel, PARAM_NAMES } from '../../../src/model/next-view.js';
import { PairModel } from '../../../src/recommend/pair-model.js';
import { hashToken } from '../../../src/recommend/text.js';
import { createRng } from '../../../src/recommend/rng.js';

beforeAll(async () => {
  await initNodeTf();
});

/** Sessions that walk the catalog in order: after item i comes item i + 1 (mod n). */
function walks(n: number, count: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    const start = rng.int(n);
    return Array.from({ length: 6 }, (_, k) => (start + k) % n);
  });
}

describe('next-view model', () => {
  it('learns what comes next, and the stored int8/float16 model ranks as the trained one does', async () => {
    const n = 30;
    const { params } = await trainNextView(walks(n, 600, 1), n, { maxLength: 4, dims: 16, hidden: 16, epochs: 20, seed: 3 });
    const { header, data } = await encodeNextView(params, 4);
    const model = NextViewModel.load(header, data.slice().buffer, n);
    let right = 0;
    for (let i = 0; i < n; i++) {
      const scores = await model.scores([(i + n - 2) % n, (i + n - 1) % n, i]);
      right += scores.indexOf(Math.max(...scores)) === (i + 1) % n ? 1 : 0;
    }
    expect(right / n).toBeGreaterThanOrEqual(0.9);
    expect(() => NextViewModel.load(header, data.slice().buffer, n + 1, 'next-view/model.json')).toThrow(/knows 30 items, the bundle has 31/);
    model.dispose();
    PARAM_NAMES.forEach((k) => params[k].dispose());
  });

  it('is reproducible: the same sessions and seed give byte-identical weights', async () => {
    const sessions = walks(20, 200, 2);
    const a = await encodeNextView((await trainNextView(sessions, 20, { maxLength: 4, dims: 8, hidden: 8, epochs: 2, seed: 9 })).params, 4);
    const b = await encodeNextView((await trainNextView(sessions, 20, { maxLength: 4, dims: 8, hidden: 8, epochs: 2, seed: 9 })).params, 4);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  });

  it('trains with sampled softmax on a larger catalog', async () => {
    const n = 3000;
    const { params } = await trainNextView(walks(n, 3000, 4), n, { maxLength: 4, dims: 16, hidden: 16, epochs: 3, seed: 1, sampledAbove: 256 });
    expect(params.items.shape).toEqual([n + 1, 16]);
    expect(Number.isFinite((await params.itemBias.data())[0])).toBe(true);
  });
});

describe('pair model', () => {
  it('learns which products go together, and the worker’s plain-JS scorer agrees with the builder', async () => {
    // Two categories; a product goes with the other category's products of its own style.
    const n = 40;
    const rng = createRng(7);
    const visual = Float32Array.from({ length: n * 8 }, () => rng.next() - 0.5);
    const categories = Int32Array.from({ length: n }, (_, i) => (i < 20 ? 1 : 2));
    const style = (i: number) => i % 4;
    const words = Array.from({ length: n }, (_, i) => [hashToken(`style:${style(i)}`, 64)]);
    const positives: number[][] = [];
    for (let i = 0; i < 20; i++) for (let j = 20; j < 40; j++) if (style(i) === style(j)) positives.push([i, j]);
    const trained = await trainPairModel({ visual, visualDims: 8, categories, categoryCount: 2, words, positives }, { buckets: 64, seed: 1, epochs: 60 });
    expect(trained.auc).toBeGreaterThan(0.8);
    const model = PairModel.load(trained.header, trained.data.slice().buffer, n);
    const tfScores = trained.scoreAgainst(3);
    for (const j of [20, 23, 27, 38]) expect(model.score(model.catalogLeg(3), model.catalogLeg(j))).toBeCloseTo(tfScores[j]!, 3);
    // A leg computed from features (a product outside the bundle) matches the stored one.
    const leg = model.leg(visual.subarray(3 * 8, 4 * 8), 1, words[3]!);
    model.catalogLeg(3).forEach((x, k) => expect(Math.abs(leg[k]! - x)).toBeLessThan(0.05 * Math.max(1, Math.abs(x))));
    trained.dispose();
  });

  it('auc counts ties as half', () => {
    expect(auc([3, 4], [1, 2])).toBe(1);
    expect(auc([1], [1])).toBe(0.5);
    expect(auc([1, 3], [2])).toBe(0.5);
  });
});

describe('projection head and catalog lint', () => {
  // Three clusters of "features"; product 5 sits in cluster 0 but is labelled 1.
  const rng = createRng(11);
  const centers = [0, 1, 2].map(() => Float32Array.from({ length: 32 }, () => rng.next() * 4 - 2));
  const labels = Array.from({ length: 60 }, (_, i) => i % 3);
  const features = labels.map((l) => centers[l]!.map((c) => c + (rng.next() - 0.5) * 0.5));
  labels[5] = 1;
  features[5] = centers[0]!.map((c) => c + (rng.next() - 0.5) * 0.5);

  it('the head separates the catalog’s categories and embeds at the requested size', async () => {
    const trained = await trainProjectionHead(features, labels, { dims: 6, seed: 1, epochs: 30 });
    const probs = trained.classify(features);
    let right = 0;
    labels.forEach((l, i) => (right += probs.subarray(i * 3, i * 3 + 3).indexOf(Math.max(...probs.subarray(i * 3, i * 3 + 3))) === l ? 1 : 0));
    expect(right).toBeGreaterThanOrEqual(59);
    expect(applyRows(trained.head, features).length).toBe(60 * 6);
    trained.dispose();
  });

  it('the shipped head takes raw features: standardisation is folded in, and neighbours share a category', async () => {
    // The clusters shrunk to a 0.01 scale and offset, beside 16 features of pure noise at a 100
    // scale, as a backbone's multi-scale features differ: the head must still embed same-category
    // products close together from the raw features, which it only can if the standardisation it
    // trained with is inside it.
    const noise = createRng(5);
    const raw = features.map((f) => Float32Array.from({ length: 48 }, (_, d) => (d < 32 ? f[d]! * 0.01 + 3 : (noise.next() - 0.5) * 200)));
    const trained = await trainProjectionHead(raw, labels, { dims: 6, seed: 1, epochs: 30 });
    const e = applyRows(trained.head, raw);
    const unit = (i: number) => {
      const v = e.subarray(i * 6, i * 6 + 6);
      const n = Math.hypot(...v);
      return Array.from(v, (x) => x / n);
    };
    let same = 0;
    for (let i = 0; i < 60; i++) {
      if (i === 5) continue;
      let best = -2, at = -1;
      for (let j = 0; j < 60; j++) {
        if (j === i || j === 5) continue;
        const c = unit(i).reduce((a, x, k) => a + x * unit(j)[k]!, 0);
        if (c > best) [best, at] = [c, j];
      }
      same += labels[at] === labels[i] ? 1 : 0;
    }
    expect(same).toBe(59);
    trained.dispose();
  });

  it('the lint finds the product whose features contradict its label', async () => {
    const items = labels.map((l, i) => ({ id: `p${i}`, title: `Product ${i}`, category: ['a', 'b', 'c'][l] }));
    const rows = await lintCategories(items, features, ['a', 'b', 'c'], { dims: 6, seed: 1 });
    expect(rows[0]).toMatchObject({ id: 'p5', category: 'b', predicted: 'a' });
    expect(rows.length).toBeLessThanOrEqual(3);
  });
});
