/**
 * `<vitrine-history>` and the `recent` row, in Chromium with the real worker and IndexedDB: the
 * shopper's views are listed most recent first; removing one (×) or clearing the history changes
 * the list, the recently viewed row and the next row of the `<vitrine-recs>` beside it at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_ROOTS } from '../../scripts/serve.js';
import { expect, row, test, watchErrors } from './fixtures.js';
import type { Page } from '@playwright/test';

let dir: string;
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vitrine-history-'));
  writeFileSync(
    join(dir, 'page.html'),
    `<!doctype html><html lang="en"><meta charset="utf-8"><link rel="icon" href="data:,"><title>history</title><script type="module" src="/dist/vitrine.js"></script>
<main><vitrine-recs id="recs" src="/models/demo/manifest.json" rows="next recent" limit="6"></vitrine-recs>
<vitrine-history id="history" src="/models/demo/manifest.json"></vitrine-history></main>\n`,
  );
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

const listed = (page: Page) => page.locator('vitrine-history >> [part~="item"]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.productId));
const ids = (page: Page, kind: string) => page.locator(`${row(kind)} >> [part~="item"]`).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.productId));

test('views listed most recent first; × and clear change the list, the recent row and the next row together', async ({ page, startServer }) => {
  const server = await startServer({ roots: { ...DEMO_ROOTS, '/t/': dir } });
  const errors = watchErrors(page);
  const problems: string[] = [];
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && problems.push(m.text()));
  await page.goto(`${server.url}t/page.html`);
  // Four product pages in one session (the element shown one product after another).
  for (const id of ['VT0001', 'VT0002', 'VT0003', 'VT0004']) {
    await page.evaluate((id) => {
      document.getElementById('recs')!.setAttribute('product', id);
      document.getElementById('history')!.setAttribute('product', id);
    }, id);
    await expect(page.locator(row('next'))).toHaveCount(1);
  }
  await expect.poll(() => ids(page, 'recent')).toEqual(['VT0003', 'VT0002', 'VT0001']);
  await expect.poll(() => listed(page)).toEqual(['VT0003', 'VT0002', 'VT0001']);
  await expect(page.locator(row('next'))).toHaveAttribute('data-basis', 'session');
  await expect(page.locator(row('recent'))).toHaveAttribute('data-basis', 'history');
  const nextBefore = await ids(page, 'next');

  // × on VT0003: gone from the list and the recent row; the next row reads the shorter session.
  await page.locator('vitrine-history >> [part~="item"][data-product-id="VT0003"] >> [part~="remove"]').click();
  await expect.poll(() => listed(page)).toEqual(['VT0002', 'VT0001']);
  await expect.poll(() => ids(page, 'recent')).toEqual(['VT0002', 'VT0001']);
  await expect.poll(() => ids(page, 'next')).not.toEqual(nextBefore);
  const stored = await page.evaluate(async () => {
    const api = (await import(`${location.origin}/dist/vitrine.js`)) as { getHistory(): Promise<{ productId: string }[]> };
    return (await api.getHistory()).map((e) => e.productId);
  });
  expect(stored).not.toContain('VT0003');

  // Clear: nothing listed, no recent row, and the next row is "often viewed after this" again.
  await page.locator('vitrine-history >> [part~="clear"]').click();
  await expect(page.locator('vitrine-history >> [part~="note"]')).toHaveText('Nothing yet. Kept on this device only.');
  await expect(page.locator('vitrine-history >> [part~="item"]')).toHaveCount(0);
  await expect(page.locator(row('recent'))).toHaveCount(0);
  await expect(page.locator(row('next'))).toHaveAttribute('data-basis', 'often-next');
  expect(errors).toEqual([]);
  expect(problems).toEqual([]);
});

test('the history and search elements load their code only on pages that use them, also when added later', async ({ page, store, requests }) => {
  const errors = watchErrors(page);
  await page.goto(`${store.url}product.html?id=VT0001`);
  await expect(page.locator(row('similar'))).toHaveCount(1);
  const chunks = () => requests.map((r) => new URL(r.url()).pathname).filter((p) => /\/chunks\/vitrine-(search|history)-/.test(p));
  // The demo's product page has a history panel, no search.
  expect(chunks().some((p) => p.includes('vitrine-history-'))).toBe(true);
  expect(chunks().some((p) => p.includes('vitrine-search-'))).toBe(false);
  // A single-page app adds a search box later: defined and drawn.
  await page.evaluate(() => document.querySelector('main')!.append(Object.assign(document.createElement('vitrine-search'), { src: '/models/demo/manifest.json' })));
  await expect(page.locator('vitrine-search >> [part~="drop"]')).toBeVisible();
  expect(chunks().some((p) => p.includes('vitrine-search-'))).toBe(true);
  expect(errors).toEqual([]);
});
