import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BundleItem, Manifest, ModelRef, Validation } from '../bundle/format.js';
import type { PagedSection } from '../bundle/pages.js';
import { BundleWriter } from '../bundle/writer.js';
import { encodeLists } from '../recommend/goes-with.js';
import { normalizeRows } from '../model/image-embedder.js';
import { saveLayers } from '../model/model-io.js';
import { quantizeInt8, searchFloat32, searchInt8, unitScales, type QuantizedMatrix } from '../recommend/knn.js';
import { SESSION_GAP_MS } from '../recommend/sessions.js';
import { readBaskets, readOutfits } from './baskets.js';
import { bundleItem, readCatalogFor, type CatalogItem } from './catalog.js';
import { embedCatalog, type EmbeddedCatalog, type ImageOptions } from './embed-step.js';
import { MAX_VIEWS, readEvents, type EventEngine } from './events.js';
import { buildGoesWith, type GoesWithChoice, type GoesWithPart } from './choose-goes-with.js';
import { buildNextView, type NextViewChoice, type NextViewPart } from './choose-next.js';
import { FrozenLists } from './grouping.js';
import { DEFAULT_IMAGE_MODEL } from './image-model.js';
import { isUrl } from './images.js';
import { Problems, UserError } from './problems.js';
import type { ColumnSpec } from './table.js';
import { applyRows, trainProjectionHead } from './train-head.js';
import { lintCategories, lintCsv } from './lint.js';
import { PAIR_BUCKETS, trainPairModel, type TrainedPair } from './train-pair.js';
import { titleBuckets } from '../recommend/text.js';
import { buildIvf, tuneNprobe, type IvfIndex } from '../recommend/ivf.js';
import { pagedNextMethod, pageLists, writePaged } from './paged-step.js';
import { encodeIvf } from '../bundle/ivf-file.js';
import { popularLists, type PopularLists } from '../bundle/popular.js';

/** Catalogs up to this size are searched by a full int8 scan (≈ 5 ms at 1M in a worker, 0.5 ms at 100k). */
export const INDEX_ABOVE = 200_000;
/** Catalogs above this many products get a paged bundle: a product page fetches its rows, not the catalog. */
export const PAGE_ABOVE = 200_000;

export interface BundleOptions extends ImageOptions {
  catalog: string;
  out: string;
  events?: string;
  eventsColumns?: ColumnSpec;
  /** Pause that splits a user's events into sessions, in minutes (default 30). */
  sessionGapMinutes?: number;
  /** What aggregates the event log: DuckDB (default; spills to disk) or the streaming JS reader. */
  engine?: EventEngine;
  /** Views of the latest sessions that next view and co-views learn from (default `MAX_VIEWS`). */
  maxViews?: number;
  baskets?: string;
  basketsColumns?: ColumnSpec;
  outfits?: string;
  /** Reference the image model where it lies (relative to the bundle) instead of copying it in. */
  linkImageModel?: boolean;
  /** Embedding dimension (default 64). */
  dims?: number;
  /** Skip broken catalog rows instead of failing, writing them (line, id, reason) to this CSV file. */
  skipInvalid?: string;
  /** Catalogs larger than this get a search index (recommend/ivf.ts) instead of a scan (default 200,000). */
  indexAbove?: number;
  /** Catalogs with more products are paged (bundle/pages.ts); default `PAGE_ABOVE`, 0 pages any. */
  pageAbove?: number;
  minSupport?: number;
  /** Length of each stored goes-with list (default 20). */
  k?: number;
  /** GRU training epochs at most (default 20; early stopping on held-back sessions usually ends sooner). */
  epochs?: number;
  seed?: number;
  urlTemplate?: string;
  name?: string;
  /** Write the catalog lint (products whose images contradict their category) to this CSV file. */
  lint?: string;
  /** Bundle creation time (ISO); default from SOURCE_DATE_EPOCH, else none: builds are reproducible. */
  createdAt?: string;
  log?: (line: string) => void;
}

