/**
 * The first row's requests: the page fetches the bundle's manifest and first files while the
 * worker's script downloads, and the worker then uses what the page got — the manifest's text,
 * and the files from the HTTP cache — instead of asking the server again (each question is a
 * round trip on a phone's link). Counted at the server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, items, test, watchErrors } from './fixtures.js';

test('a first visit asks the server once for each file the first row needs, and gets text compressed', async ({ page, context, startServer }) => {
  const errors = watchErrors(page);
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-first-row-'));
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Store</title>
    <script type="module" src="/dist/vitrine.js"></script></head><body>
    <vitrine-recs src="/models/demo/manifest.json" product="VT0001" rows="similar"></vitrine-recs></body></html>`,
  );
  const hits = new Map<string, number>();
  const server = await startServer({
    roots: { '/': dir, '/dist/': 'dist', '/models/': 'models' },
    onRequest: (req) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
    },
  });
  // A phone's round trip (150 ms, applied by Chromium to the page and its worker; routing would turn the HTTP cache off).
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: -1, uploadThroughput: -1 });
  const encodings = new Map<string, string | undefined>();
  page.on('response', async (r) => encodings.set(new URL(r.url()).pathname, (await r.allHeaders())['content-encoding']));
  await page.goto(server.url);
  await expect(page.locator(items('similar')).first()).toBeVisible();
  const bundle = (name: string) => hits.get(`/models/demo/${name}`);
  expect({ manifest: bundle('manifest.json'), items: bundle('items.json'), embeddings: bundle('embeddings.i8') }).toEqual({ manifest: 1, items: 1, embeddings: 1 });
  expect(hits.get('/dist/vitrine-worker.js')).toBe(1);
  // Text and JSON compressed (as any CDN sends them); the int8 embeddings, which do not shrink, as they are.
  expect(encodings.get('/dist/vitrine.js')).toMatch(/^(br|gzip)$/);
  expect(encodings.get('/models/demo/items.json')).toMatch(/^(br|gzip)$/);
  expect(encodings.get('/models/demo/embeddings.i8')).toBeUndefined();
  expect(errors).toEqual([]);
});
