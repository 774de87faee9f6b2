/**
 * `vitrine bundle --update` of a paged bundle (build/update-paged.ts): changed products' meta files
 * and sums only; new products embedded, given page records, placed in their neighbours' similar
 * lists and past the index's cells — read back through the widget's own reader.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateBundle } from '../../../src/build/update.js';
import { openBundle } from '../../../src/bundle/reader.js';
import { PAGE_LIST } from '../../../src/bundle/pages.js';
import { pagedNearest } from '../../../src/worker/paged-search.js';
import { serve, type Served } from '../../../scripts/serve.js';
import { buildStore, makeStore, type Store } from './fixture.js';

let store: Store;
let server: Served;
beforeAll(async () => {
  store = await makeStore(8);
  await buildStore(store, { paged: { pageAbove: 0 }, indexed: { pageAbove: 0, indexAbove: 0 } });
  server = await serve({ port: 0, host: '127.0.0.1', roots: { '/': store.dir } });
}, 300_000);
afterAll(() => server?.close());

describe('--update of a paged bundle', () => {
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
});
