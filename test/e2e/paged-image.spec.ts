/**
 * A paged bundle with a search index, built by the real builder (`--page-above 0 --index-above 0`)
 * from a small store, in Chromium through the real widget and worker: a product outside the
 * catalog gets its similar row from its photo, embedded in the worker, searched through the
 * index's head and the few cells the query scans — never the whole index or the embeddings.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_ROOTS } from '../../scripts/serve.js';
import { buildBundle } from '../../src/build/bundle.js';
import { makeStore } from '../unit/build/fixture.js';
import { expect, rowIds, row, test, watchErrors } from './fixtures.js';

let dir: string;
const cellCount = async () => (JSON.parse(await readFile(join(dir, 'indexed', 'manifest.json'), 'utf8')) as { paged: { cells: number } }).paged.cells;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const store = await makeStore(8);
  dir = store.dir;
  await buildBundle({
    name: 'indexed', catalog: store.catalog, images: store.images, events: store.events, baskets: store.baskets,
    cacheDir: join(dir, 'cache'), seed: 2, epochs: 2, log: () => {}, out: join(dir, 'indexed'), pageAbove: 0, indexAbove: 0,
  });
  // A new mug, not in the catalog: its photo is MUG-1's picture.
  writeFileSync(
    join(dir, 'new.html'),
    `<!doctype html><html lang="en"><meta charset="utf-8"><title>new</title><script type="module" src="/dist/vitrine.js"></script>\n<vitrine-recs src="/store-test/indexed/manifest.json" product="NEW-MUG" image="/store-test/images/MUG-1.png" product-title="New mug" rows="similar" limit="6"></vitrine-recs>\n`,
  );
});
test.afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

test('a photo outside a paged catalog: its similar row from the index cells the query scans, nothing the size of the catalog', async ({ page, startServer, requests }) => {
  const server = await startServer({ roots: { ...DEMO_ROOTS, '/store-test/': dir } });
  const errors = watchErrors(page);
  await page.goto(`${server.url}store-test/new.html`);
  await expect(page.locator(row('similar'))).toHaveAttribute('data-basis', 'image', { timeout: 60_000 });
  const ids = await rowIds(page, 'similar');
  // The same pixels as MUG-1: that mug first, and mostly mugs after it.
  expect(ids[0]).toBe('MUG-1');
  expect(ids.filter((id) => id.startsWith('MUG-')).length).toBeGreaterThanOrEqual(4);
  const fetched = [...new Set(requests.map((r) => new URL(r.url()).pathname))].filter((p) => p.startsWith('/store-test/indexed/')).map((p) => p.slice('/store-test/indexed/'.length));
  expect(fetched).toContain('cells/head.bin');
  expect(fetched.some((f) => /^cells\/\d+\.bin$/.test(f))).toBe(true);
  // The head, the cells, the products shown (meta files and thumbnails), the image model: nothing else.
  for (const f of fetched) expect(f, f).toMatch(/^(manifest\.json|sums\/(pages|meta|cells)-\d+\.bin|pages\/\d+\.json|meta\/\d+\.json|cells\/(head|\d+)\.bin|image-(model|head)\/.+|images\/\d+\.webp)$/);
  expect(fetched.filter((f) => /^cells\/\d+\.bin$/.test(f)).length).toBeLessThan(await cellCount());
  expect(errors).toEqual([]);
});
