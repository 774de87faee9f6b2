/**
 * The rows of a paged bundle (bundle/pages.ts): a catalog product's page record gives its similar,
 * goes-with and next lists; only the products those lists show are fetched. Nothing the size of
 * the catalog is loaded for a catalog product's rows.
 */
import type { Bundle } from '../bundle/reader.js';
import type { BundleItem } from '../bundle/format.js';
import type { PageRecord } from '../bundle/pages.js';
import { diversify } from '../recommend/rerank.js';
import type { Scored } from '../recommend/select.js';

/** Hits in list order, scored by rank (the builder ranked them; the page keeps no scores). */
const ranked = (list: readonly number[], self: number): Scored[] => list.filter((j) => j !== self).map((index, r) => ({ index, score: 1 / (r + 1) }));

/** A list's products, fetched, as a lookup by index. */
async function productsOf(bundle: Bundle, hits: readonly Scored[]): Promise<(i: number) => BundleItem> {
  const list = await bundle.products(hits.map((h) => h.index));
  const byIndex = new Map(hits.map((h, k) => [h.index, list[k]!]));
  return (i) => byIndex.get(i)!;
}

export interface PagedHits {
  hits: Scored[];
  item: (i: number) => BundleItem;
}

/** The similar row of a catalog product (undefined: not in the catalog — the caller embeds its image). */
export async function pagedSimilar(bundle: Bundle, product: string, take: number): Promise<PagedHits | undefined> {
  const rec = await bundle.page(product);
  if (!rec) return undefined;
  const hits = ranked(rec[1], rec[0]).slice(0, take);
  return { hits, item: await productsOf(bundle, hits) };
}

/** The goes-with row of a catalog product: in stock, at most a third from one category. */
export async function pagedGoesWith(bundle: Bundle, product: string, take: number, limit: number): Promise<PagedHits | undefined> {
  const rec = await bundle.page(product);
  if (!rec) return undefined;
  const all = ranked(rec[2], rec[0]);
  const item = await productsOf(bundle, all);
  const hits = diversify(all.filter((h) => item(h.index).inStock !== false), (i) => item(i).category, take, Math.ceil(limit / 3));
  return { hits, item };
}

/**
 * The next row from the page records of the session's latest `depth` views (product ids, oldest
 * first): each record's "viewed after this" list, the latest view weighing most (1, ½, ⅓, …),
 * each list scaled to its best; the session's own products left out.
 */
export async function pagedNext(bundle: Bundle, session: readonly string[], depth: number, take: number): Promise<PagedHits> {
  const latest = session.slice(-depth).reverse();
  const records = (await Promise.all(latest.map((id) => bundle.page(id)))).map((r, d) => [r, d] as const).filter((x): x is readonly [PageRecord, number] => !!x[0]);
  const seen = new Set(records.map(([r]) => r[0]));
  const scores = new Map<number, number>();
  for (const [[, , , next, nextScores], d] of records) {
    const best = Math.max(0, ...nextScores);
    if (!(best > 0)) continue;
    next.forEach((j, k) => {
      if (!seen.has(j)) scores.set(j, (scores.get(j) ?? 0) + nextScores[k]! / best / (d + 1));
    });
  }
  const hits = [...scores].map(([index, score]) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index).slice(0, take);
  return { hits, item: await productsOf(bundle, hits) };
}
