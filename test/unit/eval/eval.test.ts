import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeTf } from '../../../src/build/node-tf.js';
import { cooccurrencePairs, evaluatePairs, popularityPairs } from '../../../src/eval/complementary.js';
import { timeSplit, type BasketSplit } from '../../../src/eval/datasets.js';
import { rankOf, RankMetrics } from '../../../src/eval/metrics.js';
import { nextQueries } from '../../../src/eval/next-view.js';
import { main } from '../../../src/eval/run.js';
import { markdownTable, svgChart } from '../../../src/eval/report.js';

beforeAll(async () => {
  await initNodeTf();
});

describe('metrics', () => {
  it('ranks count strictly higher items and half the ties; excluded items do not count', () => {
    expect(rankOf([0.1, 0.9, 0.5, 0.5, 0.5], 2)).toBe(2); // 0.9 above; two ties → one
    expect(rankOf([0.1, 0.9, 0.5, 0.5, 0.5], 2, new Set([1]))).toBe(1);
    expect(rankOf([1, 1, 1, 1], 0)).toBe(1); // all equal: the middle, not first
  });

  it('MRR, HR and NDCG at k over hand-computed ranks', () => {
    const m = new RankMetrics(20);
    for (const r of [0, 2, 25]) m.add(r);
    const v = m.values();
    expect(v['MRR@20']).toBeCloseTo((1 + 1 / 3) / 3, 10);
    expect(v['HR@20']).toBeCloseTo(2 / 3, 10);
    expect(v['NDCG@20']).toBeCloseTo((1 + 1 / Math.log2(4)) / 3, 10);
  });
});

describe('splits and queries', () => {
  it('splits by session start, re-indexes to training items and drops unseen test items', () => {
    const s = (xs: number[]) => Int32Array.from(xs);
    // Five sessions, given out of time order; the latest (start 50) is the test session.
    const split = timeSplit('t', [s([7, 8]), s([8, 9, 5, 9]), s([7, 9]), s([9, 7]), s([7, 8])], [40, 50, 10, 20, 30], 0.2);
    expect(split.train.map((x) => [...x])).toEqual([[0, 1], [1, 0], [0, 2], [0, 2]]); // 7→0, 9→1, 8→2
    // Item 5 was never seen in training: dropped, and the two 9s it separated collapse into one view.
    expect(split.test.map((t) => [...t.session])).toEqual([[2, 1]]);
    const two = timeSplit('t', [s([7, 8]), s([8, 5, 7, 7])], [1, 2], 0.5);
    expect(two.test.map((t) => [...t.session])).toEqual([[1, 0]]);
    expect(nextQueries(two).map((q) => [[...q.prefix], q.target])).toEqual([[[1], 0]]);
  });
});

describe('complementary on a tiny slice', () => {
  const split: BasketSplit = {
    dataset: 'tiny', items: 5, names: ['a', 'b', 'c', 'd', 'e'], categories: new Int32Array(5), categoryNames: [],
    train: [[0, 1], [0, 1], [0, 2], [3, 4]].map((b) => Int32Array.from(b)), test: [], notes: [],
  };
  const queries = [
    { context: Int32Array.from([0]), target: 1 },
    { context: Int32Array.from([3]), target: 1 },
  ];
  it('raw co-occurrence: hand-computed HR@10 and MRR@10', () => {
    // Query 1: 1 co-occurs with 0 twice, best → rank 0. Query 2: 3's list holds only 4; then
    // popularity: 0 (3 baskets) above 1 (2) → rank 2.
    const r = evaluatePairs(cooccurrencePairs(split, 'count'), split, queries, 1);
    expect(r.metrics['HR@10']).toBeCloseTo(1, 10);
    expect(r.metrics['MRR@10']).toBeCloseTo((1 + 1 / 3) / 2, 10);
  });
  it('popularity: hand-computed', () => {
    // Popularity 0:3, 1:2, 2..4:1. Query 1 excludes 0 → 1 first. Query 2 excludes 3 → 0 above 1.
    const r = evaluatePairs(popularityPairs(split), split, queries, 1);
    expect(r.metrics['MRR@10']).toBeCloseTo((1 + 1 / 2) / 2, 10);
  });
});

