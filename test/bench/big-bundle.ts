/**
 * A synthetic bundle of `count` products for the memory benchmark: random unit embeddings (int8, as
 * the builder writes them), goes-with lists of 12, a session sample, no models — what a large store's
 * bundle holds for the rows that render without TF.js. Written with the builder's own BundleWriter,
 * so the widget reads it through the same checks as a real one.
 */
import { BundleWriter } from '../../src/bundle/writer.js';
import type { BundleItem } from '../../src/bundle/format.js';
import type { TopKLists } from '../../src/recommend/cooccurrence.js';
import { quantizeInt8, type QuantizedMatrix } from '../../src/recommend/knn.js';
import type { IvfIndex } from '../../src/recommend/ivf.js';
import { createRng } from '../../src/recommend/rng.js';
import { VSKNN } from '../../src/recommend/next-view.js';
import { encodeSessions } from '../../src/bundle/session-file.js';
import { sessionLists } from '../../src/recommend/sessions.js';
import { PAGE_LIST } from '../../src/bundle/pages.js';
import { writePaged } from '../../src/build/paged-step.js';

/** Products `P0000000`, `P0000001`, … with random prices, their image and category given by index. */
function syntheticItems(count: number, rng: ReturnType<typeof createRng>, image: (i: number) => string, category: (i: number) => number): BundleItem[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `P${String(i).padStart(7, '0')}`,
    title: `Synthetic product ${i}`,
    url: `/product.html?id=P${i}`,
    image: image(i),
    price: Math.round(rng.next() * 10_000) / 100,
    currency: 'EUR',
    category: `c${category(i)}`,
  }));
}

export function writeBigBundle(dir: string, count: number, dims = 64, seed = 11): void {
  const rng = createRng(seed);
  const w = new BundleWriter(dir);
  const items = syntheticItems(count, rng, (i) => `images/${i}.webp`, (i) => i % 40);
  const m = new Float32Array(count * dims);
  for (let r = 0; r < count; r++) {
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += (m[r * dims + d] = rng.next() - 0.5) ** 2;
    for (let d = 0; d < dims; d++) m[r * dims + d]! /= Math.sqrt(norm);
  }
  const q = quantizeInt8(m, dims);
  // Sessions of 2–10 random views, four per product on average.
  const sessions = () => Array.from({ length: Math.ceil(count / 1.5) }, () => Array.from({ length: 2 + rng.int(9) }, () => rng.int(count)));
  const lists = (): TopKLists =>
    Array.from({ length: count }, () => Array.from({ length: 12 }, (_, k): [number, number] => [rng.int(count), Math.round((12 - k) * 100) / 100]));
  w.finish({
    name: `synthetic-${count}`,
    items: { count, file: w.add('items.json', JSON.stringify(items)) },
    similar: {
      dims,
      metric: 'cosine',
      codes: w.add('embeddings.i8', new Uint8Array(q.codes.buffer)),
    },
    complementary: { file: w.add('complementary.json', JSON.stringify(lists())), method: { score: 'count', k: 12 } },
    nextView: { sessions: w.add('next-view/sessions.bin', encodeSessions(sessionLists(sessions()), count)), method: { maxLength: 20, sknn: { ...VSKNN, weight: 1 } } },
  });
}

/**
 * A synthetic paged bundle (bundle/pages.ts) of `count` products, as the builder writes one for a
 * catalog above `--page-above`: page records whose similar lists are products near in index (the
 * builder lists products in cell order, so neighbours share meta files), random goes-with and next
 * lists, and codes that catalog products' rows never read. Products `P0000000`, `P0000001`, …
 */
/**
 * With `search` (an index over `count` vectors and their int8 rows in position order), the bundle
 * also holds the index's head and cells, for image queries, and those rows as its embeddings.
 */
export function writePagedBundle(dir: string, count: number, dims = 64, seed = 12, search?: { index: IvfIndex; rows: QuantizedMatrix }): void {
  const rng = createRng(seed);
  const w = new BundleWriter(dir);
  const items = syntheticItems(count, rng, (i) => `/models/demo/images/${i % 48}.webp`, (i) => Math.floor(i / 50) % 40);
  const near = (i: number) => Array.from({ length: PAGE_LIST }, (_, k) => (i + (k % 2 ? -1 : 1) * (1 + (k >> 1)) + count) % count);
  const paged = writePaged(w, items, {
    similar: near,
    goesWith: () => Array.from({ length: PAGE_LIST }, () => rng.int(count)),
    next: (i) => [...near(i).slice(0, 4), ...Array.from({ length: PAGE_LIST - 4 }, () => rng.int(count))].map((index, k) => ({ index, score: 1 / (k + 1) })),
  }, 3, search);
  w.finish({
    name: `paged-${count}`,
    items: { count },
    paged,
    similar: { dims, metric: 'cosine', codes: w.add('embeddings.i8', search ? new Uint8Array(search.rows.codes.buffer) : new Uint8Array(count * dims)) },
    complementary: { method: { score: 'count', k: PAGE_LIST } },
    nextView: { method: { maxLength: 20, rules: { window: 3, depth: 3, sample: 500, weight: 1 } } },
  });
}
