/**
 * A head start for the first row. While the worker's script downloads and starts, the page already
 * fetches the bundle's manifest and the files the similar row reads (items, embeddings, scales), the
 * way the worker will ask for them (`credentials: 'omit'`, same URLs), so the worker's own requests
 * find them in the HTTP cache or join the transfer in flight. On a phone's link this saves the
 * manifest's round trip and overlaps the worker's start with the bundle's bytes.
 *
 * - Only a cache warmer: bodies are drained, never parsed beyond the manifest, never kept. The worker
 *   still fetches, verifies (length, sha256) and reports every failure; here failures are silent.
 * - Only the bundle's own static files, as the worker would fetch them: relative paths inside it.
 */
const warmed = new Set<string>();
/** Manifests are small; the worker refuses larger ones, so this does not read them either. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

const get = (url: string) => fetch(url, { credentials: 'omit', priority: 'high' } as RequestInit);
const drain = (r: Response) => r.body?.pipeTo(new WritableStream()).catch(() => {});

export function prefetchBundle(src: string): void {
  if (warmed.has(src) || typeof fetch !== 'function') return;
  warmed.add(src);
  get(src)
    .then(async (res) => {
      if (!res.ok || Number(res.headers.get('content-length') ?? 0) > MAX_MANIFEST_BYTES) return drain(res);
      const m = (await res.json()) as { items?: { file?: unknown }; similar?: { codes?: unknown; scales?: unknown } };
      for (const path of [m.items?.file, m.similar?.codes, m.similar?.scales]) {
        // The same rule as the manifest check: a relative path inside the bundle, nothing else.
        if (typeof path === 'string' && path && !/^[a-z][a-z0-9+.-]*:|^\/|\\|(^|\/)\.\.(\/|$)/i.test(path)) get(new URL(path, src).href).then(drain, () => {});
      }
    })
    .catch(() => {});
}
