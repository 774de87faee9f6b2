/**
 * The IndexedDB history on fake-indexeddb (an in-memory IndexedDB for Node): schema, upgrade from
 * version 1, impression counts. The browser's own IndexedDB is tested end to end (test/e2e).
 * Skipped where fake-indexeddb is not installed (it is a dev dependency only for this file).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { openHistory } from '../../../src/store/history.js';

// A specifier in a variable: typechecking must not need the package either.
const FAKE = 'fake-indexeddb';
const fake = (await import(/* @vite-ignore */ FAKE).catch(() => undefined)) as Record<string, unknown> | undefined;
/** The globals IndexedDB code (and idb's wrappers) use. */
const GLOBALS = [
  'IDBCursor', 'IDBCursorWithValue', 'IDBDatabase', 'IDBFactory', 'IDBIndex', 'IDBKeyRange', 'IDBObjectStore',
  'IDBOpenDBRequest', 'IDBRequest', 'IDBTransaction', 'IDBVersionChangeEvent', 'indexedDB',
];

describe.skipIf(!fake)('openHistory on IndexedDB (fake-indexeddb)', () => {
  let n = 0;
  const name = () => `vitrine-history-test-${++n}`;
  beforeAll(() => {
    for (const k of GLOBALS) vi.stubGlobal(k, fake![k]);
    return () => vi.unstubAllGlobals();
  });
  const exists = async (db: string) => (await indexedDB.databases()).some((d) => d.name === db);

  it('reads create no database; the first impression does; an event resets its count; clear deletes it all', async () => {
    const db = name();
    const h = await openHistory(undefined, db);
    expect(h.kind).toBe('indexeddb');
    expect([...(await h.impressions(['a']))]).toEqual([['a', 0]]);
    expect(await h.list()).toEqual([]);
    expect(await exists(db)).toBe(false);
    await h.addImpressions(['a', 'b', 'a'], 10);
    await h.addImpressions(['a'], 20);
    expect(await exists(db)).toBe(true);
    expect([...(await h.impressions(['a', 'b', 'x']))]).toEqual([['a', 2], ['b', 1], ['x', 0]]);
    await h.add({ productId: 'a', kind: 'view', at: 30 });
    expect([...(await h.impressions(['a', 'b']))]).toEqual([['a', 0], ['b', 1]]);
    await h.forget('b');
    expect([...(await h.impressions(['b']))]).toEqual([['b', 0]]);
    await h.addImpressions(['c'], 40);
    await h.clear();
    expect(await exists(db)).toBe(false);
    expect([...(await h.impressions(['c']))]).toEqual([['c', 0]]);
    expect(await h.list()).toEqual([]);
  });

  it('keeps the most recently shown products’ counts, none older than the age limit', async () => {
    const h = await openHistory({ maxEvents: 10, maxAgeMs: 1000, maxImpressions: 2 }, name());
    for (const [id, at] of [['a', 0], ['b', 100], ['a', 200], ['c', 300]] as const) await h.addImpressions([id], at);
    expect([...(await h.impressions(['a', 'b', 'c']))]).toEqual([['a', 2], ['b', 0], ['c', 1]]);
    await h.addImpressions(['d'], 1250);
    expect([...(await h.impressions(['a', 'c', 'd']))]).toEqual([['a', 0], ['c', 1], ['d', 1]]);
  });

  it('upgrades an earlier release’s version-1 database on a read, keeping its events', async () => {
    const db = name();
    // Version 1 as the previous release made it: an `events` store only.
    await new Promise<void>((done, fail) => {
      const req = indexedDB.open(db, 1);
      req.onupgradeneeded = () => {
        const events = req.result.createObjectStore('events', { autoIncrement: true });
        events.createIndex('at', 'at');
        events.createIndex('productId', 'productId');
        events.add({ productId: 'old', kind: 'view', at: 5 });
      };
      req.onsuccess = () => (req.result.close(), done());
      req.onerror = () => fail(req.error);
    });
    const h = await openHistory(undefined, db);
    expect(await h.list()).toEqual([{ productId: 'old', kind: 'view', at: 5 }]);
    expect([...(await h.impressions(['old']))]).toEqual([['old', 0]]);
    await h.addImpressions(['new'], 6);
    expect([...(await h.impressions(['new']))]).toEqual([['new', 1]]);
    const version = await new Promise<number>((done) => {
      const req = indexedDB.open(db);
      req.onsuccess = () => (done(req.result.version), req.result.close());
    });
    expect(version).toBe(2);
    await h.clear();
  });
});
