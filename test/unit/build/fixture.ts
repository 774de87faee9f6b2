import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { buildBundle, type BundleOptions } from '../../../src/build/bundle.js';
import { createRng } from '../../../src/recommend/rng.js';

/** Four kinds of product a test can tell apart by eye: each draws its own shape. */
export const KINDS = ['Mug', 'Plate', 'Fork', 'Napkin'] as const;

function draw(kind: number, size: number, shade: number, jitter: number): Uint8Array {
  const px = new Uint8Array(size * size).fill(255);
  const c = size / 2 + jitter;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - c, y - c);
      const on =
        kind === 0 ? r < size * 0.35
        : kind === 1 ? r > size * 0.28 && r < size * 0.42
        : kind === 2 ? Math.abs(x - c) < size * 0.08
        : (Math.floor(x / 6) + Math.floor(y / 6)) % 2 === 0;
      if (on) px[y * size + x] = shade;
    }
  }
  return px;
}

export interface Store {
  dir: string;
  catalog: string;
  images: string;
  events: string;
  baskets: string;
  outfits: string;
  ids: string[];
}

/**
 * A small store in a temporary folder: `perKind` products of each kind with PNG images, a
 * catalog CSV, a browse log, a purchase log and outfits (a mug, a plate, a fork and a napkin
 * go together). Seeded: the same arguments give the same files.
 */
export async function makeStore(perKind = 8, seed = 1): Promise<Store> {
  const rng = createRng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-store-'));
  const images = join(dir, 'images');
  mkdirSync(images);
  const rows = ['id,title,url,image,price,currency,category,brand,in_stock,color'];
  const ids: string[] = [];
  const byKind: string[][] = KINDS.map(() => []);
  for (let k = 0; k < KINDS.length; k++) {
    for (let n = 0; n < perKind; n++) {
      const id = `${KINDS[k]!.toUpperCase()}-${n + 1}`;
      const shade = 20 + rng.int(120);
      const png = await sharp(Buffer.from(draw(k, 48, shade, rng.int(5) - 2)), { raw: { width: 48, height: 48, channels: 1 } }).png().toBuffer();
      writeFileSync(join(images, `${id}.png`), png);
      rows.push(`${id},"Table ${KINDS[k]} ${n + 1}, ${shade < 80 ? 'dark' : 'light'}",/p/${id},${id}.png,${(5 + rng.int(40)).toFixed(2)},EUR,${KINDS[k]},Acme,${n === perKind - 1 ? 'false' : 'true'},${shade < 80 ? 'dark' : 'light'}`);
      ids.push(id);
      byKind[k]!.push(id);
    }
  }
  const catalog = join(dir, 'catalog.csv');
  writeFileSync(catalog, rows.join('\n') + '\n');

  // Sessions: a shopper looks at a few products of one kind, then one of the next kind.
  const start = Date.UTC(2026, 0, 5);
  const events = ['user_id,product_id,timestamp,kind'];
  for (let u = 0; u < 60; u++) {
    let t = start + u * 3_600_000;
    for (let s = 0; s < 2; s++) {
      let k = rng.int(KINDS.length);
      for (let v = 0; v < 5; v++) {
        events.push(`u${u},${byKind[k]![rng.int(perKind)]},${new Date(t).toISOString()},view`);
        t += 60_000;
        if (v % 2 === 1) k = (k + 1) % KINDS.length;
      }
      t += 2 * 3_600_000; // a pause: the next session
    }
  }
  const eventsFile = join(dir, 'events.csv');
  writeFileSync(eventsFile, events.join('\n') + '\n');

  const baskets = ['order_id,product_id'];
  const outfits: string[][] = [];
  for (let o = 0; o < 40; o++) {
    const set = KINDS.map((_, k) => byKind[k]![(o + k) % perKind]!);
    outfits.push(set);
    baskets.push(`o${o},${set[0]}`, `o${o},${set[1]}`);
  }
  const basketsFile = join(dir, 'baskets.csv');
  writeFileSync(basketsFile, baskets.join('\n') + '\n');
  const outfitsFile = join(dir, 'outfits.json');
  writeFileSync(outfitsFile, JSON.stringify(outfits));
  return { dir, catalog, images, events: eventsFile, baskets: basketsFile, outfits: outfitsFile, ids };
}

/**
 * Builds `store` into `<store.dir>/<name>` for each entry of `bundles` (name → extra build options,
 * e.g. `{ pageAbove: 0 }`), with the seed, epochs and image cache the tests share.
 */
export async function buildStore(store: Store, bundles: Record<string, Partial<BundleOptions>>): Promise<void> {
  const common = { name: 'store', catalog: store.catalog, images: store.images, events: store.events, baskets: store.baskets, cacheDir: join(store.dir, 'cache'), seed: 2, epochs: 2, log: () => {} };
  for (const [name, extra] of Object.entries(bundles)) await buildBundle({ ...common, ...extra, out: join(store.dir, name) });
}
