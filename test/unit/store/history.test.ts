import { describe, expect, it, vi } from 'vitest';
import { memoryHistory, openHistory, validateEvent } from '../../../src/store/history.js';

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
});

describe('openHistory', () => {
  it('without IndexedDB (Node here) keeps history in memory, saying so once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const h = await openHistory({ maxEvents: 2, maxAgeMs: 1000 });
      expect(h.kind).toBe('memory');
      for (const [id, at] of [['a', 1], ['b', 2], ['c', 3]] as const) await h.add({ productId: id, kind: 'view', at });
      expect((await h.list()).map((e) => e.productId)).toEqual(['b', 'c']);
      await h.clear();
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
