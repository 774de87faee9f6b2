/**
 * The similar row: a catalog product's nearest products by image embedding (a paged bundle's page
 * record lists them); a product outside the catalog is embedded from its image in the worker and
 * searched.
 */
import { dequantizeRow } from '../../recommend/knn.js';
import type { RowQuery, RowResult } from '../../protocol.js';
import { wanted, type OpenBundle, type RowContext } from '../context.js';
import { pagedSimilar } from '../paged.js';

export async function similarRow(ctx: RowContext, q: RowQuery, b: OpenBundle): Promise<RowResult> {
  if (!b.bundle.manifest.similar) return { row: 'similar', basis: 'embedding', items: [] };
  if (b.bundle.manifest.paged) {
    const first = pagedSimilar(b.bundle, q.product, wanted(q));
    b.firstRows.set(q.product, first.catch(() => undefined));
    const listed = await first;
    if (listed) return { row: 'similar', basis: 'embedding', items: await ctx.toItems(b, listed.hits, q, listed.item) };
    // Not in the catalog: its image against the whole index (fetched for image queries only).
    const embedded = await ctx.imageVector(q, b);
    if (!embedded) return { row: 'similar', basis: 'image', items: [] };
    const hits = b.bundle.manifest.paged.cells ? await (await import('../paged-search.js')).pagedNearest(b.bundle, embedded.vector, wanted(q)) : await ctx.nearest(b, embedded.vector, wanted(q));
    const list = await b.bundle.products(hits.map((h) => h.index));
    const byIndex = new Map(hits.map((h, k) => [h.index, list[k]!]));
    return { row: 'similar', basis: 'image', items: await ctx.toItems(b, hits, q, (i) => byIndex.get(i)!), backend: embedded.backend };
  }
  const matrix = await b.bundle.embeddings();
  const self = b.index.get(q.product);
  // Over-fetch a little: items with unusable URLs are dropped after the search.
  const k = wanted(q);
  if (self !== undefined) {
    const hits = await ctx.nearest(b, dequantizeRow(matrix, self), k, (j) => j === self);
    return { row: 'similar', basis: 'embedding', items: await ctx.toItems(b, hits, q) };
  }
  const embedded = await ctx.imageVector(q, b);
  if (!embedded) return { row: 'similar', basis: 'image', items: [] };
  const hits = await ctx.nearest(b, embedded.vector, k);
  return { row: 'similar', basis: 'image', items: await ctx.toItems(b, hits, q), backend: embedded.backend };
}
