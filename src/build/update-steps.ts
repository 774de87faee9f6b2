/**
 * What both kinds of `--update` share (build/update.ts, build/update-paged.ts): reading the bundle
 * (every file checked), today's catalog over its products, new products embedded with the bundle's
 * own image model, and the models that grow with them without retraining.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError, validateManifest, type BundleItem, type Manifest, type ModelRef } from '../bundle/format.js';
import { decodeTensors, encodeTensors, type TensorHeader } from '../bundle/tensor-file.js';
import { normalizeRows } from '../model/image-embedder.js';
import { loadLayers } from '../model/model-io.js';
import { PairModel } from '../recommend/pair-model.js';
import { topIndices } from '../recommend/select.js';
import { titleBuckets } from '../recommend/text.js';
import { quantizeInt8 } from '../recommend/knn.js';
import { isUrl } from './images.js';
import { moveIntoPlace } from './bundle.js';
import { bundleItem, type CatalogItem } from './catalog.js';
import { embedCatalog, type ImageOptions } from './embed-step.js';
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

/** A new product, embedded: its catalog row, unit-length vector and thumbnail. */
export interface Added {
  row: CatalogItem;
  vector: Float32Array;
  thumb?: Uint8Array;
}

/** Embeds `fresh` products with the bundle's own image model and head (those whose image fails are skipped, in `problems`). */
export async function embedNew(fresh: CatalogItem[], dir: string, manifest: Manifest, files: Map<string, Uint8Array>, opts: UpdateOptions, problems: Problems, log: (line: string) => void): Promise<Added[]> {
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

/** Reads every file the manifest lists and checks its length and sha256: an update never builds on a damaged bundle. */
export async function readBundleFiles(dir: string): Promise<{ manifest: Manifest; files: Map<string, Uint8Array> }> {
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

export const toBuffer = (b: Uint8Array): ArrayBuffer => b.slice().buffer;

/**
 * New products' legs appended to the pair model's catalog legs, and their goes-with lists: the
 * catalog products of other categories, in stock, the model scores highest — what the worker does
 * for a product outside the bundle.
 */
export function extendPairModel(ref: ModelRef, files: Map<string, Uint8Array>, items: readonly BundleItem[], added: readonly Added[], count: number, k: number) {
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

/** Writes the updated bundle beside `dir` (`write` fills the folder), then moves it into place; a failure leaves nothing behind. */
export async function replaceBeside(dir: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = join(dir, '..', `.${dir.split(/[\\/]/).pop()}.updating-${process.pid}`);
  try {
    await write(tmp);
    await moveIntoPlace(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Logs an update's warnings and what it did; its report. */
export function updated(opts: UpdateOptions, problems: Problems, t0: number, n: { changed: number; added: number; gone: number; total: number }): UpdateReport {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  for (const line of problems.warnings()) log(`warning: ${line}`);
  const seconds = (performance.now() - t0) / 1000;
  log(`updated ${opts.out}: ${n.changed} products changed, ${n.added} added, ${n.gone} gone from the catalog (now out of stock); ${n.total} products, in ${seconds.toFixed(1)} s`);
  return { items: n.total, changed: n.changed, added: n.added, gone: n.gone, seconds };
}

/**
 * Appends the new products to `updated` (indices from `count` on), each with its thumbnail's bundle
 * path where one is kept (`thumbnails: 'all'`, or an image given as a local file; none unless
 * `keepThumbs`); returns those thumbnails, to write beside the bundle and list in assets.json.
 */
export function appendAdded(updated: BundleItem[], added: readonly Added[], count: number, opts: UpdateOptions, keepThumbs = true): [string, Uint8Array][] {
  const thumbs: [string, Uint8Array][] = [];
  added.forEach(({ row, thumb }, k) => {
    const path = thumb && keepThumbs && (opts.thumbnails === 'all' || !isUrl(row.image)) ? `images/${count + k}.${opts.thumbnailFormat === 'jpeg' ? 'jpg' : 'webp'}` : undefined;
    if (path) thumbs.push([path, thumb!]);
    updated.push(bundleItem(row, path ?? row.image));
  });
  return thumbs;
}

/** The bundle's int8 codes (`similar.codes`) with the new products' rows appended. */
export function grownCodes(files: Map<string, Uint8Array>, similar: NonNullable<Manifest['similar']>, added: readonly Added[]): Int8Array {
  const old = files.get(similar.codes)!;
  const codes = new Int8Array(old.length + added.length * similar.dims);
  codes.set(new Int8Array(old.buffer, old.byteOffset, old.length));
  const vectors = new Float32Array(added.length * similar.dims);
  added.forEach((a, k) => vectors.set(a.vector, k * similar.dims));
  codes.set(quantizeInt8(vectors, similar.dims).codes, old.length);
  return codes;
}
