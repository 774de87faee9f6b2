import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BundleItem, Manifest, ModelRef, Validation } from '../bundle/format.js';
import { BundleWriter } from '../bundle/writer.js';
import { encodeLists } from '../recommend/goes-with.js';
import { normalizeRows } from '../model/image-embedder.js';
import { saveLayers } from '../model/model-io.js';
import { quantizeInt8, searchFloat32, searchInt8, unitScales } from '../recommend/knn.js';
import { SESSION_GAP_MS } from '../recommend/sessions.js';
import { readBaskets, readOutfits } from './baskets.js';
import { bundleItem, readCatalogFor, type CatalogItem } from './catalog.js';
import { embedCatalog, type ImageOptions } from './embed-step.js';
import { MAX_VIEWS, readEvents, type EventEngine } from './events.js';
import { buildGoesWith, type GoesWithChoice } from './choose-goes-with.js';
import { buildNextView, type NextViewChoice } from './choose-next.js';
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
import { pageLists, writePaged } from './paged-step.js';
import { encodeIvf } from '../bundle/ivf-file.js';

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

/** A row's choice as the manifest records it (absent when there was too little to validate on). */
function validationOf(c: GoesWithChoice | NextViewChoice): { validation?: Validation } {
  return c.validation ? { validation: { metric: c.metric, score: c.validation.score, lo: c.validation.lo, hi: c.validation.hi, queries: c.validation.queries, reason: c.reason } } : {};
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

/**
 * Builds a bundle from a store's catalog, images and (optional) events, baskets and outfits.
 * Everything is written to a temporary folder beside `out` and moved into place at the end, so a
 * failed build leaves the previous bundle as it was.
 */
export async function buildBundle(opts: BundleOptions): Promise<BuildReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const progress = opts.progress ?? process.stderr.isTTY;
  const seed = opts.seed ?? 7;
  const seconds: Record<string, number> = {};
  let t = performance.now();
  const lap = (step: string) => {
    const now = performance.now();
    seconds[step] = Math.round(now - t) / 1000;
    t = now;
  };
  const problems = new Problems();

  // 1. Catalog.
  const catalog = await readCatalogFor(opts, log);
  log(`catalog: ${catalog.length} products from ${opts.catalog}`);
  lap('catalog');

  // 2. Image model and image embedding (with thumbnails), through the cache.
  const { model, step, thumbnails: thumbOpts } = await embedCatalog(catalog, opts.catalog, { ...opts, progress }, problems, log);
  const thumbMode = opts.thumbnails ?? 'auto';
  const wantThumb = (it: CatalogItem) => !!thumbOpts && (thumbMode === 'all' || !isUrl(it.image));
  let keep = catalog.map((_, i) => i).filter((i) => step.features[i]);
  if (!keep.length) throw new UserError(`no product image could be used (${problems.warnings()[0] ?? 'see above'})`);
  let items = keep.map((i) => catalog[i]!);
  const features = keep.map((i) => step.features[i]!);
  log(`images: ${step.embedded} embedded, ${step.cached} from the cache, ${catalog.length - keep.length} unusable`);
  lap('images');

  // 3. Adapt to the catalog: a head trained on its categories (or a plain projection without them).
  const dims = opts.dims ?? 64;
  const categories = [...new Set(items.map((it) => it.category).filter((c): c is string => !!c))].sort();
  const labelOf = new Map(categories.map((c, i) => [c, i]));
  let labels = items.map((it) => (it.category ? labelOf.get(it.category) : undefined));
  let head: tfl.LayersModel;
  if (categories.length >= 2) {
    const train = labels.map((l, i) => [l, i] as const).filter(([l]) => l !== undefined);
    const trained = await trainProjectionHead(train.map(([, i]) => features[i]!), train.map(([l]) => l!), { dims, seed });
    head = trained.head;
    log(`projection head: ${features[0]!.length} → ${dims} dims, trained on ${train.length} products in ${categories.length} categories`);
  } else {
    head = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [features[0]!.length], units: dims, useBias: false, kernelInitializer: tfl.initializers.orthogonal({ seed }), name: 'embedding' })] });
    log(`projection head: no categories to learn from — a random projection to ${dims} dims (similar items by raw visual likeness)`);
  }
  if (opts.lint) {
    if (categories.length < 2) throw new UserError('--lint needs a catalog with at least two categories');
    const rows = await lintCategories(items, features, categories, { dims, seed });
    await writeFile(opts.lint, lintCsv(rows));
    log(`catalog lint: ${rows.length} products whose image says another category → ${opts.lint}`);
  }
  let embeddings = normalizeRows(applyRows(head, features), dims);
  lap('head');

  // 3b. A catalog too large to scan gets an index, and the bundle lists its products in the index's
  // cell order (so the index needs no ids); everything below numbers products in that order.
  const big = items.length > (opts.indexAbove ?? INDEX_ABOVE) ? buildIvf(embeddings, dims, { seed }) : undefined;
  if (big) {
    const { order } = big;
    [items, keep, labels] = [items, keep, labels].map((xs) => Array.from(order, (i) => xs[i])) as [typeof items, typeof keep, typeof labels];
    const sorted = new Float32Array(embeddings.length);
    order.forEach((i, p) => sorted.set(embeddings.subarray(i * dims, (i + 1) * dims), p * dims));
    embeddings = sorted;
  }
  const measured = measureEmbeddings(embeddings, dims, categories.length >= 2 ? labels : undefined);
  log(`embeddings: int8 recall@10 vs float32 ${measured.recall.toFixed(3)}${measured.precision !== undefined ? `; same-category precision@10 ${measured.precision.toFixed(3)}` : ''}`);
  let index: { file: Uint8Array; ivf: IvfIndex; report: NonNullable<BuildReport['index']> } | undefined;
  const rows = { ...measured.quantized, scales: unitScales(measured.quantized.codes, dims) };
  if (big) {
    const tuned = tuneNprobe(big.index, rows, { seed });
    const ivf = { ...big.index, nprobe: tuned.nprobe };
    const file = encodeIvf(ivf);
    index = { file, ivf, report: { nlist: big.index.nlist, nprobe: tuned.nprobe, recall: tuned.recall, bytesPerItem: file.length / items.length } };
    log(`search index: ${big.index.nlist} cells, ${big.index.rowBytes} B of 4-bit codes a product (${index.report.bytesPerItem.toFixed(1)} B with its share of the cells); a query scans ${tuned.nprobe} cells, recall@10 ${tuned.recall.toFixed(3)} against a full int8 scan on ${Math.min(200, items.length)} of the catalog's products`);
    lap('index');
  }

  // 4. Sessions, baskets, outfits.
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
  lap('events');

  // 5. Goes with: co-occurrence in baskets and outfits (co-views when there are none), other
  // categories only, scored as the store's held-back baskets say; short lists filled. The pair
  // model (seed §3) learns "goes with" from the same baskets, for products with no history.
  const k = opts.k ?? 20;
  const otherCategory = (a: number, b: number) => !items[a]!.category || items[a]!.category !== items[b]!.category;
  const sources = positiveCount ? positives.map((p) => [...p]) : [[...sessions]];
  let pair: TrainedPair | undefined;
  if (positiveCount) {
    pair = await trainPairModel(
      {
        visual: embeddings, visualDims: dims,
        categories: Int32Array.from(labels, (l) => (l === undefined ? 0 : l + 1)), categoryCount: categories.length,
        words: items.map((it) => titleBuckets(it.title, it.brand, PAIR_BUCKETS, it.attributes)),
        positives: sources.flat(),
        accept: otherCategory,
      },
      { buckets: PAIR_BUCKETS, seed, onEpoch: (e, loss) => progress && log(`pair model: epoch ${e + 1} loss ${loss.toFixed(3)}`) },
    );
    log(`pair model: ${pair.pairs} positive pairs; AUC ${pair.auc.toFixed(3)} on held-out baskets against pairs never bought together (popularity alone: ${pair.popularityAuc.toFixed(3)})`);
  }
  lap('pair-model');
  const goesWith = buildGoesWith(sources, items.length, {
    seed, k, minSupport: opts.minSupport ?? (positiveCount ? 1 : 2), accept: otherCategory, pair, inStock: (i) => items[i]!.inStock, log,
  });
  log(`goes with: ${positiveCount ? `${positiveCount} baskets/outfits` : `${sessions.count} sessions (no baskets or outfits given)`}; ${goesWith.lists.filter((l) => l.length).length} products have a list; ${goesWith.filled.neighbours} filled from their neighbourhood, ${goesWith.filled.pairModel} by the pair model`);
  lap('goes-with');

  // 6. Next view: the scorer chosen on held-back sessions, the session sample, the GRU where chosen.
  const nextView = sessions.count
    ? await buildNextView([...sessions], items.length, { seed, dims, init: embeddings, maxEpochs: opts.epochs, log })
    : undefined;
  const oneHotParams = 4 * items.length * items.length + 3 * items.length;
  if (nextView) {
    log(`next view: ${nextView.sample.sessions} sessions (${nextView.sample.views} views) in the sample, ${(nextView.sessions.length / 1024).toFixed(1)} KB${nextView.model ? `; GRU ${nextView.model.params.toLocaleString('en')} parameters` : ''}; seed §1's one-hot network would need ${oneHotParams.toLocaleString('en')} parameters`);
  }
  lap('next-view');

  // 7. Write the bundle next to its destination, then move it into place.
  const out = resolve(opts.out);
  const tmp = join(dirname(out), `.${basename(out)}.building-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const w = new BundleWriter(tmp);
    const thumbs = new BundleWriter(tmp);
    const bundleItems: BundleItem[] = items.map((it, i) => {
      const thumb = wantThumb(it) ? step.thumbnails[keep[i]!] : undefined;
      const image = thumb ? thumbs.add(`images/${i}.${thumbOpts?.format === 'jpeg' ? 'jpg' : 'webp'}`, thumb) : it.image;
      return bundleItem(it, image);
    });
    const save = async (dir: string, m: tfl.LayersModel): Promise<ModelRef> => {
      const saved = await saveLayers(m, 'weights.bin');
      return { model: w.add(`${dir}/model.json`, saved.json), weights: w.add(`${dir}/weights.bin`, saved.weights) };
    };
    const saveTensors = async (dir: string, enc: { header: object; data: Uint8Array }): Promise<ModelRef> => ({
      model: w.add(`${dir}/model.json`, JSON.stringify(enc.header)),
      weights: w.add(`${dir}/weights.bin`, enc.data),
      format: 'tensors',
    });
    let backboneRef: ModelRef;
    if (opts.linkImageModel) {
      const from = dirname(resolve(opts.imageModel ?? DEFAULT_IMAGE_MODEL));
      const rel = relative(out, from).split(sep).join('/');
      backboneRef = { model: w.record(`${rel}/model.json`, new TextEncoder().encode(model.files.json)), weights: w.record(`${rel}/weights.bin`, model.files.weights), format: model.format };
    } else {
      backboneRef = { model: w.add('image-model/model.json', model.files.json), weights: w.add('image-model/weights.bin', model.files.weights), format: model.format };
    }
    const createdAt = opts.createdAt ?? (process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000).toISOString() : undefined);
    // A catalog too large to download: rows precomputed per product into page files (paged-step.ts).
    const paged = items.length > (opts.pageAbove ?? PAGE_ABOVE)
      ? writePaged(w, bundleItems, pageLists(rows, index?.ivf, goesWith.lists, nextView && { sessions: nextView.sessions, method: nextView.choice.config }), nextView?.choice.config.rules?.depth ?? 3)
      : undefined;
    if (paged) log(`paged: ${paged.pages} page files, ${paged.meta} meta files of ${paged.metaSize} products; a product page fetches its own page and the meta files of the products its rows show`);
    const manifest: Manifest = w.finish({
      name: opts.name ?? basename(out),
      ...(createdAt ? { createdAt } : {}),
      items: { count: bundleItems.length, ...(paged ? {} : { file: w.add('items.json', JSON.stringify(bundleItems)) }) },
      ...(paged ? { paged } : {}),
      ...(Object.keys(thumbs.listed()).length ? { assets: w.add('assets.json', JSON.stringify(thumbs.listed())) } : {}),
      similar: {
        dims, metric: 'cosine',
        // No scales file: the reader derives them from the codes (unitScales), as measured above.
        codes: w.add('embeddings.i8', new Uint8Array(measured.quantized.codes.buffer)),
        ...(index ? { index: w.add('similar/index.ivf', index.file) } : {}),
      },
      imageModel: {
        backbone: backboneRef,
        head: await save('image-head', head),
        inputSize: model.spec.size,
        ...(model.spec.range[0] !== 0 || model.spec.range[1] !== 1 ? { inputRange: [model.spec.range[0], model.spec.range[1]] } : {}),
      },
      complementary: {
        ...(paged ? {} : { file: w.add('complementary.json', encodeLists(goesWith.lists)) }), method: goesWith.choice.config,
        ...(pair ? { pairModel: await saveTensors('pair-model', pair) } : {}),
        ...validationOf(goesWith.choice),
      },
      ...(nextView
        ? {
            nextView: {
              ...(paged
                ? { method: { ...nextView.choice.config, model: undefined } }
                : { sessions: w.add('next-view/sessions.bin', nextView.sessions), method: nextView.choice.config, ...(nextView.model ? { model: await saveTensors('next-view', nextView.model) } : {}) }),
              ...validationOf(nextView.choice),
            },
          }
        : {}),
    });
    await moveIntoPlace(tmp, out);
    lap('write');
    const bytes = Object.values(manifest.files).reduce((a, f) => a + f.bytes, 0);
    const warnings = problems.warnings();
    for (const wline of warnings) log(`warning: ${wline}`);
    log(`wrote ${join(opts.out, 'manifest.json')}: ${bundleItems.length} products, ${Object.keys(manifest.files).length} files, ${(bytes / 1e6).toFixed(2)} MB`);
    return {
      items: bundleItems.length, dropped: catalog.length - keep.length, dims, int8Recall: measured.recall, categoryPrecision: measured.precision, index: index?.report,
      sessions: sessions.count, baskets: positiveCount, embedded: step.embedded, cachedImages: step.cached, bytes,
      nextViewParams: nextView?.model?.params, oneHotParams, warnings, seconds,
      goesWith: goesWith.choice, nextView: nextView?.choice,
    };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
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
