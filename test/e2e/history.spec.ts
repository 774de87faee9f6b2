import { expect, items, row, rowIds, test, watchErrors } from './fixtures.js';

/** Counts the events in the widget's IndexedDB database directly, not through the widget's API. */
const storedEvents = (page: import('@playwright/test').Page) =>
  page.evaluate(async () => {
    // Opening a database that does not exist would create it: look first.
    if (!(await indexedDB.databases()).some((d) => d.name === 'vitrine-history')) return 0;
    return new Promise<number>((resolve, reject) => {
      const req = indexedDB.open('vitrine-history');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const db = req.result;
        const count = db.transaction('events').objectStore('events').count();
        count.onsuccess = () => (resolve(count.result), db.close());
      };
    });
  });

test('the next row reads this shopper’s session; history survives a reload; clearHistory() empties it', async ({ page, store }) => {
  const errors = watchErrors(page);
  for (const id of ['VT0001', 'VT0150', 'VT0300']) {
    await page.goto(`${store.url}product.html?id=${id}`);
    await expect(page.locator(items('similar')).first()).toBeVisible();
  }
  // Three views in one session: the next-view model scores from them (TF.js in the worker).
  await expect(page.locator(row('next'))).toHaveAttribute('data-basis', 'session');
  await expect(page.locator(`${row('next')} >> [part~="row-title"]`)).toHaveText('Next for you');
  const next = await rowIds(page, 'next');
  expect(next.length).toBeGreaterThan(0);
  expect(next).not.toContain('VT0001');
  expect(next).not.toContain('VT0150');
  // The view is recorded while the rows load: the third write may commit after the row is shown.
  await expect.poll(() => storedEvents(page)).toBe(3);

  await page.reload();
  await expect(page.locator(row('next'))).toHaveAttribute('data-basis', 'session');
  // The reload's own view is recorded while its rows load, as above.
  await expect
    .poll(() => page.evaluate(async () => ((await import('/dist/vitrine.js' as string)).getHistory() as Promise<{ productId: string }[]>).then((v) => v.map((e) => e.productId))))
    .toEqual(['VT0001', 'VT0150', 'VT0300', 'VT0300']);

  await page.evaluate(async () => (await import('/dist/vitrine.js' as string)).clearHistory());
  expect(await storedEvents(page)).toBe(0);
  expect(await page.evaluate(async () => (await import('/dist/vitrine.js' as string)).getHistory())).toEqual([]);

  // No history: the row falls back to what is often viewed next, and its title says so.
  await page.reload();
  await expect(page.locator(row('next'))).toHaveAttribute('data-basis', 'often-next');
  await expect(page.locator(`${row('next')} >> [part~="row-title"]`)).toContainText('often viewed after this');
  expect(errors).toEqual([]);
});

test('history="off" records nothing', async ({ page, store }) => {
  await page.goto(`${store.url}product.html`);
  await page.evaluate(() => {
    const el = document.getElementById('recs')!;
    el.setAttribute('history', 'off');
    el.setAttribute('product', 'VT0001');
  });
  await expect(page.locator(items('similar')).first()).toBeVisible();
  await expect(page.locator(row('next'))).toHaveAttribute('data-basis', 'often-next');
  expect(await storedEvents(page)).toBe(0);
});

test('record-view="off": an element in a cart drawer shows its rows and records no view', async ({ page, store }) => {
  const errors = watchErrors(page);
  await page.goto(`${store.url}product.html?id=VT0001`);
  await expect(page.locator(items('similar')).first()).toBeVisible();
  await expect.poll(() => storedEvents(page)).toBe(1);
  await page.evaluate(() => {
    const drawer = document.createElement('vitrine-recs');
    drawer.id = 'drawer';
    drawer.setAttribute('src', document.getElementById('recs')!.getAttribute('src')!);
    drawer.setAttribute('record-view', 'off');
    drawer.setAttribute('rows', 'similar next');
    drawer.setAttribute('product', 'VT0150');
    document.body.append(drawer);
  });
  // An element asks for its next row only after recording its view (if it records one): once the
  // drawer's next row is there, a view it recorded would be stored.
  await expect(page.locator('#drawer >> [part~="row"][data-row="next"] >> [part~="item"]').first()).toBeVisible();
  expect(await storedEvents(page)).toBe(1);
  const views = await page.evaluate(async () => (await import('/dist/vitrine.js' as string)).getHistory());
  expect(views.map((e: { productId: string }) => e.productId)).toEqual(['VT0001']);
  // Switched back on, the same element records its product.
  await page.evaluate(() => document.getElementById('drawer')!.setAttribute('record-view', 'on'));
  await expect.poll(() => storedEvents(page)).toBe(2);
  expect(errors).toEqual([]);
});
