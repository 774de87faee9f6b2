#!/usr/bin/env -S npx tsx
/**
 * Rebuilds the demo store's data and bundle from Debian's Fashion-MNIST:
 *   models/demo/            the bundle (manifest, items, int8 embeddings, lists, models, thumbnails)
 *   public/new-arrivals/    a few products that are NOT in the bundle (image only), for the
 *                           "embed a new product's image in the browser" path
 * Deterministic for a given --seed (default 7). Run: npm run build:demo-bundle
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageAt, loadFashionMnist } from '../src/build/fashion-mnist.js';
import { makeProducts, pickImages } from '../src/build/demo-data.js';
import { createRng } from '../src/recommend/rng.js';
import { encodeGrayPng } from '../src/build/png.js';
import { initNodeTf } from '../src/build/node-tf.js';
import { embedImages, progressBar, sha256 } from '../src/build/embed-images.js';
import { loadLayers, saveLayers } from '../src/model/layers-io.js';
import { normalizeRows } from '../src/model/image-embedder.js';
import { applyHead, trainProjectionHead } from '../src/build/train-head.js';
import { trainNextView } from '../src/build/train-next.js';
import { makeOutfits, simulateEvents } from '../src/build/demo-data.js';
import { quantizeInt8, searchFloat32, searchInt8 } from '../src/recommend/knn.js';
import { groupBy, splitSessions } from '../src/recommend/sessions.js';
import { cooccurrenceTopK, nextAfterTopK } from '../src/recommend/cooccurrence.js';
import { BundleWriter } from '../src/bundle/writer.js';
import type { BundleItem } from '../src/bundle/format.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const seed = Number(args.get('seed') ?? 7);
const perClass = Number(args.get('per-class') ?? 100);
const out = args.get('out') ?? 'models/demo';
const rng = createRng(seed);

const test = loadFashionMnist('t10k');
const train = loadFashionMnist('train');
const products = makeProducts(test, 't10k', pickImages(test, perClass), rng, 'VT');
const arrivals = makeProducts(train, 'train', pickImages(train, 1), rng, 'NEW');

rmSync(join(out, 'images'), { recursive: true, force: true });
mkdirSync(join(out, 'images'), { recursive: true });
mkdirSync('public/new-arrivals', { recursive: true });
const pngs = products.map((p) => encodeGrayPng(p.pixels, 28, 28));
products.forEach((p, i) => writeFileSync(join(out, 'images', `${p.id}.png`), pngs[i]!));
arrivals.forEach((p) => writeFileSync(join('public/new-arrivals', `${p.id}.png`), encodeGrayPng(p.pixels, 28, 28)));

const backend = await initNodeTf();
const modelJson = JSON.parse(readFileSync('models/mobilenet_v2/model.json', 'utf8'));
const weights = readFileSync('models/mobilenet_v2/weights.bin');
const backbone = await loadLayers({ modelJson, weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) });
console.error(`image model: MobileNetV2 backbone on ${backend}`);
const features = await embedImages(
  backbone,
  products.map((p, i) => ({ bytes: pngs[i]!, pixels: { data: p.pixels, width: 28, height: 28, channels: 1 } })),
  { cacheDir: '.cache/features', modelKey: sha256(weights), onProgress: progressBar('embedding images') },
);
console.error(`features: ${features.length} × ${features[0]!.length}`);

// 2. Adapt to the catalog: a projection head trained on labelled product images — the catalog's
// own, plus more of each category from Fashion-MNIST's train split (never the new arrivals), so it
// also places images it has not seen (a new product, a shopper's photo) near their kind.
const extraPerClass = Number(args.get('head-extra') ?? 500);
const extra = pickImages(train, extraPerClass, 1);
const extraPngs = extra.map(({ index }) => {
  const src = imageAt(train, index);
  const px = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) px[i] = 255 - src[i]!;
  return { px, png: encodeGrayPng(px, 28, 28) };
});
const extraFeatures = await embedImages(
  backbone,
  extraPngs.map((e) => ({ bytes: e.png, pixels: { data: e.px, width: 28, height: 28, channels: 1 } })),
  { cacheDir: '.cache/features', modelKey: sha256(weights), onProgress: progressBar('embedding head training images') },
);
const dims = Number(args.get('dims') ?? 64);
const head = await trainProjectionHead([...features, ...extraFeatures], [...products.map((p) => p.label), ...extra.map((e) => e.label)], { dims, seed });
const embeddings = normalizeRows(applyHead(head, features), dims);
const quantized = quantizeInt8(embeddings, dims);
const precision = (search: (q: Float32Array, i: number) => number[]) => {
  let hits = 0;
  products.forEach((p, i) => {
    for (const j of search(embeddings.subarray(i * dims, (i + 1) * dims), i)) hits += products[j]!.label === p.label ? 1 : 0;
  });
  return hits / (products.length * 10);
};
const f32 = precision((q, i) => searchFloat32(embeddings, dims, q, 10, (j) => j === i).map((n) => n.index));
const i8 = precision((q, i) => searchInt8(quantized, q, 10, (j) => j === i).map((n) => n.index));
let recall = 0;
products.forEach((_, i) => {
  const q = embeddings.subarray(i * dims, (i + 1) * dims);
  const exact = new Set(searchFloat32(embeddings, dims, q, 10, (j) => j === i).map((n) => n.index));
  recall += searchInt8(quantized, q, 10, (j) => j === i).filter((n) => exact.has(n.index)).length / 10;
});
console.error(`embeddings: ${dims}-d int8; same-category precision@10 ${f32.toFixed(3)} (float32) / ${i8.toFixed(3)} (int8), int8 recall@10 vs float32 ${(recall / products.length).toFixed(3)}`);

// 3. Shoppers (simulated), sessions, baskets, outfits.
const index = new Map(products.map((p, i) => [p.id, i]));
const events = simulateEvents(products, Number(args.get('shoppers') ?? 3000), rng);
const outfits = makeOutfits(products, 600, rng);
const sessions: number[][] = [];
const baskets: number[][] = [];
for (const userEvents of groupBy(events, (e) => e.user).values()) {
  for (const s of splitSessions(userEvents)) {
    sessions.push(s.filter((e) => e.kind === 'view').map((e) => index.get(e.productId)!));
    const bought = s.filter((e) => e.kind === 'purchase').map((e) => index.get(e.productId)!);
    if (bought.length > 1) baskets.push(bought);
  }
}
const k = 20;
const complementary = cooccurrenceTopK([...baskets, ...outfits.map((o) => o.map((id) => index.get(id)!))], products.length, {
  k, score: 'llr', minSupport: 1, accept: (a, b) => products[a]!.label !== products[b]!.label,
});
const nextAfter = nextAfterTopK(sessions, products.length, k);
console.error(`shoppers: ${events.length} events, ${sessions.length} sessions, ${baskets.length} baskets, ${outfits.length} outfits`);

// 4. Next-view model.
const maxLength = 8;
const next = await trainNextView(sessions, products.length, {
  maxLength, seed, epochs: Number(args.get('epochs') ?? 6),
  onEpoch: (e, loss) => console.error(`next-view model: epoch ${e + 1} loss ${loss.toFixed(3)}`),
});

// 5. Write the bundle: thumbnails, items, int8 embeddings, lists and models, manifest last.
const w = new BundleWriter(out);
const thumbnails = new BundleWriter(out);
products.forEach((p, i) => thumbnails.record(`images/${p.id}.png`, pngs[i]!));
const items: BundleItem[] = products.map((p) => ({
  id: p.id, title: p.title, url: `/product.html?id=${p.id}`, image: `images/${p.id}.png`,
  price: p.price, currency: p.currency, category: p.category, brand: p.brand,
}));
const modelFiles = (name: string, saved: { json: string; weights: Uint8Array }) => ({
  model: w.add(`${name}/model.json`, saved.json),
  weights: w.add(`${name}/weights.bin`, saved.weights),
});
// The backbone is shared by every bundle (models/mobilenet_v2/): listed with its checksum, not copied.
const backboneRef = {
  model: w.record('../mobilenet_v2/model.json', readFileSync('models/mobilenet_v2/model.json')),
  weights: w.record('../mobilenet_v2/weights.bin', weights),
};
const manifest = w.finish({
  name: 'demo',
  createdAt: '2026-11-23T00:00:00.000Z',
  items: { count: items.length, file: w.add('items.json', JSON.stringify(items)) },
  assets: w.add('assets.json', JSON.stringify(thumbnails.listed())),
  similar: {
    dims, metric: 'cosine',
    codes: w.add('embeddings.i8', new Uint8Array(quantized.codes.buffer)),
    scales: w.add('scales.f32', new Uint8Array(quantized.scales.buffer)),
  },
  imageModel: { backbone: backboneRef, head: modelFiles('image-head', await saveLayers(head, 'weights.bin')), inputSize: 224 },
  complementary: { file: w.add('complementary.json', JSON.stringify(roundScores(complementary))), method: 'llr', k },
  nextView: { fallback: w.add('next-after.json', JSON.stringify(nextAfter)), model: modelFiles('next-view', await saveLayers(next, 'weights.bin')), maxLength },
});
writeFileSync('public/new-arrivals.json', JSON.stringify(arrivals.map((p) => ({
  id: p.id, title: p.title, image: `/new-arrivals/${p.id}.png`, price: p.price, currency: p.currency, category: p.category, brand: p.brand,
})), null, 1) + '\n');
const total = Object.values(manifest.files).reduce((a, f) => a + f.bytes, 0);
console.error(`wrote ${out}/manifest.json: ${items.length} items, ${Object.keys(manifest.files).length} files, ${(total / 1e6).toFixed(2)} MB (backbone included)`);

function roundScores(lists: [number, number][][]): [number, number][][] {
  return lists.map((l) => l.map(([i, s]) => [i, Math.round(s * 1000) / 1000] as [number, number]));
}
