import { checkNextViewConfig, type NextViewConfig } from '../recommend/next-view-config.js';
import type { TopKLists } from '../recommend/cooccurrence.js';
import { isBundlePath } from './paths.js';
import { CELLS_HEAD, sumsFiles, type PagedSection } from './pages.js';

/**
 * The model bundle's format: a `manifest.json` that lists every file with its byte length and
 * sha256, and says which files each row uses. Paths are relative to the manifest's URL.
 *
 * A reader refuses a bundle whose format or version it does not know, a file whose length or
 * checksum differs, or shapes that disagree — with a {@link BundleError} naming the file and field.
 */

export const BUNDLE_FORMAT = 'vitrine-bundle';
export const BUNDLE_VERSION = 2;
/** The largest file a reader accepts, checked against the manifest before anything is allocated. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
export { MAX_MANIFEST_BYTES } from './paths.js';
/** The most all of a bundle's files may add up to (a million products with PQ codes need ~100 MB). */
export const MAX_BUNDLE_BYTES = 1024 * 1024 * 1024;

export interface FileEntry {
  bytes: number;
  sha256: string;
}

export interface ModelRef {
  /** model.json path; it names its weights file, which must be listed in `files` too. */
  model: string;
  weights: string;
  /**
   * A Keras-style layers model (default), a graph model (a converted SavedModel), or `tensors`:
   * Vitrine's own weights file (`model` is its JSON header, see bundle/tensor-file.ts).
   */
  format?: 'layers' | 'graph' | 'tensors';
}

/** How pixels in [0, 255] are scaled for the image model: to [0, 1] (default), [-1, 1], or kept. */
export type InputRange = [number, number];

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  name: string;
  /** When the bundle was built; absent in reproducible builds. */
  createdAt?: string;
  /** Every file of the bundle, by path relative to the manifest. */
  files: Record<string, FileEntry>;
  /** `file`: every product (absent in a paged bundle, whose products are in its meta files). */
  items: { count: number; file?: string };
  /**
   * A catalog too large to download whole: rows from per-product page records, product data from
   * meta files, both verified through sums files (bundle/pages.ts). The rows' own files are then absent.
   */
  paged?: PagedSection;
  /**
   * Files the page shows but the worker never reads (product thumbnails), listed with their
   * length and sha256 in this JSON file — itself listed in `files` — to keep the manifest small.
   */
  assets?: string;
  similar?: {
    dims: number;
    /** `count × dims` int8 codes, row-major. */
    codes: string;
    /**
     * `count` float32 little-endian per-row scales. Optional: without it the rows are unit-length
     * vectors and the reader derives each scale from its codes (knn.ts `unitScales`); the builder
     * writes none.
     */
    scales?: string;
    metric: 'cosine';
    /**
     * A search index (bundle/ivf-file.ts) for catalogs too large to scan: 4-bit codes in cells,
     * products listed in its cell order. Searches rescore their short list against `codes`.
     */
    index?: string;
  };
  imageModel?: {
    /** The pretrained CNN: image in, pooled features out. */
    backbone: ModelRef;
    /** The catalog-adapted projection head: backbone features in, `similar.dims` out. */
    head: ModelRef;
    /** Side of the square input the backbone takes. */
    inputSize: number;
    inputRange?: InputRange;
  };
  complementary?: {
    /** Per product, its goes-with list (`[index, score]`, best first; see recommend/goes-with.ts); in the page records of a paged bundle. */
    file?: string;
    /** How the lists were scored, as the builder chose on the store's held-back baskets. */
    method: GoesWithMethod;
    /** The pair model (seed §3) that filled short lists; the worker uses it for products outside the bundle. */
    pairModel?: ModelRef;
    validation?: Validation;
  };
  nextView?: {
    /** The session sample (bundle/session-file.ts) the scorer reads; a paged bundle has per-product lists instead. */
    sessions?: string;
    /** The scorer's components and weights (recommend/next-view-config.ts), as the builder chose. */
    method: NextViewConfig;
    /** The GRU, present exactly when `method.model` blends it in. */
    model?: ModelRef;
    validation?: Validation;
  };
  /** The popularity lists a short row is topped up from (bundle/popular.ts); absent in bundles built before them. */
  popular?: string;
}

