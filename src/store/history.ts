import { openDB, type DBSchema, type IDBPDatabase, type IDBPIndex, type IndexNames, type StoreNames } from 'idb';
import type { HistoryEvent } from '../protocol.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How much history is kept: the newest events win; older ones are evicted first. */
export interface HistoryLimits {
  maxEvents: number;
  maxAgeMs: number;
  /** Products whose impression counts are kept (the least recently shown go first). Default 2000. */
  maxImpressions?: number;
}

export const HISTORY_LIMITS: HistoryLimits = { maxEvents: 1000, maxAgeMs: 90 * DAY_MS, maxImpressions: 2000 };

const MAX_IMPRESSIONS = 2000;

export const HISTORY_DB = 'vitrine-history';

/** A product's impressions since the shopper last viewed or picked it, and when it was last shown. */
export interface Impression {
  shown: number;
  at: number;
}

/**
 * The database's schema. Version 1: `events`. Version 2 adds `impressions` (productId → counts),
 * for re-ranking: what was shown often and never picked sinks.
 */
interface HistorySchema extends DBSchema {
  events: { key: number; value: HistoryEvent; indexes: { at: number; productId: string } };
  impressions: { key: string; value: Impression; indexes: { at: number } };
}

const DB_VERSION = 2;

/** The shopper's browse history. Lives in this origin's IndexedDB; nothing here is ever sent anywhere. */
export interface HistoryStore {
  /** `memory` when IndexedDB could not be opened (private mode, blocked storage): kept for this page only. */
  readonly kind: 'indexeddb' | 'memory';
  add(event: HistoryEvent): Promise<void>;
  /** Oldest first. */
  list(): Promise<HistoryEvent[]>;
  /** Forgets the product's events and its impression count. */
  forget(productId: string): Promise<void>;
  /** Forgets everything: events and impression counts. */
  clear(): Promise<void>;
  /**
   * Counts one impression of each product (a row with these products came into view). Repeated
   * ids count once. An event for a product (`add`) resets its count: it was picked.
   */
  addImpressions(productIds: readonly string[], at: number): Promise<void>;
  /** Impressions of each product since it was last viewed or picked (0 for unknown ids). */
  impressions(productIds: readonly string[]): Promise<Map<string, number>>;
}

const KINDS = new Set(['view', 'cart', 'purchase']);

/** Checks an event at the boundary: what the page sends the worker is not trusted blindly. */
export function validateEvent(e: unknown): HistoryEvent {
  const o = e as Partial<HistoryEvent> | null;
  if (!o || typeof o.productId !== 'string' || !o.productId || o.productId.length > 256) {
    throw new TypeError('history event: productId must be a non-empty string of at most 256 characters');
  }
  if (!KINDS.has(o.kind as string)) throw new TypeError(`history event: kind must be view, cart or purchase, not ${JSON.stringify(o.kind)}`);
  if (typeof o.at !== 'number' || !Number.isFinite(o.at)) throw new TypeError('history event: at must be a finite number of Unix milliseconds');
  return { productId: o.productId, kind: o.kind!, at: o.at };
}

/** Checks impressions at the boundary, as {@link validateEvent} does events; returns the ids, each once. */
export function validateImpressions(productIds: unknown, at: unknown): string[] {
  if (!Array.isArray(productIds) || productIds.length > 1000) throw new TypeError('impressions: productIds must be an array of at most 1000 product ids');
  for (const id of productIds) {
    if (typeof id !== 'string' || !id || id.length > 256) throw new TypeError('impressions: each productId must be a non-empty string of at most 256 characters');
  }
  if (typeof at !== 'number' || !Number.isFinite(at)) throw new TypeError('impressions: at must be a finite number of Unix milliseconds');
  return [...new Set(productIds as string[])];
}