export interface BuildReport {
  items: number;
  dropped: number;
  dims: number;
  /** Recall@10 of int8 search against exact float32, on the catalog. */
  int8Recall: number;
  /** Same-category precision@10 of the embeddings (float32), when the catalog has categories. */
  categoryPrecision?: number;
  /** The search index, for a catalog above `indexAbove`: its cells, its nprobe and their validation recall. */
  index?: { nlist: number; nprobe: number; recall: number; bytesPerItem: number };
  sessions: number;
  baskets: number;
  embedded: number;
  cachedImages: number;
  bytes: number;
  nextViewParams?: number;
  /** What seed §1's one-hot feed-forward network would need for this catalog. */
  oneHotParams: number;
  warnings: string[];
  seconds: Record<string, number>;
  /** What validation chose for each row, with its table. */
  goesWith: GoesWithChoice;
  nextView?: NextViewChoice;
}

/** Recall@10 of int8 search against exact float32, and same-label precision@10 (float32), over up to `sample` queries. */
export function measureEmbeddings(m: Float32Array, dims: number, labels: (number | undefined)[] | undefined, sample = 500) {
  // Scales as the browser will derive them: the bundle stores codes only.
  const q8 = quantizeInt8(m, dims);
  const q = { ...q8, scales: unitScales(q8.codes, dims) };
  const count = m.length / dims;
  const step = Math.max(1, Math.floor(count / sample));
  let recall = 0;
  let hits = 0;
  let queries = 0;
  let labelled = 0;
  for (let i = 0; i < count; i += step) {
    const v = m.subarray(i * dims, (i + 1) * dims);
    const exact = searchFloat32(m, dims, v, 10, (j) => j === i);
    const ids = new Set(exact.map((n) => n.index));
    recall += searchInt8(q, v, 10, (j) => j === i).filter((n) => ids.has(n.index)).length / Math.max(1, exact.length);
    queries++;
    if (labels && labels[i] !== undefined) {
      hits += exact.filter((n) => labels[n.index] === labels[i]).length / Math.max(1, exact.length);
      labelled++;
    }
  }
  return { quantized: q, recall: recall / queries, precision: labelled ? hits / labelled : undefined };
}

/** What every step of a build shares. */
interface Build {
  opts: BundleOptions;
  log: (line: string) => void;
  /** Progress lines (bars, epochs): on a terminal unless the options say. */
  progress: boolean | undefined;
  seed: number;
  problems: Problems;
}

/** The bundle's products, in bundle order, with what the steps learn about them. */
interface Products {
  items: CatalogItem[];
  /** Each product's row in the catalog: where its image step results are. */
  keep: number[];
  /** Each product's category, as an index into `categories`. */
  labels: (number | undefined)[];
  categories: string[];
  /** Unit-length embeddings, `items × dims`, row-major. */
  embeddings: Float32Array;
  dims: number;
}

/** The event log, baskets and outfits, as lists of product indices. */
interface Behaviour {
  sessions: FrozenLists;
  /** Baskets and outfits: lists of products that go together. */
  positives: FrozenLists[];
  positiveCount: number;
}

/**
 * Builds a bundle from a store's catalog, images and (optional) events, baskets and outfits.
 * Everything is written to a temporary folder beside `out` and moved into place at the end, so a
 * failed build leaves the previous bundle as it was.
 */
