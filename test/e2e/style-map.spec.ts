import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test, watchErrors } from './fixtures.js';

/**
 * The demo's style map (public/style-map.html): the catalog's image embeddings in their first two
 * principal components, one thumbnail per product. The checks here are what a wrong analysis breaks:
 * categories no longer gather, an axis collapses, an axis carries less variance than a plain
 * embedding dimension, the two axes correlate, or the numbers the page states disagree with its plot.
 */

interface Item {
  id: string;
  category: string;
}
const catalog: Item[] = JSON.parse(readFileSync('models/demo/items.json', 'utf8'));
const DIMS: number = JSON.parse(readFileSync('models/demo/manifest.json', 'utf8')).similar.dims;
/** The embedding rows scaled to unit length, as the page analyses them. */
const rows: number[][] = (() => {
  const codes = new Int8Array(readFileSync('models/demo/embeddings.i8'));
  return catalog.map((_, i) => {
    const row = [...codes.subarray(i * DIMS, (i + 1) * DIMS)];
    const length = Math.hypot(...row) || 1;
    return row.map((v) => v / length);
  });
})();

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
/** Sample variance (n − 1), as the page's covariance. */
const variance = (xs: number[]) => {
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
};

interface Point {
  id: string;
  category: string;
  /** The product's scores on the two components, as the page computed them. */
  x: number;
  y: number;
  /** Where its thumbnail's centre is drawn, in CSS pixels. */
  left: number;
  top: number;
}

async function openMap(page: Page, store: { url: string }): Promise<Point[]> {
  await page.goto(`${store.url}style-map.html`);
  await expect(page.locator('#plot a')).toHaveCount(catalog.length);
  return page.locator('#plot a').evaluateAll((links) =>
    links.map((a) => {
      const box = a.querySelector('img')!.getBoundingClientRect();
      const d = (a as HTMLElement).dataset;
      return { id: d.id!, category: d.category!, x: Number(d.x), y: Number(d.y), left: box.x + box.width / 2, top: box.y + box.height / 2 };
    }),
  );
}

test.use({ viewport: { width: 1280, height: 1000 } });

test('the style map plots every catalog product as a loaded thumbnail linking to its page, from the page’s and the bundle’s files only', async ({ page, store, requests }) => {
  const failed: string[] = [];
  page.on('response', (r) => r.status() >= 400 && failed.push(`HTTP ${r.status()} ${r.url()}`));
  page.on('console', (m) => m.type() === 'error' && failed.push(`console: ${m.text()}`));
  const errors = watchErrors(page);
  const points = await openMap(page, store);
  expect(points.map((p) => p.id).sort()).toEqual(catalog.map((p) => p.id).sort());
  await expect.poll(() => page.locator('#plot img').evaluateAll((imgs) => imgs.filter((i) => !(i as HTMLImageElement).complete || (i as HTMLImageElement).naturalWidth === 0).length)).toBe(0);
  // Each thumbnail: a link to its product page, named by the product's title and category.
  const first = catalog[0]!;
  const link = page.locator(`#plot a[data-id="${first.id}"]`);
  await expect(link).toHaveAttribute('href', `/product.html?id=${first.id}`);
  await expect(link.getByRole('img')).toHaveAccessibleName(new RegExp(`\\(${first.category}\\)$`));
  await expect(page.getByRole('link', { name: /\(Sandal\)$/ })).toHaveCount(100);
  await page.waitForLoadState('networkidle');
  const own = /^\/(style-map\.(html|js)|pca\.js|demo\.css|models\/demo\/(manifest\.json|items\.json|embeddings\.i8|images\/\d+\.webp))$/;
  const urls = requests.map((r) => r.url()).filter((u) => !u.startsWith('data:'));
  expect(urls.filter((u) => !u.startsWith(store.url) || !own.test(new URL(u).pathname))).toEqual([]);
  expect(failed).toEqual([]);
  expect(errors).toEqual([]);
});

test('the map is spread in both axes, and products of one category sit closer together than to the rest', async ({ page, store }) => {
  const points = await openMap(page, store);
  const plot = (await page.locator('#plot').boundingBox())!;
  // Not degenerate: each axis spans most of the plot, with the products spread along it.
  for (const [axis, side] of [['left', plot.width], ['top', plot.height]] as const) {
    const at = points.map((p) => p[axis]);
    expect(Math.max(...at) - Math.min(...at), `${axis} span`).toBeGreaterThan(0.75 * side);
    expect(Math.sqrt(variance(at)), `${axis} spread`).toBeGreaterThan(0.12 * side);
  }
  let within = 0;
  let withinPairs = 0;
  let between = 0;
  let betweenPairs = 0;
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const [a, b] = [points[i]!, points[j]!];
      const distance = Math.hypot(a.left - b.left, a.top - b.top);
      if (a.category === b.category) (within += distance), withinPairs++;
      else (between += distance), betweenPairs++;
    }
  }
  // The demo’s embedding separates its ten categories well: about 0.25 here; two of its own dimensions
  // as the axes give about 0.5.
  expect(within / withinPairs).toBeLessThan(0.35 * (between / betweenPairs));
});

