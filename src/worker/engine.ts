/**
 * The engine the worker exposes: opens and verifies bundles, answers row queries — one module per
 * row (worker/rows/) over what they share (worker/context.ts) — and keeps the browse history.
 * TF.js is imported only when a query needs a model.
 */
import type { EngineApi, RowKind, RowQuery, RowResult } from '../protocol.js';
import { createContext, type EngineOptions, type OpenBundle } from './context.js';
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
  const f = q.filter;
  const names = (x: unknown) => x === undefined || (Array.isArray(x) && x.every((v) => typeof v === 'string'));
  const bound = (x: unknown) => x === undefined || (typeof x === 'number' && Number.isFinite(x));
  if (f !== undefined && !(f && typeof f === 'object' && names(f.category) && names(f.brand) && bound(f.minPrice) && bound(f.maxPrice))) throw new TypeError('query: filter must be {category?, brand?: string lists; minPrice?, maxPrice?: numbers}');
  if (q.rerank !== undefined && !(Array.isArray(q.rerank) && q.rerank.every((r) => r === 'mmr' || r === 'impressions'))) throw new TypeError('query: rerank must be a list of mmr, impressions');
}

/** How a row was ranked, for analytics: the basis and the bundle's method for it (see `RowResult.method`). */
function methodOf(b: OpenBundle, r: RowResult): string {
  const m = b.bundle.manifest;
  const n = m.nextView?.method;
  const how: Partial<Record<RowResult['basis'], string>> = {
    embedding: m.paged ? 'paged' : m.similar?.index ? 'ivf' : 'knn',
    image: m.similar?.index ? 'ivf' : 'knn',
    complementary: m.paged ? 'paged' : m.complementary?.method.score,
    session: n && (['sknn', 'rules', 'model'] as const).filter((c) => n[c]?.weight).join(','),
    'often-next': m.paged ? 'paged' : 'sessions',
  };
  return how[r.basis] ? `${r.basis}:${how[r.basis]}` : r.basis;
}

/** The section of the bundle each row reads: a row whose section is absent is not filled either. */
const SECTION = { similar: 'similar', complementary: 'complementary', next: 'nextView' } as const;

export function createEngine(opts: EngineOptions): EngineApi {
  const ctx = createContext(opts);
  const { history } = ctx;
  return {
    async recommend(q) {
      checkQuery(q);
      // The recently viewed row is the shopper's own order: never re-ranked, never filled.
      if (q.row === 'recent') q = { ...q, rerank: undefined, fill: false };
      const b = await ctx.open(q.src, q);
      let result = await ROWS[q.row as RowKind](ctx, q, b);
      const how = [methodOf(b, result)];
      if (q.rerank?.length) how.push(...(await import('./rerank-step.js')).appliedRules(b, q.rerank));
      const section = SECTION[q.row as keyof typeof SECTION];
      if (section && b.bundle.manifest[section] && q.fill !== false && result.items.length < q.limit && b.bundle.manifest.popular) {
        result = await (await import('./fill.js')).filled(ctx, b, q, result);
        if (result.items.some((i) => i.fill)) how.push('fill');
      }
      return { ...result, method: how.join('+'), bundle: b.bundle.version };
    },
    async record(e) {
      const { validateEvent } = await import('../store/history.js');
      await (await history).add(validateEvent(e));
    },
    async history() {
      return (await history).list();
    },
    async forget(productId) {
      await (await history).forget(String(productId));
    },
    async impressed(ids) {
      // The store checks the ids (validateImpressions) before anything is written.
      await (await history).addImpressions(ids, Date.now());
    },
    async clearHistory() {
      await (await history).clear();
    },
    async storage() {
      return (await history).kind;
    },
  };
}
