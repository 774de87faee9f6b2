/**
 * `vitrine bundle --update`: a bundle refreshed from today's catalog without retraining — prices,
 * titles and stock change hourly, a full build does not need to. Existing products take the
 * catalog's fields (products gone from the catalog are kept, out of stock); new products are
 * embedded with the bundle's own image model and head, appended (to the similar row's codes; past
 * the search index's cells, where a query scans them), given goes-with lists by the bundle's pair
 * model, and a row of zeros in the next-view GRU's item table (it never predicts them). Every other
 * file is carried over; the manifest lists the new checksums, so the widget reads the new files on
 * the next page view. A paged bundle (bundle/pages.ts) takes new fields and stock only: see `updatePaged`.
 */
import { createHash } from 'node:crypto';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BundleError, validateItems, validateManifest, validateTopK, type BundleItem, type Manifest, type ModelRef } from '../bundle/format.js';
import { decodeSessions, encodeSessions } from '../bundle/session-file.js';
import { metaPath, SUMS_PER_FILE, sumsPath, validateMeta } from '../bundle/pages.js';
import { BundleWriter } from '../bundle/writer.js';
import { normalizeRows } from '../model/image-embedder.js';
import { loadLayers } from '../model/model-io.js';
import { PairModel } from '../recommend/pair-model.js';
import { decodeTensors, encodeTensors, type TensorHeader } from '../bundle/tensor-file.js';
import { encodeLists } from '../recommend/goes-with.js';
import { quantizeInt8 } from '../recommend/knn.js';
import { topIndices } from '../recommend/select.js';
import { titleBuckets } from '../recommend/text.js';
import { moveIntoPlace } from './bundle.js';
import { bundleItem, readCatalogFor, type CatalogItem } from './catalog.js';
import { embedCatalog, type ImageOptions } from './embed-step.js';
import { isUrl } from './images.js';
import { Problems, UserError } from './problems.js';
import { applyRows } from './train-head.js';

export interface UpdateOptions extends ImageOptions {
  catalog: string;
  /** The bundle to update, in place (replaced only when the update succeeds). */
  out: string;
  urlTemplate?: string;
  /** As for a build: broken catalog rows left out and written to this report. */
  skipInvalid?: string;
  log?: (line: string) => void;
}

export interface UpdateReport {
  items: number;
  /** Existing products whose fields changed. */
  changed: number;
  added: number;
  /** Bundle products missing from the catalog, now out of stock. */
  gone: number;
  seconds: number;
}

export async function updateBundle(opts: UpdateOptions): Promise<UpdateReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const t0 = performance.now();
  const dir = resolve(opts.out);
  const { manifest, files } = await readBundleFiles(dir);
  const json = (path: string): unknown => JSON.parse(new TextDecoder().decode(files.get(path)!));
  const count = manifest.items.count;
  if (manifest.paged) return updatePaged(opts, dir, manifest, files, t0);
  if (!manifest.items.file) throw new BundleError('manifest.json', 'names no items file');
  const itemsFile = manifest.items.file;
  const items = validateItems(json(itemsFile), count, itemsFile);
  const catalog = await readCatalogFor(opts, log);
  log(`update: ${count} products in ${opts.out}, ${catalog.length} in ${opts.catalog}`);
  const { updated, fresh, changed, gone } = applyCatalog(items, catalog);

  // New products: embedded as the builder would, with the bundle's own model and head.
  const problems = new Problems();
  const added = await embedNew(fresh, dir, manifest, files, opts, problems, log);
  const total = count + added.length;

  // The new bundle: every file carried over, the changed ones replaced.
  const out = new Map(files);
  const assets = manifest.assets ? (json(manifest.assets) as Record<string, { bytes: number; sha256: string }>) : {};
  const newAssets: [string, Uint8Array][] = [];
  added.forEach(({ row, thumb }, k) => {
    const i = count + k;
    const wanted = thumb && (opts.thumbnails === 'all' || !isUrl(row.image));
    const path = wanted ? `images/${i}.${opts.thumbnailFormat === 'jpeg' ? 'jpg' : 'webp'}` : undefined;
    if (path) newAssets.push([path, thumb!]);
    updated.push(bundleItem(row, path ?? row.image));
  });
  out.set(itemsFile, new TextEncoder().encode(JSON.stringify(updated)));
  if (added.length) growFiles(out, manifest, files, updated, added);

  // Written beside the bundle, then moved into place, as a build does.
  const tmp = join(dir, '..', `.${dir.split(/[\\/]/).pop()}.updating-${process.pid}`);
  const w = new BundleWriter(tmp);
  const thumbs = new BundleWriter(tmp);
  try {
    for (const path of Object.keys(assets)) thumbs.add(path, await readFile(join(dir, path)));
    for (const [path, bytes] of newAssets) thumbs.add(path, bytes);
    const put = (path: string) => (path.startsWith('../') ? w.record(path, out.get(path)!) : w.add(path, out.get(path)!));
    for (const path of Object.keys(manifest.files)) if (path !== manifest.assets) put(path);
    if (manifest.assets) w.add(manifest.assets, JSON.stringify(thumbs.listed()));
    const { format: _f, version: _v, files: _files, ...fieldsOf } = manifest;
    w.finish({ ...fieldsOf, items: { ...manifest.items, count: total } });
    await moveIntoPlace(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const line of problems.warnings()) log(`warning: ${line}`);
  const seconds = (performance.now() - t0) / 1000;
  log(`updated ${opts.out}: ${changed} products changed, ${added.length} added, ${gone} gone from the catalog (now out of stock); ${total} products, in ${seconds.toFixed(1)} s`);
  return { items: total, changed, added: added.length, gone, seconds };
}

