/**
 * The re-ranking rules a page asked for (`rerank="mmr impressions"`), applied to a row's candidates
 * in order: pure functions (recommend/rerank.ts) over the bundle's embeddings and this shopper's
 * impression counts (kept with the history, on this device).
 */
import { dequantizeRow } from '../recommend/knn.js';
import { discountImpressions, mmr } from '../recommend/rerank.js';
import type { Scored } from '../recommend/select.js';
import type { BundleItem } from '../bundle/format.js';
import type { RerankRule } from '../protocol.js';
import type { OpenBundle, RowContext } from './context.js';

/**
 * Whether `rule` can run on this bundle: diversity needs the catalog's embeddings, which a paged
 * bundle does not download (its goes-with lists are already spread over categories).
 */
export const applies = (b: OpenBundle, rule: RerankRule) => rule !== 'mmr' || (!!b.bundle.manifest.similar && !b.bundle.manifest.paged);

/** The rules of `rules` this bundle runs, for the row's `method`. */
export const appliedRules = (b: OpenBundle, rules: readonly RerankRule[]) => rules.filter((r) => applies(b, r));

export async function reranked(ctx: RowContext, b: OpenBundle, hits: Scored[], rules: readonly RerankRule[], item: (i: number) => BundleItem): Promise<Scored[]> {
  let out = hits;
  for (const rule of rules) {
    if (!applies(b, rule)) continue;
    if (rule === 'impressions') {
      const shown = await (await ctx.history).impressions(out.map((h) => item(h.index).id));
      out = discountImpressions(out, (i) => shown.get(item(i).id) ?? 0);
    } else {
      const matrix = await b.bundle.embeddings();
      out = mmr(out, (i) => dequantizeRow(matrix, i), out.length);
    }
  }
  return out;
}
