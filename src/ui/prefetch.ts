/**
 * A head start for the first row. While the worker's script downloads and starts, the page already
 * fetches the bundle's manifest and the files the similar row reads (items, embeddings, scales; in a
 * paged bundle, the product's page file and its sums), the
 * way the worker will ask for them (`credentials: 'omit'`, same URLs), so the worker's own requests
 * find them in the HTTP cache or join the transfer in flight. On a phone's link this saves the
 * manifest's round trip and overlaps the worker's start with the bundle's bytes.
 *
 * - The manifest's text is kept for the page view and handed to the worker with its queries
 *   (`prefetched`), which checks it as if it had fetched it: that saves the worker a round trip
 *   (the manifest is typically `no-cache`: asking again means a revalidation) before it can ask
 *   for anything else.
 * - Other files only warm the HTTP cache: bodies are read and dropped. The worker is told which
 *   were asked for in this page view and reads those from the cache as they are (no revalidation
 *   round trip of its own); it still verifies length and sha256, fetches past the cache what
 *   fails, and reports every failure; here failures are silent.
 * - Never reads more than the manifest's own cap, or a file's listed length: an endless or lying
 *   response is cancelled, not drained for as long as the store's page is open.
 * - Only the bundle's own static files, as the worker would fetch them: relative paths inside it.
 */
import { isBundlePath, MAX_MANIFEST_BYTES } from '../bundle/paths.js';
import { readCapped } from '../bundle/read-capped.js';
import { MAX_SHARD_BYTES, pageOf, pagePath, SUMS_PER_FILE, sumsPath } from '../bundle/pages.js';

const warmed = new Set<string>();
/**
 * src → what this page view has of it: the manifest's text, and the files (paths) asked for. The
 * HTTP cache serves one request per entry at a time, so a later request of the worker for the same
 * URL waits for the page's and gets what it got: this page view's answer, not an older copy.
 */
const got = new Map<string, { manifest: string; cached: string[] }>();

/**
 * What this page has of `src`, for the worker's query: the manifest's text if it has come (an OK
 * answer, within the cap, valid UTF-8), and the files it has asked for — which the worker then
 * reads from the HTTP cache without a revalidation round trip of its own.
 */
export const prefetched = (src: string): { manifest?: string; cached?: string[] } => got.get(src) ?? {};

const get = (url: string) => fetch(url, { credentials: 'omit', priority: 'high' } as RequestInit);

/** The body, or undefined (and cancelled) when the answer is not OK or passes `max` bytes. */
const read = (res: Response, max: number) => (res.ok && res.body ? readCapped(res.body, max) : void res.body?.cancel().catch(() => {}));

interface ManifestView {
  files?: Record<string, { bytes?: unknown }>;
  items?: { file?: unknown };
  similar?: { codes?: unknown; scales?: unknown };
  paged?: { pages?: unknown };
}

/** The files the first row of `product` reads: a paged bundle's page of the product (and its sums), else the whole-catalog files. */
function firstRowFiles(m: ManifestView, product: string | undefined): [string, number][] {
  const pages = m.paged?.pages;
  if (m.paged) {
    if (!product || !Number.isInteger(pages) || (pages as number) < 1) return [];
    const n = pageOf(product, pages as number);
    const sums = sumsPath('pages', Math.floor(n / SUMS_PER_FILE));
    const size = m.files?.[sums]?.bytes;
    return typeof size === 'number' ? [[sums, size], [pagePath(n), MAX_SHARD_BYTES]] : [];
  }
  const out: [string, number][] = [];
  for (const path of [m.items?.file, m.similar?.codes, m.similar?.scales]) {
    const size = typeof path === 'string' ? m.files?.[path]?.bytes : undefined;
    if (typeof path === 'string' && typeof size === 'number') out.push([path, size]);
  }
  return out;
}

export function prefetchBundle(src: string, product?: string): void {
  if (warmed.has(src) || typeof fetch !== 'function') return;
  warmed.add(src);
  get(src)
    .then((res) => read(res, MAX_MANIFEST_BYTES))
    .then((bytes) => {
      if (!bytes) return;
      // Invalid UTF-8 throws here (as in the worker): the worker then fetches it and says what is wrong.
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      const cached: string[] = [];
      got.set(src, { manifest: text, cached });
      const m = JSON.parse(text) as ManifestView;
      for (const [path, size] of firstRowFiles(m, product)) {
        // The manifest check's own rule (paths.ts), and a size the manifest gives.
        if (!isBundlePath(path)) continue;
        cached.push(path);
        get(new URL(path, src).href).then((r) => read(r, size), () => {});
      }
    })
    .catch(() => {});
}