/**
 * The files that grow with `added` products (indices from the bundle's count on), replaced in `out`:
 * their int8 codes, goes-with lists from the pair model (which gains their legs), the session
 * sample's item count, and a row of zeros in the GRU's item table.
 */
function growFiles(out: Map<string, Uint8Array>, manifest: Manifest, files: Map<string, Uint8Array>, updated: readonly BundleItem[], added: readonly Added[]): void {
  const count = manifest.items.count;
  const total = count + added.length;
  const json = (path: string): unknown => JSON.parse(new TextDecoder().decode(files.get(path)!));
  if (manifest.similar) {
    const d = manifest.similar.dims;
    const codes = new Uint8Array(total * d);
    codes.set(files.get(manifest.similar.codes)!);
    const rows = new Float32Array(added.length * d);
    added.forEach((a, k) => rows.set(a.vector, k * d));
    codes.set(new Uint8Array(quantizeInt8(rows, d).codes.buffer), count * d);
    out.set(manifest.similar.codes, codes);
  }
  const c = manifest.complementary;
  if (c?.file) {
    const file = c.file;
    const lists = validateTopK(json(file), count, file);
    let pairLists = added.map(() => [] as [number, number][]);
    if (c.pairModel) {
      const { lists: more, bytes } = extendPairModel(c.pairModel, files, updated, added, count, c.method.k);
      pairLists = more;
      out.set(c.pairModel.weights, bytes.data);
      out.set(c.pairModel.model, new TextEncoder().encode(JSON.stringify(bytes.header)));
    }
    out.set(file, new TextEncoder().encode(encodeLists([...lists, ...pairLists])));
  }
  if (manifest.nextView?.sessions) {
    const path = manifest.nextView.sessions;
    out.set(path, encodeSessions(decodeSessions(files.get(path)!, count, path), total));
  }
  const nv = manifest.nextView?.model;
  if (nv) {
    const grown = growItemTable(JSON.parse(new TextDecoder().decode(files.get(nv.model)!)) as TensorHeader, files.get(nv.weights)!, total, nv.model);
    out.set(nv.weights, grown.data);
    out.set(nv.model, new TextEncoder().encode(JSON.stringify(grown.header)));
  }
}

/** A new product, embedded: its catalog row, unit-length vector and thumbnail. */
interface Added {
  row: CatalogItem;
  vector: Float32Array;
  thumb?: Uint8Array;
}

/** Embeds `fresh` products with the bundle's own image model and head (those whose image fails are skipped, in `problems`). */
async function embedNew(fresh: CatalogItem[], dir: string, manifest: Manifest, files: Map<string, Uint8Array>, opts: UpdateOptions, problems: Problems, log: (line: string) => void): Promise<Added[]> {
  if (!fresh.length) return [];
  if (!manifest.similar || !manifest.imageModel) throw new UserError(`${fresh.length} new products, but the bundle has no image model to embed them with: run a full build`);
  const { dims } = manifest.similar;
  const m = manifest.imageModel;
  const embedded = await embedCatalog(fresh, opts.catalog, { ...opts, imageModel: join(dir, m.backbone.model), imageModelRange: m.inputRange ?? [0, 1], imageSize: m.inputSize }, problems, log);
  const head = await loadLayers({ modelJson: JSON.parse(new TextDecoder().decode(files.get(m.head.model)!)) as never, weights: toBuffer(files.get(m.head.weights)!) });
  try {
    const kept = fresh.map((_, i) => i).filter((i) => embedded.step.features[i]);
    const vectors = kept.length ? normalizeRows(applyRows(head, kept.map((i) => embedded.step.features[i]!)), dims) : new Float32Array(0);
    return kept.map((i, k) => ({ row: fresh[i]!, vector: vectors.subarray(k * dims, (k + 1) * dims), thumb: embedded.step.thumbnails[i] }));
  } finally {
    head.dispose();
  }
}

