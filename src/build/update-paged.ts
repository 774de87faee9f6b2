/**
 * `--update` of a paged bundle (bundle/pages.ts), without retraining. Changed products' meta files
 * are rewritten. New products are embedded with the bundle's own image model and appended: to the
 * meta files, to the int8 codes and — past the search index's cells — to the index's tail file,
 * which an image query scans. Each gets a page record (its nearest products, goes-with from the
 * pair model where the bundle has one, an empty next list: no one has viewed it yet) and is placed
 * in the similar list of every product it is now nearer to than that list's last entry. Only the
 * files that change are written; their sums are recomputed.
 */
import { createHash } from 'node:crypto';
import { cp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BundleItem, Manifest } from '../bundle/format.js';
import { decodeIvf, decodeIvfHead, encodeIvfTail } from '../bundle/ivf-file.js';
import { CELLS_HEAD, TAIL_FILE, metaPath, pageOf, pagePath, PAGE_LIST, SUMS_PER_FILE, shardCount, sumsPath, validateMeta, validatePage, type PagedSection, type PageRecord, type ShardKind } from '../bundle/pages.js';
import { BundleWriter } from '../bundle/writer.js';
import { searchIndexed } from '../recommend/ivf.js';
import { dequantizeRow, rowScore, searchInt8, unitScales, type QuantizedMatrix } from '../recommend/knn.js';
import { readCatalogFor } from './catalog.js';
import { Problems, UserError } from './problems.js';
import { appendAdded, applyCatalog, embedNew, grownCodes, extendPairModel, replaceBeside, updated as done, type Added, type UpdateOptions, type UpdateReport } from './update-steps.js';

/** A page or meta file of the bundle at `dir`, checked against its sums file as the widget would. */
async function readShard(dir: string, files: Map<string, Uint8Array>, kind: ShardKind, n: number): Promise<Buffer> {
  const path = kind === 'pages' ? pagePath(n) : metaPath(n);
  const bytes = await readFile(join(dir, path)).catch(() => undefined);
  const sums = files.get(sumsPath(kind, Math.floor(n / SUMS_PER_FILE)))!;
  const at = (n % SUMS_PER_FILE) * 32;
  if (!bytes || createHash('sha256').update(bytes).digest('hex') !== Buffer.from(sums.subarray(at, at + 32)).toString('hex')) {
    throw new UserError(`--update: ${path} in ${dir} is missing or does not match its sums file; run a full build`);
  }
  return bytes;
}

/** Sums files of `kind` for `count` shards: the old digests, with those of `changed` shards replaced. */
function resum(files: Map<string, Uint8Array>, kind: ShardKind, count: number, changed: Map<number, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const chunks = new Set([...changed.keys()].map((n) => Math.floor(n / SUMS_PER_FILE)));
  for (const c of chunks) {
    const sums = new Uint8Array(32 * Math.min(SUMS_PER_FILE, count - c * SUMS_PER_FILE));
    const old = files.get(sumsPath(kind, c));
    if (old) sums.set(old.subarray(0, Math.min(old.length, sums.length)));
    for (const [n, bytes] of changed) if (Math.floor(n / SUMS_PER_FILE) === c) sums.set(createHash('sha256').update(bytes).digest(), (n % SUMS_PER_FILE) * 32);
    out.set(sumsPath(kind, c), sums);
  }
  return out;
}

/**
 * The new products' similar lists (through the index and a scan of the products past it, as a
 * build's lists are computed), and each old product's similar list with the new products it is
 * nearer to put in rank order (`lists`, by index, only those that change).
 */
function similarLists(manifest: Manifest, files: Map<string, Uint8Array>, rows: QuantizedMatrix, count: number, records: (i: number) => Promise<PageRecord>) {
  const s = manifest.similar!;
  const index = s.index ? decodeIvf(files.get(s.index)!.slice().buffer, count, s.dims, s.index) : undefined;
  const nearest = (i: number) => {
    const v = dequantizeRow(rows, i);
    return index ? searchIndexed(index, rows, v, PAGE_LIST, (j) => j === i) : searchInt8(rows, v, PAGE_LIST, (j) => j === i);
  };
  const fresh = new Map<number, number[]>();
  for (let i = count; i < rows.count; i++) fresh.set(i, nearest(i).map((h) => h.index));
  return {
    fresh,
    /** Old products' similar lists with the new products nearer than their last entry. */
    async placed(): Promise<Map<number, number[]>> {
      const changed = new Map<number, number[]>();
      for (const [i, list] of fresh) {
        for (const j of list) {
          if (j >= count) continue;
          const current = changed.get(j) ?? (await records(j))[1];
          const v = dequantizeRow(rows, j);
          const mine = rowScore(rows, v, i);
          const at = current.findIndex((e) => rowScore(rows, v, e) < mine);
          if (at < 0 && current.length >= PAGE_LIST) continue;
          const next = [...current];
          next.splice(at < 0 ? next.length : at, 0, i);
          changed.set(j, next.slice(0, PAGE_LIST));
        }
      }
      return changed;
    },
  };
}

