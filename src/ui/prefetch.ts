/**
 * A head start for the first row. While the worker's script downloads and starts, the page already
 * fetches the bundle's manifest and the files the similar row reads (items, embeddings, scales), the
 * way the worker will ask for them (`credentials: 'omit'`, same URLs), so the worker's own requests
 * find them in the HTTP cache or join the transfer in flight. On a phone's link this saves the
 * manifest's round trip and overlaps the worker's start with the bundle's bytes.
 *
 * - Only a cache warmer: bodies are read and dropped, never parsed beyond the manifest, never kept.
 *   The worker still fetches, verifies (length, sha256) and reports every failure; here failures
 *   are silent.
 * - Never reads more than the manifest's own cap, or a file's listed length: an endless or lying
 *   response is cancelled, not drained for as long as the store's page is open.
 * - Only the bundle's own static files, as the worker would fetch them: relative paths inside it.
 */
import { readCapped } from '../bundle/read-capped.js';

const warmed = new Set<string>();
/** format.ts MAX_MANIFEST_BYTES, which the worker enforces: imported, it would bring the manifest checks into the page. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

const get = (url: string) => fetch(url, { credentials: 'omit', priority: 'high' } as RequestInit);

/** The body, or undefined (and cancelled) when the answer is not OK or passes `max` bytes. */
const read = (res: Response, max: number) => (res.ok && res.body ? readCapped(res.body, max) : void res.body?.cancel().catch(() => {}));

interface ManifestView {
  files?: Record<string, { bytes?: unknown }>;
  items?: { file?: unknown };
  similar?: { codes?: unknown; scales?: unknown };
}

export function prefetchBundle(src: string): void {
  if (warmed.has(src) || typeof fetch !== 'function') return;
  warmed.add(src);
  get(src)
    .then((res) => read(res, MAX_MANIFEST_BYTES))
    .then((bytes) => {
      if (!bytes) return;
      const m = JSON.parse(new TextDecoder().decode(bytes)) as ManifestView;
      for (const path of [m.items?.file, m.similar?.codes, m.similar?.scales]) {
        const size = typeof path === 'string' ? m.files?.[path]?.bytes : undefined;
        // The manifest check's rule: a listed, relative path inside the bundle, nothing else.
        if (typeof path !== 'string' || typeof size !== 'number' || /^[a-z][a-z0-9+.-]*:|^\/|\\|(^|\/)\.\.(\/|$)/i.test(path)) continue;
        get(new URL(path, src).href).then((r) => read(r, size), () => {});
      }
    })
    .catch(() => {});
}
