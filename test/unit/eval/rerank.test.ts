import { describe, expect, it } from 'vitest';
import { chooseDiscount, chooseLambda, discountResults, DISCOUNTS, intraListDistance, replayImpressions, replaySessions, rowMetrics } from '../../../src/eval/rerank.js';
import { rerankTable, type TaskResult } from '../../../src/eval/report.js';

/** Candidates 0, 1, 2, … best first, the prefix's products left out. */
const ranked = (prefix: Int32Array, n: number) =>
  Array.from({ length: n + prefix.length }, (_, i) => i).filter((i) => !prefix.includes(i)).slice(0, n).map((index) => ({ index, score: 1 / (index + 1) }));

describe('replayImpressions', () => {
  it('replays the steps before the scored one, so what was shown and passed over sinks (hand-computed)', async () => {
    // Products 50–52 are never candidates. Step 1 shows 0–7 (one impression each). Step 2, strength 1,
    // free 0: place (r + 1) × 2 for 0–7, r + 1 for the rest → 0 1 2 3 8 4 9 10. Step 3: 0–4 have two
    // impressions (× 3), 5–10 one (× 2), 11 on → 0(3) 1(6) 2(9) 3(12) 5(12) 11(12) 12(13) 6(14): the
    // target 11 is sixth. Without discounting the row is 0–7 every time: a miss.
    const replay = await replayImpressions([{ session: Int32Array.from([50, 51, 52, 11]), from: 3 }], ranked, [{ strength: 0, free: 0 }, { strength: 1, free: 0 }]);
    expect([...replay.rr[0]!]).toEqual([0]);
    expect([...replay.rr[1]!]).toEqual([1 / 6]);
    expect([...replay.fresh]).toEqual([1]);
    // How stale the scored row was: without discounting 0–7 had been shown twice each; with it
    // 0 1 2 3 twice, 5 6 11 12 once or never: (2·4 + 1 + 1 + 0 + 0) / 8.
    expect([...replay.repeats[0]!]).toEqual([2]);
    expect([...replay.repeats[1]!]).toEqual([10 / 8]);
  });

  it('a viewed product starts again from 0; a re-view is a miss, counted in the all-views metrics only', async () => {
    // Step 1 shows 0–7 and the shopper views 0: only 1–7 carry an impression. With free 1 nothing
    // moves yet, so step 2 (target 1) is a hit at rank 0 both ways; step 3's target, 0, is a re-view.
    const replay = await replayImpressions([{ session: Int32Array.from([50, 0, 1, 0]), from: 1 }], ranked, [{ strength: 0, free: 0 }, { strength: 1, free: 1 }]);
    expect([...replay.rr[0]!]).toEqual([1, 1, 0]);
    expect([...replay.rr[1]!]).toEqual([1, 1, 0]);
    expect([...replay.fresh]).toEqual([1, 1, 0]);
    expect(rowMetrics(replay.rr[0]!, replay.fresh)).toEqual({ 'HR@8': 2 / 3, 'MRR@8': 2 / 3, 'HR@8:new': 1, 'MRR@8:new': 1 });
  });

  it('takes sessions evenly to about the steps asked for', () => {
    const s = (n: number) => ({ session: new Int32Array(n), from: 1 });
    const sessions = Array.from({ length: 10 }, () => s(5)); // 4 scored steps each
    expect(replaySessions(sessions, 100)).toHaveLength(10);
    expect(replaySessions(sessions, 20)).toHaveLength(5);
  });

  it('reports the paired differences of the shipped setting against none', () => {
    const repeats = [Float64Array.from([2, 2, 2]), Float64Array.from([1, 1, 1])];
    const [plain, shipped] = discountResults({ rr: [Float64Array.from([1, 0, 0.5]), Float64Array.from([1, 0.5, 0.5])], repeats, fresh: Uint8Array.from([1, 1, 0]) }, { strength: 1, free: 1 }, 1);
    expect(plain!.metrics['Δ HR@8']).toBeNull();
    expect(shipped!.method).toBe('vitrine + impressions (strength 1, free 1)');
    expect(shipped!.metrics['Δ HR@8']).toBeCloseTo(1 / 3, 10);
    expect(shipped!.metrics['Δ MRR@8:new']).toBeCloseTo(0.25, 10);
    expect(shipped!.metrics['Δ repeat@8']).toBeCloseTo(-1, 10);
    expect(shipped!.intervals!['Δ HR@8']![0]).toBeLessThanOrEqual(1 / 3);
  });
});

