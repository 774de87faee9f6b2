import {
  BundleError, MAX_MANIFEST_BYTES, validateItems, validateManifest, validateTopK,
  type BundleItem, type ModelRef, type Manifest, type TopKFile,
} from './format.js';
import { once } from './once.js';
import { sha256Hex } from './sha256.js';
import type { QuantizedMatrix } from '../recommend/knn.js';
import type { ModelArtifacts } from '../model/model-io.js';
import type { TensorHeader } from '../model/tensor-file.js';

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface ReaderOptions {
  fetch?: Fetch;
  /** Retries of a failed fetch (network error or 5xx), with exponential backoff. */
  retries?: number;
  retryDelayMs?: number;
}

/**
 * A bundle opened from its manifest URL. Files are fetched on first use, checked against the
 * manifest's length and sha256, parsed and validated once; later calls share the result.
 */
export interface Bundle {
  readonly url: string;
  readonly manifest: Manifest;
  items(): Promise<BundleItem[]>;
  embeddings(): Promise<QuantizedMatrix>;
  topK(path: string): Promise<TopKFile>;
  /** A TF.js model's two files, fetched and verified. */
  model(ref: ModelRef): Promise<ModelArtifacts>;
  /** A `tensors` model: its JSON header and weights, fetched and verified. */
  tensors(ref: ModelRef): Promise<{ header: TensorHeader; weights: ArrayBuffer }>;
  /** Resolves a path from the bundle (an item's image, say) against the manifest URL. */
  resolve(path: string): string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fetchBytes(url: string, file: string, maxBytes: number, opts: Required<ReaderOptions>): Promise<ArrayBuffer> {
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      // `credentials: 'omit'`: the bundle is public static data; never send the store's cookies.
      res = await opts.fetch(url, { credentials: 'omit' });
    } catch (e) {
      if (attempt < opts.retries) { await sleep(opts.retryDelayMs * 2 ** attempt); continue; }
      throw new BundleError(file, `could not be fetched from ${url} (${(e as Error).message})`);
    }
    if (res.status >= 500 && attempt < opts.retries) { await sleep(opts.retryDelayMs * 2 ** attempt); continue; }
    if (!res.ok) throw new BundleError(file, `HTTP ${res.status} from ${url}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > maxBytes) throw new BundleError(file, `is ${declared} bytes, more than the ${maxBytes} allowed`);
    const body = await res.arrayBuffer();
    if (body.byteLength > maxBytes) throw new BundleError(file, `is ${body.byteLength} bytes, more than the ${maxBytes} allowed`);
    return body;
  }
}

function parseJson(bytes: ArrayBuffer, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new BundleError(file, `is not valid JSON (${(e as Error).message})`);
  }
}

/** Fetches and validates a bundle's manifest; the files themselves load on demand. */
export async function openBundle(manifestUrl: string, options: ReaderOptions = {}): Promise<Bundle> {
  const opts: Required<ReaderOptions> = {
    fetch: options.fetch ?? ((u, i) => fetch(u, i)),
    retries: options.retries ?? 2,
    retryDelayMs: options.retryDelayMs ?? 300,
  };
  const base = new URL(manifestUrl, typeof location === 'undefined' ? undefined : location.href).href;
  const manifest = validateManifest(parseJson(await fetchBytes(base, 'manifest.json', MAX_MANIFEST_BYTES, opts), 'manifest.json'));
  const resolve = (path: string) => new URL(path, base).href;
  const cache = new Map<string, Promise<unknown>>();
  const cached = <T>(key: string, load: () => Promise<T>) => once(cache, key, load);

  const file = (path: string): Promise<ArrayBuffer> =>
    cached(`file:${path}`, async () => {
      const entry = manifest.files[path];
      if (!entry) throw new BundleError(path, 'is not listed in the manifest');
      const bytes = await fetchBytes(resolve(path), path, entry.bytes, opts);
      if (bytes.byteLength !== entry.bytes) throw new BundleError(path, `has ${bytes.byteLength} bytes, the manifest says ${entry.bytes}`);
      const digest = await sha256Hex(bytes);
      if (digest !== entry.sha256) throw new BundleError(path, `sha256 is ${digest}, the manifest says ${entry.sha256}`);
      return bytes;
    });
  const count = manifest.items.count;

  return {
    url: base,
    manifest,
    resolve,
    items: () => cached('items', async () => validateItems(parseJson(await file(manifest.items.file), manifest.items.file), count, manifest.items.file)),
    embeddings: () =>
      cached('embeddings', async () => {
        const s = manifest.similar;
        if (!s) throw new BundleError('manifest.json', 'has no similar section');
        const [codes, scalesBytes] = await Promise.all([file(s.codes), file(s.scales)]);
        const scales = new Float32Array(scalesBytes);
        for (let i = 0; i < scales.length; i++) {
          if (!Number.isFinite(scales[i]!)) throw new BundleError(s.scales, `scale ${i} is not a finite number`);
        }
        return { codes: new Int8Array(codes), scales, count, dims: s.dims };
      }),
    topK: (path) => cached(`topk:${path}`, async () => validateTopK(parseJson(await file(path), path), count, path)),
    tensors: (ref) =>
      cached(`tensors:${ref.model}`, async () => {
        const [json, weights] = await Promise.all([file(ref.model), file(ref.weights)]);
        const header = parseJson(json, ref.model) as TensorHeader;
        if (header?.format !== 'vitrine-tensors' || !Array.isArray(header.tensors)) throw new BundleError(ref.model, 'is not a vitrine-tensors header');
        return { header, weights };
      }),
    model: (ref) =>
      cached(`layers:${ref.model}`, async () => {
        const [json, weights] = await Promise.all([file(ref.model), file(ref.weights)]);
        const modelJson = parseJson(json, ref.model) as ModelArtifacts['modelJson'];
        if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
          throw new BundleError(ref.model, 'is not a TF.js model (modelTopology and weightsManifest expected)');
        }
        return { modelJson, weights };
      }),
  };
}
