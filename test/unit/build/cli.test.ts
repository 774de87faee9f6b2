import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '../../../src/bundle/reader.js';
import { searchIvf } from '../../../src/recommend/ivf.js';
import { dequantizeRow, rowScore } from '../../../src/recommend/knn.js';
import { serve, type Served } from '../../../scripts/serve.js';
import { makeStore, type Store } from './fixture.js';

/** Runs the real command (`bin/vitrine.js` → `lib/`, built by `npm run build`). */
function vitrine(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/vitrine.js', ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let store: Store;
let server: Served;
const build = (out: string, cache: string, ...more: string[]) =>
  vitrine('bundle', '--catalog', store.catalog, '--images', store.images, '--events', store.events, '--baskets', store.baskets,
    '--outfits', store.outfits, '--out', join(store.dir, out), '--name', 'shop', '--cache', join(store.dir, cache), '--no-progress', ...more);
const files = (dir: string): Map<string, Buffer> => {
  const out = new Map<string, Buffer>();
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.set(`${prefix}${e.name}`, readFileSync(join(d, e.name)));
    }
  };
  walk(dir, '');
  return out;
};

beforeAll(async () => {
  if (!existsSync('lib/build/cli.js')) throw new Error('lib/ is missing: run `npm run build` first (npm test does)');
  store = await makeStore(8);
  server = await serve({ port: 0, host: '127.0.0.1', roots: { '/': store.dir } });
  // Two products whose images are on a web server, as a store's CDN would have them.
  const csv = readFileSync(store.catalog, 'utf8');
  writeFileSync(store.catalog, csv.replace(',MUG-1.png,', `,${server.url}images/MUG-1.png,`).replace(',FORK-2.png,', `,${server.url}images/FORK-2.png,`));
});
afterAll(() => server?.close());

