import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, rowIds, test, watchErrors } from './fixtures.js';

/**
 * A store page on one origin loading `dist/` from another (a CDN): the browser refuses a
 * cross-origin `new Worker(url)`, so this proves the widget starts its worker anyway, finds its
 * chunks and `.wasm` files on the CDN, and talks to nothing else.
 */
for (const isolate of [false, true]) {
  test(`dist/ served from another origin works${isolate ? ' on a cross-origin-isolated page (COOP/COEP)' : ''}`, async ({ page, startServer, requests }) => {
    const errors = watchErrors(page);
    const cdn = await startServer({ roots: { '/vitrine/': 'dist' } });
    const pages = mkdtempSync(join(tmpdir(), 'vitrine-store-'));
    writeFileSync(
      join(pages, 'index.html'),
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
      <script type="module" src="${cdn.url}vitrine/vitrine.js"></script></head><body>
      <h1>A store</h1>
      <vitrine-recs id="known" src="/models/demo/manifest.json" product="VT0001" rows="similar complementary"></vitrine-recs>
      <vitrine-recs id="new" src="/models/demo/manifest.json" product="NEW0007" image="/new-arrivals/NEW0007.png" rows="similar" history="off"></vitrine-recs>
      </body></html>`,
    );
    const store = await startServer({ isolate, roots: { '/': pages, '/models/': 'models', '/new-arrivals/': 'public/new-arrivals' } });
    await page.goto(store.url);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(isolate);
    expect(await rowIds(page, 'similar', '#known')).toHaveLength(8);
    expect(await rowIds(page, 'complementary', '#known')).not.toHaveLength(0);
    // The new product's row needed TF.js and its wasm binary, both from the CDN.
    expect(await rowIds(page, 'similar', '#new')).toHaveLength(8);
    const backend = await page.evaluate(() => document.querySelector<HTMLElement & { activeBackend: { name: string; reason: string } }>('#new')!.activeBackend);
    expect(backend.name).toBe('wasm');
    const urls = requests.map((r) => r.url());
    expect(urls.some((u) => u.startsWith(`${cdn.url}vitrine/`) && u.endsWith('.wasm'))).toBe(true);
    const origins = new Set(urls.filter((u) => !u.startsWith('blob:') && !u.startsWith('data:')).map((u) => new URL(u).origin));
    expect([...origins].sort()).toEqual([new URL(cdn.url).origin, new URL(store.url).origin].sort());
    expect(errors).toEqual([]);
  });
}
