import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '../../../src/bundle/reader.js';
import { CELLS_HEAD, PAGE_LIST, pageOf } from '../../../src/bundle/pages.js';
import { pagedNextMethod } from '../../../src/build/paged-step.js';
import { checkNextViewConfig, VSKNN, type NextViewConfig } from '../../../src/recommend/next-view-config.js';
import { pagedNearest } from '../../../src/worker/paged-search.js';
import { searchIvf } from '../../../src/recommend/ivf.js';
import { createRng } from '../../../src/recommend/rng.js';
import { dequantizeRow, rowScore, searchInt8 } from '../../../src/recommend/knn.js';
import { indexSessions, nextViewTop } from '../../../src/recommend/next-view.js';
import { serve, type Served } from '../../../scripts/serve.js';
import { buildStore, makeStore, type Store } from './fixture.js';

// The same store built whole and paged (--page-above 0): the page records must hold what the
// worker computes from the whole bundle for each catalog product.
let store: Store;
let server: Served;
beforeAll(async () => {
  store = await makeStore(8);
  await buildStore(store, { whole: {}, paged: { pageAbove: 0 }, indexed: { pageAbove: 0, indexAbove: 0 } });
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

  it('carries the popularity lists short rows are filled from, as the whole bundle does: by the logs, per category', async () => {
    const whole = await openBundle(`${server.url}whole/manifest.json`);
    const paged = await openBundle(`${server.url}paged/manifest.json`);
    const items = await whole.items();
    const popular = (await whole.popular())!;
    expect(await paged.popular()).toEqual(popular);
    // The most viewed product in the log heads the list.
    const views = new Map<string, number>();
    for (const line of readFileSync(store.events, 'utf8').trim().split('\n').slice(1)) views.set(line.split(',')[1]!, (views.get(line.split(',')[1]!) ?? 0) + 1);
    const top3 = [...views].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([id]) => id);
    expect(top3).toContain(items[popular.all[0]!]!.id);
    // Every product in stock, once; none out of stock (a short row is never filled with one).
    expect(new Set(popular.all).size).toBe(popular.all.length);
    expect([...popular.all].sort((a, b) => a - b)).toEqual(items.flatMap((it, i) => (it.inStock === false ? [] : [i])));
    for (const [cat, list] of Object.entries(popular.byCategory)) {
      expect(list.length).toBeGreaterThan(0);
      for (const i of list) expect(items[i]!.category).toBe(cat);
      // In the overall order.
      expect(list).toEqual(popular.all.filter((i) => items[i]!.category === cat));
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