export async function buildBundle(opts: BundleOptions): Promise<BuildReport> {
  const b: Build = { opts, log: opts.log ?? ((l: string) => process.stderr.write(l + '\n')), progress: opts.progress ?? process.stderr.isTTY, seed: opts.seed ?? 7, problems: new Problems() };
  const { log } = b;
  const seconds: Record<string, number> = {};
  const lap = lapTimer(seconds);

  const catalog = await readCatalogFor(opts, log);
  log(`catalog: ${catalog.length} products from ${opts.catalog}`);
  lap('catalog');
  const images = await imageStep(b, catalog);
  lap('images');
  const { head, products: adapted } = await headStep(b, images);
  lap('head');
  const { products, measured, rows, index } = searchStep(b, adapted);
  if (index) lap('index');
  const { items, dims } = products;
  const behaviour = await eventsStep(b, items);
  lap('events');
  // Goes with learns from baskets and outfits, co-views when there are none; other categories only.
  const sources = behaviour.positiveCount ? behaviour.positives.map((p) => [...p]) : [[...behaviour.sessions]];
  const accept = (a: number, c: number) => !items[a]!.category || items[a]!.category !== items[c]!.category;
  const pair = await pairModelStep(b, products, sources, accept, behaviour.positiveCount);
  lap('pair-model');
  const goesWith = goesWithStep(b, items, sources, accept, behaviour, pair);
  lap('goes-with');
  const nextView = await nextViewStep(b, products, behaviour.sessions);
  lap('next-view');
  const popular = popularStep(items, behaviour);
  const parts = { items, keep: products.keep, images, head, dims, rows, index, goesWith, pair, nextView, popular };
  const paged = items.length > (opts.pageAbove ?? PAGE_ABOVE);
  const manifest = await writeInPlace(resolve(opts.out), (dir, out) => writeBundle(dir, out, parts, { ...opts, paged }, log));
  lap('write');

  const bytes = Object.values(manifest.files).reduce((a, f) => a + f.bytes, 0);
  const warnings = b.problems.warnings();
  for (const wline of warnings) log(`warning: ${wline}`);
  log(`wrote ${join(opts.out, 'manifest.json')}: ${items.length} products, ${Object.keys(manifest.files).length} files, ${(bytes / 1e6).toFixed(2)} MB`);
  return {
    items: items.length, dropped: catalog.length - products.keep.length, dims, int8Recall: measured.recall, categoryPrecision: measured.precision, index: index?.report,
    sessions: behaviour.sessions.count, baskets: behaviour.positiveCount, embedded: images.step.embedded, cachedImages: images.step.cached, bytes,
    nextViewParams: nextView?.model?.params, oneHotParams: oneHotParams(items.length), warnings, seconds,
    goesWith: goesWith.choice, nextView: nextView?.choice,
  };
}

/** `lap(step)` records the seconds since the previous lap (or since now) as `seconds[step]`. */
function lapTimer(seconds: Record<string, number>): (step: string) => void {
  let t = performance.now();
  return (step) => {
    const now = performance.now();
    seconds[step] = Math.round(now - t) / 1000;
    t = now;
  };
}

/** The parameters seed §1's one-hot feed-forward network would need for `n` products. */
const oneHotParams = (n: number) => 4 * n * n + 3 * n;

/** Step 2: the image model, and every product's image embedded (with its thumbnail) through the cache. */
async function imageStep(b: Build, catalog: CatalogItem[]): Promise<EmbeddedCatalog & { keep: number[]; items: CatalogItem[]; features: Float32Array[] }> {
  const embedded = await embedCatalog(catalog, b.opts.catalog, { ...b.opts, progress: b.progress }, b.problems, b.log);
  const { step } = embedded;
  const keep = catalog.map((_, i) => i).filter((i) => step.features[i]);
  if (!keep.length) throw new UserError(`no product image could be used (${b.problems.warnings()[0] ?? 'see above'})`);
  const items = keep.map((i) => catalog[i]!);
  const features = keep.map((i) => step.features[i]!);
  b.log(`images: ${step.embedded} embedded, ${step.cached} from the cache, ${catalog.length - keep.length} unusable`);
  return { ...embedded, keep, items, features };
}