export async function updatePaged(opts: UpdateOptions, dir: string, manifest: Manifest, files: Map<string, Uint8Array>, t0: number): Promise<UpdateReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const paged = manifest.paged!;
  const count = manifest.items.count;
  const metas: BundleItem[][] = [];
  for (let n = 0; n < paged.meta; n++) metas.push(validateMeta(JSON.parse((await readShard(dir, files, 'meta', n)).toString('utf8')), n, paged, count));
  const catalog = await readCatalogFor(opts, log);
  log(`update: ${count} products in ${opts.out} (paged), ${catalog.length} in ${opts.catalog}`);
  const { updated, fresh, changed, gone } = applyCatalog(metas.flat(), catalog);
  const problems = new Problems();
  const added = await embedNew(fresh, dir, manifest, files, opts, problems, log);
  const total = count + added.length;

  // Files written: bundle path → bytes (listed: recorded in the manifest; shards: summed).
  const listed = new Map<string, Uint8Array>();
  const shards = { pages: new Map<number, Uint8Array>(), meta: new Map<number, Uint8Array>() };
  const section: PagedSection = { ...paged, meta: Math.ceil(total / paged.metaSize) };
  const assets = manifest.assets ? (JSON.parse(new TextDecoder().decode(files.get(manifest.assets)!)) as Record<string, unknown>) : undefined;
  const thumbs = appendAdded(updated, added, count, opts, !!assets);
  if (added.length) {
    const placed = await placeNew(dir, manifest, files, updated, added, section, shards.pages, listed);
    if (placed.tail) section.tail = placed.tail;
  }
  for (let n = 0; n < section.meta; n++) {
    const text = JSON.stringify(updated.slice(n * paged.metaSize, (n + 1) * paged.metaSize));
    if (text !== JSON.stringify(metas[n])) shards.meta.set(n, new TextEncoder().encode(text));
  }
  for (const kind of ['pages', 'meta'] as const) for (const [path, bytes] of resum(files, kind, shardCount(section, kind), shards[kind])) listed.set(path, bytes);

  // Copied beside the bundle, the changed files written over the copies, then moved into place.
  await replaceBeside(dir, async (tmp) => {
    await cp(dir, tmp, { recursive: true });
    const write = async (path: string, bytes: Uint8Array) => (await mkdir(dirname(join(tmp, path)), { recursive: true }), writeFile(join(tmp, path), bytes));
    for (const [n, bytes] of shards.pages) await write(pagePath(n), bytes);
    for (const [n, bytes] of shards.meta) await write(metaPath(n), bytes);
    const w = new BundleWriter(tmp);
    // Thumbnails are listed in assets.json, not in the manifest.
    const pictures = new BundleWriter(tmp);
    for (const [path, bytes] of thumbs) pictures.add(path, bytes);
    if (manifest.assets) listed.set(manifest.assets, new TextEncoder().encode(JSON.stringify({ ...assets, ...pictures.listed() })));
    const paths = new Set([...Object.keys(manifest.files), ...listed.keys()]);
    for (const path of paths) (listed.has(path) ? w.add(path, listed.get(path)!) : w.record(path, files.get(path)!));
    const { format: _f, version: _v, files: _files, ...fieldsOf } = manifest;
    w.finish({ ...fieldsOf, items: { ...manifest.items, count: total }, paged: section });
  });
  return done(opts, problems, t0, { changed, added: added.length, gone, total });
}

/**
 * New products into a paged bundle's rows: their page records, their place in their neighbours'
 * similar lists (page files in `pages`), the grown int8 codes, pair model and the index's tail (in
 * `listed`). Returns the tail file's path where the bundle has index cells.
 */
async function placeNew(
  dir: string, manifest: Manifest, files: Map<string, Uint8Array>, items: readonly BundleItem[], added: readonly Added[],
  section: PagedSection, pages: Map<number, Uint8Array>, listed: Map<string, Uint8Array>,
): Promise<{ tail?: string }> {
  const count = manifest.items.count;
  const codes = grownCodes(files, manifest.similar!, added);
  const dims = manifest.similar!.dims;
  const rows: QuantizedMatrix = { codes, scales: unitScales(codes, dims), count: codes.length / dims, dims };
  listed.set(manifest.similar!.codes, new Uint8Array(rows.codes.buffer));
  // Page files, read as needed and kept (with their text) for rewriting those that change.
  const loaded = new Map<number, { text: string; records: Record<string, PageRecord> }>();
  const pageFile = async (n: number) => {
    if (!loaded.has(n)) {
      const text = (await readShard(dir, files, 'pages', n)).toString('utf8');
      loaded.set(n, { text, records: validatePage(JSON.parse(text), n, section, count) });
    }
    return loaded.get(n)!.records;
  };
  const record = async (i: number) => (await pageFile(pageOf(items[i]!.id, section.pages)))[items[i]!.id]!;
  const lists = similarLists(manifest, files, rows, count, record);
  for (const [j, list] of await lists.placed()) (await record(j))[1] = list;
  // Goes-with for the new products: the pair model's lists, as for a product outside the bundle.
  const c = manifest.complementary;
  let goesWith = added.map(() => [] as number[]);
  if (c?.pairModel) {
    const grown = extendPairModel(c.pairModel, files, items, added, count, c.method.k);
    goesWith = grown.lists.map((l) => l.map(([j]) => j).slice(0, PAGE_LIST));
    listed.set(c.pairModel.weights, grown.bytes.data);
    listed.set(c.pairModel.model, new TextEncoder().encode(JSON.stringify(grown.bytes.header)));
  }
  for (const [k, a] of added.entries()) {
    const i = count + k;
    (await pageFile(pageOf(a.row.id, section.pages)))[a.row.id] = [i, lists.fresh.get(i)!, goesWith[k]!, [], []];
  }
  for (const [n, { text, records }] of loaded) {
    const now = JSON.stringify(records);
    if (now !== text) pages.set(n, new TextEncoder().encode(now));
  }
  if (!section.cells) return {};
  // Products past the index's cells: one file an image query scans whole.
  const head = decodeIvfHead(files.get(CELLS_HEAD)!.slice().buffer, count, rows.dims, CELLS_HEAD);
  listed.set(TAIL_FILE, encodeIvfTail(rows, head.count));
  return { tail: TAIL_FILE };
}