/**
 * Today's catalog over the bundle's products: existing products take the catalog's fields
 * (`changed` counts those that differ), products it no longer lists go out of stock (`gone`),
 * and `fresh` are its products the bundle does not have.
 */
export function applyCatalog(items: readonly BundleItem[], catalog: readonly CatalogItem[]) {
  const byId = new Map(items.map((it, i) => [it.id, i]));
  const listed = new Set<string>();
  let changed = 0;
  const updated: BundleItem[] = items.map((it) => ({ ...it }));
  const fresh: CatalogItem[] = [];
  for (const row of catalog) {
    const i = byId.get(row.id);
    if (i === undefined) {
      if (!listed.has(row.id)) fresh.push(row);
      listed.add(row.id);
      continue;
    }
    listed.add(row.id);
    const next = bundleItem(row, items[i]!.image);
    if (JSON.stringify(next) !== JSON.stringify(items[i])) changed++;
    updated[i] = next;
  }
  let gone = 0;
  updated.forEach((it, i) => {
    if (!listed.has(it.id) && it.inStock !== false) (updated[i] = { ...it, inStock: false }), gone++;
  });
  return { updated, fresh, changed, gone };
}

/**
 * `--update` of a paged bundle: the meta files whose products changed are rewritten, with their
 * sums; page files stay (the rows' lists do not change without a build). New products need a full
 * build: their page records would need every product's lists recomputed.
 */
