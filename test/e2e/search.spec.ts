/**
 * `<vitrine-search>` on the demo's search page, in Chromium with the real worker and image model: a
 * picked, pasted or dropped photo is embedded on the device and its closest products are shown; the
 * photo never leaves the page (every request is watched); a file that is not an image is refused.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, rowIds, row, test, watchErrors } from './fixtures.js';

const catalog: { id: string; image: string; category: string }[] = JSON.parse(readFileSync('models/demo/items.json', 'utf8'));
const product = catalog.find((p) => p.id === 'VT0420')!;
const photo = readFileSync(`models/demo/${product.image}`);
const results = 'vitrine-search >> vitrine-recs';

/** Console errors and warnings of the page, from Vitrine or not. */
function consoleProblems(page: Page): string[] {
  const out: string[] = [];
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && out.push(m.text()));
  return out;
}

/** Hands the photo to the element the way a paste or a drop does (a DataTransfer holding a file). */
async function transfer(page: Page, how: 'paste' | 'drop', bytes: number[], type: string) {
  // The element's code loads when the page has one: wait until it is drawn.
  await page.locator('vitrine-search >> [part~="drop"]').waitFor();
  await page.evaluate(({ how, bytes, type }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'photo', { type }));
    const zone = document.querySelector('vitrine-search')!.shadowRoot!.querySelector('[part~="drop"]')!;
    zone.dispatchEvent(how === 'paste' ? new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, composed: true }) : new DragEvent('drop', { dataTransfer: dt, bubbles: true, composed: true }));
  }, { how, bytes, type });
}

test('a picked photo of a catalog product finds that product first; the photo never leaves the page', async ({ page, store, requests }) => {
  const errors = watchErrors(page);
  const problems = consoleProblems(page);
  await page.goto(`${store.url}search.html`);
  await page.locator('vitrine-search >> input[type="file"]').setInputFiles({ name: 'photo.webp', mimeType: 'image/webp', buffer: photo });
  await expect(page.locator(`${results} >> [part~="row"][data-row="similar"]`)).toHaveAttribute('data-basis', 'image', { timeout: 60_000 });
  const ids = await rowIds(page, 'similar', results);
  expect(ids[0]).toBe('VT0420');
  expect(ids).toHaveLength(12);
  // Mostly the same kind of product.
  const kind = (id: string) => catalog.find((p) => p.id === id)!.category;
  expect(ids.filter((id) => kind(id) === product.category).length).toBeGreaterThanOrEqual(8);
  await expect(page.locator('vitrine-search >> [part~="preview"]')).toHaveJSProperty('complete', true);
  // Only GETs of the page, the widget and the bundle's files; the photo is a blob: URL no server sees.
  const web = requests.filter((r) => /^https?:/.test(r.url()));
  expect(web.filter((r) => r.method() !== 'GET' || r.postData())).toEqual([]);
  for (const r of web) expect(new URL(r.url()).pathname).toMatch(/^\/(search\.html|demo\.css|dist\/.+|models\/(demo|mobilenet_v2)\/.+)$/);
  expect(requests.some((r) => r.url().startsWith('blob:'))).toBe(true);
  expect(errors).toEqual([]);
  expect(problems).toEqual([]);
});

test('a pasted and a dropped photo are searched too; a large one is scaled down on the device first', async ({ page, store }) => {
  const errors = watchErrors(page);
  await page.goto(`${store.url}search.html`);
  await transfer(page, 'paste', [...photo], 'image/webp');
  expect((await rowIds(page, 'similar', results))[0]).toBe('VT0420');
  // A 3000×2000 photo (drawn here), dropped: searched at 1024 pixels a side.
  const sizes: { width: number; height: number }[] = [];
  await page.exposeFunction('seen', (d: { width: number; height: number }) => sizes.push(d));
  const big = await page.evaluate(async () => {
    document.addEventListener('vitrine-search', (e) => (window as unknown as { seen(d: unknown): void }).seen((e as CustomEvent).detail));
    const c = Object.assign(document.createElement('canvas'), { width: 3000, height: 2000 });
    const g = c.getContext('2d')!;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, 3000, 2000);
    g.fillStyle = '#222';
    g.fillRect(900, 300, 1200, 1400);
    const blob = await new Promise<Blob>((done) => c.toBlob((b) => done(b!), 'image/png'));
    return [...new Uint8Array(await blob.arrayBuffer())];
  });
  await transfer(page, 'drop', big, 'image/png');
  await expect.poll(() => sizes).toEqual([{ name: 'photo', type: 'image/png', width: 1024, height: 683 }]);
  await expect(page.locator(`${results} >> [part~="item"]`).first()).toBeVisible();
  expect(errors).toEqual([]);
});

test('a file that is not an image is refused with a message, quietly', async ({ page, store }) => {
  const errors = watchErrors(page);
  const problems = consoleProblems(page);
  await page.goto(`${store.url}search.html`);
  await page.locator('vitrine-search >> input[type="file"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
  await expect(page.locator('vitrine-search >> [part~="status"]')).toHaveText('That file is not an image this browser can read.');
  await expect(page.locator(row('similar'))).toHaveCount(0);
  expect(errors).toEqual([]);
  expect(problems).toEqual([]);
});
