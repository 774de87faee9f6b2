import { readFileSync } from 'node:fs';
import { expect, items, row, rowIds, test, watchErrors } from './fixtures.js';

const catalog: { id: string; category: string }[] = JSON.parse(readFileSync('models/demo/items.json', 'utf8'));
const categoryOf = new Map(catalog.map((p) => [p.id, p.category]));

test('the catalog lists products as links to their pages', async ({ page, store }) => {
  await page.goto(store.url);
  const links = page.locator('#catalog a');
  await expect(links.first()).toBeVisible();
  expect(await links.count()).toBeGreaterThanOrEqual(60);
  await expect(links.first()).toHaveAttribute('href', /^\/product\.html\?id=VT\d{4}$/);
  await links.first().click();
  await expect(page).toHaveURL(/product\.html\?id=VT\d{4}/);
  await expect(page.locator('#product-title')).not.toHaveText('Loading…');
});

test('every demo page loads whole: no response of 400 or more, no image that did not load, no console error', async ({ page, store }) => {
  const failed: string[] = [];
  page.on('response', (r) => r.status() >= 400 && failed.push(`HTTP ${r.status()} ${r.url()}`));
  page.on('console', (m) => m.type() === 'error' && failed.push(`console: ${m.text()}`));
  const errors = watchErrors(page);
  const broken = () => page.evaluate(() => [...document.images, ...document.querySelectorAll('vitrine-recs, vitrine-history, vitrine-search')].flatMap((e) => (e instanceof HTMLImageElement ? [e] : [...(e.shadowRoot?.querySelectorAll('img') ?? [])])).filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.src));
  // Each page, and how many of what it draws to wait for.
  const pages = [
    ['', '#catalog img', 60],
    ['product.html?id=VT0001', items('similar'), 8],
    ['product.html?id=NEW0001', items('similar'), 8],
    ['product.html?id=VT0001&dir=rtl', items('similar'), 8],
    ['style-map.html', '#plot img', catalog.length],
    ['search.html', 'vitrine-search >> [part~="drop"]', 1],
  ] as const;
  for (const [path, drawn, count] of pages) {
    await page.goto(`${store.url}${path}`);
    await expect(page.locator(drawn)).toHaveCount(count);
    // Every page links to the style map from its header.
    await expect(page.getByRole('navigation', { name: 'Demo pages' }).getByRole('link', { name: 'Style map' })).toHaveAttribute('href', '/style-map.html');
    await expect(page.getByRole('navigation', { name: 'Demo pages' }).getByRole('link', { name: 'Search by photo' })).toHaveAttribute('href', '/search.html');
    // Scroll the page through so lazy images load; one that finished without pixels is broken (a
    // row's cards beyond its scroll box may never load: not broken).
    await page.evaluate(async () => {
      for (let y = 0; y < document.body.scrollHeight; y += innerHeight) (scrollTo(0, y), await new Promise((r) => setTimeout(r, 50)));
    });
    await expect.poll(broken, { message: `broken images on /${path}` }).toEqual([]);
  }
  expect(failed).toEqual([]);
  expect(errors).toEqual([]);
});

test('a product page shows the product and three rows computed in the browser', async ({ page, store }) => {
  const errors = watchErrors(page);
  await page.goto(`${store.url}product.html?id=VT0001`);
  await expect(page.locator('#product-title')).toHaveText(/Ankle boots|Boots|Chelsea boots/);
  for (const [kind, title] of [['similar', 'Visually similar'], ['complementary', 'Goes with'], ['next', 'Next for you']]) {
    await expect(page.locator(`${row(kind)} >> [part~="row-title"]`)).toContainText(title);
    await expect(page.locator(items(kind)).first()).toBeVisible();
  }
  // Each item: a link to its product page, an image, a title and a price.
  const first = page.locator(items('similar')).first();
  await expect(first.locator('a')).toHaveAttribute('href', new RegExp(`^${store.url}product\\.html\\?id=VT\\d{4}$`));
  await expect(first.locator('img[part~="image"]')).toHaveAttribute('src', /\/models\/demo\/images\/\d+\.webp$/);
  await expect(first.locator('[part~="title"]')).not.toBeEmpty();
  await expect(first.locator('[part~="price"]')).toHaveText(/€\s?\d/);
  // The product itself is in none of its rows.
  for (const kind of ['similar', 'complementary', 'next']) expect(await rowIds(page, kind)).not.toContain('VT0001');
  // Visually similar means the same kind of product: no sandals beside boots.
  const similar = await rowIds(page, 'similar');
  expect(similar).toHaveLength(8);
  expect(similar.filter((id) => categoryOf.get(id) === categoryOf.get('VT0001')).length).toBeGreaterThanOrEqual(7);
  // "Goes with" completes the product: other categories.
  const goesWith = await rowIds(page, 'complementary');
  expect(goesWith.every((id) => categoryOf.get(id) !== categoryOf.get('VT0001'))).toBe(true);
  expect(errors).toEqual([]);
});

test('every request goes to the page’s own origin, and TF.js is not loaded when no row needs it', async ({ page, store, requests }) => {
  await page.goto(`${store.url}product.html?id=VT0002`);
  for (const kind of ['similar', 'complementary', 'next']) await expect(page.locator(items(kind)).first()).toBeVisible();
  await page.waitForLoadState('networkidle');
  const urls = requests.map((r) => r.url());
  // The worker's own fetches are seen too (only it reads the manifest), so this list is complete.
  expect(urls).toContain(`${store.url}models/demo/manifest.json`);
  expect(urls.filter((u) => new URL(u).origin !== new URL(store.url).origin)).toEqual([]);
  // A first visit has no session yet: every row comes from bundle lists, without TF.js.
  expect(urls.filter((u) => /\.wasm$|runtime-/.test(u))).toEqual([]);
});