describe('vitrine bundle', () => {
  let first: Awaited<ReturnType<typeof vitrine>>;

  it('builds a bundle the widget’s reader accepts, file by file', async () => {
    first = await build('a', 'cache1');
    expect(first.stderr).not.toMatch(/\n\s+at /); // no stack trace, ever
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('catalog: 32 products');
    // 8 products a kind: at most 7 of 10 neighbours can share a category, so 0.700 is perfect.
    expect(first.stderr).toMatch(/embeddings: int8 recall@10 vs float32 (0\.9\d+|1\.000); same-category precision@10 0\.700/);
    expect(first.stderr).toMatch(/pair model: \d+ positive pairs; AUC 0\.\d+ on held-out baskets against pairs never bought together/);
    // Each row's method is chosen on held-back data, and the builder says what it tried and why.
    expect(first.stderr).toMatch(/goes with: plain counts, unvalidated: \d+ held-back baskets to validate on \(fewer than 30\)/);
    expect(first.stderr).toMatch(/next view: choosing on \d+ views of the latest \d+ sessions \(MRR@20:new, 95% bootstrap intervals\)\n {2}session-kNN \(V-SKNN defaults\) +MRR@20:new 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\]/);
    expect(first.stderr).toMatch(/GRU: not trained — \d+ training views for 32 products/);
    expect(first.stderr).toMatch(/ {2}chosen: .+/);
    expect(first.stderr).toMatch(/next view: 120 sessions \(\d+ views\) in the sample, [\d.]+ KB; seed §1's one-hot network would need 4,192 parameters/);

    const b = await openBundle(`${server.url}a/manifest.json`);
    const items = await b.items();
    expect(items).toHaveLength(32);
    expect(items.filter((it) => it.inStock === false).map((it) => it.id)).toEqual(['MUG-8', 'PLATE-8', 'FORK-8', 'NAPKIN-8']);
    // A file image gets a thumbnail in the bundle; a URL image stays the store's URL.
    expect(items[1]).toMatchObject({ id: 'MUG-2', url: '/p/MUG-2', category: 'Mug', currency: 'EUR', image: 'images/1.webp' });
    expect(items[0]!.image).toBe(`${server.url}images/MUG-1.png`);
    expect(items.find((it) => it.id === 'FORK-2')!.image).toBe(`${server.url}images/FORK-2.png`);
    expect((await b.embeddings()).dims).toBe(64);
    expect((await b.topK(b.manifest.complementary!.file!))[0]!.length).toBeGreaterThan(0);
    await b.model(b.manifest.imageModel!.backbone);
    await b.model(b.manifest.imageModel!.head);
    await b.tensors(b.manifest.complementary!.pairModel!);
    // The manifest records each row's method and, where it could be validated, its score and why.
    const next = b.manifest.nextView!;
    expect((await b.sessions(next.sessions!)).offsets.length - 1).toBe(120);
    expect(next.validation).toMatchObject({ metric: 'MRR@20:new', queries: expect.any(Number), reason: expect.stringMatching(/best single component|beats the best single/) });
    expect(next.validation!.lo).toBeLessThanOrEqual(next.validation!.score);
    expect(next.method.sknn ?? next.method.rules).toBeDefined();
    expect(b.manifest.complementary!.method).toEqual({ score: 'count', k: 20 });
    expect(b.manifest.complementary!.validation).toBeUndefined();
    // Thumbnails are listed (with checksums) and sit beside the manifest.
    const assets = JSON.parse(readFileSync(join(store.dir, 'a', 'assets.json'), 'utf8'));
    expect(Object.keys(assets)).toHaveLength(30);
    expect(existsSync(join(store.dir, 'a', 'images', '1.webp'))).toBe(true);
  }, 180_000);

  it('is reproducible: another build, with an empty cache, writes byte-identical files', async () => {
    const again = await build('b', 'cache2');
    expect(again.code).toBe(0);
    const [a, b] = [files(join(store.dir, 'a')), files(join(store.dir, 'b'))];
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [name, bytes] of a) expect(bytes.equals(b.get(name)!), name).toBe(true);
  }, 180_000);

  it('gives a catalog above --index-above a search index, listing its products in the index’s cell order', async () => {
    const indexed = await build('indexed', 'cache1', '--index-above', '0');
    expect(indexed.code).toBe(0);
    expect(indexed.stderr).toMatch(/search index: \d+ cells, 31 B of 4-bit codes a product .*; a query scans \d+ cells, recall@10 [01]\.\d{3} against a full int8 scan on 32 of the catalog's products/);
    const [plain, withIndex] = await Promise.all(['a', 'indexed'].map((d) => openBundle(`${server.url}${d}/manifest.json`)));
    expect(plain!.manifest.similar!.index).toBeUndefined();
    const path = withIndex!.manifest.similar!.index!;
    expect(path).toBe('similar/index.ivf');
    const [items, itemsPlain, codes, codesPlain, index] = await Promise.all([
      withIndex!.items(), plain!.items(), withIndex!.embeddings(), plain!.embeddings(), withIndex!.ivf(path),
    ]);
    // The same products and the same embedding for each, in the index's order: cell by cell.
    expect(items.map((it) => it.id).sort()).toEqual(itemsPlain.map((it) => it.id).sort());
    const rowOf = new Map(itemsPlain.map((it, i) => [it.id, i]));
    items.forEach((it, p) => expect([...codes.codes.subarray(p * 64, (p + 1) * 64)]).toEqual([...codesPlain.codes.subarray(rowOf.get(it.id)! * 64, (rowOf.get(it.id)! + 1) * 64)]));
    expect(index.count).toBe(items.length);
    expect(index.nprobe).toBeLessThanOrEqual(index.nlist);
    // Each product, searched through every cell, finds itself (or a twin scoring the same) first.
    for (let p = 0; p < items.length; p++) {
      const v = dequantizeRow(codes, p);
      const top = searchIvf(index, v, 1, { nprobe: index.nlist, rescore: (j) => rowScore(codes, v, j) })[0]!;
      expect(top.score).toBeCloseTo(rowScore(codes, v, p), 5);
    }
  }, 180_000);

  it('embeds only new or changed images on a re-run', async () => {
    const png = await sharp({ create: { width: 48, height: 48, channels: 3, background: '#223344' } }).png().toBuffer();
    writeFileSync(join(store.images, 'MUG-3.png'), png);
    const rerun = await build('a', 'cache1');
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain('images: 1 embedded, 31 from the cache');
  }, 180_000);

  it('splits the image work across machines: embed --shard I/N, merge-cache, then a bundle that embeds nothing', async () => {
    const common = ['--catalog', store.catalog, '--images', store.images, '--no-progress'];
    const dirs = [1, 2, 3].map((i) => join(store.dir, `part${i}`));
    const parts = await Promise.all(dirs.map((dir, i) => vitrine('embed', ...common, '--cache', dir, '--shard', `${i + 1}/3`)));
    parts.forEach((p) => expect(p.code, p.stderr).toBe(0));
    expect(parts.map((p) => /rows (\d+)–(\d+)/.exec(p.stderr)!.slice(1).map(Number))).toEqual([[1, 10], [11, 21], [22, 32]]);
    for (const p of parts) expect(p.stderr).toMatch(/images: \d+ embedded \(\d+\.\d images\/s\), 0 from the cache, 0 unusable/);
    // A second run of a shard resumes: its work is all in its cache.
    const again = await vitrine('embed', ...common, '--cache', dirs[1]!, '--shard', '2/3');
    expect(again.stderr).toMatch(/images: 0 embedded .*, 11 from the cache/);
    const merged = await vitrine('merge-cache', '--cache', join(store.dir, 'merged'), ...dirs);
    expect(merged.code).toBe(0);
    expect(merged.stderr).toMatch(/merged 3 caches into .*merged: \d+ files copied, 0 already there/);
    const built = await build('sharded', 'merged');
    expect(built.code).toBe(0);
    expect(built.stderr).toContain('images: 0 embedded, 32 from the cache');
    // The same bundle as one machine doing all the work.
    const [a, b] = [files(join(store.dir, 'a')), files(join(store.dir, 'sharded'))];
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [name, bytes] of a) expect(bytes.equals(b.get(name)!), name).toBe(true);
    const bad = await vitrine('embed', ...common, '--cache', dirs[0]!, '--shard', '4/3');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--shard 4/3: expected I/N with 1 ≤ I ≤ N');
  }, 180_000);

  it('updates a bundle from today’s catalog without retraining: fields, stock, new products appended', async () => {
    // Today's catalog: one price changed, one product gone, one new product with its own image.
    const csv = readFileSync(store.catalog, 'utf8').split('\n');
    const header = csv[0]!;
    const rows = csv.slice(1).filter((l) => l.trim());
    const changed = rows.find((l) => l.startsWith('PLATE-2,'))!.replace(/,(\d+\.\d\d),EUR,/, ',999.00,EUR,');
    const today = [header, ...rows.filter((l) => !l.startsWith('PLATE-2,') && !l.startsWith('FORK-4,')), changed,
      'MUG-NEW,"Table Mug new, dark",/p/MUG-NEW,MUG-NEW.png,12.00,EUR,Mug,Acme,true,dark'].join('\n');
    copyFileSync(join(store.images, 'MUG-2.png'), join(store.images, 'MUG-NEW.png'));
    const catalog2 = join(store.dir, 'today.csv');
    writeFileSync(catalog2, today + '\n');
    for (const dir of ['upd', 'upd-indexed']) cpSync(join(store.dir, dir === 'upd' ? 'a' : 'indexed'), join(store.dir, dir), { recursive: true });
    const before = await openBundle(`${server.url}a/manifest.json`);
    const [oldItems, oldLists] = await Promise.all([before.items(), before.topK(before.manifest.complementary!.file!)]);

    for (const dir of ['upd', 'upd-indexed']) {
      const run = await vitrine('bundle', '--update', '--catalog', catalog2, '--images', store.images, '--out', join(store.dir, dir), '--cache', join(store.dir, 'cache1'), '--no-progress');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/updated .*: 1 products changed, 1 added, 1 gone from the catalog \(now out of stock\); 33 products/);
      const b = await openBundle(`${server.url}${dir}/manifest.json`);
      const [items, codes, lists] = await Promise.all([b.items(), b.embeddings(), b.topK(b.manifest.complementary!.file!)]);
      expect(items).toHaveLength(33);
      expect(items.find((it) => it.id === 'PLATE-2')!.price).toBe(999);
      expect(items.find((it) => it.id === 'FORK-4')!.inStock).toBe(false);
      const fresh = items.findIndex((it) => it.id === 'MUG-NEW');
      expect(fresh).toBe(32);
      expect(items[fresh]!.image).toBe('images/32.webp');
      // Embedded as the build embedded its twin MUG-2 (same image, same model and head).
      const twin = items.findIndex((it) => it.id === 'MUG-2');
      expect([...codes.codes.subarray(32 * 64, 33 * 64)]).toEqual([...codes.codes.subarray(twin * 64, (twin + 1) * 64)]);
      // Goes with: old lists kept, the new product's from the pair model, never its own category.
      if (dir === 'upd') expect(lists.slice(0, 32)).toEqual(oldLists);
      expect(lists[32]!.length).toBeGreaterThan(0);
      for (const [j] of lists[32]!) expect(items[j]!.category).not.toBe('Mug');
      // The session sample reads against the new count; an index covers the old products, the new one is scanned.
      await b.sessions(b.manifest.nextView!.sessions!);
      if (b.manifest.similar!.index) expect((await b.ivf(b.manifest.similar!.index)).count).toBe(32);
      if (dir === 'upd') expect(items.slice(0, 32).map((it) => it.id)).toEqual(oldItems.map((it) => it.id));
    }
    const none = await vitrine('bundle', '--update', '--catalog', catalog2, '--out', join(store.dir, 'nothing-here'), '--no-progress');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/holds no bundle to update/);
  }, 180_000);

  it('warns about skippable rows with counts and lines, and leaves those products or events out', async () => {
    // A missing image, a file that starts like a PNG and is not one, and a decompression bomb (a small
    // PNG claiming 7000 × 7000 pixels, over the 40 MP limit): each skips its product, naming the line.
    const png = readFileSync(join(store.images, 'PLATE-1.png'));
    writeFileSync(join(store.images, 'corrupt.png'), Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)]));
    writeFileSync(join(store.images, 'bomb.png'), await sharp({ create: { width: 7000, height: 7000, channels: 3, background: '#000000' } }).png({ compressionLevel: 9 }).toBuffer());
    writeFileSync(join(store.dir, 'catalog-missing.csv'), readFileSync(store.catalog, 'utf8').replace('MUG-2.png', 'MUG-2-gone.png').replace('PLATE-1.png', 'corrupt.png').replace('NAPKIN-1.png', 'bomb.png'));
    appendFileSync(store.events, 'u1,NO-SUCH-PRODUCT,2026-01-05T10:00:00Z,view\n');
    const r = await vitrine('bundle', '--catalog', join(store.dir, 'catalog-missing.csv'), '--images', store.images, '--events', store.events,
      '--out', join(store.dir, 'c'), '--cache', join(store.dir, 'cache1'), '--no-progress');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: 3 products whose image could not be used \(skipped\)\n\s+.*catalog-missing\.csv line 3: image MUG-2-gone\.png not found/);
    expect(r.stderr).toMatch(/catalog-missing\.csv line \d+: image corrupt\.png (is not a readable image|cannot be made into a thumbnail)/);
    expect(r.stderr).toMatch(/catalog-missing\.csv line \d+: image bomb\.png is 7000 × 7000 pixels, more than 40 MP: refused before decoding/);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stderr).toMatch(/warning: \d+ events naming products not in the catalog \(skipped\)/);
    expect(r.stderr).toMatch(/events\.csv line \d+: unknown product "MUG-2"|events\.csv line \d+: unknown product "NO-SUCH-PRODUCT"/);
    const items = JSON.parse(readFileSync(join(store.dir, 'c', 'items.json'), 'utf8')) as { id: string }[];
    expect(items.map((i) => i.id)).not.toContain('MUG-2');
    expect(items.map((i) => i.id)).not.toContain('PLATE-1');
    expect(items.map((i) => i.id)).not.toContain('NAPKIN-1');
    expect(items).toHaveLength(29);
  }, 180_000);

  it('fails on a broken catalog with file, line and reason — and keeps the previous bundle', async () => {
    const before = readFileSync(join(store.dir, 'a', 'manifest.json'));
    writeFileSync(join(store.dir, 'broken.csv'), readFileSync(store.catalog, 'utf8').replace('PLATE-2,', 'PLATE-1,'));
    const r = await vitrine('bundle', '--catalog', join(store.dir, 'broken.csv'), '--images', store.images, '--out', join(store.dir, 'a'), '--no-progress');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vitrine: the catalog .*broken\.csv is broken: 1 problem\n {2}.*broken\.csv line 11: id "PLATE-1" is used already on line 10\n$/);
    expect(readFileSync(join(store.dir, 'a', 'manifest.json')).equals(before)).toBe(true);
  });

  it('--skip-invalid builds with the good rows and reports the broken ones with line and reason', async () => {
    const report = join(store.dir, 'invalid.csv');
    const r = await vitrine('bundle', '--catalog', join(store.dir, 'broken.csv'), '--images', store.images, '--out', join(store.dir, 'skipped'),
      '--cache', join(store.dir, 'cache1'), '--skip-invalid', report, '--no-progress');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: 1 catalog rows are broken and left out \(first: line 11: id "PLATE-1" is used already on line 10\); all of them, with lines and reasons → .*invalid\.csv/);
    expect(readFileSync(report, 'utf8')).toBe('line,id,reason\n11,PLATE-1,"id ""PLATE-1"" is used already on line 10"\n');
    expect(JSON.parse(readFileSync(join(store.dir, 'skipped', 'items.json'), 'utf8'))).toHaveLength(31);
  }, 180_000);

  it('answers --help, and names a wrong flag or command', { timeout: 30_000 }, async () => {
    const help = await vitrine('bundle', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('vitrine bundle --catalog products.csv');
    const flag = await vitrine('bundle', '--catalog', 'x.csv', '--out', 'y', '--dims', 'many');
    expect([flag.code, flag.stderr]).toEqual([2, 'vitrine: --dims many: expected a whole number from 2 to 1024\n']);
    const unknown = await vitrine('bundle', '--catalgo', 'x.csv');
    expect([unknown.code, unknown.stderr]).toEqual([2, "vitrine: Unknown option '--catalgo' (see vitrine bundle --help)\n"]);
    const missing = await vitrine('bundle', '--catalog', join(store.dir, 'nope.csv'), '--out', join(store.dir, 'z'));
    expect([missing.code, missing.stderr]).toEqual([2, `vitrine: ${join(store.dir, 'nope.csv')}: no such file\n`]);
  });
});
