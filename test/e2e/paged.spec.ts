/**
 * A paged bundle (bundle/pages.ts) in Chromium through the real widget and worker: a catalog
 * product's three rows come from its page record and the meta files of the products they show —
 * nothing the size of the catalog is fetched — and a tampered page file is refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_ROOTS } from '../../scripts/serve.js';
import { writePagedBundle } from '../bench/big-bundle.js';
import { pageOf } from '../../src/bundle/pages.js';
import { expect, items, row, rowIds, test, watchErrors } from './fixtures.js';

const COUNT = 5000;
const victim = 'P0000042';
let dir: string;
let pages: number;
const html = (bundle: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>paged</title><script type="module" src="/dist/vitrine.js"></script>\n<vitrine-recs src="/paged-test/${bundle}/manifest.json" product="${victim}" limit="6"></vitrine-recs>\n`;

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vitrine-paged-'));
  writePagedBundle(join(dir, 'paged'), COUNT);
  // The same bundle with one page file altered after its checksum was taken.
  cpSync(join(dir, 'paged'), join(dir, 'tampered'), { recursive: true });
  pages = (JSON.parse(readFileSync(join(dir, 'paged', 'manifest.json'), 'utf8')) as { paged: { pages: number } }).paged.pages;
  const pageFile = join(dir, 'tampered', 'pages', `${pageOf(victim, pages)}.json`);
  writeFileSync(pageFile, readFileSync(pageFile, 'utf8').replace('"P0000042":[42,[43', '"P0000042":[42,[44'));
  writeFileSync(join(dir, 'paged.html'), html('paged'));
  writeFileSync(join(dir, 'tampered.html'), html('tampered'));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a paged catalog: three rows from the product\'s page record and a few meta files, never a whole-catalog file', async ({ page, startServer, requests }) => {
  const server = await startServer({ roots: { ...DEMO_ROOTS, '/paged-test/': dir } });
  const errors = watchErrors(page);
  await page.goto(`${server.url}paged-test/paged.html`);
  // Similar: its neighbours in the bundle's order (the synthetic lists), in stock, excluding itself.
  expect(await rowIds(page, 'similar')).toEqual(['P0000043', 'P0000041', 'P0000044', 'P0000040', 'P0000045', 'P0000039']);
  await expect(page.locator(items('complementary'))).toHaveCount(6);
  await expect(page.locator(items('next'))).toHaveCount(6);
  const fetched = [...new Set(requests.map((r) => new URL(r.url()).pathname))].filter((p) => p.startsWith('/paged-test/paged/')).map((p) => p.slice('/paged-test/paged/'.length));
  expect(fetched).toContain(`pages/${pageOf(victim, pages)}.json`);
  expect(fetched).toContain('meta/0.json');
  for (const f of fetched) expect(f, f).toMatch(/^(manifest\.json|sums\/(pages|meta)-\d+\.bin|pages\/\d+\.json|meta\/\d+\.json)$/);
  // One page file; the meta files of the products the rows consider (6 similar, 24 goes-with
  // candidates to diversify, 10 next): under half of the 79 — at a million products, 25 of 15,625.
  expect(fetched.filter((f) => f.startsWith('pages/')).length).toBe(1);
  expect(fetched.filter((f) => f.startsWith('meta/')).length).toBeLessThan(40);
  expect(errors).toEqual([]);
});

test('a page file that does not match its checksum is refused: the rows stay empty, quietly', async ({ page, startServer }) => {
  const server = await startServer({ roots: { ...DEMO_ROOTS, '/paged-test/': dir } });
  const errors = watchErrors(page);
  const warnings: string[] = [];
  page.on('console', (m) => m.text().startsWith('[vitrine]') && warnings.push(m.text()));
  await page.goto(`${server.url}paged-test/tampered.html`);
  await expect.poll(() => warnings.join('\n')).toMatch(new RegExp(`pages/${pageOf(victim, pages)}\\.json: sha256 is [0-9a-f]{64}, the sums file says`));
  await expect(page.locator(row('similar'))).toHaveCount(0);
  await expect(page.locator('vitrine-recs >> [part~="loading"]')).toHaveCount(0);
  expect(errors).toEqual([]);
});
