/**
 * What the worker's rows share (worker/rows/*.ts): the open bundles, TF.js and its backend (loaded
 * on first need), the image embeddings of products outside a bundle, the search, and how a row's
 * hits become the items the page shows.
 */
import { once } from '../bundle/once.js';
import { openBundle, type Bundle } from '../bundle/reader.js';
import { BundleError, type BundleItem } from '../bundle/format.js';
import { safeHttpUrl } from '../bundle/urls.js';
import { searchInt8, type Neighbour } from '../recommend/knn.js';
import type { BackendInfo, BackendPreference, Recommendation, RowFilter, RowQuery } from '../protocol.js';
import type { Scored } from '../recommend/select.js';
import type { ImageEmbedder } from '../model/runtime.js';

type Runtime = typeof import('../model/runtime.js');

export interface EngineOptions {
  /** Directory URL (ending in `/`) of the built widget: where the TF.js `.wasm` files are. */
  assetBase: string;
}

export interface OpenBundle {
  bundle: Bundle;
  /** `items` and `index` are empty in a paged bundle (`bundle.manifest.paged`): its rows read page records (worker/paged.ts). */
  items: BundleItem[];
  index: Map<string, number>;
  /** Models load once per bundle, on first need. */
  models: Map<string, Promise<unknown>>;
  /**
   * Paged: each product's similar row in progress. The product's other rows fetch their products'
   * files after it (as `primary` below), so on a slow link the first row comes first.
   */
  firstRows: Map<string, Promise<unknown>>;
  /**
   * Settles when the similar row's embeddings have arrived (or failed). The other rows' lists are
   * fetched after it, so on a slow link they do not share its bandwidth: the first row comes first.
   */
  primary: Promise<unknown>;
}

/** Image embeddings of products outside the bundle, kept for repeat queries (a few per page). */
const IMAGE_CACHE_SIZE = 32;

/**
 * Runs a model's loader, naming the bundle file in its failure: a model whose header disagrees
 * with its weights is a damaged bundle, reported like any other (`bundle file <file>: …`).
 */
export async function loading<T>(file: string, load: () => T | Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    throw e instanceof BundleError ? e : new BundleError(file, String((e as Error)?.message ?? e).replace(`${file}: `, ''));
  }
}

export const categoryOf = (b: OpenBundle) => (i: number) => b.items[i]!.category;
/** A top-k lists file, fetched once the similar row's files are in (see `primary`). */
export const listsOf = async (b: OpenBundle, path: string) => (await b.primary, b.bundle.topK(path));

/**
 * How many candidates a row takes: its limit, a margin for unusable items, room for the excluded
 * ones — three times the limit where a filter chooses among them, and the 40 the eval re-ranked
 * (`npm run eval -- --tasks rerank`) where re-ranking rules do.
 */
export const wanted = (q: RowQuery) =>
  Math.max(q.limit, q.filter ? 3 * q.limit : 0, q.rerank?.length ? Math.max(40, 4 * q.limit) : 0) + 4 + (q.exclude?.length ?? 0);

/** Whether a product passes a store's filter (every field given; a product without the field fails it). */
export const passes = (f: RowFilter | undefined) => (it: BundleItem): boolean =>
  !f ||
  ((!f.category || (it.category !== undefined && f.category.includes(it.category))) &&
    (!f.brand || (it.brand !== undefined && f.brand.includes(it.brand))) &&
    (f.minPrice === undefined || (it.price !== undefined && it.price >= f.minPrice)) &&
    (f.maxPrice === undefined || (it.price !== undefined && it.price <= f.maxPrice)));

export type RowContext = ReturnType<typeof createContext>;

