/**
 * TF.js tensors in the browser's worker (issue 16): after N successful and N failing image
 * queries the count is where loading left it, and disposing the embedder, or failing to load one,
 * gives every tensor back. The builder's side is test/unit/model/image-embedder.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { DEMO_ROOTS } from '../../scripts/serve.js';
import { expect, test, watchErrors } from './fixtures.js';

let dir: string;
test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vitrine-leaks-'));
  await build({ entryPoints: ['test/e2e/workers/tensor-leaks.ts'], outfile: join(dir, 'tensor-leaks.js'), bundle: true, format: 'iife', target: 'es2022', logLevel: 'error', define: { 'process.env.NODE_ENV': '"production"' } });
  writeFileSync(join(dir, 'blank.html'), '<!doctype html><html lang="en"><meta charset="utf-8"><title>leaks</title>\n');
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('the image embedder in a worker: queries that fail leak nothing, a failed load frees what it took', async ({ page, startServer }) => {
  const server = await startServer({ roots: { ...DEMO_ROOTS, '/leaks/': dir } });
  const errors = watchErrors(page);
  await page.goto(`${server.url}leaks/blank.html`);
  const r = await page.evaluate(
    ({ script, base }) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const shim = URL.createObjectURL(new Blob([`importScripts(${JSON.stringify(script)});`], { type: 'text/javascript' }));
        const w = new Worker(shim);
        w.onmessage = (e) => (w.terminate(), resolve(e.data));
        w.onerror = (e) => reject(new Error(e.message));
        w.postMessage({ base, rounds: 5 });
      }),
    { script: `${server.url}leaks/tensor-leaks.js`, base: server.url },
  );
  expect(r.error).toBeUndefined();
  expect(r.failures).toEqual([]);
  expect(r.loaded as number).toBeGreaterThan(r.start as number);
  expect(r.afterQueries).toBe(r.loaded);
  expect(r.disposed).toBe(r.start);
  expect(r.afterFailedLoads).toBe(r.start);
  expect(errors).toEqual([]);
});
