import {
  BundleError, MAX_MANIFEST_BYTES, parseJson, validateItems, validateManifest, validateTopK,
  type BundleItem, type ModelRef, type Manifest,
} from './format.js';
import { once } from './once.js';
import type { Paging } from './paging.js';
import type { IvfIndex } from '../recommend/ivf.js';
import type { SessionLists } from '../recommend/sessions.js';
import type { TopKLists } from '../recommend/cooccurrence.js';
import { readCapped } from './read-capped.js';
import { sha256Hex } from './sha256.js';
import { unitScales, type QuantizedMatrix } from '../recommend/knn.js';
import type { ModelArtifacts } from '../model/model-io.js';
import type { TensorHeader } from './tensor-file.js';
import type { PopularLists } from './popular.js';

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface ReaderOptions {
  fetch?: Fetch;
  /** Retries of a failed fetch (network error, dropped or stalled connection, 5xx, 408, 429), with exponential backoff. */
  retries?: number;
  retryDelayMs?: number;
  /** An attempt that receives nothing (no headers, no bytes) for this long is aborted: a stalled response. */
  stallMs?: number;
  /** Each attempt's deadline: this, plus the file's size at 50 kB/s. */
  timeoutMs?: number;
  /**
   * The manifest's text, already fetched from `manifestUrl` in this page view (by the page's
   * prefetch): used instead of fetching it again, with the same size cap and checks.
   */
  manifest?: string;
  /**
   * Files the page has fetched from this bundle in this page view: taken from the HTTP cache without
   * asking the server again (`force-cache`: no revalidation round trip); their length and sha256
   * are still checked, a copy that fails is fetched past every cache, and a retry asks the server.
   */
  cached?: readonly string[];
}

/** How files are fetched: every option but what the page already has. */
type Retrying = Required<Omit<ReaderOptions, 'manifest' | 'cached'>>;

/**
 * A bundle opened from its manifest URL. Files are fetched on first use, checked against the
 * manifest's length and sha256, parsed and validated once; later calls share the result.
 */
export interface Bundle extends Paging {
  readonly url: string;
  readonly manifest: Manifest;
  items(): Promise<BundleItem[]>;
  embeddings(): Promise<QuantizedMatrix>;
  topK(path: string): Promise<TopKLists>;
  /** A session sample (the next-view row's), decoded and checked against the item count. */
  sessions(path: string): Promise<SessionLists>;
  /** The similar row's search index, decoded and checked against the item count and dims. */
  ivf(path: string): Promise<IvfIndex>;
  /** The popularity lists short rows are topped up from; `undefined` in a bundle built before them. */
  popular(): Promise<PopularLists | undefined>;
  /** Identifies this build of the bundle (a hash of its manifest, which lists every file's sha256). */
  readonly version: string;
  /** A TF.js model's two files, fetched and verified. */
  model(ref: ModelRef): Promise<ModelArtifacts>;
  /** A `tensors` model: its JSON header and weights, fetched and verified. */
  tensors(ref: ModelRef): Promise<{ header: TensorHeader; weights: ArrayBuffer }>;
  /** Resolves a path from the bundle (an item's image, say) against the manifest URL. */
  resolve(path: string): string;
}

/** A body longer than allowed: for a bundle file, possibly a stale cached copy. */
class TooLong extends BundleError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Statuses worth another try: the server or a proxy may answer differently in a moment. */
const transient = (status: number) => status >= 500 || status === 408 || status === 429;

/** A response's body, refused by its Content-Length or cut off once it passes `max` bytes. */
async function readBody(res: Response, file: string, max: number, limit: string, progress: () => void): Promise<ArrayBuffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  // Compressed transfers may exceed the decoded size a little (gzip's worst case is ~0.03% + a header).
  if (declared > max + (max >> 10) + 1024) {
    res.body?.cancel().catch(() => {});
    throw new TooLong(file, `is ${declared} bytes (Content-Length), more than the ${max} ${limit}`);
  }
  if (!res.body) return res.arrayBuffer();
  const bytes = await readCapped(res.body, max, progress);
  if (!bytes) throw new TooLong(file, `is longer than the ${max} bytes ${limit}; stopped reading`);
  return bytes.buffer as ArrayBuffer;
}

/**
 * GETs a file, idempotently, a bounded number of times: network errors, dropped connections,
 * stalls and transient statuses are retried with exponential backoff; 404 and other answers are not.
 */
