import { readFileSync } from 'node:fs';
import { expect, row, rowIds, test, watchErrors } from './fixtures.js';

const catalog: { id: string; category: string; image: string }[] = JSON.parse(readFileSync('models/demo/items.json', 'utf8'));
const categoryOf = new Map(catalog.map((p) => [p.id, p.category]));
const arrivals: { id: string; category: string }[] = JSON.parse(readFileSync('public/new-arrivals.json', 'utf8'));

test('a product not in the bundle gets a similar row from its image, embedded in the browser', async ({ page, store }) => {
  const errors = watchErrors(page);
  let same = 0;
  for (const arrival of arrivals) {
    await page.goto(`${store.url}product.html?id=${arrival.id}`);
    await expect(page.locator(row('similar'))).toHaveAttribute('data-basis', 'image');
    const ids = await rowIds(page, 'similar');
    expect(ids).toHaveLength(8);
    same += ids.filter((id) => categoryOf.get(id) === arrival.category).length;
    // Goes with, from the pair model (image + title) in the worker: never the product's own kind,
    // as its visual neighbours tell it.
    await expect(page.locator(row('complementary'))).toHaveAttribute('data-basis', 'pair-model');
    const votes = new Map<string, number>();
    for (const id of ids) votes.set(categoryOf.get(id)!, (votes.get(categoryOf.get(id)!) ?? 0) + 1);
    const kind = [...votes].sort((a, b) => b[1] - a[1])[0]![0];
    const goesWith = await rowIds(page, 'complementary');
    expect(goesWith.length).toBeGreaterThanOrEqual(4);
    expect(goesWith.filter((id) => categoryOf.get(id) === kind)).toEqual([]);
  }
  // Ten unseen photos, one per category: most neighbours are the same kind of product.
  expect(same / (arrivals.length * 8)).toBeGreaterThanOrEqual(0.75);
  expect(errors).toEqual([]);
});

test('the browser embeds an image exactly as the bundle builder did', async ({ page, store }) => {
  // A catalog product's own picture (its lossless thumbnail: the same pixels the builder embedded),
  // presented as if it were a new product: its nearest neighbour must be that product, which means
  // browser and builder compute the same embedding.
  const image = `/models/demo/${catalog.find((p) => p.id === 'VT0420')!.image}`;
  await page.goto(`${store.url}product.html`);
  await page.evaluate((image) => {
    const el = document.getElementById('recs')!;
    el.setAttribute('image', image);
    el.setAttribute('rows', 'similar');
    el.setAttribute('product', 'VT0420-copy');
  }, image);
  await expect(page.locator(row('similar'))).toHaveAttribute('data-basis', 'image');
  expect((await rowIds(page, 'similar'))[0]).toBe('VT0420');
});
