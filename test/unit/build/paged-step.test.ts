import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../../src/build/bundle.js';
import { updateBundle } from '../../../src/build/update.js';
import { openBundle } from '../../../src/bundle/reader.js';
import { CELLS_HEAD, PAGE_LIST, pageOf } from '../../../src/bundle/pages.js';
import { pagedNextMethod } from '../../../src/build/paged-step.js';
import { checkNextViewConfig, VSKNN, type NextViewConfig } from '../../../src/recommend/next-view-config.js';
import { pagedNearest } from '../../../src/worker/paged-search.js';
import { searchIvf } from '../../../src/recommend/ivf.js';
import { rowScore } from '../../../src/recommend/knn.js';
import { createRng } from '../../../src/recommend/rng.js';
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
  const common = { name: 'store', catalog: store.catalog, images: store.images, events: store.events, baskets: store.baskets, cacheDir: join(store.dir, 'cache'), seed: 2, epochs: 2, log: () => {} };
  await buildBundle({ ...common, out: join(store.dir, 'whole') });
  await buildBundle({ ...common, out: join(store.dir, 'paged'), pageAbove: 0 });
  await buildBundle({ ...common, out: join(store.dir, 'indexed'), pageAbove: 0, indexAbove: 0 });
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

  it('--update rewrites the meta files of changed products and their sums, and nothing else', async () => {
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
  });

  it('--update adds new products: embedded, with page records, in their neighbours\' similar lists and past the index\'s cells', async () => {
    const csv = readFileSync(store.catalog, 'utf8').trim().split('\n');
    // A new mug whose photo is MUG-1's picture: MUG-1's nearest product from now on.
    writeFileSync(join(store.dir, 'new.csv'), [...csv, 'NEW-1,New mug,/p/NEW-1,MUG-1.png,9.00,EUR,Mug,Acme,true,dark'].join('\n') + '\n');
    for (const name of ['paged', 'indexed']) {
      cpSync(join(store.dir, name), join(store.dir, `${name}-new`), { recursive: true });
      const report = await updateBundle({ catalog: join(store.dir, 'new.csv'), out: join(store.dir, `${name}-new`), images: store.images, cacheDir: join(store.dir, 'cache'), log: () => {} });
      expect(report).toMatchObject({ items: 33, added: 1, gone: 0 });
      const b = await openBundle(`${server.url}${name}-new/manifest.json`);
      expect(b.manifest.paged!.meta).toBe(1);
      const rec = (await b.page('NEW-1'))!;
      expect(rec[0]).toBe(32);
      expect((await b.products([32]))[0]).toMatchObject({ id: 'NEW-1', title: 'New mug', price: 9, image: 'images/32.webp' });
      // Its thumbnail is an asset (in assets.json, with its checksum), not a manifest file.
      const assets = JSON.parse(readFileSync(join(store.dir, `${name}-new`, b.manifest.assets!), 'utf8')) as Record<string, { sha256: string }>;
      expect(assets['images/32.webp']?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(b.manifest.files['images/32.webp']).toBeUndefined();
      const similar = await b.products(rec[1]);
      expect(similar[0]!.id).toBe('MUG-1');
      expect(similar.slice(0, 4).every((p) => p.id.startsWith('MUG-'))).toBe(true);
      expect(rec[3]).toEqual([]);
      // MUG-1's nearest is now the new mug (the same picture), ahead of the rest of its list.
      const mug1 = (await b.page('MUG-1'))!;
      const before = (await (await openBundle(`${server.url}${name}/manifest.json`)).page('MUG-1'))!;
      expect(mug1[1]).toEqual([32, ...before[1]].slice(0, PAGE_LIST));
      if (name === 'indexed') {
        // The image search finds it through the tail file, past the cells.
        expect(b.manifest.paged!.tail).toBe('cells/tail.bin');
        const rows = await b.embeddings();
        const v = Float32Array.from({ length: rows.dims }, (_, d) => rows.codes[32 * rows.dims + d]! * rows.scales[32]!);
        // Its own row and MUG-1's are the same picture's: equal first.
        const [first, second] = await pagedNearest(b, v, 3);
        expect([first!.index, second!.index]).toContain(32);
        expect(first!.score).toBeCloseTo(second!.score, 5);
      }
    }
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

  it('with a search index, answers an image query from the cells it scans: what the whole index answers, without fetching it', async () => {
    const asked: string[] = [];
    const b = await openBundle(`${server.url}indexed/manifest.json`, { fetch: (u, i) => (asked.push(new URL(String(u)).pathname), fetch(u, i)) });
    const { paged, similar } = b.manifest;
    const whole = await openBundle(`${server.url}indexed/manifest.json`);
    const [index, rows] = await Promise.all([whole.ivf(similar!.index!), whole.embeddings()]);
    expect(paged!.cells).toBe(index.nlist);
    expect(index.nprobe).toBeLessThan(index.nlist);
    expect(b.manifest.files[CELLS_HEAD]).toBeDefined();
    const rng = createRng(5);
    for (let t = 0; t < 20; t++) {
      // A photo of something like product t: its vector, moved a little.
      const v = Float32Array.from({ length: similar!.dims }, (_, d) => rows.codes[t * similar!.dims + d]! * rows.scales[t]! + 0.05 * (rng.next() - 0.5));
      const want = searchIvf(index, v, 6, { rescore: (p) => rowScore(rows, v, p) });
      expect(await pagedNearest(b, v, 6)).toEqual(want);
    }
    expect(asked.filter((p) => /embeddings|index\.ivf|items\.json/.test(p))).toEqual([]);
    expect(asked.filter((p) => p.endsWith('/cells/head.bin'))).toHaveLength(1);
    // One query: the head, and the nprobe cells it scans.
    asked.length = 0;
    const fresh = await openBundle(`${server.url}indexed/manifest.json`, { fetch: (u, i) => (asked.push(new URL(String(u)).pathname), fetch(u, i)) });
    await pagedNearest(fresh, Float32Array.from({ length: similar!.dims }, (_, d) => rows.codes[d]! * rows.scales[0]!), 6);
    expect(asked.filter((p) => /\/cells\/\d+\.bin$/.test(p))).toHaveLength(index.nprobe);
  });

  it('refuses a cell file that is not the one its sums file names', async () => {
    const cell = join(store.dir, 'indexed', 'cells', '0.bin');
    const bytes = readFileSync(cell);
    bytes[bytes.length - 1] ^= 0x11;
    writeFileSync(cell, bytes);
    await expect((await openBundle(`${server.url}indexed/manifest.json`)).cell(0)).rejects.toThrow(/cells\/0\.bin: sha256 is [0-9a-f]{64}, the sums file says/);
    await expect((await openBundle(`${server.url}indexed/manifest.json`)).cell(10_000)).rejects.toThrow(/cells\/10000\.bin: is not one of the bundle's \d+ cells files/);
  });

  it('names a valid next-view method when the whole bundle would blend in the GRU: the one-view components, without the model', () => {
    const rules = { window: 3, depth: 2, sample: 500, weight: 1 };
    const withModel: NextViewConfig = { maxLength: 20, sknn: { ...VSKNN, weight: 0.5 }, rules, model: { weight: 1 }, oneView: { sknn: { ...VSKNN, weight: 0.2 } } };
    expect(checkNextViewConfig(withModel)).toBe('');
    // Without the model, a method naming oneView is refused; the paged method is what the lists used.
    expect(checkNextViewConfig({ ...withModel, model: undefined })).toMatch(/oneView is given without a model/);
    expect(pagedNextMethod(withModel)).toEqual({ maxLength: 20, sknn: { ...VSKNN, weight: 0.2 } });
    expect(checkNextViewConfig(pagedNextMethod(withModel))).toBe('');
    expect(pagedNextMethod({ maxLength: 20, rules })).toEqual({ maxLength: 20, rules });
  });
});
