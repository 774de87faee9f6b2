import { openDB, type DBSchema, type IDBPDatabase, type IDBPIndex } from 'idb';
import type { HistoryEvent } from '../protocol.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How much history is kept: the newest events win; older ones are evicted first. */
export interface HistoryLimits {
  maxEvents: number;
  maxAgeMs: number;
}

export const HISTORY_LIMITS: HistoryLimits = { maxEvents: 1000, maxAgeMs: 90 * DAY_MS };

export const HISTORY_DB = 'vitrine-history';

interface HistorySchema extends DBSchema {
  events: { key: number; value: HistoryEvent; indexes: { at: number; productId: string } };
}

/** The shopper's browse history. Lives in this origin's IndexedDB; nothing here is ever sent anywhere. */
export interface HistoryStore {
  /** `memory` when IndexedDB could not be opened (private mode, blocked storage): kept for this page only. */
  readonly kind: 'indexeddb' | 'memory';
  add(event: HistoryEvent): Promise<void>;
  /** Oldest first. */
  list(): Promise<HistoryEvent[]>;
  forget(productId: string): Promise<void>;
  clear(): Promise<void>;
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
  let events: HistoryEvent[] = [];
  return {
    kind: 'memory',
    async add(e) {
      events.push(e);
      events.sort((a, b) => a.at - b.at);
      const cutoff = e.at - limits.maxAgeMs;
      events = events.filter((x) => x.at >= cutoff).slice(-limits.maxEvents);
    },
    async list() {
      return events.slice();
    },
    async forget(id) {
      events = events.filter((x) => x.productId !== id);
    },
    async clear() {
      events = [];
    },
  };
}

/** An IndexedDB open that has not answered by then is given up on (blocked by another tab, or hung). */
const OPEN_TIMEOUT_MS = 5000;
/** Rounds of evicting the oldest events when storage is full, before giving up on IndexedDB. */
const QUOTA_ROUNDS = 3;

type EventIndex = IDBPIndex<HistorySchema, ['events'], 'events', 'at' | 'productId', 'readwrite'>;

/** Deletes the events of `range` in index order (oldest first for `at`), at most `n` of them, in the index's transaction. */
async function deleteFrom(index: EventIndex, range: IDBKeyRange | null, n = Infinity) {
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
    const opening = openDB<HistorySchema>(name, 1, {
      upgrade(d, _old, _new, tx) {
        // A read of a history that does not exist: abort, so the empty database is not created.
        if (!create) return tx.done.catch(() => {}), tx.abort();
        const events = d.createObjectStore('events', { autoIncrement: true });
        events.createIndex('at', 'at');
        events.createIndex('productId', 'productId');
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
  /** The database, or undefined when there is none yet. */
  const existing = () => connect(false).catch((e: Error) => (e.name === 'AbortError' ? undefined : Promise.reject(e)));
  return {
    kind: 'indexeddb' as const,
    drop,
    existing,
    async add(e: HistoryEvent) {
      const tx = (await connect(true)).transaction('events', 'readwrite');
      // One transaction for the add and both evictions: readwrite transactions on a store run one
      // at a time across tabs too, so concurrent tabs never evict more than the limits require.
      await tx.store.add(e);
      const byTime = tx.store.index('at');
      await deleteFrom(byTime, IDBKeyRange.upperBound(e.at - limits.maxAgeMs, true));
      await deleteFrom(byTime, null, (await tx.store.count()) - limits.maxEvents);
      await tx.done;
    },
    /** Makes room when storage is full: evicts the oldest `n` events. */
    async evict(n: number) {
      const tx = (await connect(true)).transaction('events', 'readwrite');
      await deleteFrom(tx.store.index('at'), null, n);
      await tx.done;
    },
    async list(): Promise<HistoryEvent[]> {
      const d = await existing();
      return d ? d.getAllFromIndex('events', 'at') : [];
    },
    async forget(id: string) {
      const d = await existing();
      if (!d) return;
      const tx = d.transaction('events', 'readwrite');
      await deleteFrom(tx.store.index('productId'), IDBKeyRange.only(id));
      await tx.done;
    },
    /**
     * Empties the store (atomic: nothing is readable after), then deletes the database so nothing
     * is left behind. Vitrine's connections in other tabs step aside (`blocking`); one held open by
     * other code delays the deletion until it closes, but the records are gone already.
     */
    async clear() {
      await (await existing().catch(() => undefined))?.clear('events');
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
  const toMemory = async (e: unknown, carry: HistoryEvent[]) => {
    console.warn(`[vitrine] browse history is kept in memory for this page only: IndexedDB could not be used (${failure(e)})`);
    idb.drop();
    memory = memoryHistory(limits);
    for (const x of carry) await memory.add(x);
    return memory;
  };
  try {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available here');
    await idb.existing();
  } catch (e) {
    await toMemory(e, []);
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
          return op(await toMemory(e, kept), ...args);
        }
      });
  return {
    get kind() {
      return memory ? 'memory' : 'indexeddb';
    },
    add: guard((s, e: HistoryEvent) => s.add(e)),
    list: guard((s) => s.list()),
    forget: guard((s, id: string) => s.forget(id)),
    // In memory, the database may still hold what was stored before the fallback: delete it too.
    clear: guard(async (s) => {
      await s.clear();
      if (s === memory && typeof indexedDB !== 'undefined') await idb.clear().catch(() => {});
    }),
  };
}

const isQuota = (e: unknown) => (e as Error)?.name === 'QuotaExceededError';