/** Step 3: adapts the embeddings to the catalog: a head trained on its categories (a plain projection without them). */
async function headStep(b: Build, images: { keep: number[]; items: CatalogItem[]; features: Float32Array[] }): Promise<{ head: tfl.LayersModel; products: Products }> {
  const { opts, log, seed } = b;
  const { items, features } = images;
  const dims = opts.dims ?? 64;
  const categories = [...new Set(items.map((it) => it.category).filter((c): c is string => !!c))].sort();
  const labelOf = new Map(categories.map((c, i) => [c, i]));
  const labels = items.map((it) => (it.category ? labelOf.get(it.category) : undefined));
  const head = await projectionHead(b, features, labels, categories.length, dims);
  if (opts.lint) {
    if (categories.length < 2) throw new UserError('--lint needs a catalog with at least two categories');
    const rows = await lintCategories(items, features, categories, { dims, seed });
    await writeFile(opts.lint, lintCsv(rows));
    log(`catalog lint: ${rows.length} products whose image says another category → ${opts.lint}`);
  }
  const embeddings = normalizeRows(applyRows(head, features), dims);
  return { head, products: { items, keep: images.keep, labels, categories, embeddings, dims } };
}

async function projectionHead(b: Build, features: Float32Array[], labels: (number | undefined)[], categoryCount: number, dims: number): Promise<tfl.LayersModel> {
  if (categoryCount >= 2) {
    const train = labels.map((l, i) => [l, i] as const).filter(([l]) => l !== undefined);
    const trained = await trainProjectionHead(train.map(([, i]) => features[i]!), train.map(([l]) => l!), { dims, seed: b.seed });
    b.log(`projection head: ${features[0]!.length} → ${dims} dims, trained on ${train.length} products in ${categoryCount} categories`);
    return trained.head;
  }
  const head = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [features[0]!.length], units: dims, useBias: false, kernelInitializer: tfl.initializers.orthogonal({ seed: b.seed }), name: 'embedding' })] });
  b.log(`projection head: no categories to learn from — a random projection to ${dims} dims (similar items by raw visual likeness)`);
  return head;
}

/**
 * Step 3b: how similar items are searched. A catalog too large to scan gets an index, and the
 * bundle lists its products in the index's cell order (so the index needs no ids): every later
 * step numbers products in that order.
 */
function searchStep(b: Build, adapted: Products) {
  const { dims } = adapted;
  const big = adapted.items.length > (b.opts.indexAbove ?? INDEX_ABOVE) ? buildIvf(adapted.embeddings, dims, { seed: b.seed }) : undefined;
  const products = big ? inOrder(adapted, big.order) : adapted;
  const measured = measureEmbeddings(products.embeddings, dims, products.categories.length >= 2 ? products.labels : undefined);
  b.log(`embeddings: int8 recall@10 vs float32 ${measured.recall.toFixed(3)}${measured.precision !== undefined ? `; same-category precision@10 ${measured.precision.toFixed(3)}` : ''}`);
  const rows = { ...measured.quantized, scales: unitScales(measured.quantized.codes, dims) };
  const index = big ? tunedIndex(b, big.index, rows) : undefined;
  return { products, measured, rows, index };
}

/** `p` with its products in `order`. */
function inOrder(p: Products, order: Uint32Array): Products {
  const { dims } = p;
  const embeddings = new Float32Array(p.embeddings.length);
  order.forEach((i, at) => embeddings.set(p.embeddings.subarray(i * dims, (i + 1) * dims), at * dims));
  const reorder = <T>(xs: T[]) => Array.from(order, (i) => xs[i] as T);
  return { ...p, items: reorder(p.items), keep: reorder(p.keep), labels: reorder(p.labels), embeddings };
}

