/**
 * The builder's paged-bundle step (bundle/pages.ts): for a catalog above `--page-above`, every
 * product's rows are precomputed into page records and product data split into meta files, so a
 * product page fetches kilobytes, not the catalog.
 */
import { BundleWriter } from '../bundle/writer.js';
import { decodeSessions } from '../bundle/session-file.js';
import type { TopKLists } from '../recommend/cooccurrence.js';
import { searchIndexed, type IvfIndex } from '../recommend/ivf.js';
import { dequantizeRow, searchInt8, type QuantizedMatrix } from '../recommend/knn.js';
import type { NextViewConfig } from '../recommend/next-view-config.js';
import { indexSessions, nextViewTop } from '../recommend/next-view.js';
import type { BundleItem } from '../bundle/format.js';
import { CELLS_HEAD, META_SIZE, PAGE_LIST, PAGE_RECORDS, SUMS_PER_FILE, cellPath, metaPath, pageOf, pagePath, sumsPath, type PagedSection, type PageRecord, type ShardKind } from '../bundle/pages.js';
import { encodeIvfCell, encodeIvfHead } from '../bundle/ivf-file.js';

/** A product's precomputed lists, best first. */
export interface PageLists {
  similar(i: number): readonly number[];
  goesWith(i: number): readonly number[];
  /** What is viewed after this product, with the next row's scores. */
  next(i: number): readonly { index: number; score: number }[];
}

/**
 * The lists as the worker of an unpaged bundle computes them for a catalog product: its nearest
 * products (through the index where there is one), its goes-with list, and the next row's scorer
 * on a session of that one product (without the GRU, which a paged bundle does not ship).
 */
export function pageLists(rows: QuantizedMatrix, index: IvfIndex | undefined, goesWith: TopKLists, next?: { sessions: Uint8Array; method: NextViewConfig }): PageLists {
  const ix = next && indexSessions(decodeSessions(next.sessions, rows.count, 'next-view/sessions.bin'), rows.count);
  return {
    similar: (i) => {
      const v = dequantizeRow(rows, i);
      const hits = index ? searchIndexed(index, rows, v, PAGE_LIST, (j) => j === i) : searchInt8(rows, v, PAGE_LIST, (j) => j === i);
      return hits.map((h) => h.index);
    },
    goesWith: (i) => (goesWith[i] ?? []).filter(([j]) => j !== i).map(([j]) => j),
    next: (i) => (ix && next ? nextViewTop(ix, [i], { ...next.method, model: undefined }, PAGE_LIST, new Set([i])) : []),
  };
}

/**
 * The next-view method a paged bundle's manifest names: its next lists are one-view sessions scored
 * without the GRU (which it does not ship) — by the one-view components where the builder chose
 * them, as `pageLists` scores them.
 */
export function pagedNextMethod(config: NextViewConfig): NextViewConfig {
  const { model: _model, oneView, ...rest } = config;
  return oneView ? { maxLength: rest.maxLength, ...oneView } : rest;
}

/** Scores as the page records keep them: four significant digits. */
const round = (x: number) => Number(x.toPrecision(4));

/**
 * Writes the page, meta and sums files of `items` (in bundle order) into `w`'s directory; the
 * sums files are recorded in `w` (the manifest lists them), the rest only in the sums.
 */
export function writePaged(w: BundleWriter, items: readonly BundleItem[], lists: PageLists, nextDepth: number, search?: { index: IvfIndex; rows: QuantizedMatrix }): PagedSection {
  const section: PagedSection = {
    pages: Math.max(1, Math.ceil(items.length / PAGE_RECORDS)), meta: Math.ceil(items.length / META_SIZE), metaSize: META_SIZE, nextDepth,
    ...(search ? { cells: search.index.nlist } : {}),
  };
  const unlisted = new BundleWriter(w.dir);
  const pages: Record<string, PageRecord>[] = Array.from({ length: section.pages }, () => ({}));
  items.forEach((it, i) => {
    const next = lists.next(i).slice(0, PAGE_LIST);
    pages[pageOf(it.id, section.pages)]![it.id] = [i, lists.similar(i).slice(0, PAGE_LIST), lists.goesWith(i).slice(0, PAGE_LIST), next.map((n) => n.index), next.map((n) => round(n.score))];
  });
  pages.forEach((records, n) => unlisted.add(pagePath(n), JSON.stringify(records)));
  for (let n = 0; n < section.meta; n++) unlisted.add(metaPath(n), JSON.stringify(items.slice(n * META_SIZE, (n + 1) * META_SIZE)));
  if (search) {
    w.add(CELLS_HEAD, encodeIvfHead(search.index));
    for (let c = 0; c < search.index.nlist; c++) unlisted.add(cellPath(c), encodeIvfCell(search.index, search.rows, c));
  }
  const files = unlisted.listed();
  const sums = (kind: ShardKind, count: number, path: (n: number) => string) => {
    for (let c = 0; c * SUMS_PER_FILE < count; c++) {
      const n = Math.min(SUMS_PER_FILE, count - c * SUMS_PER_FILE);
      const out = new Uint8Array(32 * n);
      for (let k = 0; k < n; k++) out.set(Buffer.from(files[path(c * SUMS_PER_FILE + k)]!.sha256, 'hex'), 32 * k);
      w.add(sumsPath(kind, c), out);
    }
  };
  sums('pages', section.pages, pagePath);
  sums('meta', section.meta, metaPath);
  if (section.cells) sums('cells', section.cells, cellPath);
  return section;
}
