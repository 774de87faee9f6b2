import { once } from '../bundle/once.js';
import { openBundle, type Bundle } from '../bundle/reader.js';
import { BundleError, type BundleItem } from '../bundle/format.js';
import { safeHttpUrl } from '../bundle/urls.js';
import { dequantizeRow, rowScore, searchInt8, type Neighbour } from '../recommend/knn.js';
import { topIndices } from '../recommend/select.js';
import { diversify } from '../recommend/rerank.js';
import { currentSession } from '../recommend/sessions.js';
import { goesWithRow } from '../recommend/goes-with.js';
import { needsModel } from '../recommend/next-view-config.js';
import type { SessionIndex } from '../recommend/next-view.js';
import { openHistory, validateEvent } from '../store/history.js';
import type { BackendInfo, BackendPreference, EngineApi, Recommendation, RowKind, RowQuery, RowResult } from '../protocol.js';
import type { ImageEmbedder, NextViewModel } from '../model/runtime.js';
import { fetchPixels } from './image.js';
import { pagedGoesWith, pagedNearest, pagedNext, pagedSimilar } from './paged.js';
import { PairModel } from '../recommend/pair-model.js';
import { titleBuckets } from '../recommend/text.js';

type Runtime = typeof import('../model/runtime.js');

export interface EngineOptions {
  /** Directory URL (ending in `/`) of the built widget: where the TF.js `.wasm` files are. */
  assetBase: string;
}

interface OpenBundle {
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

const ROWS: ReadonlySet<RowKind> = new Set(['similar', 'complementary', 'next']);
const MAX_LIMIT = 50;
/** Image embeddings of products outside the bundle, kept for repeat queries (a few per page). */
const IMAGE_CACHE_SIZE = 32;

/**
 * Runs a model's loader, naming the bundle file in its failure: a model whose header disagrees
 * with its weights is a damaged bundle, reported like any other (`bundle file <file>: …`).
 */
async function loading<T>(file: string, load: () => T | Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    throw e instanceof BundleError ? e : new BundleError(file, String((e as Error)?.message ?? e).replace(`${file}: `, ''));
  }
}

const categoryOf = (b: OpenBundle) => (i: number) => b.items[i]!.category;
/** A top-k lists file, fetched once the similar row's files are in (see `primary`). */
const listsOf = async (b: OpenBundle, path: string) => (await b.primary, b.bundle.topK(path));

function checkQuery(q: RowQuery): void {
  if (!q || typeof q.src !== 'string' || !q.src) throw new TypeError('query: src must be the URL of a bundle manifest');
  if (!ROWS.has(q.row)) throw new TypeError(`query: row must be similar, complementary or next, not ${JSON.stringify(q.row)}`);
  if (typeof q.product !== 'string') throw new TypeError('query: product must be a string');
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_LIMIT) throw new TypeError(`query: limit must be an integer from 1 to ${MAX_LIMIT}`);
  if (q.manifest !== undefined && typeof q.manifest !== 'string') throw new TypeError('query: manifest must be the manifest\'s text');
  if (q.cached !== undefined && !(Array.isArray(q.cached) && q.cached.every((p) => typeof p === 'string'))) throw new TypeError('query: cached must be a list of file paths');
  if (q.exclude !== undefined && !(Array.isArray(q.exclude) && q.exclude.length <= 10_000 && q.exclude.every((p) => typeof p === 'string'))) throw new TypeError('query: exclude must be a list of product ids');
}

/** How many candidates a row takes: its limit, a margin for unusable items, and room for the excluded ones. */
const wanted = (q: RowQuery) => q.limit + 4 + (q.exclude?.length ?? 0);

/**
 * The engine the worker exposes: opens and verifies bundles, answers row queries, keeps the
 * browse history. TF.js is imported only when a query needs a model.
 */