export function createContext(opts: EngineOptions) {
  const bundles = new Map<string, Promise<OpenBundle>>();
  // The history store (and idb) is a chunk of its own, fetched at once while the manifest is.
  const history = import('../store/history.js').then((m) => m.openHistory());
  const imageVectors = new Map<string, Promise<unknown>>();
  const runtime = new Map<string, Promise<{ rt: Runtime; backend: BackendInfo }>>();

  /** What the page has already received of it (only the query that opens the bundle uses it). */
  const open = (src: string, given: Pick<RowQuery, 'manifest' | 'cached'>): Promise<OpenBundle> =>
    once(bundles, src, async () => {
      const bundle = await openBundle(src, given);
      if (bundle.manifest.paged) return { bundle, items: [], index: new Map(), models: new Map(), firstRows: new Map(), primary: Promise.resolve() };
      // Items and embeddings in parallel: the similar row needs both, and either may be the larger.
      const primary = bundle.manifest.similar ? bundle.embeddings().catch(() => undefined) : Promise.resolve();
      const items = await bundle.items();
      return { bundle, items, index: new Map(items.map((it, i) => [it.id, i])), models: new Map(), firstRows: new Map(), primary };
    });

  /**
   * TF.js and its backend, chosen once per worker by the first query that needs a model: several
   * elements on one page share the worker, so they share its backend too.
   */
  const tf = (preference: BackendPreference = 'auto') =>
    once(runtime, 'tf', async () => {
      const rt = await import('../model/runtime.js');
      return { rt, backend: await rt.selectBackend(preference, { wasmBase: opts.assetBase }) };
    });

  const recommendation = (b: OpenBundle, it: BundleItem, score: number, page: string | undefined): Recommendation | undefined => {
    if (it.inStock === false) return undefined;
    // Product pages are the store's: relative to the page. Images ship with the bundle: relative to it.
    const url = safeHttpUrl(it.url, page ?? b.bundle.url);
    if (!url) return undefined;
    return { id: it.id, title: it.title, url, image: safeHttpUrl(it.image, b.bundle.url), price: it.price, currency: it.currency, score };
  };
  /** A row's hits as the page shows them: excluded and filtered-out products dropped, re-ranked as asked, at most `limit`. */
  const toItems = async (b: OpenBundle, hits: Scored[], q: RowQuery, item = (i: number) => b.items[i]!): Promise<Recommendation[]> => {
    const excluded = new Set(q.exclude);
    const pass = passes(q.filter);
    let kept = hits.filter((h) => !excluded.has(item(h.index).id) && pass(item(h.index)));
    // The rules are their own chunk: pages that ask for none never load them.
    if (q.rerank?.length) kept = await (await import('./rerank-step.js')).reranked(ctx, b, kept, q.rerank, item);
    return kept
      .map((h) => recommendation(b, item(h.index), h.score, q.page))
      .filter((r): r is Recommendation => !!r)
      .slice(0, q.limit);
  };

  /** The unit-length embedding of a product's image, computed in the worker by the bundle's image model. */
  async function imageVector(q: RowQuery, b: OpenBundle): Promise<{ vector: Float32Array; backend: BackendInfo } | undefined> {
    const { similar: s, imageModel } = b.bundle.manifest;
    if (!q.image || !imageModel || !s) return undefined;
    const { rt, backend } = await tf(q.backend);
    const embedder = await once<ImageEmbedder>(b.models, 'image', async () => {
      const [backbone, head] = await Promise.all([b.bundle.model(imageModel.backbone), b.bundle.model(imageModel.head)]);
      const spec = { size: imageModel.inputSize, range: imageModel.inputRange ?? ([0, 1] as const) };
      const net = await loading(imageModel.backbone.model, () => rt.Backbone.load(backbone, imageModel.backbone.format === 'graph' ? 'graph' : 'layers', spec));
      return loading(imageModel.head.model, () => rt.ImageEmbedder.load(net, head));
    });
    if (embedder.dims !== s.dims) throw new BundleError(imageModel.head.model, `gives ${embedder.dims}-d embeddings, similar.dims is ${s.dims}`);
    const image = q.image;
    const vector = once(imageVectors, `${b.bundle.url} ${image}`, async () => embedder.embed([await (await import('./image.js')).fetchPixels(image)]));
    if (imageVectors.size > IMAGE_CACHE_SIZE) imageVectors.delete(imageVectors.keys().next().value!);
    return { vector: await vector, backend };
  }

  /** The `k` catalog products nearest `vector`: through the bundle's index where it has one (a lazy chunk), else a scan. */
  async function nearest(b: OpenBundle, vector: Float32Array, k: number, exclude?: (j: number) => boolean): Promise<Neighbour[]> {
    const matrix = await b.bundle.embeddings();
    const path = b.bundle.manifest.similar?.index;
    if (!path) return searchInt8(matrix, vector, k, exclude);
    const [{ searchIndexed }, index] = await Promise.all([import('../recommend/ivf.js'), b.bundle.ivf(path)]);
    return searchIndexed(index, matrix, vector, k, exclude);
  }

  const ctx = { open, tf, toItems, recommendation, imageVector, nearest, history };
  return ctx;
}
