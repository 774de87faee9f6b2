import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Request } from '@playwright/test';
import { expect, items, row, test, watchErrors } from './fixtures.js';

/**
 * Privacy, in Chromium with the real worker: the shopper's history never leaves the device. Every
 * request of a scripted session (the page's and the worker's) is recorded and checked against an
 * exact list of what the widget may fetch — static files, none carrying a product id — and
 * `clearHistory()` and `history="off"` are checked in the browser's storage itself.
 */

const PRODUCT = /VT\d{4}/;
const views = Array.from({ length: 20 }, (_, i) => `VT${String(1 + i * 47).padStart(4, '0')}`);

/** Paths of the files a store hosts for the widget: `dist/` as built. */
const distFiles = (readdirSync('dist', { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
  .filter((d) => d.isFile())
  .map((d) => join(d.parentPath, d.name).slice('dist/'.length));

/** Every file of the demo bundle a widget may read: the manifest, the files it lists, the thumbnails in its assets list. */
function bundleFiles(base: string): Set<string> {
  const manifest = JSON.parse(readFileSync('models/demo/manifest.json', 'utf8')) as { files: Record<string, unknown>; assets: string };
  const assets = JSON.parse(readFileSync(`models/demo/${manifest.assets}`, 'utf8')) as Record<string, unknown>;
  return new Set(['manifest.json', ...Object.keys(manifest.files), ...Object.keys(assets)].map((f) => new URL(f, base).href));
}

const history = (page: Page): Promise<string[]> =>
  page.evaluate(async () => ((await (await import('/dist/vitrine.js' as string)).getHistory()) as { productId: string }[]).map((e) => e.productId));

interface Audit {
  checked: number;
  offOrigin: string[];
  notGet: string[];
  withBody: string[];
  unlisted: string[];
  carryingIds: string[];
}

/**
 * Checks every request against `allowed` (exact URLs) and `navigations` (the pages the test
 * opened, the only URLs that may name a product). Headers are checked too: only a `Referer` to
 * the page's own origin may name one (it is the page's own URL, which that origin served).
 */
async function audit(requests: Request[], origins: string[], allowed: Set<string>, navigations: Set<string>, pageOrigin: string): Promise<Audit> {
  const a: Audit = { checked: 0, offOrigin: [], notGet: [], withBody: [], unlisted: [], carryingIds: [] };
  for (const r of requests) {
    a.checked++;
    const url = r.url();
    if (r.method() !== 'GET') a.notGet.push(`${r.method()} ${url}`);
    if (r.postData() !== null) a.withBody.push(url);
    // The worker's start-up shim: a blob made by the page itself, never fetched from a server.
    if (url.startsWith(`blob:${pageOrigin}/`) || url === 'data:,') continue;
    const parsed = new URL(url);
    if (!origins.includes(parsed.origin)) a.offOrigin.push(url);
    if (!navigations.has(url) && !allowed.has(url)) a.unlisted.push(url);
    if (!navigations.has(url) && PRODUCT.test(url)) a.carryingIds.push(url);
    for (const [name, value] of Object.entries(await r.allHeaders())) {
      if (!PRODUCT.test(value)) continue;
      if (name === 'referer' && navigations.has(value) && parsed.origin === pageOrigin) continue;
      a.carryingIds.push(`${url} (${name}: ${value})`);
    }
  }
  return a;
}

const clean = (a: Audit) => ({ offOrigin: a.offOrigin, notGet: a.notGet, withBody: a.withBody, unlisted: a.unlisted, carryingIds: a.carryingIds });
const NONE = { offOrigin: [], notGet: [], withBody: [], unlisted: [], carryingIds: [] };

test('a session of 20 product views sends no history: only GETs of listed static files, to the page’s origin', async ({ page, store, requests }) => {
  test.setTimeout(150_000);
  const errors = watchErrors(page);
  const navigations = new Set<string>();
  for (const id of views) {
    const url = `${store.url}product.html?id=${id}`;
    navigations.add(url);
    await page.goto(url);
    await expect(page.locator(items('similar')).first()).toBeVisible();
    await expect(page.locator(items('next')).first()).toBeVisible();
  }
  await page.waitForLoadState('networkidle');
  // The session was recorded and read (else there would be nothing to leak).
  expect(await history(page)).toEqual(views);
  await expect(page.locator(row('next'))).toHaveAttribute('data-basis', 'session');

  const allowed = new Set([
    ...['demo.css', 'demo.js', 'new-arrivals.json'].map((f) => store.url + f),
    ...distFiles.map((f) => `${store.url}dist/${f}`),
    ...bundleFiles(`${store.url}models/demo/`),
  ]);
  const origin = new URL(store.url).origin;
  const result = await audit(requests, [origin], allowed, navigations, origin);
  console.log(`privacy, same origin: ${result.checked} requests over ${views.length} views checked; ${JSON.stringify(clean(result))}`);
  expect(result.checked).toBeGreaterThan(views.length * 5);
  expect(clean(result)).toEqual(NONE);
  expect(errors).toEqual([]);
});

test('widget and bundle on a CDN: 20 views in a single-page app send nothing else, and the CDN learns no page URL', async ({ page, startServer, requests }) => {
  test.setTimeout(120_000);
  const errors = watchErrors(page);
  const cdn = await startServer({ roots: { '/vitrine/': 'dist', '/models/': 'models' } });
  const pages = mkdtempSync(join(tmpdir(), 'vitrine-privacy-'));
  writeFileSync(
    join(pages, 'index.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
    <script type="module" src="${cdn.url}vitrine/vitrine.js"></script></head><body>
    <vitrine-recs id="recs" src="${cdn.url}models/demo/manifest.json"></vitrine-recs></body></html>`,
  );
  const shop = await startServer({ roots: { '/': pages } });
  await page.goto(shop.url);
  const navigations = new Set([shop.url]);
  for (const [i, id] of views.entries()) {
    // A single-page app's product route: the URL names the product, the element follows it.
    await page.evaluate((id) => {
      window.history.pushState({}, '', `?id=${id}`);
      document.getElementById('recs')!.setAttribute('product', id);
    }, id);
    await expect.poll(() => page.evaluate(async () => (await (await import(document.querySelector('script')!.src)).getHistory()).length)).toBe(i + 1);
    await expect(page.locator(items('similar')).first()).toBeVisible();
  }
  await expect(page.locator(items('next')).first()).toBeVisible();
  await page.waitForLoadState('networkidle');
  const shopOrigin = new URL(shop.url).origin;
  const cdnOrigin = new URL(cdn.url).origin;
  const allowed = new Set([...distFiles.map((f) => `${cdn.url}vitrine/${f}`), ...bundleFiles(`${cdn.url}models/demo/`)]);
  const result = await audit(requests, [shopOrigin, cdnOrigin], allowed, navigations, shopOrigin);
  console.log(`privacy, CDN: ${result.checked} requests over ${views.length} views checked; ${JSON.stringify(clean(result))}`);
  expect(result.checked).toBeGreaterThan(views.length);
  expect(clean(result)).toEqual(NONE);
  // The CDN is told at most the shop's origin, never the page's URL (which names the product).
  let toCdn = 0;
  for (const r of requests.filter((r) => r.url().startsWith(cdn.url))) {
    const referer = (await r.allHeaders()).referer;
    // Empty: a read the worker served from the HTTP cache (nothing was sent at all).
    if (referer !== undefined && referer !== '' && !referer.startsWith(cdn.url)) expect(referer, r.url()).toBe(`${shopOrigin}/`);
    toCdn++;
  }
  expect(toCdn).toBeGreaterThan(views.length);
  expect(errors).toEqual([]);
});

/** What the origin's storage holds: IndexedDB databases and their record counts per store, caches, web storage. */
const leftovers = (page: Page) =>
  page.evaluate(async () => {
    const dbs: Record<string, Record<string, number>> = {};
    for (const { name } of await indexedDB.databases()) {
      dbs[name!] = await new Promise<Record<string, number>>((resolve, reject) => {
        const req = indexedDB.open(name!);
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const names = [...db.objectStoreNames];
          if (!names.length) return resolve((db.close(), {}));
          const tx = db.transaction(names);
          const counts: Record<string, number> = {};
          for (const n of names) tx.objectStore(n).count().onsuccess = (e) => (counts[n] = (e.target as IDBRequest<number>).result);
          tx.oncomplete = () => (resolve(counts), db.close());
        };
      });
    }
    return { dbs, caches: await caches.keys(), localStorage: localStorage.length, sessionStorage: sessionStorage.length };
  });
const EMPTY = { dbs: {}, caches: [], localStorage: 0, sessionStorage: 0 };

test('clearHistory() leaves nothing behind, even with another tab’s widget holding the database', async ({ page, context, store }) => {
  const errors = watchErrors(page);
  for (const id of ['VT0001', 'VT0002', 'VT0003']) {
    await page.goto(`${store.url}product.html?id=${id}`);
    await expect(page.locator(items('next')).first()).toBeVisible();
  }
  const other = await context.newPage();
  const otherErrors = watchErrors(other);
  await other.goto(`${store.url}product.html?id=VT0004`);
  await expect(other.locator(items('next')).first()).toBeVisible();
  // Four views, and the impression counts of the rows those pages showed (kept for rerank="impressions").
  expect(await leftovers(page)).toEqual({ ...EMPTY, dbs: { 'vitrine-history': { events: 4, impressions: expect.any(Number) } } });
  expect((await leftovers(page)).dbs['vitrine-history']!.impressions).toBeGreaterThan(0);

  await page.evaluate(async () => (await import('/dist/vitrine.js' as string)).clearHistory());
  // The database itself is gone (the other tab's connection stepped aside), not just emptied.
  expect(await leftovers(page)).toEqual(EMPTY);
  // Reading the history (the demo redraws its panel) does not bring back an empty database.
  expect(await history(page)).toEqual([]);
  expect(await history(other)).toEqual([]);
  expect(await leftovers(page)).toEqual(EMPTY);
  // The other tab's widget goes on: its next view starts a new history.
  await other.evaluate(() => document.getElementById('recs')!.setAttribute('product', 'VT0005'));
  await expect.poll(() => history(page)).toEqual(['VT0005']);
  // …and counts the impressions of the rows it shows (written after the view: wait for them, or they
  // would arrive after the clear below and rightly stay).
  await other.locator('vitrine-recs').evaluate((el) => el.scrollIntoView());
  await expect.poll(async () => (await leftovers(page)).dbs['vitrine-history']?.impressions ?? 0).toBeGreaterThan(0);
  await other.waitForTimeout(500);

  // Other code holding the database open (and ignoring requests to close) cannot make
  // clearHistory() hang or leave records readable; the database goes once it lets go.
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const req = indexedDB.open('vitrine-history');
        req.onsuccess = () => resolve(((globalThis as unknown as { held: IDBDatabase }).held = req.result));
      }),
  );
  await page.evaluate(async () => (await import('/dist/vitrine.js' as string)).clearHistory());
  const count = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const req = (globalThis as unknown as { held: IDBDatabase }).held.transaction('events').objectStore('events').count();
        req.onsuccess = () => resolve(req.result);
      }),
  );
  expect(count).toBe(0);
  await page.evaluate(() => (globalThis as unknown as { held: IDBDatabase }).held.close());
  await expect.poll(() => leftovers(page)).toEqual(EMPTY);
  expect(errors).toEqual([]);
  expect(otherErrors).toEqual([]);
});

test('history="off" (a store’s consent switch) records nothing, not even an empty database', async ({ page, store }) => {
  const errors = watchErrors(page);
  await page.goto(`${store.url}product.html`);
  await page.evaluate(() => document.getElementById('recs')!.setAttribute('history', 'off'));
  const off = views.slice(0, 10);
  for (const id of off) {
    await page.evaluate((id) => document.getElementById('recs')!.setAttribute('product', id), id);
    await expect(page.locator(`${row('similar')}`)).toBeVisible();
    await expect(page.locator(row('next'))).toHaveAttribute('data-basis', 'often-next');
    await expect(page.locator(items('next')).first()).toBeVisible();
  }
  expect(await history(page)).toEqual([]);
  expect(await leftovers(page)).toEqual(EMPTY);
  // The control: with consent the same element records the next view, where the checks above see it.
  await page.evaluate(() => {
    const el = document.getElementById('recs')!;
    el.setAttribute('history', 'on');
    el.setAttribute('product', 'VT0999');
  });
  await expect.poll(() => history(page)).toEqual(['VT0999']);
  expect(await leftovers(page)).toEqual({ ...EMPTY, dbs: { 'vitrine-history': { events: 1, impressions: expect.any(Number) } } });
  console.log(`privacy, history="off": ${off.length} views, 0 recorded`);
  expect(errors).toEqual([]);
});
