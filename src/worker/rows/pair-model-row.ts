/**
 * The goes-with row of a product outside the bundle: the pair model scores every catalog product
 * against the product's image and title, products of its own category left out. Its own chunk: a
 * catalog product's page never loads it.
 */
import { once } from '../../bundle/once.js';
import { PairModel } from '../../recommend/pair-model.js';
import { diversify } from '../../recommend/rerank.js';
import { topIndices } from '../../recommend/select.js';
import { titleBuckets } from '../../recommend/text.js';
import type { RowQuery, RowResult } from '../../protocol.js';
import { categoryOf, loading, wanted, type OpenBundle, type RowContext } from '../context.js';

export async function pairModelRow(ctx: RowContext, q: RowQuery, b: OpenBundle): Promise<RowResult> {
  const c = b.bundle.manifest.complementary!;
  const ref = c.pairModel;
  const embedded = ref && (await ctx.imageVector(q, b));
  if (!ref || !embedded) return { row: 'complementary', basis: 'pair-model', items: [] };
  const pm = await once<PairModel>(b.models, 'pair', async () => {
    const { header, weights } = await b.bundle.tensors(ref);
    return loading(ref.model, () => PairModel.load(header, weights, b.items.length, ref.model));
  });
  // Its category: the commonest among its nearest catalog neighbours.
  const near = await ctx.nearest(b, embedded.vector, 10);
  const votes = new Map<string, number>();
  for (const n of near) {
    const cat = b.items[n.index]!.category;
    if (cat) votes.set(cat, (votes.get(cat) ?? 0) + 1);
  }
  const category = [...votes].sort((x, y) => y[1] - x[1])[0]?.[0];
  const categories = [...new Set(b.items.map((it) => it.category).filter((x): x is string => !!x))].sort();
  const leg = pm.leg(embedded.vector, category === undefined ? 0 : categories.indexOf(category) + 1, titleBuckets(q.title ?? '', undefined, pm.dims.buckets));
  const scores = new Float32Array(b.items.length);
  b.items.forEach((it, j) => {
    scores[j] = it.category === category || it.inStock === false ? NaN : pm.score(leg, pm.catalogLeg(j));
  });
  const hits = diversify(topIndices(scores, 4 * q.limit + wanted(q)), categoryOf(b), wanted(q), Math.ceil(q.limit / 3));
  return { row: 'complementary', basis: 'pair-model', items: await ctx.toItems(b, hits, q), backend: embedded.backend };
}