/** Runs operations one after another, so a read issued after a write sees it. */
function serial() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(op: () => Promise<T>): Promise<T> => {
    const run = tail.then(op, op);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** History kept in memory only: the fallback when IndexedDB is unavailable. */
export function memoryHistory(limits = HISTORY_LIMITS): HistoryStore {
  return memoryStore(limits, [], []);
}

/** A memory store holding `events` (oldest first) and `counts` already: what the fallback carries over. */
function memoryStore(limits: HistoryLimits, carried: HistoryEvent[], counts: [string, Impression][]): HistoryStore {
  let events = carried.slice();
  // Insertion order is last-shown order: a product shown again moves to the end.
  const shown = new Map(counts.slice().sort((a, b) => a[1].at - b[1].at));
  const maxImpressions = limits.maxImpressions ?? MAX_IMPRESSIONS;
  return {
    kind: 'memory',
    async add(e) {
      events.push(e);
      events.sort((a, b) => a.at - b.at);
      const cutoff = e.at - limits.maxAgeMs;
      events = events.filter((x) => x.at >= cutoff).slice(-limits.maxEvents);
      shown.delete(e.productId);
    },
    async list() {
      return events.slice();
    },
    async forget(id) {
      events = events.filter((x) => x.productId !== id);
      shown.delete(id);
    },
    async clear() {
      events = [];
      shown.clear();
    },
    async addImpressions(ids, at) {
      for (const id of validateImpressions(ids, at)) {
        const n = shown.get(id)?.shown ?? 0;
        shown.delete(id);
        shown.set(id, { shown: n + 1, at });
      }
      const cutoff = at - limits.maxAgeMs;
      for (const [id, x] of shown) if (x.at < cutoff || shown.size > maxImpressions) shown.delete(id);
    },
    async impressions(ids) {
      return new Map(ids.map((id) => [id, shown.get(id)?.shown ?? 0]));
    },
  };
}

/** An IndexedDB open that has not answered by then is given up on (blocked by another tab, or hung). */
const OPEN_TIMEOUT_MS = 5000;
/** Rounds of evicting the oldest events when storage is full, before giving up on IndexedDB. */
const QUOTA_ROUNDS = 3;

type Store = StoreNames<HistorySchema>;

/** Deletes the records of `range` in index order (oldest first for `at`), at most `n` of them, in the index's transaction. */
async function deleteFrom<T extends Store[], S extends Store>(index: IDBPIndex<HistorySchema, T, S, IndexNames<HistorySchema, S>, 'readwrite'>, range: IDBKeyRange | null, n = Infinity) {
  let cursor = n > 0 ? await index.openCursor(range) : null;
  while (cursor && n-- > 0) {
    await cursor.delete();
    cursor = await cursor.continue();
  }
}

/**
 * The history in IndexedDB, unguarded: its operations throw when the database fails. The database
 * is created by the first write only, so a shopper who never had history (or cleared it, or said
 * `history="off"`) has none on the device.
 */
/**
 * One connection to the history database, opened on first use (`create`: make it if missing) and
 * given up when another tab needs the database or the browser closes it; the next use reopens.
 */
function connection(name: string) {
  let db: Promise<IDBPDatabase<HistorySchema>> | undefined;
  const drop = () => {
    db?.then((d) => d.close(), () => {});
    db = undefined;
  };
  const connect = (create: boolean): Promise<IDBPDatabase<HistorySchema>> => {
    if (db) return db;
    const opening = openDB<HistorySchema>(name, DB_VERSION, {
      upgrade(d, old, _new, tx) {
        // A read of a history that does not exist: abort, so the empty database is not created. A
        // read of an older version upgrades: its events are kept.
        if (old === 0 && !create) return tx.done.catch(() => {}), tx.abort();
        if (old < 1) {
          const events = d.createObjectStore('events', { autoIncrement: true });
          events.createIndex('at', 'at');
          events.createIndex('productId', 'productId');
        }
        if (old < 2) d.createObjectStore('impressions').createIndex('at', 'at');
      },
      // Another tab wants a newer schema or deletes the database: step aside so it is not blocked;
      // the next use reopens (and learns whether this schema still exists).
      blocking(_current, _next, event) {
        (event.target as IDBDatabase).close();
        db = undefined;
      },
      // The browser closed the connection (site data cleared underneath): reopen on next use.
      terminated() {
        db = undefined;
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const opened = (db = Promise.race([
      opening,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`IndexedDB did not open within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS))),
    ]).finally(() => clearTimeout(timer)));
    opened.catch(() => {
      if (db === opened) db = undefined;
      opening.then((d) => d.close(), () => {});
    });
    return opened;
  };
  return { connect, drop };
}

function indexedDbHistory(limits: HistoryLimits, name: string) {
  const { connect, drop } = connection(name);
  const maxImpressions = limits.maxImpressions ?? MAX_IMPRESSIONS;
  /** The database, or undefined when there is none yet. */
  const existing = () => connect(false).catch((e: Error) => (e.name === 'AbortError' ? undefined : Promise.reject(e)));
  return {
    kind: 'indexeddb' as const,
    drop,
    existing,
    async add(e: HistoryEvent) {
      const tx = (await connect(true)).transaction(['events', 'impressions'], 'readwrite');
      // One transaction for the add and both evictions: readwrite transactions on a store run one
      // at a time across tabs too, so concurrent tabs never evict more than the limits require.
      const events = tx.objectStore('events');
      await events.add(e);
      // Viewed or picked: its impressions start again from 0.
      await tx.objectStore('impressions').delete(e.productId);
      const byTime = events.index('at');
      await deleteFrom(byTime, IDBKeyRange.upperBound(e.at - limits.maxAgeMs, true));
      await deleteFrom(byTime, null, (await events.count()) - limits.maxEvents);
      await tx.done;
    },
    /** Makes room when storage is full: evicts the oldest `n` events and the `n` least recently shown counts. */
    async evict(n: number) {
      const tx = (await connect(true)).transaction(['events', 'impressions'], 'readwrite');
      await deleteFrom(tx.objectStore('events').index('at'), null, n);
      await deleteFrom(tx.objectStore('impressions').index('at'), null, n);
      await tx.done;
    },
    async addImpressions(ids: readonly string[], at: number) {
      const tx = (await connect(true)).transaction('impressions', 'readwrite');
      await Promise.all(validateImpressions(ids, at).map(async (id) => tx.store.put({ shown: ((await tx.store.get(id))?.shown ?? 0) + 1, at }, id)));
      const byTime = tx.store.index('at');
      await deleteFrom(byTime, IDBKeyRange.upperBound(at - limits.maxAgeMs, true));
      await deleteFrom(byTime, null, (await tx.store.count()) - maxImpressions);
      await tx.done;
    },
    async impressions(ids: readonly string[]): Promise<Map<string, number>> {
      const d = await existing();
      if (!d) return new Map(ids.map((id) => [id, 0]));
      const tx = d.transaction('impressions');
      const counts = await Promise.all(ids.map(async (id) => [id, (await tx.store.get(id))?.shown ?? 0] as const));
      await tx.done;
      return new Map(counts);
    },
    /** Every impression count, for the move to memory. */
    async counts(): Promise<[string, Impression][]> {
      const d = await existing();
      if (!d) return [];
      const tx = d.transaction('impressions');
      const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
      await tx.done;
      return keys.map((k, i) => [k, values[i]!]);
    },
    async list(): Promise<HistoryEvent[]> {
      const d = await existing();
      return d ? d.getAllFromIndex('events', 'at') : [];
    },
    async forget(id: string) {
      const d = await existing();
      if (!d) return;
      const tx = d.transaction(['events', 'impressions'], 'readwrite');
      await deleteFrom(tx.objectStore('events').index('productId'), IDBKeyRange.only(id));
      await tx.objectStore('impressions').delete(id);
      await tx.done;
    },
    /**
     * Empties the store (atomic: nothing is readable after), then deletes the database so nothing
     * is left behind. Vitrine's connections in other tabs step aside (`blocking`); one held open by
     * other code delays the deletion until it closes, but the records are gone already.
     */
    async clear() {
      const d = await existing().catch(() => undefined);
      if (d) {
        const tx = d.transaction(['events', 'impressions'], 'readwrite');
        await Promise.all([tx.objectStore('events').clear(), tx.objectStore('impressions').clear(), tx.done]);
      }
      drop();
      await new Promise((done) => {
        const req = indexedDB.deleteDatabase(name);
        req.onsuccess = req.onerror = req.onblocked = done;
      });
    },
  };
}

const failure = (e: unknown) => (e as Error)?.message || (e as Error)?.name || String(e);

/**
 * Opens the history in IndexedDB, or — when that fails — in memory for this page, saying so once
 * on the console. Never throws, and never drops an event silently:
 * - a failed operation is retried once on a fresh connection (another tab deleted or upgraded the
 *   database, the browser closed it);
 * - storage full (QuotaExceededError): the oldest events are evicted (7/8 at most) and the add
 *   retried — the newest event is never the one dropped;
 * - still failing: the events that can still be read move to memory with the new one, for the page.
 */
export async function openHistory(limits = HISTORY_LIMITS, name = HISTORY_DB): Promise<HistoryStore> {
  const idb = indexedDbHistory(limits, name);
  let memory: HistoryStore | undefined;
  const toMemory = async (e: unknown, carry: HistoryEvent[], counts: [string, Impression][]) => {
    console.warn(`[vitrine] browse history is kept in memory for this page only: IndexedDB could not be used (${failure(e)})`);
    idb.drop();
    return (memory = memoryStore(limits, carry, counts));
  };
  try {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available here');
    await idb.existing();
  } catch (e) {
    await toMemory(e, [], []);
  }
  const queue = serial();
  const guard =
    <A extends unknown[], R>(op: (s: Omit<HistoryStore, 'kind'>, ...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      queue(async () => {
        if (memory) return op(memory, ...args);
        try {
          return await op(idb, ...args);
        } catch (first) {
          let e = first;
          const kept = await idb.list().catch(() => []);
          for (let round = 0; round < (isQuota(e) ? QUOTA_ROUNDS : 1); round++) {
            try {
              // Evict an eighth of what there was, then a quarter, then half: the browser notices a
              // full disk late, and freed space shows late too.
              if (isQuota(e)) await idb.evict(Math.ceil(kept.length / 2 ** (QUOTA_ROUNDS - round)));
              else idb.drop();
              return await op(idb, ...args);
            } catch (again) {
              e = again;
            }
          }
          return op(await toMemory(e, kept, await idb.counts().catch(() => [])), ...args);
        }
      });
  const addImpressions = guard((s, ids: readonly string[], at: number) => s.addImpressions(ids, at));
  const impressions = guard((s, ids: readonly string[]) => s.impressions(ids));
  return {
    get kind() {
      return memory ? 'memory' : 'indexeddb';
    },
    add: guard((s, e: HistoryEvent) => s.add(e)),
    list: guard((s) => s.list()),
    forget: guard((s, id: string) => s.forget(id)),
    // Checked before the guard: a bad argument is the caller's error, not a reason to leave IndexedDB.
    async addImpressions(ids, at) {
      return addImpressions(validateImpressions(ids, at), at);
    },
    async impressions(ids) {
      validateImpressions(ids, 0);
      return impressions(ids);
    },
    // In memory, the database may still hold what was stored before the fallback: delete it too.
    clear: guard(async (s) => {
      await s.clear();
      if (s === memory && typeof indexedDB !== 'undefined') await idb.clear().catch(() => {});
    }),
  };
}

const isQuota = (e: unknown) => (e as Error)?.name === 'QuotaExceededError';
