/**
 * The rows of a paged bundle (bundle/pages.ts): a catalog product's page record gives its similar,
 * goes-with and next lists; only the products those lists show are fetched. Nothing the size of
 * the catalog is loaded for a catalog product's rows.
 */
import type { Bundle } from '../bundle/reader.js';
import type { BundleItem } from '../bundle/format.js';
import type { PageRecord } from '../bundle/pages.js';
import { diversify } from '../recommend/rerank.js';
import { rowScore, type Neighbour } from '../recommend/knn.js';
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

/**
 * The `k` catalog products nearest `vector` (an image's embedding) in a paged bundle with a search
 * index: the index's head ranks the cells, and only the `nprobe` cells a search scans are fetched,
 * with their codes and the int8 rows the best candidates are rescored against — hundreds of
 * kilobytes for a query instead of the whole index and embeddings.
 */
export async function pagedNearest(bundle: Bundle, vector: Float32Array, k: number): Promise<Neighbour[]> {
  // The index code is its own chunk, as in an unpaged bundle: only image queries load it.
  const [head, tail, { nearestCells, searchIvf }] = await Promise.all([bundle.ivfHead(), bundle.ivfTail(), import('../recommend/ivf.js')]);
  const { dims, rowBytes } = head;
  const cells = nearestCells(head, vector, head.nprobe);
  const parts = await Promise.all(cells.map((c) => bundle.cell(c)));
  // The fetched cells as one small index, their products renumbered in cell order.
  const offsets = new Uint32Array(cells.length + 1);
  cells.forEach((c, i) => (offsets[i + 1] = offsets[i]! + head.offsets[c + 1]! - head.offsets[c]!));
  const n = offsets[cells.length]!;
  const centroids = new Float32Array(cells.length * dims);
  const [codes, rows, scales, global] = [new Uint8Array(n * rowBytes), new Int8Array(n * dims), new Float32Array(n), new Uint32Array(n)];
  cells.forEach((c, i) => {
    const at = offsets[i]!;
    const part = parts[i]!;
    centroids.set(head.centroids.subarray(c * dims, (c + 1) * dims), i * dims);
    codes.set(part.codes, at * rowBytes);
    rows.set(part.rows, at * dims);
    scales.set(part.scales, at);
    for (let j = 0; j < part.scales.length; j++) global[at + j] = head.offsets[c]! + j;
  });
  const matrix = { codes: rows, scales, count: n, dims };
  const hits = searchIvf({ ...head, count: n, nlist: cells.length, nprobe: cells.length, centroids, offsets, codes }, vector, k, { rescore: (p) => rowScore(matrix, vector, p) }).map((h) => ({ index: global[h.index]!, score: h.score }));
  // Products an update added past the cells: scanned, as in an unpaged bundle.
  if (tail) {
    const rest = { codes: tail.rows, scales: tail.scales, count: tail.scales.length, dims };
    for (let p = 0; p < rest.count; p++) hits.push({ index: tail.from + p, score: rowScore(rest, vector, p) });
  }
  return hits.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}
