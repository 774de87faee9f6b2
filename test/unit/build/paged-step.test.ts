import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../../src/build/bundle.js';
import { updateBundle } from '../../../src/build/update.js';
import { openBundle } from '../../../src/bundle/reader.js';
import { PAGE_LIST, pageOf } from '../../../src/bundle/pages.js';
import { dequantizeRow, searchInt8 } from '../../../src/recommend/knn.js';
import { indexSessions, nextViewTop } from '../../../src/recommend/next-view.js';
import { serve, type Served } from '../../../scripts/serve.js';
import { makeStore, type Store } from './fixture.js';

// The same store built whole and paged (--page-above 0): the page records must hold what the
// worker computes from the whole bundle for each catalog product.
let store: Store;
let server: Served;
beforeAll(async () => {
  store = await makeStore(8);
  const common = { name: 'store', catalog: store.catalog, images: store.images, events: store.events, baskets: store.baskets, cache: join(store.dir, 'cache'), seed: 2, epochs: 2, log: () => {} };
  await buildBundle({ ...common, out: join(store.dir, 'whole') });
  await buildBundle({ ...common, out: join(store.dir, 'paged'), pageAbove: 0 });
  server = await serve({ port: 0, host: '127.0.0.1', roots: { '/': store.dir } });
}, 300_000);
afterAll(() => server?.close());

describe('a paged bundle', () => {
  it('holds, per product, the rows the worker computes from the whole bundle', async () => {
    const whole = await openBundle(`${server.url}whole/manifest.json`);
    const paged = await openBundle(`${server.url}paged/manifest.json`);
    expect(paged.manifest.paged).toMatchObject({ pages: 1, meta: 1, metaSize: 64 });
    expect(paged.manifest.items.file).toBeUndefined();
    expect(Object.keys(paged.manifest.files).filter((f) => /^(items\.json|complementary\.json|next-view\/)/.test(f))).toEqual([]);
    const [items, rows, lists, sessions] = await Promise.all([whole.items(), whole.embeddings(), whole.topK(whole.manifest.complementary!.file!), whole.sessions(whole.manifest.nextView!.sessions!)]);
    const ix = indexSessions(sessions, items.length);
    const method = { ...whole.manifest.nextView!.method, model: undefined };
    expect(await paged.products(items.map((_, i) => i))).toEqual(items);
    for (const [i, it] of items.entries()) {
      const rec = (await paged.page(it.id))!;
      expect(rec[0]).toBe(i);
      expect(rec[1]).toEqual(searchInt8(rows, dequantizeRow(rows, i), PAGE_LIST, (j) => j === i).map((h) => h.index));
      expect(rec[2]).toEqual(lists[i]!.filter(([j]) => j !== i).map(([j]) => j).slice(0, PAGE_LIST));
      const next = nextViewTop(ix, [i], method, PAGE_LIST, new Set([i]));
      expect(rec[3]).toEqual(next.map((h) => h.index));
      rec[4].forEach((s, k) => expect(s).toBeCloseTo(next[k]!.score, 3));
    }
    expect(await paged.page('NOT-IN-THE-CATALOG')).toBeUndefined();
  });

  it('--update rewrites the meta files of changed products and their sums; new products wait for a build', async () => {
    cpSync(join(store.dir, 'paged'), join(store.dir, 'paged-upd'), { recursive: true });
    const pagesBefore = readFileSync(join(store.dir, 'paged-upd', 'pages', '0.json'));
    const csv = readFileSync(store.catalog, 'utf8').trim().split('\n');
    // MUG-2 costs 99.00 now; PLATE-3 is gone from the feed.
    const today = csv.filter((l) => !l.startsWith('PLATE-3,')).map((l) => (l.startsWith('MUG-2,') ? l.replace(/,[\d.]+,EUR,/, ',99.00,EUR,') : l));
    writeFileSync(join(store.dir, 'today.csv'), today.join('\n') + '\n');
    const report = await updateBundle({ catalog: join(store.dir, 'today.csv'), out: join(store.dir, 'paged-upd'), images: store.images, log: () => {} });
    expect(report).toMatchObject({ items: 32, changed: 1, added: 0, gone: 1 });
    const b = await openBundle(`${server.url}paged-upd/manifest.json`);
    const [mug2, plate3] = await b.products([(await b.page('MUG-2'))![0], (await b.page('PLATE-3'))![0]]);
    expect(mug2).toMatchObject({ id: 'MUG-2', price: 99 });
    expect(plate3).toMatchObject({ id: 'PLATE-3', inStock: false });
    expect(readFileSync(join(store.dir, 'paged-upd', 'pages', '0.json'))).toEqual(pagesBefore);
    writeFileSync(join(store.dir, 'new.csv'), [...csv, 'NEW-1,New mug,/p/NEW-1,MUG-1.png,9.00,EUR,Mug,Acme,true,dark'].join('\n') + '\n');
    await expect(updateBundle({ catalog: join(store.dir, 'new.csv'), out: join(store.dir, 'paged-upd'), images: store.images, log: () => {} })).rejects.toThrow(/1 new products \(NEW-1\): a paged bundle adds products in a full build/);
  });

  it('refuses a page file that is not the one its sums file names, and a sums file of the wrong length', async () => {
    const dir = join(store.dir, 'paged');
    const page = join(dir, 'pages', `${pageOf('MUG-1', 1)}.json`);
    writeFileSync(page, readFileSync(page, 'utf8').replace('"MUG-1":[0,', '"MUG-1":[1,'));
    await expect((await openBundle(`${server.url}paged/manifest.json`)).page('MUG-1')).rejects.toThrow(/pages\/0\.json: sha256 is [0-9a-f]{64}, the sums file says/);
    const sums = join(dir, 'sums', 'meta-0.bin');
    writeFileSync(sums, readFileSync(sums).subarray(0, 16));
    await expect((await openBundle(`${server.url}paged/manifest.json`)).products([0])).rejects.toThrow(/sums\/meta-0\.bin: has 16 bytes, the manifest says 32/);
  });
});
