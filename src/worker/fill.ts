/**
 * Fallback fill: a row shorter than its limit is topped up — first with the most popular products
 * of the page's product's category, then with the most popular overall (the bundle's popularity
 * lists) — skipping what the row shows, the product itself, excluded and filtered-out products.
 * Each fill item is marked `fill`, so the page's analytics can tell them from the row's own.
 * Its own chunk: full rows never load it.
 */
import type { BundleItem } from '../bundle/format.js';
import type { Recommendation, RowQuery, RowResult } from '../protocol.js';
import { passes, type OpenBundle, type RowContext } from './context.js';

/** A paged bundle fetches the candidates' meta files in batches: at most this many. */
const MAX_BATCHES = 4;

/** The page's product's category, where the bundle knows the product. */
async function productCategory(b: OpenBundle, product: string): Promise<string | undefined> {
  if (!b.bundle.manifest.paged) return b.items[b.index.get(product) ?? -1]?.category;
  const rec = await b.bundle.page(product);
  return rec ? (await b.bundle.products([rec[0]]))[0]?.category : undefined;
}

export async function filled(ctx: RowContext, b: OpenBundle, q: RowQuery, result: RowResult): Promise<RowResult> {
  const popular = await b.bundle.popular();
  const need = q.limit - result.items.length;
  if (!popular || need <= 0) return result;
  const category = await productCategory(b, q.product);
  const candidates = [...new Set([...((category !== undefined && popular.byCategory[category]) || []), ...popular.all])];
  const taken = new Set([q.product, ...(q.exclude ?? []), ...result.items.map((i) => i.id)]);
  const pass = passes(q.filter);
  const out: Recommendation[] = [];
  const paged = !!b.bundle.manifest.paged;
  const step = paged ? need + 4 : candidates.length;
  for (let at = 0, batches = 0; at < candidates.length && out.length < need && batches < (paged ? MAX_BATCHES : 1); at += step, batches++) {
    const batch = candidates.slice(at, at + step);
    const items: BundleItem[] = paged ? await b.bundle.products(batch) : batch.map((i) => b.items[i]!);
    for (const it of items) {
      if (out.length === need || taken.has(it.id) || !pass(it)) continue;
      const r = ctx.recommendation(b, it, 0, q.page);
      if (r) out.push({ ...r, fill: true }), taken.add(it.id);
    }
  }
  return out.length ? { ...result, items: [...result.items, ...out] } : result;
}