export function createEngine(opts: EngineOptions): EngineApi {
  const bundles = new Map<string, Promise<OpenBundle>>();
  const history = openHistory();
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
  const toItems = (b: OpenBundle, hits: { index: number; score: number }[], q: RowQuery, item = (i: number) => b.items[i]!): Recommendation[] => {
    const excluded = new Set(q.exclude);
    return hits
      .filter((h) => !excluded.has(item(h.index).id))
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
    const vector = once(imageVectors, `${b.bundle.url} ${image}`, () => fetchPixels(image).then((px) => embedder.embed([px])));
    if (imageVectors.size > IMAGE_CACHE_SIZE) imageVectors.delete(imageVectors.keys().next().value!);
    return { vector: await vector, backend };
  }

  /** The `k` catalog products nearest `vector`: through the bundle's index where it has one (a lazy chunk), else a scan. */
  async function nearest(b: OpenBundle, vector: Float32Array, k: number, exclude?: (j: number) => boolean): Promise<Neighbour[]> {
    const matrix = await b.bundle.embeddings();
    const path = b.bundle.manifest.similar?.index;
    if (!path) return searchInt8(matrix, vector, k, exclude);
    const [{ searchIvf }, index] = await Promise.all([import('../recommend/ivf.js'), b.bundle.ivf(path)]);
    const hits = searchIvf(index, vector, k, { rescore: (p) => rowScore(matrix, vector, p), exclude });
    // Products added by an update since the index was built sit past it: scanned.
    for (let p = index.count; p < matrix.count; p++) if (!exclude?.(p)) hits.push({ index: p, score: rowScore(matrix, vector, p) });
    return hits.sort((x, y) => y.score - x.score || x.index - y.index).slice(0, k);
  }

  async function similar(q: RowQuery, b: OpenBundle): Promise<RowResult> {
    if (!b.bundle.manifest.similar) return { row: 'similar', basis: 'embedding', items: [] };
    if (b.bundle.manifest.paged) {
      const first = pagedSimilar(b.bundle, q.product, wanted(q));
      b.firstRows.set(q.product, first.catch(() => undefined));
      const listed = await first;
      if (listed) return { row: 'similar', basis: 'embedding', items: toItems(b, listed.hits, q, listed.item) };
      // Not in the catalog: its image against the whole index (fetched for image queries only).
      const embedded = await imageVector(q, b);
      if (!embedded) return { row: 'similar', basis: 'image', items: [] };
      const hits = b.bundle.manifest.paged.cells ? await pagedNearest(b.bundle, embedded.vector, wanted(q)) : await nearest(b, embedded.vector, wanted(q));
      const list = await b.bundle.products(hits.map((h) => h.index));
      const byIndex = new Map(hits.map((h, k) => [h.index, list[k]!]));
      return { row: 'similar', basis: 'image', items: toItems(b, hits, q, (i) => byIndex.get(i)!), backend: embedded.backend };
    }
    const matrix = await b.bundle.embeddings();
    const self = b.index.get(q.product);
    // Over-fetch a little: items with unusable URLs are dropped after the search.
    const k = wanted(q);
    if (self !== undefined) {
      const hits = await nearest(b, dequantizeRow(matrix, self), k, (j) => j === self);
      return { row: 'similar', basis: 'embedding', items: toItems(b, hits, q) };
    }
    const embedded = await imageVector(q, b);
    if (!embedded) return { row: 'similar', basis: 'image', items: [] };
    const hits = await nearest(b, embedded.vector, k);
    return { row: 'similar', basis: 'image', items: toItems(b, hits, q), backend: embedded.backend };
  }

  async function complementary(q: RowQuery, b: OpenBundle): Promise<RowResult> {
    const c = b.bundle.manifest.complementary;
    const self = b.index.get(q.product);
    if (!c) return { row: 'complementary', basis: 'complementary', items: [] };
    if (b.bundle.manifest.paged) {
      // Products outside a paged catalog get no goes-with row: the pair model would score every product.
      await b.firstRows.get(q.product);
      const listed = await pagedGoesWith(b.bundle, q.product, wanted(q), q.limit);
      return listed ? { row: 'complementary', basis: 'complementary', items: toItems(b, listed.hits, q, listed.item) } : { row: 'complementary', basis: 'pair-model', items: [] };
    }
    if (self !== undefined && c.file) {
      const hits = goesWithRow(await listsOf(b, c.file), self).filter((h) => b.items[h.index]!.inStock !== false);
      return { row: 'complementary', basis: 'complementary', items: toItems(b, diversify(hits, categoryOf(b), wanted(q), Math.ceil(q.limit / 3)), q) };
    }
    // Not in the bundle: the pair model scores the catalog against the product's image and title.
    const ref = c.pairModel;
    const embedded = ref && (await imageVector(q, b));
    if (!ref || !embedded) return { row: 'complementary', basis: 'pair-model', items: [] };
    const pm = await once<PairModel>(b.models, 'pair', async () => {
      const { header, weights } = await b.bundle.tensors(ref);
      return loading(ref.model, () => PairModel.load(header, weights, b.items.length, ref.model));
    });
    // Its category: the commonest among its nearest catalog neighbours.
    const near = await nearest(b, embedded.vector, 10);
    const votes = new Map<string, number>();
    for (const n of near) {
      const cat = b.items[n.index]!.category;
      if (cat) votes.set(cat, (votes.get(cat) ?? 0) + 1);
    }
    const category = [...votes].sort((x, y) => y[1] - x[1])[0]?.[0];
    const categories = [...new Set(b.items.map((it) => it.category).filter((x): x is string => !!x))].sort();
    const leg = pm.leg(embedded.vector, category === undefined ? 0 : categories.indexOf(category) + 1, titleBuckets(q.title ?? '', undefined, pm.dims.buckets));
    const scores = new Float32Array(b.items.length);
    b.items.forEach((it, j) => {
      scores[j] = it.category === category || it.inStock === false ? NaN : pm.score(leg, pm.catalogLeg(j));
    });
    const hits = diversify(topIndices(scores, 4 * q.limit + wanted(q)), categoryOf(b), wanted(q), Math.ceil(q.limit / 3));
    return { row: 'complementary', basis: 'pair-model', items: toItems(b, hits, q), backend: embedded.backend };
  }

  async function next(q: RowQuery, b: OpenBundle): Promise<RowResult> {
    const n = b.bundle.manifest.nextView;
    if (!n) return { row: 'next', basis: 'often-next', items: [] };
    const views = (await (await history).list()).filter((e) => e.kind === 'view');
    const paged = b.bundle.manifest.paged;
    if (paged) {
      const ids: string[] = [];
      for (const e of [...currentSession(views, Date.now()), { productId: q.product }]) if (e.productId && ids[ids.length - 1] !== e.productId) ids.push(e.productId);
      await b.firstRows.get(q.product);
      const listed = await pagedNext(b.bundle, ids, paged.nextDepth, wanted(q));
      return { row: 'next', basis: ids.length > 1 ? 'session' : 'often-next', items: toItems(b, listed.hits, q, listed.item) };
    }
    // The shopper's current session, as bundle indices, repeats of the same product collapsed;
    // the page's product is its latest view (also when history is off and nothing was recorded).
    const session: number[] = [];
    for (const e of currentSession(views, Date.now())) {
      const i = b.index.get(e.productId);
      if (i !== undefined && session[session.length - 1] !== i) session.push(i);
    }
    const self = b.index.get(q.product);
    if (self !== undefined && session[session.length - 1] !== self) session.push(self);
    if (!session.length) return { row: 'next', basis: 'often-next', items: [] };
    // The scorer is its own chunk: the first row never waits for it.
    const scorer = await import('../recommend/next-view.js');
    const sessionsFile = n.sessions;
    if (!sessionsFile) return { row: 'next', basis: 'often-next', items: [] };
    const ix = await once<SessionIndex>(b.models, 'sessions', async () => {
      await b.primary;
      return scorer.indexSessions(await b.bundle.sessions(sessionsFile), b.items.length);
    });
    let model: Float64Array | undefined;
    let backend: BackendInfo | undefined;
    if (n.model && needsModel(session, n.method)) {
      const ref = n.model;
      const loaded = await tf(q.backend);
      backend = loaded.backend;
      const nv = await once<NextViewModel>(b.models, 'next', async () => {
        const { header, weights } = await b.bundle.tensors(ref);
        return loading(ref.model, () => loaded.rt.NextViewModel.load(header, weights, b.items.length, ref.model));
      });
      model = scorer.modelProbabilities(await nv.scores(session));
    }
    const hits = scorer.nextViewTop(ix, session, n.method, wanted(q), new Set(session), model);
    // One view: "often viewed after this"; more: read from this shopper's session.
    return { row: 'next', basis: session.length > 1 ? 'session' : 'often-next', items: toItems(b, hits, q), ...(backend ? { backend } : {}) };
  }

  return {
    async recommend(q) {
      checkQuery(q);
      const b = await open(q.src, q);
      return q.row === 'similar' ? similar(q, b) : q.row === 'complementary' ? complementary(q, b) : next(q, b);
    },
    async record(e) {
      await (await history).add(validateEvent(e));
    },
    async history() {
      return (await history).list();
    },
    async forget(productId) {
      await (await history).forget(String(productId));
    },
    async clearHistory() {
      await (await history).clear();
    },
    async storage() {
      return (await history).kind;
    },
  };
}
