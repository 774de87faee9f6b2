/**
 * The popularity lists (`popular.json`): the products a short row is topped up with (fallback
 * fill, worker/fill.ts) — the most popular overall and per category, best first. The builder ranks
 * by what the store's logs say (views, baskets, outfits), by catalog order where it has no logs.
 */
import { BundleError, parseJson } from './format.js';

export interface PopularLists {
  /** Product indices, most popular first. */
  all: number[];
  /** The same per category (the category's name as in the catalog). */
  byCategory: Record<string, number[]>;
}

/** How many products each list keeps: a row holds at most 50, and a few may be excluded. */
export const POPULAR_OVERALL = 200;
export const POPULAR_PER_CATEGORY = 60;

const isList = (x: unknown, count: number, max: number): x is number[] =>
  Array.isArray(x) && x.length <= max && x.every((i) => Number.isInteger(i) && i >= 0 && i < count);

/** Parses and checks `popular.json` against the bundle's product count. */
export function decodePopular(bytes: ArrayBuffer, count: number, file: string): PopularLists {
  const raw = parseJson(bytes, file) as Partial<PopularLists> | null;
  if (!raw || !isList(raw.all, count, POPULAR_OVERALL)) throw new BundleError(file, `"all" must be a list of at most ${POPULAR_OVERALL} product indices below ${count}`);
  const by = raw.byCategory;
  if (!by || typeof by !== 'object' || Array.isArray(by)) throw new BundleError(file, '"byCategory" must be an object of lists');
  for (const [cat, list] of Object.entries(by)) {
    if (!isList(list, count, POPULAR_PER_CATEGORY)) throw new BundleError(file, `category ${JSON.stringify(cat)} must be a list of at most ${POPULAR_PER_CATEGORY} product indices below ${count}`);
  }
  return raw as PopularLists;
}

/**
 * Ranks products by `score` (higher first; ties: catalog order) into the overall list and one list
 * per category. Products that are out of stock are left out.
 */
export function popularLists(score: ArrayLike<number>, categoryOf: (i: number) => string | undefined, inStock: (i: number) => boolean): PopularLists {
  const order = Array.from({ length: score.length }, (_, i) => i).filter(inStock);
  order.sort((a, b) => score[b]! - score[a]! || a - b);
  const byCategory: Record<string, number[]> = {};
  for (const i of order) {
    const c = categoryOf(i);
    if (c === undefined) continue;
    const list = (byCategory[c] ??= []);
    if (list.length < POPULAR_PER_CATEGORY) list.push(i);
  }
  return { all: order.slice(0, POPULAR_OVERALL), byCategory };
}
