import { describe, expect, it, vi } from 'vitest';
import { memoryHistory, openHistory, validateEvent, validateImpressions } from '../../../src/store/history.js';

describe('memoryHistory', () => {
  it('evicts the oldest events first, by count and by age', async () => {
    const h = memoryHistory({ maxEvents: 3, maxAgeMs: 1000 });
    for (const [id, at] of [['a', 0], ['b', 100], ['c', 200], ['d', 300]] as const) await h.add({ productId: id, kind: 'view', at });
    expect((await h.list()).map((e) => e.productId)).toEqual(['b', 'c', 'd']);
    // 1250 − 1000: everything before 250 is too old.
    await h.add({ productId: 'e', kind: 'view', at: 1250 });
    expect((await h.list()).map((e) => e.productId)).toEqual(['d', 'e']);
    await h.forget('d');
    expect((await h.list()).map((e) => e.productId)).toEqual(['e']);
    await h.clear();
    expect(await h.list()).toEqual([]);
  });

  it('counts impressions since the last pick: repeats once per call, an event resets, forget and clear delete', async () => {
    const h = memoryHistory();
    await h.addImpressions(['a', 'b', 'a'], 10);
    await h.addImpressions(['a', 'c'], 20);
    const counts = await h.impressions(['a', 'b', 'c', 'unknown']);
    expect([...counts]).toEqual([['a', 2], ['b', 1], ['c', 1], ['unknown', 0]]);
    // Viewed, carted or bought: picked, so its count starts again.
    await h.add({ productId: 'a', kind: 'view', at: 30 });
    await h.add({ productId: 'c', kind: 'cart', at: 31 });
    expect([...(await h.impressions(['a', 'b', 'c']))]).toEqual([['a', 0], ['b', 1], ['c', 0]]);
    await h.addImpressions(['a'], 40);
    await h.forget('b');
    expect([...(await h.impressions(['a', 'b']))]).toEqual([['a', 1], ['b', 0]]);
    await h.clear();
    expect([...(await h.impressions(['a']))]).toEqual([['a', 0]]);
  });

  it('keeps the counts of the most recently shown products only, and none older than the age limit', async () => {
    const h = memoryHistory({ maxEvents: 10, maxAgeMs: 1000, maxImpressions: 2 });
    await h.addImpressions(['a'], 0);
    await h.addImpressions(['b'], 100);
    await h.addImpressions(['a'], 200); // a is the most recently shown now: b goes first
    await h.addImpressions(['c'], 300);
    expect([...(await h.impressions(['a', 'b', 'c']))]).toEqual([['a', 2], ['b', 0], ['c', 1]]);
    // 1250 − 1000: a (last shown at 200) is too old; c (300) stays.
    await h.addImpressions(['d'], 1250);
    expect([...(await h.impressions(['a', 'c', 'd']))]).toEqual([['a', 0], ['c', 1], ['d', 1]]);
  });

  it('refuses impressions that are not a list of product ids, saying why', async () => {
    const h = memoryHistory();
    await expect(h.addImpressions(['a', ''], 1)).rejects.toThrow(/non-empty string/);
    await expect(h.addImpressions('a' as unknown as string[], 1)).rejects.toThrow(/must be an array/);
    await expect(h.addImpressions(['a'], NaN)).rejects.toThrow(/at must be a finite/);
    expect(validateImpressions(['a', 'b', 'a'], 5)).toEqual(['a', 'b']);
  });
});

describe('openHistory', () => {
  it('without IndexedDB (Node here) keeps history in memory, saying so once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const h = await openHistory({ maxEvents: 2, maxAgeMs: 1000 });
      expect(h.kind).toBe('memory');
      for (const [id, at] of [['a', 1], ['b', 2], ['c', 3]] as const) await h.add({ productId: id, kind: 'view', at });
      expect((await h.list()).map((e) => e.productId)).toEqual(['b', 'c']);
      await h.addImpressions(['x', 'c'], 4);
      expect([...(await h.impressions(['x', 'c']))]).toEqual([['x', 1], ['c', 1]]);
      // A caller's mistake is refused as such; the store goes on.
      await expect(h.addImpressions([42 as unknown as string], 5)).rejects.toThrow(TypeError);
      await expect(h.impressions([''])).rejects.toThrow(/non-empty string/);
      await h.clear();
      expect([...(await h.impressions(['x']))]).toEqual([['x', 0]]);
      expect(await h.list()).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(/^\[vitrine\] browse history is kept in memory for this page only: .*IndexedDB is not available here/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('validateEvent', () => {
  it('accepts a view and refuses what is not an event, saying why', () => {
    expect(validateEvent({ productId: 'p', kind: 'view', at: 5, extra: 1 })).toEqual({ productId: 'p', kind: 'view', at: 5 });
    expect(() => validateEvent({ productId: '', kind: 'view', at: 1 })).toThrow(/productId/);
    expect(() => validateEvent({ productId: 'p', kind: 'like', at: 1 })).toThrow(/kind must be view, cart or purchase/);
    expect(() => validateEvent({ productId: 'p', kind: 'view', at: NaN })).toThrow(/at must be a finite/);
    expect(() => validateEvent(null)).toThrow(/productId/);
  });
});