async function fetchBytes(url: string, file: string, max: number, limit: string, opts: Retrying, cache?: RequestCache): Promise<ArrayBuffer> {
  for (let attempt = 0; ; attempt++) {
    const ctrl = new AbortController();
    let why = '';
    const abort = (reason: string) => {
      why = reason;
      ctrl.abort();
    };
    let stall: ReturnType<typeof setTimeout> | undefined;
    const progress = () => {
      clearTimeout(stall);
      stall = setTimeout(() => abort(`stalled: nothing received for ${opts.stallMs} ms`), opts.stallMs);
    };
    const ms = Math.round(opts.timeoutMs + max / 50);
    const deadline = setTimeout(() => abort(`not complete within ${ms} ms`), ms);
    let failure: string;
    progress();
    try {
      // `credentials: 'omit'`: the bundle is public static data; never send the store's cookies.
      // `force-cache` only for the first attempt: a retry asks the server.
      const mode = cache === 'force-cache' && attempt > 0 ? undefined : cache;
      const res = await opts.fetch(url, { credentials: 'omit', signal: ctrl.signal, ...(mode && { cache: mode }) });
      if (res.ok) return await readBody(res, file, max, limit, progress);
      res.body?.cancel().catch(() => {});
      if (!transient(res.status)) throw new BundleError(file, `HTTP ${res.status} from ${url}`);
      failure = `HTTP ${res.status}`;
    } catch (e) {
      if (e instanceof BundleError) throw e;
      failure = why || (e as Error).message;
    } finally {
      clearTimeout(stall);
      clearTimeout(deadline);
    }
    if (attempt >= opts.retries) throw new BundleError(file, `could not be fetched from ${url} in ${attempt + 1} tries (${failure})`);
    await sleep(opts.retryDelayMs * 2 ** attempt);
  }
}


/**
 * A paged bundle's readers (bundle/paging.ts), loaded as soon as the manifest says the bundle is
 * paged (while its first files are still on the way), else on first use: an unpaged bundle never needs them.
 */
function lazyPaging(load: () => Promise<Paging>, now: boolean): Paging {
  let loaded: Promise<Paging> | undefined;
  const get = () => (loaded ??= load());
  if (now) get().catch(() => {});
  return {
    page: async (id) => (await get()).page(id),
    products: async (indices) => (await get()).products(indices),
    ivfHead: async () => (await get()).ivfHead(),
    ivfTail: async () => (await get()).ivfTail(),
    cell: async (c) => (await get()).cell(c),
  };
}

/** FNV-1a (32 bits) as 8 hex digits: the manifest lists every file's sha256, so its hash names the build. */
export function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Fetches and validates a bundle's manifest; the files themselves load on demand. */
export async function openBundle(manifestUrl: string, options: ReaderOptions = {}): Promise<Bundle> {
  const opts: Retrying = {
    fetch: options.fetch ?? ((u, i) => fetch(u, i)),
    retries: options.retries ?? 2,
    retryDelayMs: options.retryDelayMs ?? 300,
    stallMs: options.stallMs ?? 10_000,
    timeoutMs: options.timeoutMs ?? 15_000,
  };
  const base = new URL(manifestUrl, typeof location === 'undefined' ? undefined : location.href).href;
  const given = typeof options.manifest === 'string' ? new TextEncoder().encode(options.manifest) : undefined;
  const manifestBytes = given && given.byteLength <= MAX_MANIFEST_BYTES ? (given.buffer as ArrayBuffer) : await fetchBytes(base, 'manifest.json', MAX_MANIFEST_BYTES, 'allowed', opts);
  const manifest = validateManifest(parseJson(manifestBytes, 'manifest.json'));
  const access = fileAccess(base, manifest, new Set(options.cached ?? []), opts);
  return {
    url: base,
    manifest,
    version: fnv1a(new Uint8Array(manifestBytes)),
    resolve: access.resolve,
    ...lazyPaging(() => import('./paging.js').then((m) => m.paging(manifest, access.verified, access.file, access.cached)), !!manifest.paged),
    ...wholeFiles(manifest, access.file, access.cached),
  };
}

/**
 * How a bundle's files are fetched: each once, checked against its length and sha256; `cachedNow`
 * are files the page has just received (taken from the HTTP cache as they are).
 */
