/**
 * Network faults (issue 6, point 2), in Chromium through the real widget and worker: the server
 * answers 404 / 500, drops the connection mid-file, stalls, trickles, or serves a cached copy that
 * no longer matches the manifest. Retries are counted at the server.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, items, row, rowIds, test, watchErrors } from './fixtures.js';
import { startFaultServer, type FaultServer, type Reply } from './fault-server.js';

const DEMO = '/models/demo/';
const file = (name: string) => readFileSync(`models/demo/${name}`);
/** The reader's defaults: 2 retries, so 3 tries at most. */
const TRIES = 3;

const tally = { tried: 0, passed: 0 };
const fault = async (name: string, check: () => Promise<void>) => {
  tally.tried++;
  await check();
  tally.passed++;
  console.log(`network fault ${tally.passed}/${tally.tried}: ${name}`);
};
test.afterAll(() => console.log(`network faults: ${tally.passed} of ${tally.tried} tried were handled as specified`));

function vitrineMessages(page: Page): string[] {
  const messages: string[] = [];
  page.on('console', (m) => m.text().startsWith('[vitrine]') && messages.push(m.text()));
  return messages;
}

let server: FaultServer;
test.afterEach(async () => server?.close());

test('404 is not retried, 500 is retried a bounded number of times; the other rows render, and a later page view recovers', async ({ page }) => {
  let broken = true;
  server = await startFaultServer((path) => {
    if (!broken) return undefined;
    if (path === `${DEMO}complementary.json`) return { status: 500, body: 'upstream down' };
    if (path === `${DEMO}next-view/sessions.bin`) return { status: 404, body: 'gone' };
    return undefined;
  });
  const errors = watchErrors(page);
  const messages = vitrineMessages(page);
  await page.goto(`${server.url}product.html?id=VT0001`);
  await expect(page.locator(items('similar'))).toHaveCount(8);
  await expect(page.locator('vitrine-recs >> [part~="loading"]')).toHaveCount(0);
  await expect(page.locator(row('complementary'))).toHaveCount(0);
  await expect(page.locator(row('next'))).toHaveCount(0);
  await fault('HTTP 500, permanent', async () => {
    expect(server.hits(`${DEMO}complementary.json`)).toBe(TRIES);
    expect(messages).toContainEqual(expect.stringMatching(/^\[vitrine\] recommendations unavailable: bundle file complementary\.json: could not be fetched from \S+ in 3 tries \(HTTP 500\)$/));
  });
  await fault('HTTP 404', async () => {
    expect(server.hits(`${DEMO}next-view/sessions.bin`)).toBe(1);
    expect(messages).toContainEqual(expect.stringMatching(/^\[vitrine\] recommendations unavailable: bundle file next-view\/sessions\.bin: HTTP 404 from \S+next-view\/sessions\.bin$/));
  });
  expect(messages).toHaveLength(2);
  // The store's page is untouched.
  await page.locator('#add-to-cart').click();
  await expect(page.locator('#cart-note')).toHaveText(/Added to cart/);

  await fault('recovery on the next page view', async () => {
    broken = false;
    await page.goto(`${server.url}product.html?id=VT0001`);
    await expect(page.locator(items('complementary'))).toHaveCount(8);
    await expect(page.locator(items('next')).first()).toBeVisible();
    expect(server.hits(`${DEMO}complementary.json`)).toBe(TRIES + 1);
  });
  expect(errors).toEqual([]);
});

