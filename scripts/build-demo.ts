#!/usr/bin/env -S npx tsx
/**
 * The demo store, built the way a store would build its own bundle:
 *   1. the demo generator writes a store's inputs from Debian's Fashion-MNIST
 *      (`apt-get install dataset-fashion-mnist`): catalog.csv, images/, events.csv, outfits.json
 *      in .cache/demo-store/ — products with derived titles, brands and prices; simulated shoppers;
 *   2. the bundle builder (`vitrine bundle`) turns them into models/demo/.
 * Also writes public/new-arrivals/: products NOT in the bundle (image only), for the
 * "embed a new product's image in the browser" path. Deterministic for a given --seed (default 7).
 *
 *   npm run build:demo-bundle [-- --seed=7 --per-class=100 --shoppers=3000]
 *   … --inputs=DIR --no-build   only write a store's inputs (for measuring the builder at scale)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeOutfits, makeProducts, pickImages, simulateEvents } from '../src/build/demo-data.js';
import { loadFashionMnist, pngOf as png } from '../src/build/fashion-mnist.js';
import { buildBundle } from '../src/build/bundle.js';
import { createRng } from '../src/recommend/rng.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const seed = Number(args.get('seed') ?? 7);
const perClass = Number(args.get('per-class') ?? 100);
const inputs = args.get('inputs') ?? '.cache/demo-store';
const rng = createRng(seed);

// 1. The store's inputs.
const test = loadFashionMnist('t10k');
const train = loadFashionMnist('train');
const products = makeProducts(test, 't10k', pickImages(test, perClass), rng, 'VT');
const arrivals = makeProducts(train, 'train', pickImages(train, 1), rng, 'NEW');
rmSync(inputs, { recursive: true, force: true });
mkdirSync(join(inputs, 'images'), { recursive: true });
for (const p of products) writeFileSync(join(inputs, 'images', `${p.id}.png`), await png(p.pixels));

const csv = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
const row = (...vs: (string | number)[]) => vs.map(csv).join(',') + '\n';
writeFileSync(
  join(inputs, 'catalog.csv'),
  row('id', 'title', 'url', 'image', 'price', 'currency', 'category', 'brand', 'in_stock', 'style', 'tone') +
    products.map((p) => row(p.id, p.title, `/product.html?id=${p.id}`, `${p.id}.png`, p.price.toFixed(2), p.currency, p.category, p.brand, 'true', p.style, p.tone)).join(''),
);
const events = simulateEvents(products, Number(args.get('shoppers') ?? 3000), rng);
writeFileSync(join(inputs, 'events.csv'), row('user_id', 'product_id', 'timestamp', 'kind') + events.map((e) => row(e.user, e.productId, new Date(e.at).toISOString(), e.kind)).join(''));
writeFileSync(join(inputs, 'outfits.json'), JSON.stringify(makeOutfits(products, 600, rng)));

console.error(`demo store inputs in ${inputs}: ${products.length} products, ${events.length} events, ${arrivals.length} new arrivals`);

if (args.has('no-build')) process.exit(0);

// The demo's new arrivals: products the bundle does not have, shown by the demo store.
mkdirSync('public/new-arrivals', { recursive: true });
for (const p of arrivals) writeFileSync(join('public/new-arrivals', `${p.id}.png`), await png(p.pixels));
writeFileSync(
  'public/new-arrivals.json',
  JSON.stringify(arrivals.map((p) => ({ id: p.id, title: p.title, image: `/new-arrivals/${p.id}.png`, price: p.price, currency: p.currency, category: p.category, brand: p.brand })), null, 1) + '\n',
);

// 2. The bundle, by the builder. Thumbnails for every product (the demo runs offline); the image
// model is shared with other bundles in models/ rather than copied.
const report = await buildBundle({
  catalog: join(inputs, 'catalog.csv'),
  images: join(inputs, 'images'),
  events: join(inputs, 'events.csv'),
  outfits: join(inputs, 'outfits.json'),
  out: 'models/demo',
  name: 'demo',
  thumbnails: 'all',
  // The demo's pictures are 28×28 Fashion-MNIST scans: 96 px input embeds them as well as 224
  // (measured: same-category p@10 within noise) at ~6× the speed, in the builder and the browser.
  imageSize: 96,
  linkImageModel: true,
  seed,
  cacheDir: '.cache/vitrine',
});
console.error(JSON.stringify(report, null, 1));
