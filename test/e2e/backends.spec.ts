import { expect, row, rowIds, test, watchErrors } from './fixtures.js';

// NEW0001 is not in the bundle: its similar row needs the image model (TF.js in the worker).
const newArrival = (base: string, backend?: string) => `${base}product.html?id=NEW0001${backend ? `&backend=${backend}` : ''}`;
const backendOf = (page: import('@playwright/test').Page) => page.evaluate(() => document.querySelector('vitrine-recs')!.activeBackend);

test('auto chooses wasm over the software (SwiftShader) WebGPU adapter, and says why', async ({ page, store }) => {
  const errors = watchErrors(page);
  await page.goto(newArrival(store.url));
  await expect(page.locator(row('similar'))).toHaveAttribute('data-basis', 'image');
  const backend = await backendOf(page);
  expect(backend?.name).toBe('wasm');
  expect(backend?.reason).toMatch(/software fallback.*slower than wasm/);
  expect(backend?.reason).toMatch(/SIMD/);
  expect(errors).toEqual([]);
});

test('forced wasm and forced webgpu give the same similar-items row', async ({ page, store }) => {
  test.setTimeout(150_000);
  const rows: Record<string, string[]> = {};
  for (const forced of ['wasm', 'webgpu']) {
    await page.goto(newArrival(store.url, forced));
    await expect(page.locator(row('similar'))).toHaveAttribute('data-basis', 'image', { timeout: 90_000 });
    const backend = await backendOf(page);
    expect(backend?.name, backend?.reason).toBe(forced);
    expect(backend?.reason).toMatch(new RegExp(`forced by backend="${forced}"`));
    rows[forced] = await rowIds(page, 'similar');
  }
  expect(rows.webgpu).toHaveLength(8);
  expect(rows.webgpu).toEqual(rows.wasm);
});

test('forced cpu works too, and an unknown backend falls back to auto with a warning', async ({ page, store }) => {
  const warnings: string[] = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await page.goto(newArrival(store.url, 'cpu'));
  await expect(page.locator(row('similar'))).toHaveAttribute('data-basis', 'image', { timeout: 60_000 });
  expect((await backendOf(page))?.name).toBe('cpu');
  await page.goto(newArrival(store.url, 'webgl'));
  await expect(page.locator(row('similar'))).toHaveAttribute('data-basis', 'image');
  expect((await backendOf(page))?.name).toBe('wasm');
  expect(warnings.some((w) => /\[vitrine\] backend="webgl" is unknown \(allowed: auto, webgpu, wasm, cpu\)/.test(w))).toBe(true);
});
