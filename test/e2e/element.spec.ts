import { expect, items, row, rowIds, test, watchErrors } from './fixtures.js';

test('several elements on one page share one worker', async ({ page, store }) => {
  const workers: string[] = [];
  page.on('worker', (w) => workers.push(w.url()));
  await page.goto(`${store.url}product.html`);
  await page.evaluate(() => {
    for (const id of ['VT0001', 'VT0500', 'VT0900']) {
      const el = document.createElement('vitrine-recs');
      el.className = 'extra';
      el.setAttribute('src', '/models/demo/manifest.json');
      el.setAttribute('rows', 'similar');
      el.setAttribute('product', id);
      document.body.append(el);
    }
  });
  for (const n of [1, 2, 3]) expect(await rowIds(page, 'similar', `vitrine-recs.extra:nth-of-type(${n})`)).toHaveLength(8);
  expect(workers).toHaveLength(1);
});

test('shows a loading state at once, then the rows; `limit` and `rows` are honoured', async ({ page, store }) => {
  await page.goto(`${store.url}product.html`);
  const atFirstRender = await page.evaluate(async () => {
    const el = document.getElementById('recs') as HTMLElement & { updateComplete: Promise<unknown> };
    el.setAttribute('limit', '4');
    el.setAttribute('rows', 'complementary similar');
    el.setAttribute('product', 'VT0001');
    await el.updateComplete;
    return [...el.shadowRoot!.querySelectorAll('[part~="loading"]')].map((e) => (e as HTMLElement).dataset.row);
  });
  expect(atFirstRender).toEqual(['complementary', 'similar']);
  await expect(page.locator(items('similar'))).toHaveCount(4);
  await expect(page.locator(items('complementary'))).toHaveCount(4);
  await expect(page.locator('vitrine-recs >> [part~="loading"]')).toHaveCount(0);
  expect(await page.locator('vitrine-recs >> [part~="row"]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.row))).toEqual(['complementary', 'similar']);
  await expect(page.locator(row('next'))).toHaveCount(0);
});

test('exclude="…": no row shows those products (the cart, what was bought), and rows stay full', async ({ page, store }) => {
  const errors = watchErrors(page);
  await page.goto(`${store.url}product.html?id=VT0001`);
  await expect(page.locator(items('similar')).first()).toBeVisible();
  await expect(page.locator(items('complementary')).first()).toBeVisible();
  const before = { similar: await rowIds(page, 'similar'), complementary: await rowIds(page, 'complementary') };
  const excluded = [before.similar[0]!, before.similar[2]!, before.complementary[0]!];
  await page.evaluate((ids) => document.getElementById('recs')!.setAttribute('exclude', ids.join(' ')), excluded);
  await expect.poll(async () => (await rowIds(page, 'similar')).includes(excluded[0]!)).toBe(false);
  for (const kind of ['similar', 'complementary', 'next']) {
    const ids = await rowIds(page, kind);
    for (const id of excluded) expect(ids, `${kind} row`).not.toContain(id);
  }
  expect(await rowIds(page, 'similar')).toHaveLength(before.similar.length);
  expect(await rowIds(page, 'complementary')).toHaveLength(before.complementary.length);
  // The rest of the row keeps its order.
  const kept = before.similar.filter((id) => !excluded.includes(id));
  expect((await rowIds(page, 'similar')).slice(0, kept.length)).toEqual(kept);
  expect(errors).toEqual([]);
});

test('every text is the store’s to set: the strings property or its JSON attribute; a bad one warns and keeps the defaults', async ({ page, store }) => {
  const errors = watchErrors(page);
  const warnings: string[] = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await page.goto(`${store.url}product.html?id=VT0001`);
  const title = (kind: string) => page.locator(`${row(kind)} >> [part~="row-title"]`);
  await expect(title('similar')).toHaveText('Visually similar');
  await page.evaluate(() => ((document.getElementById('recs') as HTMLElement & { strings: object }).strings = { similar: 'Ähnliche Artikel', complementary: 'Passt dazu' }));
  await expect(title('similar')).toHaveText('Ähnliche Artikel');
  await expect(title('complementary')).toHaveText('Passt dazu');
  await expect(title('next')).toContainText('Next for you');
  await page.evaluate(() => document.getElementById('recs')!.setAttribute('strings', '{"next": "Als Nächstes", "oftenNext": "oft danach angesehen"}'));
  await expect(title('next')).toContainText(/Als Nächstes/);
  await expect(title('similar')).toHaveText('Visually similar');
  await page.evaluate(() => document.getElementById('recs')!.setAttribute('strings', '{not json'));
  await expect(title('next')).toContainText('Next for you');
  expect(warnings.some((w) => /strings="\{not json" is not a JSON object/.test(w))).toBe(true);
  expect(errors).toEqual([]);
});

test('fires vitrine-impression when a row is shown and vitrine-select when an item is picked', async ({ page, store }) => {
  await page.goto(`${store.url}product.html?id=VT0001`);
  await page.evaluate(() => {
    const w = window as unknown as { seen: unknown[] };
    w.seen = [];
    for (const type of ['vitrine-impression', 'vitrine-select']) document.addEventListener(type, (e) => w.seen.push({ type, ...(e as CustomEvent).detail }));
  });
  await expect(page.locator(items('similar')).first()).toBeVisible();
  const similar = await rowIds(page, 'similar');
  await expect.poll(() => page.evaluate(() => (window as unknown as { seen: { type: string; row: string }[] }).seen.filter((e) => e.type === 'vitrine-impression').map((e) => e.row))).toContain('similar');
  const impression = await page.evaluate(() => (window as unknown as { seen: { type: string; row: string }[] }).seen.find((e) => e.type === 'vitrine-impression' && e.row === 'similar'));
  expect(impression).toMatchObject({ row: 'similar', basis: 'embedding', method: 'embedding:knn', productIds: similar, fill: [] });

  // A store's router can take over: preventDefault() stops the navigation.
  await page.evaluate(() => document.addEventListener('vitrine-select', (e) => e.preventDefault(), { once: true }));
  await page.locator(items('similar')).nth(1).locator('a').click();
  expect(page.url()).toMatch(/id=VT0001$/);
  const picked = await page.evaluate(() => (window as unknown as { seen: { type: string }[] }).seen.filter((e) => e.type === 'vitrine-select'));
  expect(picked).toEqual([
    { type: 'vitrine-select', productId: similar[1], row: 'similar', basis: 'embedding', method: 'embedding:knn', bundle: expect.stringMatching(/^[0-9a-f]{8}$/), position: 2, url: `${store.url}product.html?id=${similar[1]}`, fill: false },
  ]);

  // Otherwise the link navigates as any link does.
  await page.locator(items('similar')).first().locator('a').click();
  await expect(page).toHaveURL(new RegExp(`id=${similar[0]}$`));
});

test('a bundle that cannot load renders nothing, logs one clear message, and leaves the page working', async ({ page, store }) => {
  const errors = watchErrors(page);
  const messages: string[] = [];
  page.on('console', (m) => m.text().startsWith('[vitrine]') && messages.push(m.text()));
  await page.goto(`${store.url}product.html?id=VT0002`);
  await page.evaluate(() => {
    const el = document.createElement('vitrine-recs');
    el.id = 'broken';
    el.setAttribute('src', '/models/missing/manifest.json');
    el.setAttribute('product', 'VT0002');
    document.body.append(el);
  });
  await expect.poll(() => messages.length).toBeGreaterThan(0);
  await expect(page.locator('#broken >> [part~="loading"]')).toHaveCount(0);
  await expect(page.locator('#broken >> [part~="row"]')).toHaveCount(0);
  expect(messages).toHaveLength(1);
  expect(messages[0]).toMatch(/^\[vitrine\] recommendations unavailable: bundle file manifest\.json: HTTP 404 from .*\/models\/missing\/manifest\.json$/);
  expect(errors).toEqual([]);
  // The page still works: the other element shows its rows, the store's own button still runs.
  await expect(page.locator('#recs >> [part~="row"]')).toHaveCount(3);
  await page.locator('#add-to-cart').click();
  await expect(page.locator('#cart-note')).toHaveText(/Added to cart/);
});
