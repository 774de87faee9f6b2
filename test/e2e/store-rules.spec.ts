import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, items, rowIds, test, watchErrors } from './fixtures.js';

/** The demo bundle's products, as the test reads them (the page shows no categories). */
const catalog = new Map<string, { category?: string; brand?: string; price?: number }>(
  (JSON.parse(readFileSync('models/demo/items.json', 'utf8')) as { id: string; category?: string; brand?: string; price?: number }[]).map((it) => [it.id, it]),
);
const categoryOf = (id: string) => catalog.get(id)?.category;

type Seen = { type: string; row: string; productIds?: string[]; fill?: string[] | boolean; method?: string; bundle?: string; variant?: string; basis?: string };

/** Records every vitrine-impression and vitrine-select on `window.seen`. */
async function recordEvents(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { seen: unknown[] };
    w.seen = [];
    for (const type of ['vitrine-impression', 'vitrine-select']) document.addEventListener(type, (e) => w.seen.push({ type, ...(e as CustomEvent).detail }));
  });
}
const seen = (page: Page) => page.evaluate(() => (window as unknown as { seen: Seen[] }).seen);
/** The latest impression of `row` that `is` accepts (the page's first render, before a test sets its attributes, fires one too). */
const impression = async (page: Page, row: string, is: (e: Seen) => boolean = () => true) => {
  const match = async () => (await seen(page)).filter((e) => e.type === 'vitrine-impression' && e.row === row && is(e)).at(-1);
  await expect.poll(async () => !!(await match())).toBe(true);
  return (await match())!;
};
/** How often this shopper was shown `id` since last opening it, as IndexedDB holds it. */
const shownCount = (page: Page, id: string) =>
  page.evaluate(
    (key) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('vitrine-history');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('impressions')) return db.close(), resolve(0);
          const get = db.transaction('impressions').objectStore('impressions').get(key);
          get.onsuccess = () => (db.close(), resolve((get.result as { shown?: number } | undefined)?.shown ?? 0));
        };
      }),
    id,
  );
const setAttrs = (page: Page, attrs: Record<string, string>) =>
  page.evaluate((a) => {
    const el = document.getElementById('recs')!;
    for (const [k, v] of Object.entries(a)) el.setAttribute(k, v);
  }, attrs);

test('filter="category: …": every row shows only that category; a short row is topped up and the fill is marked', async ({ page, store }) => {
  const errors = watchErrors(page);
  await recordEvents(page);
  await page.goto(`${store.url}product.html?id=VT0001`);
  const own = categoryOf('VT0001')!;
  const other = [...new Set([...catalog.values()].map((p) => p.category!))].find((c) => c !== own)!;
  await expect(page.locator(items('similar')).first()).toBeVisible();
  await setAttrs(page, { filter: `category: ${other}` });
  await expect.poll(async () => (await rowIds(page, 'similar')).every((id) => categoryOf(id) === other)).toBe(true);
  for (const kind of ['similar', 'complementary', 'next']) {
    const ids = await rowIds(page, kind);
    expect(ids, kind).toHaveLength(8);
    for (const id of ids) expect(categoryOf(id), `${kind} row: ${id}`).toBe(other);
  }
  // The similar row of a product of another category has few look-alikes in this one: its tail is fill, marked as such.
  await page.locator('vitrine-recs').evaluate((el) => el.scrollIntoView());
  const shown = await impression(page, 'similar', (e) => e.productIds!.every((id) => categoryOf(id) === other));
  const ids = await rowIds(page, 'similar');
  expect(shown.productIds).toEqual(ids);
  expect((shown.fill as string[]).length).toBeGreaterThan(0);
  expect(ids.slice(ids.length - (shown.fill as string[]).length)).toEqual(shown.fill);
  expect(shown.method).toMatch(/\+fill$/);

  // fill="off": the row keeps only its own results.
  await setAttrs(page, { fill: 'off' });
  await expect(page.locator(items('similar'))).toHaveCount(8 - (shown.fill as string[]).length);
  expect(errors).toEqual([]);
});

test('filter on brand and price range; a clause it does not understand warns once and is ignored', async ({ page, store }) => {
  const warnings: string[] = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await page.goto(`${store.url}product.html?id=VT0300`);
  await expect(page.locator(items('similar')).first()).toBeVisible();
  const brand = catalog.get('VT0300')!.brand!;
  await setAttrs(page, { filter: `brand: ${brand}; price: 10-60; colour: red` });
  await expect.poll(async () => (await rowIds(page, 'similar')).every((id) => catalog.get(id)?.brand === brand)).toBe(true);
  for (const kind of ['similar', 'complementary']) {
    for (const id of await rowIds(page, kind)) {
      const p = catalog.get(id)!;
      expect(p.brand, id).toBe(brand);
      expect(p.price!, id).toBeGreaterThanOrEqual(10);
      expect(p.price!, id).toBeLessThanOrEqual(60);
    }
  }
  expect(warnings.filter((w) => w.includes('"colour: red" ignored'))).toHaveLength(1);
});