function fileAccess(base: string, manifest: Manifest, cachedNow: ReadonlySet<string>, opts: Retrying) {
  const resolve = (path: string) => new URL(path, base).href;
  const cache = new Map<string, Promise<unknown>>();
  const cached = <T>(key: string, load: () => Promise<T>) => once(cache, key, load);
  /**
   * A file checked against its length (when known: at most `max` otherwise) and sha256, which may
   * still be on its way (from a sums file): the file is fetched meanwhile.
   */
  const verified = (path: string, entry: { bytes?: number; sha256: string | Promise<string> }, max = entry.bytes ?? 0): Promise<ArrayBuffer> =>
    cached(`file:${path}`, async () => {
      void Promise.resolve(entry.sha256).catch(() => {}); // awaited below; a failure is reported there
      // Never more than the manifest says: an endless or lying response is cut off at that length.
      const get = (cache?: RequestCache) => fetchBytes(resolve(path), path, max, entry.bytes === undefined ? 'allowed' : 'the manifest says', opts, cache);
      const check = async (bytes: ArrayBuffer) => {
        if (entry.bytes !== undefined && bytes.byteLength !== entry.bytes) return `has ${bytes.byteLength} bytes, the manifest says ${entry.bytes}`;
        const [digest, want] = await Promise.all([sha256Hex(bytes), entry.sha256]);
        return digest === want ? '' : `sha256 is ${digest}, the ${entry.bytes === undefined ? 'sums file' : 'manifest'} says ${want}`;
      };
      // A file the page has just received is taken from the cache as it is: the checksum says whether it is this manifest's.
      let bytes = await get(cachedNow.has(path) ? 'force-cache' : undefined).catch((e) => (e instanceof TooLong ? undefined : Promise.reject(e)));
      // A cached copy (the browser's or a CDN's) may predate the manifest: one fetch past every cache.
      if (!bytes || (await check(bytes))) bytes = await get('reload');
      const wrong = await check(bytes);
      if (wrong) throw new BundleError(path, wrong);
      return bytes;
    });
  const file = (path: string): Promise<ArrayBuffer> => {
    const entry = manifest.files[path];
    return entry ? verified(path, entry) : Promise.reject(new BundleError(path, 'is not listed in the manifest'));
  };
  return { resolve, cached, verified, file };
}

/** The readers of whole-catalog files and models, each decoded and checked once. */
function wholeFiles(
  manifest: Manifest,
  file: (path: string) => Promise<ArrayBuffer>,
  cached: <T>(key: string, load: () => Promise<T>) => Promise<T>,
): Pick<Bundle, 'items' | 'embeddings' | 'topK' | 'sessions' | 'ivf' | 'tensors' | 'model' | 'popular'> {
  const count = manifest.items.count;
  const whole = (path: string | undefined, what: string): string => {
    if (path === undefined) throw new BundleError('manifest.json', `names no ${what} file (a paged bundle's rows read its pages)`);
    return path;
  };
  /** A model's JSON and weights, fetched together. */
  const twoFiles = (ref: ModelRef) => Promise.all([file(ref.model), file(ref.weights)]);
  return {
    items: () =>
      cached('items', async () => {
        const path = whole(manifest.items.file, 'items');
        return validateItems(parseJson(await file(path), path), count, path);
      }),
    embeddings: () =>
      cached('embeddings', async () => {
        const s = manifest.similar;
        if (!s) throw new BundleError('manifest.json', 'has no similar section');
        const [codeBytes, scalesBytes] = await Promise.all([file(s.codes), s.scales === undefined ? undefined : file(s.scales)]);
        const codes = new Int8Array(codeBytes);
        if (!scalesBytes) return { codes, scales: unitScales(codes, s.dims), count, dims: s.dims };
        const scales = new Float32Array(scalesBytes);
        for (let i = 0; i < scales.length; i++) {
          if (!Number.isFinite(scales[i]!)) throw new BundleError(s.scales!, `scale ${i} is not a finite number`);
        }
        return { codes, scales, count, dims: s.dims };
      }),
    topK: (path) => cached(`topk:${path}`, async () => validateTopK(parseJson(await file(path), path), count, path)),
    // The decoder loads with the next row, not with the first.
    sessions: (path) => cached(`sessions:${path}`, async () => (await import('./session-file.js')).decodeSessions(await file(path), count, path)),
    popular: () =>
      cached('popular', async () => {
        const path = manifest.popular;
        return path === undefined ? undefined : (await import('./popular.js')).decodePopular(await file(path), count, path);
      }),
    ivf: (path) =>
      cached(`ivf:${path}`, async () => {
        const dims = manifest.similar?.dims ?? 0;
        return (await import('./ivf-file.js')).decodeIvf(await file(path), count, dims, path);
      }),
    tensors: (ref) =>
      cached(`tensors:${ref.model}`, async () => {
        const [json, weights] = await twoFiles(ref);
        const header = parseJson(json, ref.model) as TensorHeader;
        if (header?.format !== 'vitrine-tensors' || !Array.isArray(header.tensors)) throw new BundleError(ref.model, 'is not a vitrine-tensors header');
        return { header, weights };
      }),
    model: (ref) =>
      cached(`layers:${ref.model}`, async () => {
        const [json, weights] = await twoFiles(ref);
        const modelJson = parseJson(json, ref.model) as ModelArtifacts['modelJson'];
        if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
          throw new BundleError(ref.model, 'is not a TF.js model (modelTopology and weightsManifest expected)');
        }
        return { modelJson, weights };
      }),
  };
}