describe('npm run eval -- --events FILE --test FILE', () => {
  it('evaluates a given session log and writes JSON with hand-checkable baselines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vitrine-eval-'));
    const rows = (sessions: string[][]) =>
      'SessionId;ItemId;Time\n' + sessions.flatMap((s, k) => s.map((item, j) => `${k + 1};${item};${1_700_000_000 + k * 10_000 + j * 60}`)).join('\n') + '\n';
    writeFileSync(join(dir, 'train.csv'), rows([['A', 'B', 'C'], ['A', 'B'], ['B', 'C'], ['D', 'A']]));
    writeFileSync(join(dir, 'test.csv'), rows([['A', 'B', 'C']]));
    const json = join(dir, 'out.json');
    const code = await main([
      '--events', join(dir, 'train.csv'), '--test', join(dir, 'test.csv'), '--events-columns', 'session=SessionId,item=ItemId,time=Time',
      '--json', json, '--epochs', '2', '--no-progress',
    ]);
    expect(code).toBe(0);
    const out = JSON.parse(readFileSync(json, 'utf8')) as { task: string; dataset: string; results: { method: string; metrics: Record<string, number | null>; msPerQuery: number }[] }[];
    expect(out).toHaveLength(1);
    expect(out[0]!.task).toBe('next-view');
    const by = new Map(out[0]!.results.map((r) => [r.method, r]));
    expect([...by.keys()]).toEqual(['popularity', 'session-pop', 'cooc-count', 'jaccard', 'llr-knn', 'v-sknn', 'onehot-ffn', 'vitrine']);
    // Popularity A:3 B:3 C:2 D:1. Test session A B C: after [A] the target B ties A → rank 0;
    // after [A, B] the target C is below A and B → rank 2. New items only: the session's items are
    // removed, so both ranks are 0. Seed §2: from A, the later items B, C; B is first in the list.
    const pop = by.get('popularity')!.metrics;
    expect(pop['MRR@20']).toBeCloseTo((1 + 1 / 3) / 2, 10);
    expect(pop['HR@20']).toBeCloseTo(1, 10);
    expect(pop['MRR@20:new']).toBeCloseTo(1, 10);
    expect(pop['MRR@20:first']).toBeCloseTo(1, 10);
    // Session popularity puts the session's own items first: after [A] B is second, after [A, B] C third.
    expect(by.get('session-pop')!.metrics['MRR@20']).toBeCloseTo((1 / 2 + 1 / 3) / 2, 10);
    // Vitrine's model ran (trained by the builder's code) and gave real numbers.
    const v = by.get('vitrine')!.metrics;
    for (const key of ['MRR@20', 'HR@20', 'NDCG@20', 'MRR@20:new', 'HR@20:new', 'NDCG@20:new']) {
      expect(v[key]).toBeGreaterThanOrEqual(0);
      expect(v[key]).toBeLessThanOrEqual(1);
    }
  }, 60_000);

  it('refuses a bad flag with a clear message and exit code 1', async () => {
    expect(await main(['--tasks', 'dreams', '--out', ''])).toBe(1);
  });
});

describe('report', () => {
  it('bolds the best value per metric and draws a bar per method', () => {
    const t = {
      task: 'visual' as const, dataset: 'x',
      results: [
        { method: 'raw', metrics: { 'P@10': 0.5 }, msPerQuery: 1 },
        { method: 'vitrine', metrics: { 'P@10': 0.9 }, bytes: 68, msPerQuery: 0.5 },
      ],
    };
    const md = markdownTable(t);
    expect(md).toContain('| **vitrine** | **0.9000** | 68 B |');
    expect(md).toContain('| raw | 0.5000 |');
    const svg = svgChart(t, ['P@10']);
    expect(svg.match(/<rect /g)).toHaveLength(3); // background + two bars
  });
});
