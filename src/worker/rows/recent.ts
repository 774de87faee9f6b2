/**
 * The recently viewed row: the shopper's own latest views (from the history on this device), most
 * recent first, each product once, without the page's own product. Products the bundle does not
 * know (a new arrival, another store's bundle) are left out: there is nothing to show them with.
 */
import type { RowQuery, RowResult } from '../../protocol.js';
import { wanted, type OpenBundle, type RowContext } from '../context.js';

export async function recentRow(ctx: RowContext, q: RowQuery, b: OpenBundle): Promise<RowResult> {
  const views = (await (await ctx.history).list()).filter((e) => e.kind === 'view');
  const ids: string[] = [];
  for (let i = views.length - 1; i >= 0 && ids.length < wanted(q); i--) {
    const id = views[i]!.productId;
    if (id !== q.product && !ids.includes(id)) ids.push(id);
  }
  const paged = b.bundle.manifest.paged;
  const indices = paged ? (await Promise.all(ids.map((id) => b.bundle.page(id)))).flatMap((rec) => (rec ? [rec[0]] : [])) : ids.flatMap((id) => b.index.get(id) ?? []);
  const list = paged ? await b.bundle.products(indices) : indices.map((i) => b.items[i]!);
  const byIndex = new Map(indices.map((index, k) => [index, list[k]!]));
  const hits = indices.map((index, r) => ({ index, score: 1 / (r + 1) }));
  return { row: 'recent', basis: 'history', items: await ctx.toItems(b, hits, q, (i) => byIndex.get(i)!) };
}