/** The index, searching as few cells as give its recall, encoded for the bundle. */
function tunedIndex(b: Build, built: IvfIndex, rows: QuantizedMatrix): { file: Uint8Array; ivf: IvfIndex; report: NonNullable<BuildReport['index']> } {
  const tuned = tuneNprobe(built, rows, { seed: b.seed });
  const ivf = { ...built, nprobe: tuned.nprobe };
  const file = encodeIvf(ivf);
  const report = { nlist: built.nlist, nprobe: tuned.nprobe, recall: tuned.recall, bytesPerItem: file.length / rows.count };
  b.log(`search index: ${built.nlist} cells, ${built.rowBytes} B of 4-bit codes a product (${report.bytesPerItem.toFixed(1)} B with its share of the cells); a query scans ${tuned.nprobe} cells, recall@10 ${tuned.recall.toFixed(3)} against a full int8 scan on ${Math.min(200, rows.count)} of the catalog's products`);
  return { file, ivf, report };
}

/** Step 4: sessions from the event log, baskets, outfits. */
async function eventsStep(b: Build, items: CatalogItem[]): Promise<Behaviour> {
  const { opts, log, problems } = b;
  const byId = new Map(items.map((it, i) => [it.id, i]));
  const sessionData = opts.events
    ? await readEvents(opts.events, {
      index: byId, columns: opts.eventsColumns, gapMs: (opts.sessionGapMinutes ?? SESSION_GAP_MS / 60_000) * 60_000, problems,
      engine: opts.engine, maxViews: opts.maxViews ?? MAX_VIEWS,
    })
    : undefined;
  const basketLists = opts.baskets ? (await readBaskets(opts.baskets, { index: byId, columns: opts.basketsColumns, problems })).baskets : undefined;
  const outfitLists = opts.outfits ? await readOutfits(opts.outfits, { index: byId, problems }) : undefined;
  const sessions = sessionData?.sessions ?? FrozenLists.of([]);
  const positives = [basketLists, outfitLists, sessionData?.baskets].filter((x): x is FrozenLists => !!x && x.count > 0);
  const positiveCount = positives.reduce((a, p) => a + p.count, 0);
  if (sessionData) log(`events: ${sessionData.rows} rows → ${sessions.count} sessions, ${sessionData.views} views, ${sessionData.baskets.count} purchase baskets`);
  if (basketLists) log(`baskets: ${basketLists.count} orders with two or more products`);
  if (outfitLists) log(`outfits: ${outfitLists.count}`);
  return { sessions, positives, positiveCount };
}

/** Step 5a: the pair model (seed §3) learns "goes with" from the baskets and outfits, for products with no history. */
async function pairModelStep(b: Build, p: Products, sources: Int32Array[][], accept: (a: number, c: number) => boolean, positiveCount: number): Promise<TrainedPair | undefined> {
  if (!positiveCount) return undefined;
  const { items, labels, categories } = p;
  const pair = await trainPairModel(
    {
      visual: p.embeddings, visualDims: p.dims,
      categories: Int32Array.from(labels, (l) => (l === undefined ? 0 : l + 1)), categoryCount: categories.length,
      words: items.map((it) => titleBuckets(it.title, it.brand, PAIR_BUCKETS, it.attributes)),
      positives: sources.flat(),
      accept,
    },
    { buckets: PAIR_BUCKETS, seed: b.seed, onEpoch: (e, loss) => b.progress && b.log(`pair model: epoch ${e + 1} loss ${loss.toFixed(3)}`) },
  );
  b.log(`pair model: ${pair.pairs} positive pairs; AUC ${pair.auc.toFixed(3)} on held-out baskets against pairs never bought together (popularity alone: ${pair.popularityAuc.toFixed(3)})`);
  return pair;
}

/** Step 5b: goes-with lists from co-occurrence, scored as the store's held-back baskets say; short lists filled. */
function goesWithStep(b: Build, items: CatalogItem[], sources: Int32Array[][], accept: (a: number, c: number) => boolean, behaviour: Behaviour, pair: TrainedPair | undefined): GoesWithPart {
  const { positiveCount, sessions } = behaviour;
  const goesWith = buildGoesWith(sources, items.length, {
    seed: b.seed, k: b.opts.k ?? 20, minSupport: b.opts.minSupport ?? (positiveCount ? 1 : 2), accept, pair, inStock: (i) => items[i]!.inStock, log: b.log,
  });
  b.log(`goes with: ${positiveCount ? `${positiveCount} baskets/outfits` : `${sessions.count} sessions (no baskets or outfits given)`}; ${goesWith.lists.filter((l) => l.length).length} products have a list; ${goesWith.filled.neighbours} filled from their neighbourhood, ${goesWith.filled.pairModel} by the pair model`);
  return goesWith;
}