/** How the goes-with lists were scored (recommend/cooccurrence.ts). */
export interface GoesWithMethod {
  score: 'count' | 'conditional' | 'cosine';
  prior?: number;
  alpha?: number;
  llrTail?: number;
  k: number;
}

/** What the builder measured on held-back data when it chose a row's method. */
export interface Validation {
  /** The metric, e.g. `MRR@20:new` or `HR@10`. */
  metric: string;
  score: number;
  /** Bootstrap 95% interval. */
  lo: number;
  hi: number;
  queries: number;
  /** The choice and why, in a sentence. */
  reason: string;
}

/** One product as the bundle lists it; `image` and `url` may be relative to the manifest. */
export interface BundleItem {
  id: string;
  title: string;
  url: string;
  image: string;
  price?: number;
  currency?: string;
  category?: string;
  brand?: string;
  /** `false`: never recommended (its own page still gets rows — out-of-stock replacements). */
  inStock?: boolean;
}

/** A top-k list per item index: `[otherIndex, score]`, best first. */

/** Why a bundle was refused: which file and what is wrong with it. */
export class BundleError extends Error {
  override name = 'BundleError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`bundle file ${file}: ${reason}`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPath = isBundlePath;
const isCount = (v: unknown, max: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;

/** What the manifest's sections are checked with: its files and item count, and failing with a field named. */
interface Checks {
  files: Record<string, FileEntry>;
  count: number;
  fail(field: string, why: string): never;
  /** `p`, a relative path listed in `files`. */
  listed(field: string, p: unknown): string;
  /** A row's whole-catalog file: required unless the bundle is paged. */
  own(field: string, p: unknown): string | undefined;
  /** A model reference whose files are listed, in one of `formats`. */
  model(field: string, m: unknown, formats?: string[]): Record<string, unknown>;
  /** An optional validation record. */
  validation(field: string, v: unknown): void;
}

/**
 * Checks a parsed manifest's shape and cross-references (every referenced path is listed, sizes
 * agree with counts and dims) and returns it typed; throws a BundleError otherwise.
 */
export function validateManifest(raw: unknown, file = 'manifest.json'): Manifest {
  const fail = (field: string, why: string): never => {
    throw new BundleError(file, `${field} ${why}`);
  };
  if (!isObj(raw)) return fail('the manifest', 'is not a JSON object');
  if (raw.format !== BUNDLE_FORMAT) fail('format', `is ${JSON.stringify(raw.format)}, expected "${BUNDLE_FORMAT}"`);
  if (raw.version !== BUNDLE_VERSION) fail('version', `${JSON.stringify(raw.version)} is not supported (this reader knows ${BUNDLE_VERSION})`);
  const files = checkFiles(raw.files, fail);
  if (!isObj(raw.items)) return fail('items', 'is missing');
  if (!isCount(raw.items.count, 10_000_000)) fail('items.count', 'must be a non-negative integer');
  const c = checks(files, raw.items.count as number, raw.paged !== undefined, fail);
  if (raw.paged !== undefined) checkPaged(raw.paged, c);
  c.own('items.file', raw.items.file);
  if (raw.assets !== undefined) c.listed('assets', raw.assets);
  if (raw.similar !== undefined) checkSimilar(raw.similar, c);
  if (raw.imageModel !== undefined) checkImageModel(raw.imageModel, raw.similar !== undefined, c);
  if (raw.complementary !== undefined) checkComplementary(raw.complementary, c);
  if (raw.nextView !== undefined) checkNextView(raw.nextView, c);
  if (raw.popular !== undefined) c.listed('popular', raw.popular);
  return raw as unknown as Manifest;
}

/** The files list: relative paths, each with a length in bounds and a sha256; in all, no more than a bundle may hold. */
function checkFiles(raw: unknown, fail: Checks['fail']): Record<string, FileEntry> {
  if (!isObj(raw)) return fail('files', 'is missing');
  for (const [path, e] of Object.entries(raw)) {
    if (!isPath(path)) fail(`files[${JSON.stringify(path)}]`, 'is not a relative path');
    if (!isObj(e) || !isCount(e.bytes, MAX_FILE_BYTES)) fail(`files["${path}"].bytes`, `must be an integer from 0 to ${MAX_FILE_BYTES}`);
    if (!isObj(e) || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) fail(`files["${path}"].sha256`, 'must be 64 hex digits');
  }
  const files = raw as Record<string, FileEntry>;
  const total = Object.values(files).reduce((a, e) => a + e.bytes, 0);
  if (total > MAX_BUNDLE_BYTES) fail('files', `add up to ${total} bytes, more than the ${MAX_BUNDLE_BYTES} allowed`);
  return files;
}

function checks(files: Record<string, FileEntry>, count: number, paged: boolean, fail: Checks['fail']): Checks {
  const listed = (field: string, p: unknown): string => {
    if (!isPath(p)) return fail(field, 'must be a relative path');
    if (!files[p]) fail(field, `names "${p}", which is not listed in files`);
    return p;
  };
  return {
    files, count, fail, listed,
    own: (field, p) => (p === undefined && paged ? undefined : listed(field, p)),
    model: (field, m, formats = ['layers', 'graph']) => {
      if (!isObj(m)) return fail(field, 'is not an object');
      listed(`${field}.model`, m.model);
      listed(`${field}.weights`, m.weights);
      if (!formats.includes((m.format as string | undefined) ?? 'layers')) fail(`${field}.format`, `must be ${formats.map((f) => `"${f}"`).join(' or ')}`);
      return m;
    },
    validation: (field, v) => {
      if (v === undefined) return;
      if (!isObj(v) || typeof v.metric !== 'string' || typeof v.reason !== 'string' || !['score', 'lo', 'hi', 'queries'].every((k) => typeof v[k] === 'number' && Number.isFinite(v[k]))) {
        fail(field, 'must be {metric, score, lo, hi, queries, reason}');
      }
    },
  };
}

function checkPaged(paged: unknown, { count, fail, listed }: Checks): void {
  if (!isObj(paged)) return fail('paged', 'is not an object');
  for (const k of ['pages', 'meta', 'metaSize', 'nextDepth'] as const) if (!isCount(paged[k], 10_000_000) || paged[k] === 0) fail(`paged.${k}`, 'must be a positive integer');
  if (Math.ceil(count / (paged.metaSize as number)) !== paged.meta) fail('paged.meta', `must be ⌈items.count / metaSize⌉ = ${Math.ceil(count / (paged.metaSize as number))}`);
  if (paged.cells !== undefined && (!isCount(paged.cells, 10_000_000) || paged.cells === 0)) fail('paged.cells', 'must be a positive integer');
  if (paged.cells !== undefined) listed('paged.cells (the index head)', CELLS_HEAD);
  if (paged.tail !== undefined) {
    if (paged.cells === undefined) fail('paged.tail', 'is given without paged.cells');
    listed('paged.tail', paged.tail);
  }
  for (const f of sumsFiles(paged as unknown as PagedSection)) listed('paged (its sums files)', f);
}

function checkSimilar(s: unknown, { files, count, fail, listed }: Checks): void {
  if (!isObj(s)) return fail('similar', 'is not an object');
  if (!isCount(s.dims, 4096) || s.dims === 0) fail('similar.dims', 'must be an integer from 1 to 4096');
  if (s.metric !== 'cosine') fail('similar.metric', 'must be "cosine"');
  const dims = s.dims as number;
  if (files[listed('similar.codes', s.codes)]!.bytes !== count * dims) fail('similar.codes', `file has ${files[s.codes as string]!.bytes} bytes, items.count × dims is ${count * dims}`);
  if (s.scales !== undefined && files[listed('similar.scales', s.scales)]!.bytes !== count * 4) fail('similar.scales', `file has ${files[s.scales as string]!.bytes} bytes, items.count × 4 is ${count * 4}`);
  if (s.index !== undefined) listed('similar.index', s.index);
}

function checkImageModel(m: unknown, hasSimilar: boolean, { fail, model }: Checks): void {
  if (!isObj(m)) return fail('imageModel', 'is not an object');
  model('imageModel.backbone', m.backbone);
  model('imageModel.head', m.head, ['layers']);
  if (!isCount(m.inputSize, 1024) || m.inputSize === 0) fail('imageModel.inputSize', 'must be an integer from 1 to 1024');
  const r = m.inputRange;
  if (r !== undefined && !(Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === 'number' && Number.isFinite(x)) && r[0] < r[1])) {
    fail('imageModel.inputRange', 'must be [low, high] with low < high');
  }
  if (!hasSimilar) fail('imageModel', 'needs a similar section to search in');
}

function checkComplementary(c: unknown, { fail, own, model, validation }: Checks): void {
  if (!isObj(c)) return fail('complementary', 'is not an object');
  own('complementary.file', c.file);
  const m = c.method;
  if (!isObj(m) || !['count', 'conditional', 'cosine'].includes(m.score as string)) fail('complementary.method.score', 'must be count, conditional or cosine');
  if (!isCount((m as Record<string, unknown>).k, 1000) || (m as Record<string, unknown>).k === 0) fail('complementary.method.k', 'must be an integer from 1 to 1000');
  if (c.pairModel !== undefined) model('complementary.pairModel', c.pairModel, ['tensors']);
  validation('complementary.validation', c.validation);
}

function checkNextView(n: unknown, { fail, own, model, validation }: Checks): void {
  if (!isObj(n)) return fail('nextView', 'is not an object');
  own('nextView.sessions', n.sessions);
  const why = checkNextViewConfig(n.method);
  if (why) fail('nextView.method', why);
  const blended = isObj(n.method) && n.method.model !== undefined;
  if (blended && n.model === undefined) fail('nextView.model', 'is missing, and nextView.method blends it in');
  if (!blended && n.model !== undefined) fail('nextView.model', 'is given, and nextView.method does not use it');
  if (n.model !== undefined) model('nextView.model', n.model, ['tensors']);
  validation('nextView.validation', n.validation);
}

/** Checks a parsed items file against the manifest's count. */
export function validateItems(raw: unknown, count: number, file: string): BundleItem[] {
  if (!Array.isArray(raw)) throw new BundleError(file, 'is not a JSON array');
  if (raw.length !== count) throw new BundleError(file, `lists ${raw.length} items, the manifest says ${count}`);
  const ids = new Set<string>();
  raw.forEach((it, i) => {
    if (!isObj(it) || typeof it.id !== 'string' || !it.id) throw new BundleError(file, `item ${i} has no string id`);
    if (ids.has(it.id)) throw new BundleError(file, `item ${i} repeats id ${JSON.stringify(it.id)}`);
    ids.add(it.id);
    for (const f of ['title', 'url', 'image'] as const) {
      if (typeof it[f] !== 'string') throw new BundleError(file, `item ${i} (${it.id}) has no string ${f}`);
    }
    if (it.price !== undefined && (typeof it.price !== 'number' || !Number.isFinite(it.price))) throw new BundleError(file, `item ${i} (${it.id}) has a price that is not a finite number`);
    if (it.inStock !== undefined && typeof it.inStock !== 'boolean') throw new BundleError(file, `item ${i} (${it.id}) has an inStock that is not true or false`);
  });
  return raw as BundleItem[];
}

/** Checks a parsed top-k file: one list per item, each entry an in-range index and a finite score. */
export function validateTopK(raw: unknown, count: number, file: string): TopKLists {
  if (!Array.isArray(raw) || raw.length !== count) throw new BundleError(file, `must be an array of ${count} lists`);
  raw.forEach((list, i) => {
    if (!Array.isArray(list)) throw new BundleError(file, `entry ${i} is not a list`);
    for (const e of list) {
      if (!Array.isArray(e) || !isCount(e[0], count - 1) || typeof e[1] !== 'number' || !Number.isFinite(e[1])) {
        throw new BundleError(file, `entry ${i} has an invalid [index, score] pair`);
      }
    }
  });
  return raw as TopKLists;
}

/** Parses a bundle file's JSON; invalid UTF-8 or JSON is a {@link BundleError} naming the file. */
export function parseJson(bytes: ArrayBuffer, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new BundleError(file, `is not valid JSON (${(e as Error).message})`);
  }
}
