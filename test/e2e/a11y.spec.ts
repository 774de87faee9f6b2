import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from '@playwright/test';
import { expect, items, test } from './fixtures.js';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

// axe-core (Deque's rules, WCAG 2 A/AA and best practices) on every demo page once its rows are in:
// zero violations, inside the element's shadow DOM too.
// Each page, and how many of what it draws to wait for.
const pages = [
  ['home', '', '#catalog img', 60],
  ['product page', 'product.html?id=VT0001', items('similar'), 8],
  ['new arrival', 'product.html?id=NEW0001', items('similar'), 8],
  ['product page, right to left', 'product.html?id=VT0001&dir=rtl', items('similar'), 8],
  ['style map', 'style-map.html', '#plot img', 1000],
  ['search by photo', 'search.html', 'vitrine-search >> [part~="drop"]', 1],
] as const;
/** axe's violations on the page as it is now, one line each. */
async function violationsOf(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: { id: string; impact: string; nodes: { target: unknown }[] }[] }> } }).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(', ')}`);
  });
}

test('accessibility: a product page with a history (the recently viewed list, its × and clear buttons) has no axe violations', async ({ page, store }) => {
  await page.goto(`${store.url}product.html?id=VT0001`);
  await expect(page.locator(items('similar'))).toHaveCount(8);
  await page.goto(`${store.url}product.html?id=VT0002`);
  await expect(page.locator('vitrine-history >> [part~="item"]')).toHaveCount(1);
  expect(await violationsOf(page)).toEqual([]);
});

test('accessibility: the search page with results (a row and its scroll buttons inside <vitrine-search>) has no axe violations', async ({ page, store }) => {
  await page.goto(`${store.url}search.html`);
  await page.locator('vitrine-search >> input[type="file"]').setInputFiles({ name: 'photo.webp', mimeType: 'image/webp', buffer: readFileSync('models/demo/images/0.webp') });
  await expect(page.locator('vitrine-search >> vitrine-recs >> [part~="item"]')).toHaveCount(12, { timeout: 60_000 });
  expect(await violationsOf(page)).toEqual([]);
});

test('accessibility: every page the demo serves is checked below', () => {
  const checked = new Set(pages.map(([, path]) => path.split('?')[0] || 'index.html'));
  expect(readdirSync('public').filter((f) => f.endsWith('.html')).filter((f) => !checked.has(f))).toEqual([]);
});

for (const [name, path, drawn, count] of pages) {
  test(`accessibility: the demo's ${name} has no axe violations`, async ({ page, store }) => {
    await page.goto(`${store.url}${path}`);
    await expect(page.locator(drawn)).toHaveCount(count);
    await page.addScriptTag({ path: axePath });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: { id: string; impact: string; nodes: { target: unknown }[] }[] }> } }).axe;
      const result = await axe.run(document);
      return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(', ')}`);
    });
    expect(violations).toEqual([]);
  });
}
