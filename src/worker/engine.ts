/**
 * The engine the worker exposes: opens and verifies bundles, answers row queries — one module per
 * row (worker/rows/) over what they share (worker/context.ts) — and keeps the browse history.
 * TF.js is imported only when a query needs a model.
 */
import { validateEvent } from '../store/history.js';
import type { EngineApi, RowKind, RowQuery } from '../protocol.js';
import { createContext, type EngineOptions } from './context.js';
import { complementaryRow } from './rows/complementary.js';
import { nextRow } from './rows/next.js';
import { similarRow } from './rows/similar.js';

export type { EngineOptions } from './context.js';

const ROWS = {
  similar: similarRow,
  complementary: complementaryRow,
  next: nextRow,
  // Only pages that show a history load it.
  recent: async (...args: Parameters<typeof similarRow>) => (await import('./rows/recent.js')).recentRow(...args),
} as const;
const MAX_LIMIT = 50;

function checkQuery(q: RowQuery): void {
  if (!q || typeof q.src !== 'string' || !q.src) throw new TypeError('query: src must be the URL of a bundle manifest');
  if (!Object.hasOwn(ROWS, q.row)) throw new TypeError(`query: row must be similar, complementary, next or recent, not ${JSON.stringify(q.row)}`);
  if (typeof q.product !== 'string') throw new TypeError('query: product must be a string');
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_LIMIT) throw new TypeError(`query: limit must be an integer from 1 to ${MAX_LIMIT}`);
  if (q.manifest !== undefined && typeof q.manifest !== 'string') throw new TypeError('query: manifest must be the manifest\'s text');
  if (q.cached !== undefined && !(Array.isArray(q.cached) && q.cached.every((p) => typeof p === 'string'))) throw new TypeError('query: cached must be a list of file paths');
  if (q.exclude !== undefined && !(Array.isArray(q.exclude) && q.exclude.length <= 10_000 && q.exclude.every((p) => typeof p === 'string'))) throw new TypeError('query: exclude must be a list of product ids');
}

export function createEngine(opts: EngineOptions): EngineApi {
  const ctx = createContext(opts);
  const { history } = ctx;
  return {
    async recommend(q) {
      checkQuery(q);
      const b = await ctx.open(q.src, q);
      return ROWS[q.row as RowKind](ctx, q, b);
    },
    async record(e) {
      await (await history).add(validateEvent(e));
    },
    async history() {
      return (await history).list();
    },
    async forget(productId) {
      await (await history).forget(String(productId));
    },
    async clearHistory() {
      await (await history).clear();
    },
    async storage() {
      return (await history).kind;
    },
  };
}