/** Step 6: next view — the scorer chosen on held-back sessions, the session sample, the GRU where chosen. */
async function nextViewStep(b: Build, p: Products, sessions: FrozenLists): Promise<NextViewPart | undefined> {
  if (!sessions.count) return undefined;
  const count = p.items.length;
  const nextView = await buildNextView([...sessions], count, { seed: b.seed, dims: p.dims, init: p.embeddings, maxEpochs: b.opts.epochs, log: b.log });
  b.log(`next view: ${nextView.sample.sessions} sessions (${nextView.sample.views} views) in the sample, ${(nextView.sessions.length / 1024).toFixed(1)} KB${nextView.model ? `; GRU ${nextView.model.params.toLocaleString('en')} parameters` : ''}; seed §1's one-hot network would need ${oneHotParams(count).toLocaleString('en')} parameters`);
  return nextView;
}

/**
 * Step 6b: what a short row is topped up with — products by how often the logs show them (a view
 * counts 1, a basket or outfit 2: buying or styling says more than looking), catalog order without logs.
 */
function popularStep(items: readonly CatalogItem[], behaviour: Behaviour): PopularLists {
  const score = new Float64Array(items.length);
  for (const s of behaviour.sessions) for (const i of s) score[i]! += 1;
  for (const lists of behaviour.positives) for (const l of lists) for (const i of l) score[i]! += 2;
  return popularLists(score, (i) => items[i]!.category, (i) => items[i]!.inStock !== false);
}

