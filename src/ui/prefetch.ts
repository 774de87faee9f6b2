/**
 * A head start for the first row. While the worker's script downloads and starts, the page already
 * fetches the bundle's manifest and the files the similar row reads (items, embeddings, scales; in a
 * paged bundle, the product's page file and its sums, then the meta files of the products its
 * record lists first), the way the worker will ask for them (`credentials: 'omit'`, or as the page's
 * own preload of them did; same URLs), so the worker's own requests
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
import { MAX_SHARD_BYTES, metaPath, pageOf, pagePath, SUMS_PER_FILE, sumsPath } from '../bundle/pages.js';

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

/**
 * Fetches `url` as the worker will (no cookies) — or, where the page preloads it
 * (`<link rel=preload as=fetch crossorigin>`), as the preload did, so that this request takes the
 * preloaded response instead of asking again: a preload cannot omit credentials, and only a request
 * with the same mode and credentials is served from it.
 */
function get(url: string) {
  const preload = [...document.querySelectorAll<HTMLLinkElement>('link[rel~="preload" i][as="fetch" i][crossorigin]')].find((l) => l.href === url);
  const credentials: RequestCredentials = !preload ? 'omit' : preload.crossOrigin === 'use-credentials' ? 'include' : 'same-origin';
  return fetch(url, { credentials, priority: 'high' } as RequestInit);
}

/** The body, or undefined (and cancelled) when the answer is not OK or passes `max` bytes. */
const read = (res: Response, max: number) => (res.ok && res.body ? readCapped(res.body, max) : void res.body?.cancel().catch(() => {}));

interface ManifestView {
  files?: Record<string, { bytes?: unknown }>;
  items?: { file?: unknown };
  similar?: { codes?: unknown; scales?: unknown };
  paged?: { pages?: unknown; metaSize?: unknown };
}

type Wanted = [path: string, max: number];

/** A file the manifest lists, with its listed size as the cap. */
const listed = (m: ManifestView, path: unknown): Wanted | undefined => {
  const size = typeof path === 'string' ? m.files?.[path]?.bytes : undefined;
  return typeof path === 'string' && typeof size === 'number' ? [path, size] : undefined;
};

/** The files the first row of `product` reads: a paged bundle's page of the product (and its sums), else the whole-catalog files. */
function firstRowFiles(m: ManifestView, product: string | undefined): Wanted[] {
  const pages = m.paged?.pages;
  if (m.paged) {
    if (!product || !Number.isInteger(pages) || (pages as number) < 1) return [];
    const n = pageOf(product, pages as number);
    const sums = listed(m, sumsPath('pages', Math.floor(n / SUMS_PER_FILE)));
    return sums ? [sums, [pagePath(n), MAX_SHARD_BYTES]] : [];
  }
  return [m.items?.file, m.similar?.codes, m.similar?.scales].map((p) => listed(m, p)).filter((w): w is Wanted => !!w);
}

/**
 * A paged bundle's second step: the meta files (and sums) of the products the similar row shows
 * first — read from the product's record in its page file, which the page has just fetched — so
 * they are on their way while the worker still starts. Anything unexpected: nothing.
 */
function similarMetaFiles(m: ManifestView, page: Uint8Array, product: string, shown: number): Wanted[] {
  const size = m.paged?.metaSize;
  if (!Number.isInteger(size) || (size as number) < 1) return [];
  let rec: unknown;
  try {
    rec = (JSON.parse(new TextDecoder().decode(page)) as Record<string, unknown>)[product];
  } catch {
    return [];
  }
  if (!Array.isArray(rec) || !Array.isArray(rec[1])) return [];
  const metas = new Set<number>();
  for (const j of (rec[1] as unknown[]).filter((j) => j !== rec[0]).slice(0, shown)) if (Number.isInteger(j) && (j as number) >= 0) metas.add(Math.floor((j as number) / (size as number)));
  const out: Wanted[] = [];
  for (const n of metas) {
    const sums = listed(m, sumsPath('meta', Math.floor(n / SUMS_PER_FILE)));
    if (sums && !out.some(([p]) => p === sums[0])) out.push(sums);
    out.push([metaPath(n), MAX_SHARD_BYTES]);
  }
  return out;
}

/** src → its manifest as this page view received it (undefined: not OK, too large or not JSON). */
const manifests = new Map<string, Promise<ManifestView | undefined>>();

/**
 * Starts the fetches for `src`'s first row of `product`: the manifest once per page view, then the
 * files that row reads — again for a product named later (the page sets `product` after `src`);
 * `shown` is how many products that row shows (the element's limit, with the worker's margin).
 */
export function prefetchBundle(src: string, product?: string, shown = 12): void {
  if (typeof fetch !== 'function' || warmed.has(`${src} ${product ?? ''}`)) return;
  warmed.add(`${src} ${product ?? ''}`);
  let manifest = manifests.get(src);
  if (!manifest) {
    manifest = get(src)
      .then((res) => read(res, MAX_MANIFEST_BYTES))
      .then((bytes) => {
        if (!bytes) return undefined;
        // Invalid UTF-8 throws here (as in the worker): the worker then fetches it and says what is wrong.
        const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        got.set(src, { manifest: text, cached: [] });
        return JSON.parse(text) as ManifestView;
      })
      .catch(() => undefined);
    manifests.set(src, manifest);
  }
  void manifest.then((m) => {
    const cached = got.get(src)?.cached;
    if (!m || !cached) return;
    const warm = ([path, max]: Wanted) => {
      // The manifest check's own rule (paths.ts), and a size the manifest gives.
      if (!isBundlePath(path) || cached.includes(path)) return undefined;
      cached.push(path);
      return get(new URL(path, src).href).then((r) => read(r, max), () => undefined);
    };
    for (const file of firstRowFiles(m, product)) {
      const body = warm(file);
      if (m.paged && product && file[0].startsWith('pages/')) body?.then((page) => page && similarMetaFiles(m, page, product, shown).forEach(warm));
    }
  });
}