test('variants: a bucket id picks the same variant on every load; the variant switches the ranking; events carry variant, method, bundle and position', async ({ page, store }) => {
  await recordEvents(page);
  const variants = JSON.stringify({ control: {}, diverse: { rerank: 'mmr' } });
  const open = async (bucket: string) => {
    await page.goto(`${store.url}product.html?id=VT0001`);
    await setAttrs(page, { variants, bucket });
    await page.locator('vitrine-recs').evaluate((el) => el.scrollIntoView());
    return impression(page, 'similar', (e) => e.variant !== undefined);
  };
  const assigned = new Map<string, string>();
  for (const bucket of ['shopper-1', 'shopper-2', 'shopper-3', 'shopper-4', 'shopper-5', 'shopper-6']) {
    const first = await open(bucket);
    assigned.set(bucket, first.variant!);
    expect((await open(bucket)).variant, `${bucket} again`).toBe(first.variant);
    expect(first.method).toBe(first.variant === 'diverse' ? 'embedding:knn+mmr' : 'embedding:knn');
    expect(first.bundle).toMatch(/^[0-9a-f]{8}$/);
  }
  // Six ids, two equal-weight variants: both are used (a 1-in-32 chance of failing for a fair hash would show as flakiness; these ids are fixed).
  expect(new Set(assigned.values())).toEqual(new Set(['control', 'diverse']));
  // `variant` names one outright.
  await page.goto(`${store.url}product.html?id=VT0001`);
  await setAttrs(page, { variants, variant: 'diverse', bucket: 'shopper-1' });
  await page.locator('vitrine-recs').evaluate((el) => el.scrollIntoView());
  const forced = await impression(page, 'similar', (e) => e.variant !== undefined);
  expect(forced).toMatchObject({ variant: 'diverse', method: 'embedding:knn+mmr' });
  await page.evaluate(() => document.addEventListener('vitrine-select', (e) => e.preventDefault(), { once: true }));
  await page.locator(items('similar')).nth(2).locator('a').click();
  const picked = (await seen(page)).filter((e) => e.type === 'vitrine-select');
  expect(picked.at(-1)).toMatchObject({ row: 'similar', position: 3, variant: 'diverse', method: 'embedding:knn+mmr', bundle: forced.bundle, fill: false, productId: forced.productIds![2] });
});

test('rerank="impressions": products shown again and again but never opened give way to unseen ones; opening one brings it back', async ({ page, store }) => {
  const errors = watchErrors(page);
  await recordEvents(page);
  const load = async () => {
    await page.goto(`${store.url}product.html?id=VT0002`);
    await setAttrs(page, { rerank: 'impressions', rows: 'similar' });
    await page.locator('vitrine-recs').evaluate((el) => el.scrollIntoView());
    const ids = (await impression(page, 'similar', (e) => !!e.method?.endsWith('+impressions'))).productIds!;
    // Stored before the page is left (a shopper reads a page longer than a test does).
    await expect.poll(() => shownCount(page, ids[0]!)).toBeGreaterThan(0);
    const before = await shownCount(page, ids.at(-1)!);
    await page.waitForTimeout(300);
    expect(await shownCount(page, ids.at(-1)!)).toBe(before);
    return ids;
  };
  await page.goto(`${store.url}product.html?id=VT0002`);
  const first = await rowIds(page, 'similar');
  // Each load is one more impression of the row: past RERANK.free (3) of them, its products give way
  // to candidates this shopper has not been shown.
  let now = await load();
  for (let n = 0; n < 15 && now.every((id) => first.includes(id)); n++) now = await load();
  const gone = first.filter((id) => !now.includes(id));
  expect(gone.length).toBeGreaterThan(0);
  for (const id of gone) expect(await shownCount(page, id), id).toBeGreaterThan(3);
  // Without the rule, the row is what it was.
  await page.goto(`${store.url}product.html?id=VT0002`);
  expect(await rowIds(page, 'similar')).toEqual(first);
  // Opening a product is a pick: its count starts again, and it is back in the row.
  await page.goto(`${store.url}product.html?id=${gone[0]}`);
  await expect(page.locator(items('similar')).first()).toBeVisible();
  expect(await shownCount(page, gone[0]!)).toBe(0);
  expect(await load()).toContain(gone[0]);
  expect(errors).toEqual([]);
});
