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
const warmed = new Set<string>();
/** The worker refuses larger manifests (format.ts MAX_MANIFEST_BYTES). */
const MAX_MANIFEST_BYTES = 1024 * 1024;

const get = (url: string) => fetch(url, { credentials: 'omit', priority: 'high' } as RequestInit);

/** Reads a body up to `max` bytes, keeping the chunks when `keep`; undefined (and cancelled) past it. */
async function read(res: Response, max: number, keep: boolean): Promise<Uint8Array[] | undefined> {
  const reader = res.body?.getReader();
  if (!reader || !res.ok) return void reader?.cancel().catch(() => {});
  const chunks: Uint8Array[] = [];
  for (let n = 0; ; ) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    n += value.byteLength;
    if (n > max) return void reader.cancel().catch(() => {});
    if (keep) chunks.push(value);
  }
}

interface ManifestView {
  files?: Record<string, { bytes?: unknown }>;
  items?: { file?: unknown };
  similar?: { codes?: unknown; scales?: unknown };
}

export function prefetchBundle(src: string): void {
  if (warmed.has(src) || typeof fetch !== 'function') return;
  warmed.add(src);
  get(src)
    .then((res) => read(res, MAX_MANIFEST_BYTES, true))
    .then((chunks) => {
      if (!chunks) return;
      const m = JSON.parse(new TextDecoder().decode(concat(chunks))) as ManifestView;
      for (const path of [m.items?.file, m.similar?.codes, m.similar?.scales]) {
        const bytes = typeof path === 'string' ? m.files?.[path]?.bytes : undefined;
        // The manifest check's rule: a listed, relative path inside the bundle, nothing else.
        if (typeof path !== 'string' || typeof bytes !== 'number' || /^[a-z][a-z0-9+.-]*:|^\/|\\|(^|\/)\.\.(\/|$)/i.test(path)) continue;
        get(new URL(path, src).href).then((r) => read(r, bytes, false), () => {});
      }
    })
    .catch(() => {});
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) out.set(c, o), (o += c.byteLength);
  return out;
}