test('the axes are the embedding’s first two principal components, and the variance the page states is the plot’s', async ({ page, store }) => {
  const points = await openMap(page, store);
  const byId = new Map(points.map((p) => [p.id, p]));
  const xs = catalog.map((p) => byId.get(p.id)!.x);
  const ys = catalog.map((p) => byId.get(p.id)!.y);
  const [vx, vy] = [variance(xs), variance(ys)];
  // Centred, uncorrelated, the first carrying at least as much as the second.
  expect(Math.abs(mean(xs))).toBeLessThan(1e-9);
  expect(Math.abs(mean(ys))).toBeLessThan(1e-9);
  const [mx, my] = [mean(xs), mean(ys)];
  const correlation = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0) / (xs.length - 1) / Math.sqrt(vx * vy);
  expect(Math.abs(correlation)).toBeLessThan(1e-6);
  expect(vx).toBeGreaterThanOrEqual(vy);
  // The first component carries the most variance of any direction: more than each embedding
  // dimension and each direction from the catalog's mean to a category's mean.
  const centre = Array.from({ length: DIMS }, (_, j) => mean(rows.map((r) => r[j]!)));
  const along = (dir: number[]) => {
    const length = Math.hypot(...dir);
    return variance(rows.map((r) => r.reduce((s, v, j) => s + (v - centre[j]!) * dir[j]!, 0) / length));
  };
  const directions = [
    ...Array.from({ length: DIMS }, (_, j) => Array.from({ length: DIMS }, (_, k) => (k === j ? 1 : 0))),
    ...[...new Set(catalog.map((p) => p.category))].map((c) => {
      const members = rows.filter((_, i) => catalog[i]!.category === c);
      return centre.map((m, j) => mean(members.map((r) => r[j]!)) - m);
    }),
  ];
  for (const dir of directions) expect(along(dir)).toBeLessThanOrEqual(vx * (1 + 1e-9));
  // The page's stated shares are these variances over the embedding's total.
  const total = Array.from({ length: DIMS }, (_, j) => variance(rows.map((r) => r[j]!))).reduce((s, v) => s + v, 0);
  for (const [id, v] of [['#pc1', vx], ['#pc2', vy]] as const) {
    const shown = Number((await page.locator(id).textContent())!.replace('%', ''));
    // Shown to one decimal.
    expect(Math.abs(shown - (100 * v) / total), `${id} shows ${shown}%`).toBeLessThanOrEqual(0.05 + 1e-9);
  }
  // Deterministic: a reload draws the same map.
  const again = await openMap(page, store);
  expect(again.map((p) => [p.id, p.x, p.y])).toEqual(points.map((p) => [p.id, p.x, p.y]));
});

test('the thumbnails are keyboard links with a visible focus, and a category can be highlighted', async ({ page, store }) => {
  await openMap(page, store);
  // Past the header's links, the legend and the skip link, the first thumbnail.
  const focused = () => page.evaluate(() => document.activeElement?.matches('#plot a') ?? false);
  for (let i = 0; i < 40 && !(await focused()); i++) await page.keyboard.press('Tab');
  expect(await focused()).toBe(true);
  const point = page.locator('#plot a:focus');
  await expect(point).toHaveCSS('outline-style', 'solid');
  const id = await point.getAttribute('data-id');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/product\\.html\\?id=${id}$`));

  await openMap(page, store);
  await page.getByRole('button', { name: /^Sandal \(100\)$/ }).click();
  await expect(page.getByRole('button', { name: /^Sandal/ })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('#plot a:not(.faded)')).toHaveCount(100);
  expect(await page.locator('#plot a:not(.faded)').evaluateAll((links) => links.every((a) => (a as HTMLElement).dataset.category === 'Sandal'))).toBe(true);
  await page.getByRole('button', { name: 'All', exact: true }).click();
  await expect(page.locator('#plot a.faded')).toHaveCount(0);
});

test('pca.js finds known components exactly, in a fixed order and sign', async ({ page, store }) => {
  // Rows 3a·u1 + 2b·u2 + c·u3 over every (a, b, c) in {−1, 0, 1}³, with u1..u3 orthonormal and
  // turned away from the axes: the covariance is exactly 9 : 4 : 1 along u1, u2, u3.
  const u = [[0.6, 0.8, 0, 0, 0], [0, 0, 0.8, -0.6, 0], [-0.8, 0.6, 0, 0, 0]];
  await page.goto(`${store.url}style-map.html`);
  const result = await page.evaluate(async (u) => {
    const { pca } = (await import('/pca.js' as string)) as { pca: (rows: ArrayLike<number>, d: number, k?: number) => { components: Float64Array[]; variances: number[]; total: number } };
    const rows: number[] = [];
    for (const a of [-1, 0, 1]) for (const b of [-1, 0, 1]) for (const c of [-1, 0, 1]) for (let j = 0; j < 5; j++) rows.push(3 * a * u[0]![j]! + 2 * b * u[1]![j]! + c * u[2]![j]!);
    const { components, variances, total } = pca(rows, 5, 3);
    return { components: components.map((v) => [...v]), shares: variances.map((v) => v / total) };
  }, u);
  // Each component's largest coordinate is positive: u1, u2 as they are, u3 turned round.
  const expected = [u[0]!, u[1]!, u[2]!.map((x) => -x)];
  result.components.forEach((v, c) => v.forEach((x, j) => expect(x, `component ${c}[${j}]`).toBeCloseTo(expected[c]![j]!, 9)));
  result.shares.forEach((share, c) => expect(share).toBeCloseTo([9, 4, 1][c]! / 14, 9));
});
