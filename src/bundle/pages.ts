/**
 * The paged bundle: for catalogs too large to download (a million products), a product page
 * fetches only what its rows read — the page record of its product (its similar, goes-with and
 * next lists, precomputed by the builder) and the metadata of the products those lists show —
 * instead of whole files.
 *
 * - `pages/<n>.json`: `{ [productId]: PageRecord }` for the products whose id hashes to n
 *   ({@link pageOf}): about {@link PAGE_RECORDS} records a file.
 * - `meta/<n>.json`: the {@link BundleItem}s of indices n·size … (n+1)·size − 1; products are listed
 *   in the search index's cell order, so a product's similar items mostly share its file.
 * - `sums/pages-<c>.bin`, `sums/meta-<c>.bin`: the sha256 of {@link SUMS_PER_FILE} page or meta files
 *   each, 32 bytes apiece; these are listed in the manifest (with their own sha256), the page and
 *   meta files are not — a manifest of 15,000 entries would be larger than a product page's rows.
 * - With a search index (a catalog above the builder's `--index-above`): `cells/head.bin` (listed
 *   in the manifest; the index without its codes) and `cells/<c>.bin`, one per cell, with the codes
 *   and int8 rows of its products (bundle/ivf-file.ts), summed in `sums/cells-<c>.bin`: an image
 *   query fetches the head and the cells it scans, not the whole index and embeddings.
 */
import type { BundleItem } from './format.js';

export const PAGE_RECORDS = 64;
export const META_SIZE = 64;
export const SUMS_PER_FILE = 256;
/** The largest page or meta file a reader accepts (a file holds tens of products). */
export const MAX_SHARD_BYTES = 8 * 1024 * 1024;
/** Each list's length in a page record. */
export const PAGE_LIST = 24;

/**
 * One product's rows, as indices into the bundle's products: `[index, similar, goesWith,
 * next, nextScores]`. `next` is what is viewed after this product (the next row's scorer on a
 * one-view session), `nextScores` its scores (they are summed over a session's latest views).
 */
export type PageRecord = [number, number[], number[], number[], number[]];

export interface PagedSection {
  /** Page files (`pages/<n>.json`). */
  pages: number;
  /** Meta files (`meta/<n>.json`), `metaSize` products each. */
  meta: number;
  metaSize: number;
  /** How many of a session's latest views the next row sums the lists of (the latest weighs most). */
  nextDepth: number;
  /** Cell files (`cells/<c>.bin`): the search index's cells, with {@link CELLS_HEAD}; absent without an index. */
  cells?: number;
  /** {@link TAIL_FILE}, where `--update` added products past the index's cells. */
  tail?: string;
}

export const CELLS_HEAD = 'cells/head.bin';
export const TAIL_FILE = 'cells/tail.bin';

/** FNV-1a of a product id's UTF-16 units: the page file its record is in. */
export function pageOf(id: string, pages: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % pages;
}

export const pagePath = (n: number) => `pages/${n}.json`;
export const metaPath = (n: number) => `meta/${n}.json`;
export const cellPath = (n: number) => `cells/${n}.bin`;
export type ShardKind = 'pages' | 'meta' | 'cells';
export const sumsPath = (kind: ShardKind, chunk: number) => `sums/${kind}-${chunk}.bin`;
/** How many files of `kind` a section has. */
export const shardCount = (p: PagedSection, kind: ShardKind): number => (kind === 'pages' ? p.pages : kind === 'meta' ? p.meta : (p.cells ?? 0));

/** Every sums file a paged section lists. */
export function sumsFiles(p: PagedSection): string[] {
  const out: string[] = [];
  for (const kind of ['pages', 'meta', 'cells'] as const) for (let c = 0; c * SUMS_PER_FILE < shardCount(p, kind); c++) out.push(sumsPath(kind, c));
  return out;
}

const isIndexList = (v: unknown, count: number): v is number[] => Array.isArray(v) && v.length <= 1000 && v.every((x) => Number.isInteger(x) && x >= 0 && x < count);

/** Checks a parsed page file: records of products that hash to it, indices in range. */
export function validatePage(raw: unknown, n: number, p: PagedSection, count: number): Record<string, PageRecord> {
  const fail = (why: string): never => {
    throw new Error(`${pagePath(n)}: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('is not a JSON object');
  for (const [id, r] of Object.entries(raw as Record<string, unknown>)) {
    if (pageOf(id, p.pages) !== n) fail(`lists ${JSON.stringify(id)}, whose page is ${pageOf(id, p.pages)}`);
    if (!Array.isArray(r) || r.length !== 5 || !Number.isInteger(r[0]) || r[0] < 0 || r[0] >= count) fail(`record ${JSON.stringify(id)} is not [index, similar, goesWith, next, nextScores]`);
    const [, s, g, nx, ns] = r as unknown[];
    if (!isIndexList(s, count) || !isIndexList(g, count) || !isIndexList(nx, count)) fail(`record ${JSON.stringify(id)} has an index out of range`);
    if (!Array.isArray(ns) || ns.length !== (nx as number[]).length || !ns.every((x) => typeof x === 'number' && Number.isFinite(x))) fail(`record ${JSON.stringify(id)}: nextScores must be one finite number per next entry`);
  }
  return raw as Record<string, PageRecord>;
}

/** Checks a parsed meta file: `size` items (fewer in the last file), each with an id, title, url and image. */
export function validateMeta(raw: unknown, n: number, p: PagedSection, count: number): BundleItem[] {
  const want = Math.min(p.metaSize, count - n * p.metaSize);
  if (!Array.isArray(raw) || raw.length !== want) throw new Error(`${metaPath(n)}: must list ${want} products`);
  raw.forEach((it, i) => {
    const o = it as Record<string, unknown> | null;
    if (!o || typeof o.id !== 'string' || typeof o.title !== 'string' || typeof o.url !== 'string' || typeof o.image !== 'string') {
      throw new Error(`${metaPath(n)}: product ${n * p.metaSize + i} needs a string id, title, url and image`);
    }
    if (o.price !== undefined && !(typeof o.price === 'number' && Number.isFinite(o.price))) throw new Error(`${metaPath(n)}: product ${o.id} has a price that is not a finite number`);
  });
  return raw as BundleItem[];
}