async function updatePaged(opts: UpdateOptions, dir: string, manifest: Manifest, files: Map<string, Uint8Array>, t0: number): Promise<UpdateReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const paged = manifest.paged!;
  const count = manifest.items.count;
  // Every meta file, checked against its sums as the widget would.
  const metas: BundleItem[][] = [];
  for (let n = 0; n < paged.meta; n++) {
    const bytes = await readFile(join(dir, metaPath(n))).catch(() => undefined);
    const sums = files.get(sumsPath('meta', Math.floor(n / SUMS_PER_FILE)))!;
    const at = (n % SUMS_PER_FILE) * 32;
    if (!bytes || createHash('sha256').update(bytes).digest('hex') !== Buffer.from(sums.subarray(at, at + 32)).toString('hex')) {
      throw new UserError(`--update: ${metaPath(n)} in ${dir} is missing or does not match its sums file; run a full build`);
    }
    metas.push(validateMeta(JSON.parse(bytes.toString('utf8')), n, paged, count));
  }
  const catalog = await readCatalogFor(opts, log);
  log(`update: ${count} products in ${opts.out} (paged), ${catalog.length} in ${opts.catalog}`);
  const { updated, fresh, changed, gone } = applyCatalog(metas.flat(), catalog);
  if (fresh.length) throw new UserError(`${fresh.length} new products (${fresh.slice(0, 3).map((r) => r.id).join(', ')}${fresh.length > 3 ? ', …' : ''}): a paged bundle adds products in a full build, which computes their rows`);
  // Copied beside the bundle, the changed meta files and all sums replaced, then moved into place.
  const tmp = join(dir, '..', `.${dir.split(/[\\/]/).pop()}.updating-${process.pid}`);
  try {
    await cp(dir, tmp, { recursive: true });
    const w = new BundleWriter(tmp);
    const sha = new Map<number, Buffer>();
    for (let n = 0; n < paged.meta; n++) {
      const text = JSON.stringify(updated.slice(n * paged.metaSize, (n + 1) * paged.metaSize));
      if (text !== JSON.stringify(metas[n])) await writeFile(join(tmp, metaPath(n)), text);
      sha.set(n, createHash('sha256').update(text).digest());
    }
    for (let c = 0; c * SUMS_PER_FILE < paged.meta; c++) {
      const n = Math.min(SUMS_PER_FILE, paged.meta - c * SUMS_PER_FILE);
      files.set(sumsPath('meta', c), Buffer.concat(Array.from({ length: n }, (_, k) => sha.get(c * SUMS_PER_FILE + k)!)));
    }
    // Copied already: only the meta sums are written again; every file is recorded for the manifest.
    for (const path of Object.keys(manifest.files)) (path.startsWith('sums/meta-') ? w.add(path, files.get(path)!) : w.record(path, files.get(path)!));
    const { format: _f, version: _v, files: _files, ...fieldsOf } = manifest;
    w.finish(fieldsOf);
    await moveIntoPlace(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const seconds = (performance.now() - t0) / 1000;
  log(`updated ${opts.out}: ${changed} products changed, 0 added, ${gone} gone from the catalog (now out of stock); ${count} products, in ${seconds.toFixed(1)} s`);
  return { items: count, changed, added: 0, gone, seconds };
}

/** Reads every file the manifest lists and checks its length and sha256: an update never builds on a damaged bundle. */
async function readBundleFiles(dir: string): Promise<{ manifest: Manifest; files: Map<string, Uint8Array> }> {
  let manifest: Manifest;
  try {
    manifest = validateManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  } catch (e) {
    throw new UserError(`--update: ${dir} holds no bundle to update (${(e as Error).message}); build one first`);
  }
  const files = new Map<string, Uint8Array>();
  await Promise.all(
    Object.entries(manifest.files).map(async ([path, entry]) => {
      const bytes = await readFile(join(dir, path)).catch(() => undefined);
      if (!bytes || bytes.length !== entry.bytes || createHash('sha256').update(bytes).digest('hex') !== entry.sha256) {
        throw new UserError(`--update: ${path} in ${dir} is missing or does not match its manifest entry; run a full build`);
      }
      files.set(path, new Uint8Array(bytes));
    }),
  );
  return { manifest, files };
}

const toBuffer = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

/**
 * New products' legs appended to the pair model's catalog legs, and their goes-with lists: the
 * catalog products of other categories, in stock, the model scores highest — what the worker does
 * for a product outside the bundle.
 */
function extendPairModel(ref: ModelRef, files: Map<string, Uint8Array>, items: readonly BundleItem[], added: readonly Added[], count: number, k: number) {
  const header = JSON.parse(new TextDecoder().decode(files.get(ref.model)!)) as TensorHeader;
  const weights = toBuffer(files.get(ref.weights)!);
  const pm = PairModel.load(header, weights, count, ref.model);
  const categories = [...new Set(items.slice(0, count).map((it) => it.category).filter((x): x is string => !!x))].sort();
  const legs = added.map(({ row, vector }) => pm.leg(vector, row.category ? categories.indexOf(row.category) + 1 : 0, titleBuckets(row.title, row.brand, pm.dims.buckets, row.attributes)));
  const lists = legs.map((leg, a) => {
    const category = added[a]!.row.category;
    const scores = Float64Array.from({ length: count }, (_, j) =>
      (category && items[j]!.category === category) || items[j]!.inStock === false ? NaN : 1 / (1 + Math.exp(-pm.score(leg, pm.catalogLeg(j)))),
    );
    return topIndices(scores, k).map((h): [number, number] => [h.index, h.score]);
  });
  // Decoded again, here as named tensors to re-encode (PairModel keeps only what scoring needs).
  const decoded = decodeTensors(header, weights, ref.model);
  const old = decoded.get('legs')!;
  const grown = new Float32Array(old.data.length + legs.length * pm.dims.leg);
  grown.set(old.data);
  legs.forEach((l, i) => grown.set(l, old.data.length + i * pm.dims.leg));
  decoded.set('legs', { shape: [count + legs.length, pm.dims.leg], data: grown });
  return { lists, bytes: reencode(header, decoded, header.config) };
}

/** The GRU's item table and biases with rows for new products: zero vectors, a bias below every other (never predicted). */
export function growItemTable(header: TensorHeader, weights: Uint8Array, total: number, file: string) {
  const decoded = decodeTensors(header, toBuffer(weights), file);
  const items = decoded.get('items');
  const bias = decoded.get('itemBias');
  if (!items || !bias) throw new BundleError(file, 'has no item table to extend');
  const [rows, d] = items.shape as [number, number];
  const table = new Float32Array((total + 1) * d);
  table.set(items.data);
  const b = new Float32Array(total);
  b.set(bias.data);
  const floor = Math.min(...bias.data) - 20;
  b.fill(floor, rows - 1);
  decoded.set('items', { shape: [total + 1, d], data: table });
  decoded.set('itemBias', { shape: [total], data: b });
  return reencode(header, decoded, { ...header.config, items: total });
}

function reencode(header: TensorHeader, decoded: Map<string, { shape: number[]; data: Float32Array }>, config: TensorHeader['config']) {
  return encodeTensors(header.tensors.map((e) => ({ name: e.name, storage: e.storage, ...decoded.get(e.name)! })), config);
}
