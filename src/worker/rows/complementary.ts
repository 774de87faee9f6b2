/**
 * The goes-with row: a catalog product's goes-with list (co-occurrence in baskets and outfits, at
 * most a third from one category); a product outside the bundle is scored against the catalog by
 * the pair model from its image and title (rows/pair-model-row.ts, loaded only for such a product).
 */
import { goesWithRow } from '../../recommend/goes-with.js';
import { diversify } from '../../recommend/rerank.js';
import type { RowQuery, RowResult } from '../../protocol.js';
import { categoryOf, listsOf, wanted, type OpenBundle, type RowContext } from '../context.js';
import { pagedGoesWith } from '../paged.js';

export async function complementaryRow(ctx: RowContext, q: RowQuery, b: OpenBundle): Promise<RowResult> {
  const c = b.bundle.manifest.complementary;
  const self = b.index.get(q.product);
  if (!c) return { row: 'complementary', basis: 'complementary', items: [] };
  if (b.bundle.manifest.paged) {
    // Products outside a paged catalog get no goes-with row: the pair model would score every product.
    await b.firstRows.get(q.product);
    const listed = await pagedGoesWith(b.bundle, q.product, wanted(q), q.limit);
    return listed ? { row: 'complementary', basis: 'complementary', items: await ctx.toItems(b, listed.hits, q, listed.item) } : { row: 'complementary', basis: 'pair-model', items: [] };
  }
  if (self !== undefined && c.file) {
    const hits = goesWithRow(await listsOf(b, c.file), self).filter((h) => b.items[h.index]!.inStock !== false);
    return { row: 'complementary', basis: 'complementary', items: await ctx.toItems(b, diversify(hits, categoryOf(b), wanted(q), Math.ceil(q.limit / 3)), q) };
  }
  // Not in the bundle: the pair model scores the catalog against the product's image and title (its own chunk).
  return (await import('./pair-model-row.js')).pairModelRow(ctx, q, b);
}