describe('the choices on validation', () => {
  it('discounting: the least stale rows while HR@8 loses at most 2% on average over the datasets', () => {
    // 50 steps, 10 hits without discounting, rows 4 impressions stale on average.
    const rr = (hits: number) => Float64Array.from({ length: 50 }, (_, k) => (k < hits ? 1 : 0));
    const stale = (x: number) => new Float64Array(50).fill(x);
    const setting = (d: { strength: number; free: number }) => `${d.strength}/${d.free}`;
    // 1/1: fresher than all, but a hit lost on each dataset (−10%); 0.5/1: a hit lost on one of two
    // datasets (−5% on average); 0.25/2: no hit lost, half as stale; 0.25/1: no hit lost, a bit staler.
    const effect: Record<string, [number, number]> = { '0/0': [10, 4], '1/1': [9, 1], '0.5/1': [9, 1.5], '0.25/2': [10, 2], '0.25/1': [10, 3] };
    const replay = (lost: boolean): { rr: Float64Array[]; repeats: Float64Array[]; fresh: Uint8Array } => ({
      rr: DISCOUNTS.map((d) => rr(setting(d) === '0.5/1' && !lost ? 10 : (effect[setting(d)] ?? [10, 4])[0])),
      repeats: DISCOUNTS.map((d) => stale((effect[setting(d)] ?? [10, 4])[1])),
      fresh: new Uint8Array(50),
    });
    const { chosen, rows } = chooseDiscount([{ dataset: 'a', replay: replay(true) }, { dataset: 'b', replay: replay(false) }]);
    expect(chosen).toEqual({ strength: 0.25, free: 2 });
    const row = rows.find((r) => r.chosen)!;
    expect(row.metrics['mean repeat@8 change']).toBeCloseTo(-0.5, 10);
    expect(row.metrics['a HR@8 change']).toBe(0);
    expect(rows.find((r) => r.name === 'strength 0.5, free 1')!.metrics['mean HR@8 change']).toBeCloseTo(-0.05, 10);
    // Every setting too costly: no discounting.
    const costly = { rr: DISCOUNTS.map((d) => rr(d.strength ? 9 : 10)), repeats: DISCOUNTS.map((d) => stale(d.strength ? 1 : 4)), fresh: new Uint8Array(50) };
    expect(chooseDiscount([{ dataset: 'a', replay: costly }]).chosen).toEqual({ strength: 0, free: 0 });
  });

  it('mmr: the smallest lambda, from 0.5 up, whose precision stays within 0.01 of plain kNN', () => {
    const p = (x: number) => Float64Array.of(x, x);
    const rows = { precision: [p(0.9), p(0.895), p(0.885), p(0.7)], distance: [p(0.1), p(0.2), p(0.3), p(0.6)] };
    const { lambda, rows: table } = chooseLambda(rows, [1, 0.8, 0.6, 0.4]);
    expect(lambda).toBe(0.8);
    expect(table.find((r) => r.chosen)!.metrics['ILD@10']).toBeCloseTo(0.2, 10);
    // Below 0.5 relevance would weigh less than likeness: never chosen, however precise.
    expect(chooseLambda({ precision: [p(0.9), p(0.9), p(0.9)], distance: [p(0.1), p(0.2), p(0.3)] }, [1, 0.5, 0.3]).lambda).toBe(0.5);
  });

  it('intra-list distance: mean pairwise 1 − cosine', () => {
    expect(intraListDistance([Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(1, 0)])).toBeCloseTo(2 / 3, 6);
    expect(intraListDistance([Float32Array.of(1, 0)])).toBe(0);
  });
});

describe('rerankTable', () => {
  it('prints each rule’s Δ with its interval beside the rows without and with it', () => {
    const t: TaskResult = {
      task: 'rerank', dataset: 'fashion-mnist: mmr on the similar row',
      results: [
        { method: 'vitrine', metrics: { 'P@10': 0.85, 'Δ P@10': null }, msPerQuery: 0 },
        { method: 'vitrine + mmr (λ 0.7)', metrics: { 'P@10': 0.84, 'Δ P@10': -0.01 }, intervals: { 'Δ P@10': [-0.012, -0.008] }, msPerQuery: 0 },
      ],
    };
    expect(rerankTable([t])).toContain('| mmr (λ 0.7) | fashion-mnist | P@10 | 0.8500 | 0.8400 | -0.0100 [-0.012, -0.008] |');
  });
});
