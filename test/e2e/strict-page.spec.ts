import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, rowIds, test } from './fixtures.js';

/**
 * The widget on a store page with a strict Content-Security-Policy (docs/csp.md): no
 * 'unsafe-inline', no 'unsafe-eval', nothing from other origins, and the same policy sent with every
 * file — the worker script too, so the worker runs under it. Violations are counted three ways: the
 * page's `securitypolicyviolation` events, the browser's CSP console errors, and the reports the
 * browser posts to `report-uri` (the only ones that also cover the workers).
 */

interface Policy {
  /** Allow WebAssembly ('wasm-unsafe-eval'): TF.js's wasm backend and the int8 search kernel. */
  wasm: boolean;
  /** The page is cross-origin isolated: the worker starts through a blob: shim, TF.js wasm runs threads. */
  isolated: boolean;
}

/** The policy docs/csp.md tells a store to send, for the widget, its bundle and its images on the store's origin. */
function strictPolicy({ wasm, isolated }: Policy): string {
  const blob = isolated ? ' blob:' : '';
  return [
    "default-src 'none'",
    `script-src 'self'${wasm ? " 'wasm-unsafe-eval'" : ''}${blob}`,
    `worker-src 'self'${blob}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    'report-uri /csp-report',
  ].join('; ');
}

/** The store's page: no inline script or style, the widget's script, a product in the bundle and a new one. */
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A strict store</title>
<script type="module" src="/dist/vitrine.js"></script></head><body>
<h1>A strict store</h1>
<vitrine-recs id="known" src="/models/demo/manifest.json" product="VT0001"></vitrine-recs>
<vitrine-recs id="new" src="/models/demo/manifest.json" product="NEW0001" image="/new-arrivals/NEW0001.png" product-title="Ankle boot" rows="similar complementary" history="off"></vitrine-recs>
</body></html>`;

async function open(page: Page, startServer: (o: object) => Promise<{ url: string }>, policy: Policy) {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-strict-'));
  writeFileSync(join(dir, 'index.html'), PAGE);
  const reports: string[] = [];
  const server = await startServer({
    isolate: policy.isolated,
    headers: { 'Content-Security-Policy': strictPolicy(policy) },
    roots: { '/': dir, '/dist/': 'dist', '/models/': 'models', '/new-arrivals/': 'public/new-arrivals' },
    onRequest: (req: import('node:http').IncomingMessage) => {
      if (req.method !== 'POST') return;
      let body = '';
      req.on('data', (c) => (body += c)).on('end', () => {
        const r = JSON.parse(body)['csp-report'];
        reports.push(`${r['effective-directive']} blocked ${r['blocked-uri']} at ${r['source-file']}:${r['line-number']}`);
      });
    },
  });
  const seen = { pageErrors: [] as string[], cspConsole: [] as string[], vitrine: [] as string[] };
  page.on('pageerror', (e) => seen.pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) seen.cspConsole.push(m.text());
    if (m.text().startsWith('[vitrine]')) seen.vitrine.push(`${m.type()}: ${m.text()}`);
  });
  // Injected by the test runner, not the page: CSP does not apply to it.
  await page.addInitScript(() => {
    const w = window as unknown as { violations: string[] };
    w.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.violations.push(`${e.effectiveDirective} blocked ${e.blockedURI}`));
  });
  await page.goto(server.url);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(policy.isolated);
  const violations = async () => {
    // report-uri posts are sent as the violations happen; give the last ones a moment to land.
    await page.waitForTimeout(500);
    return [...(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)), ...reports];
  };
  return { seen, violations };
}

const backendOf = (page: Page) =>
  page.evaluate(() => document.querySelector<HTMLElement & { activeBackend: { name: string; reason: string } | null }>('#new')!.activeBackend);

/** All three rows for a catalog product, and both rows of a new product embedded by TF.js. */
async function allRows(page: Page) {
  for (const kind of ['similar', 'complementary', 'next']) expect(await rowIds(page, kind, '#known')).not.toHaveLength(0);
  await expect(page.locator('#new >> [part~="row"][data-row="similar"]')).toHaveAttribute('data-basis', 'image', { timeout: 60_000 });
  expect(await rowIds(page, 'similar', '#new')).toHaveLength(8);
  expect(await rowIds(page, 'complementary', '#new')).not.toHaveLength(0);
}

const count = { tried: 0, passed: 0 };
test.afterEach(({}, info) => {
  count.tried++;
  if (info.status === 'passed') count.passed++;
});
test.afterAll(() => console.log(`[strict-page] strict-CSP pages: ${count.passed} of ${count.tried} passed`));

for (const isolated of [false, true]) {
  test(`every row renders under a strict CSP${isolated ? ' on a cross-origin-isolated page (COOP/COEP)' : ''}, with zero violations`, async ({ page, startServer }) => {
    const { seen, violations } = await open(page, startServer, { wasm: true, isolated });
    await allRows(page);
    const backend = await backendOf(page);
    expect(backend?.name).toBe('wasm');
    // Isolated: TF.js's wasm runs threads (blob: workers) — allowed by this policy, so used.
    expect(backend?.reason).toMatch(isolated ? /SIMD, \d+ thread\(s\)/ : /SIMD, single-threaded/);
    expect(await violations()).toEqual([]);
    expect(seen.cspConsole).toEqual([]);
    expect(seen.vitrine).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
  });
}

test("without 'wasm-unsafe-eval': the rows that need no model render, the image rows fall to cpu with one message", async ({ page, startServer }) => {
  const { seen, violations } = await open(page, startServer, { wasm: false, isolated: false });
  // The int8 search falls back from its WebAssembly kernel to plain JS; TF.js from wasm to cpu.
  await allRows(page);
  const backend = await backendOf(page);
  expect(backend?.name).toBe('cpu');
  expect(seen.vitrine).toEqual([expect.stringMatching(/^warning: \[vitrine\] TF\.js runs on the cpu backend: .*wasm failed to start .*'wasm-unsafe-eval'/)]);
  // What the policy refused is WebAssembly compilation, and nothing else.
  const refused = await violations();
  expect(refused.length).toBeGreaterThan(0);
  for (const v of refused) expect(v).toMatch(/^script-src blocked wasm-eval /);
  expect(seen.pageErrors).toEqual([]);
});
