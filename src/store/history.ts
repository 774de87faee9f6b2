import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
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

async function indexedDbHistory(limits: HistoryLimits, name: string): Promise<HistoryStore> {
  let db: Promise<IDBPDatabase<HistorySchema>> | undefined;
  const open = (): Promise<IDBPDatabase<HistorySchema>> =>
    (db ??= openDB<HistorySchema>(name, 1, {
      upgrade(d) {
        const events = d.createObjectStore('events', { autoIncrement: true });
        events.createIndex('at', 'at');
        events.createIndex('productId', 'productId');
      },
      // Another tab wants a newer schema: step aside so it is not blocked, reopen on next use.
      blocking(_current, _next, event) {
        (event.target as IDBDatabase).close();
        db = undefined;
      },
      // The browser closed the connection (storage cleared underneath): reopen on next use.
      terminated() {
        db = undefined;
      },
    }));
  await open();
  const queue = serial();
  return {
    kind: 'indexeddb',
    add: (e) =>
      queue(async () => {
        const tx = (await open()).transaction('events', 'readwrite');
        await tx.store.add(e);
        const byTime = tx.store.index('at');
        // Evict by age, then by count, always oldest first.
        let cursor = await byTime.openCursor(IDBKeyRange.upperBound(e.at - limits.maxAgeMs, true));
        while (cursor) {
          await cursor.delete();
          cursor = await cursor.continue();
        }
        let excess = (await tx.store.count()) - limits.maxEvents;
        cursor = excess > 0 ? await byTime.openCursor() : null;
        while (cursor && excess-- > 0) {
          await cursor.delete();
          cursor = await cursor.continue();
        }
        await tx.done;
      }),
    list: () => queue(async () => (await open()).getAllFromIndex('events', 'at')),
    forget: (id) =>
      queue(async () => {
        const tx = (await open()).transaction('events', 'readwrite');
        let cursor = await tx.store.index('productId').openCursor(IDBKeyRange.only(id));
        while (cursor) {
          await cursor.delete();
          cursor = await cursor.continue();
        }
        await tx.done;
      }),
    clear: () => queue(async () => (await open()).clear('events')),
  };
}

/**
 * Opens the history in IndexedDB, or — when that fails — in memory for this page, saying so once
 * on the console. Never throws.
 */
export async function openHistory(limits = HISTORY_LIMITS, name = HISTORY_DB): Promise<HistoryStore> {
  try {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available here');
    return await indexedDbHistory(limits, name);
  } catch (e) {
    console.warn(`[vitrine] browse history is kept in memory for this page only: IndexedDB could not be opened (${(e as Error).message ?? e})`);
    return memoryHistory(limits);
  }
}