/** Step 7: writes the bundle next to `out`, then moves it into place; a failed write leaves `out` as it was. */
async function writeInPlace(out: string, write: (dir: string, out: string) => Promise<Manifest>): Promise<Manifest> {
  const tmp = join(dirname(out), `.${basename(out)}.building-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const manifest = await write(tmp, out);
    await moveIntoPlace(tmp, out);
    return manifest;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** What the build made that goes into the bundle. */
interface BundleParts {
  /** The products, in bundle order. */
  items: readonly CatalogItem[];
  /** Each product's row in the catalog: where its thumbnail is in `images`. */
  keep: readonly number[];
  images: EmbeddedCatalog;
  head: tfl.LayersModel;
  dims: number;
  /** The int8 rows similar items are searched in (the reader derives the scales from the codes). */
  rows: QuantizedMatrix;
  index?: { file: Uint8Array; ivf: IvfIndex };
  goesWith: GoesWithPart;
  pair?: TrainedPair;
  nextView?: NextViewPart;
  popular: PopularLists;
}

interface WriteOptions {
  /** Bundle name (default: the folder's name). */
  name?: string;
  createdAt?: string;
  thumbnails?: 'auto' | 'all' | 'none';
  imageModel?: string;
  linkImageModel?: boolean;
  /** Rows precomputed per product into page files (paged-step.ts) instead of whole-catalog files. */
  paged: boolean;
}

/** Writes the bundle `parts` make into `dir`, to be moved to `out` (a linked image model is referenced relative to `out`). */
async function writeBundle(dir: string, out: string, parts: BundleParts, opts: WriteOptions, log: (line: string) => void): Promise<Manifest> {
  const w = new BundleWriter(dir);
  const thumbs = new BundleWriter(dir);
  const items = listItems(thumbs, parts, opts.thumbnails ?? 'auto');
  const backbone = backboneRef(w, out, parts.images.model, opts);
  const createdAt = opts.createdAt ?? (process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000).toISOString() : undefined);
  const paged = opts.paged ? writePages(w, items, parts) : undefined;
  if (paged) log(`paged: ${paged.pages} page files, ${paged.meta} meta files of ${paged.metaSize} products; a product page fetches its own page and the meta files of the products its rows show`);
  // Each section adds its files as it is made: in this order.
  const itemsFile = paged ? {} : { file: w.add('items.json', JSON.stringify(items)) };
  const assets = Object.keys(thumbs.listed()).length ? { assets: w.add('assets.json', JSON.stringify(thumbs.listed())) } : {};
  const similar = similarSection(w, parts);
  const imageModel = await imageModelSection(w, backbone, parts);
  const complementary = await complementarySection(w, parts, !!paged);
  const nextView = parts.nextView ? { nextView: await nextViewSection(w, parts.nextView, !!paged) } : {};
  const popular = w.add('popular.json', JSON.stringify(parts.popular));
  return w.finish({
    name: opts.name ?? basename(out),
    ...(createdAt ? { createdAt } : {}),
    items: { count: items.length, ...itemsFile },
    ...(paged ? { paged } : {}),
    ...assets,
    similar,
    imageModel,
    complementary,
    ...nextView,
    popular,
  });
}

/** The products as the bundle lists them, each with its thumbnail (written through `thumbs`) where one is wanted. */
function listItems(thumbs: BundleWriter, parts: BundleParts, mode: 'auto' | 'all' | 'none'): BundleItem[] {
  const { step, thumbnails } = parts.images;
  const wantThumb = (it: CatalogItem) => !!thumbnails && (mode === 'all' || !isUrl(it.image));
  return parts.items.map((it, i) => {
    const thumb = wantThumb(it) ? step.thumbnails[parts.keep[i]!] : undefined;
    const image = thumb ? thumbs.add(`images/${i}.${thumbnails?.format === 'jpeg' ? 'jpg' : 'webp'}`, thumb) : it.image;
    return bundleItem(it, image);
  });
}

/** The image model, copied in, or (`linkImageModel`) referenced where it lies, relative to `out`. */
function backboneRef(w: BundleWriter, out: string, model: EmbeddedCatalog['model'], opts: WriteOptions): ModelRef {
  if (opts.linkImageModel) {
    const from = dirname(resolve(opts.imageModel ?? DEFAULT_IMAGE_MODEL));
    const rel = relative(out, from).split(sep).join('/');
    return { model: w.record(`${rel}/model.json`, new TextEncoder().encode(model.files.json)), weights: w.record(`${rel}/weights.bin`, model.files.weights), format: model.format };
  }
  return { model: w.add('image-model/model.json', model.files.json), weights: w.add('image-model/weights.bin', model.files.weights), format: model.format };
}

/** A catalog too large to download: every product's rows precomputed into page files (paged-step.ts). */
function writePages(w: BundleWriter, items: readonly BundleItem[], parts: BundleParts): PagedSection {
  const { rows, index, goesWith, nextView } = parts;
  const lists = pageLists(rows, index?.ivf, goesWith.lists, nextView && { sessions: nextView.sessions, method: nextView.choice.config });
  return writePaged(w, items, lists, nextView?.choice.config.rules?.depth ?? 3, index && { index: index.ivf, rows });
}

function similarSection(w: BundleWriter, parts: BundleParts): NonNullable<Manifest['similar']> {
  return {
    dims: parts.dims, metric: 'cosine',
    // No scales file: the reader derives them from the codes (unitScales), as the build measured.
    codes: w.add('embeddings.i8', new Uint8Array(parts.rows.codes.buffer)),
    ...(parts.index ? { index: w.add('similar/index.ivf', parts.index.file) } : {}),
  };
}

async function imageModelSection(w: BundleWriter, backbone: ModelRef, parts: BundleParts): Promise<NonNullable<Manifest['imageModel']>> {
  const { spec } = parts.images.model;
  return {
    backbone,
    head: await saveLayersModel(w, 'image-head', parts.head),
    inputSize: spec.size,
    ...(spec.range[0] !== 0 || spec.range[1] !== 1 ? { inputRange: [spec.range[0], spec.range[1]] } : {}),
  };
}

/** Goes with: its lists (in the page files of a paged bundle), how they were scored, and the pair model. */
async function complementarySection(w: BundleWriter, parts: BundleParts, paged: boolean): Promise<NonNullable<Manifest['complementary']>> {
  const { goesWith, pair } = parts;
  return {
    ...(paged ? {} : { file: w.add('complementary.json', encodeLists(goesWith.lists)) }), method: goesWith.choice.config,
    ...(pair ? { pairModel: saveTensors(w, 'pair-model', pair) } : {}),
    ...validationOf(goesWith.choice),
  };
}

/** Next view: the session sample and the GRU where chosen; a paged bundle has per-product lists and no GRU. */
async function nextViewSection(w: BundleWriter, nextView: NextViewPart, paged: boolean): Promise<NonNullable<Manifest['nextView']>> {
  return {
    ...(paged
      ? { method: pagedNextMethod(nextView.choice.config) }
      : { sessions: w.add('next-view/sessions.bin', nextView.sessions), method: nextView.choice.config, ...(nextView.model ? { model: saveTensors(w, 'next-view', nextView.model) } : {}) }),
    ...validationOf(nextView.choice),
  };
}

async function saveLayersModel(w: BundleWriter, dir: string, m: tfl.LayersModel): Promise<ModelRef> {
  const saved = await saveLayers(m, 'weights.bin');
  return { model: w.add(`${dir}/model.json`, saved.json), weights: w.add(`${dir}/weights.bin`, saved.weights) };
}

/** A model in Vitrine's own tensor file (bundle/tensor-file.ts): its JSON header and its data. */
function saveTensors(w: BundleWriter, dir: string, enc: { header: object; data: Uint8Array }): ModelRef {
  return { model: w.add(`${dir}/model.json`, JSON.stringify(enc.header)), weights: w.add(`${dir}/weights.bin`, enc.data), format: 'tensors' };
}

/** A row's choice as the manifest records it (absent when there was too little to validate on). */
function validationOf(c: GoesWithChoice | NextViewChoice): { validation?: Validation } {
  return c.validation ? { validation: { metric: c.metric, score: c.validation.score, lo: c.validation.lo, hi: c.validation.hi, queries: c.validation.queries, reason: c.reason } } : {};
}

/**
 * Moves a bundle written at `tmp` to `out`, replacing what is there only once `tmp` is complete.
 * Two renames (the old bundle aside, the new one in): if the second fails, the old bundle goes
 * back; if the process dies between them, the next build or update finds the old bundle aside
 * (`out.old-PID`) and puts it back first. A reader sees the old bundle or the new one, or — for
 * the instant between the renames — none, never a mix.
 */
export async function moveIntoPlace(tmp: string, out: string): Promise<void> {
  await recoverLeftovers(out);
  const old = `${out}.old-${process.pid}`;
  const exists = await stat(out).then(() => true, () => false);
  if (exists) await rename(out, old);
  try {
    await rename(tmp, out);
  } catch (e) {
    if (exists) await rename(old, out);
    throw e;
  }
  if (exists) await rm(old, { recursive: true, force: true });
}

/** Bundles set aside by a run that died between its renames: the newest goes back where `out` is missing, the rest are removed. */
async function recoverLeftovers(out: string): Promise<void> {
  const dir = dirname(out);
  const prefix = `${basename(out)}.old-`;
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)));
  if (!names.length) return;
  const byAge = await Promise.all(names.map(async (n) => ({ path: join(dir, n), at: (await stat(join(dir, n))).mtimeMs })));
  byAge.sort((a, b) => b.at - a.at);
  if (!(await stat(out).then(() => true, () => false))) await rename(byAge.shift()!.path, out);
  for (const { path } of byAge) await rm(path, { recursive: true, force: true });
}