test('a connection dropped mid-file and a stalled response are retried; a slow one is waited for', async ({ page }) => {
  test.setTimeout(60_000);
  const slowStart = { at: 0, end: 0 };
  server = await startFaultServer((path, hit): Reply | undefined => {
    if (path === `${DEMO}complementary.json` && hit === 1) return { body: file('complementary.json'), delivery: { how: 'drop', after: 16_384 } };
    if (path === `${DEMO}next-view/sessions.bin` && hit === 1) return { body: file('next-view/sessions.bin'), delivery: { how: 'stall', after: 1024 } };
    if (path === `${DEMO}embeddings.i8`) {
      slowStart.at ||= Date.now();
      return { body: file('embeddings.i8'), delivery: { how: 'slow', chunks: 8, everyMs: 250 } };
    }
    return undefined;
  });
  const errors = watchErrors(page);
  const messages = vitrineMessages(page);
  await page.goto(`${server.url}product.html?id=VT0001`);
  await fault('slow response (2 s trickle)', async () => {
    await expect(page.locator(items('similar'))).toHaveCount(8);
  });
  await fault('connection dropped mid-file', async () => {
    await expect(page.locator(items('complementary'))).toHaveCount(8);
    expect(server.hits(`${DEMO}complementary.json`)).toBe(2);
  });
  await fault('stalled response (headers and 1 KB, then nothing)', async () => {
    // The reader gives a stalled attempt 10 s without a byte, then tries again.
    await expect(page.locator(items('next')).first()).toBeVisible({ timeout: 40_000 });
    expect(server.hits(`${DEMO}next-view/sessions.bin`)).toBe(2);
  });
  expect(messages).toEqual([]);
  expect(errors).toEqual([]);
});

/**
 * The complementary list of VT0001 in a bundle update: VT0002's list (minus VT0001), so the row's
 * items differ visibly between the versions.
 */
function updatedComplementary(): Buffer {
  const lists = JSON.parse(file('complementary.json').toString()) as [number, number][][];
  lists[0] = lists[1]!.filter(([j]) => j !== 0);
  return Buffer.from(JSON.stringify(lists));
}

test('a cached file is revalidated by its checksum: a stale copy is fetched again past the cache, and refused if the server still has it', async ({ page }) => {
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const manifestA = JSON.parse(file('manifest.json').toString());
  const A = file('complementary.json');
  const B = updatedComplementary();
  const manifestB = structuredClone(manifestA);
  manifestB.files['complementary.json'] = { bytes: B.length, sha256: sha256(B) };
  let manifest = manifestA;
  let served: Buffer = A;
  server = await startFaultServer((path) => {
    if (path === '/cached.html') {
      return {
        body: `<!doctype html><script type="module" src="/dist/vitrine.js"></script>
<vitrine-recs src="${DEMO}manifest.json" product="VT0001" rows="similar complementary" history="off"></vitrine-recs>`,
      };
    }
    if (path === `${DEMO}manifest.json`) return { body: JSON.stringify(manifest), headers: { 'Cache-Control': 'no-cache' } };
    // A CDN's long-lived file: the browser reuses it without asking the server.
    if (path === `${DEMO}complementary.json`) return { body: served, headers: { 'Cache-Control': 'public, max-age=3600' } };
    return undefined;
  });
  const errors = watchErrors(page);
  const view = async () => {
    const messages = vitrineMessages(page);
    await page.goto(`${server.url}cached.html`);
    await expect(page.locator(items('similar'))).toHaveCount(8);
    await expect(page.locator('vitrine-recs >> [part~="loading"]')).toHaveCount(0);
    return messages;
  };
  const C = `${DEMO}complementary.json`;

  await view();
  const idsA = await rowIds(page, 'complementary');
  expect(server.hits(C)).toBe(1);
  await page.goto('about:blank');
  await view();
  expect(await rowIds(page, 'complementary')).toEqual(idsA);
  // Served from the HTTP cache: the server did not see it again.
  expect(server.hits(C)).toBe(1);

  await fault('cached file older than the manifest, server still has the old file', async () => {
    manifest = manifestB;
    const messages = await view();
    await expect(page.locator(row('complementary'))).toHaveCount(0);
    await expect.poll(() => messages).toEqual([expect.stringMatching(/^\[vitrine\] recommendations unavailable: bundle file complementary\.json: (sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}|is longer than the \d+ bytes the manifest says; stopped reading|has \d+ bytes, the manifest says \d+)$/)]);
    // The cached copy, then one fetch past the cache.
    expect(server.hits(C)).toBe(2);
  });

  await fault('cached file older than the manifest, server has the new file', async () => {
    served = B;
    const messages = await view();
    const idsB = await rowIds(page, 'complementary');
    expect(idsB).not.toEqual(idsA);
    expect(server.hits(C)).toBe(3);
    expect(messages).toEqual([]);
  });
  expect(errors).toEqual([]);
});
