/**
 * Visually similar: precision@10 of same-class neighbours among the Fashion-MNIST test images, for
 * raw pixels, the generic backbone's pooled features, and Vitrine's catalog-adapted embeddings —
 * the builder's own steps (PNG files → `embedImages` with its cache → `trainProjectionHead` on the
 * train split's labels → unit rows → int8 as shipped).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { embedImages, progressBar } from '../build/embed-images.js';
import { imageAt, loadFashionMnist, pngOf, type FashionMnistSplit } from '../build/fashion-mnist.js';
import { DEFAULT_IMAGE_MODEL, loadImageModel } from '../build/image-model.js';
import { Problems } from '../build/problems.js';
import { applyRows, trainProjectionHead } from '../build/train-head.js';
import { normalizeRows } from '../model/image-embedder.js';
import { dequantizeRow, quantizeInt8, searchFloat32, searchInt8, unitScales, type QuantizedMatrix } from '../recommend/knn.js';
import { RERANK } from '../recommend/rerank.js';
import type { MethodResult } from './next-view.js';
import { interval } from './metrics.js';
import { chooseLambda, choiceNotes, LAMBDAS, MMR_MAX_DROP, MMR_MIN_LAMBDA, mmrResults, mmrRows } from './rerank.js';

export interface VisualOptions {
  /** Training images per class for the head (default 2,000 of the 6,000). */
  perClass: number;
  /** Test images used as queries, taken evenly (all 10,000 are searched). */
  queries: number;
  imageSize: number;
  dims: number;
  seed: number;
  cacheDir: string;
  dir?: string;
  progress: boolean;
  log: (line: string) => void;
  /** Raw pixels and the generic backbone, for comparison (default true). */
  baselines?: boolean;
  /** Also measure MMR re-ranking: lambda chosen on held-out train images, the effect on the test queries. */
  mmr?: boolean;
  /** Held-out train images per class for MMR's validation (default 500). */
  validationPerClass?: number;
}

/** The row's length, and how many nearest neighbours MMR re-ranks. */
const ROW = 10;
const MMR_CANDIDATES = 4 * ROW;

export interface VisualResult {
  results: MethodResult[];
  notes: string[];
  /** MMR's effect on the row, when asked for. */
  mmr?: { results: MethodResult[]; notes: string[] };
}

/** Writes the split's images as PNG files (once) and returns their names. */
async function pngs(split: FashionMnistSplit, name: string, indices: readonly number[], dir: string): Promise<string[]> {
  mkdirSync(join(dir, name), { recursive: true });
  const refs: string[] = [];
  for (const i of indices) {
    const ref = `${name}/${i}.png`;
    const path = join(dir, ref);
    if (!existsSync(path)) writeFileSync(path, await pngOf(imageAt(split, i)));
    refs.push(ref);
  }
  return refs;
}

function unitRows(rows: readonly ArrayLike<number>[], from = 0, to?: number): { m: Float32Array; dims: number } {
  const dims = (to ?? rows[0]!.length) - from;
  const m = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => {
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += r[from + d]! ** 2;
    const inv = 1 / (Math.sqrt(norm) || 1);
    for (let d = 0; d < dims; d++) m[i * dims + d] = r[from + d]! * inv;
  });
  return { m, dims };
}

export async function evaluateVisual(opts: VisualOptions): Promise<VisualResult> {
  const test = loadFashionMnist('t10k', opts.dir);
  const train = loadFashionMnist('train', opts.dir);
  const labels = test.labels;
  const every = test.count / Math.min(opts.queries, test.count);
  const queries = Array.from({ length: Math.floor(test.count / every) }, (_, k) => Math.floor(k * every));

  const precision = (search: (q: number) => { index: number }[]) => {
    const t = performance.now();
    const each = queries.map((q) => search(q).filter((h) => labels[h.index] === labels[q]).length / 10);
    const ms = (performance.now() - t) / queries.length;
    return { p: each.reduce((a, b) => a + b, 0) / queries.length, ci: { 'P@10': interval(each, opts.seed) }, ms };
  };
  const floatKnn = (m: Float32Array, dims: number) => precision((q) => searchFloat32(m, dims, m.subarray(q * dims, (q + 1) * dims), 10, (i) => i === q));
  const results: MethodResult[] = [];

  const baselines = opts.baselines !== false;
  if (baselines) {
    const pixels = unitRows(Array.from({ length: test.count }, (_, i) => imageAt(test, i)));
    const raw = floatKnn(pixels.m, pixels.dims);
    results.push({ method: 'raw-pixels', metrics: { 'P@10': raw.p }, intervals: raw.ci, bytes: 4 * pixels.dims, msPerQuery: raw.ms });
    opts.log(`visual: raw pixels p@10 ${raw.p.toFixed(3)}`);
  }

  // The builder's steps, on image files.
  const imagesDir = join(opts.cacheDir, 'fashion-mnist-png');
  const perClass = new Map<number, number>();
  const trainIdx: number[] = [];
  // MMR's validation images: the next ones of each class, never seen by the head.
  const validationIdx: number[] = [];
  const validationPerClass = opts.mmr ? (opts.validationPerClass ?? 500) : 0;
  for (let i = 0; i < train.count; i++) {
    const c = train.labels[i]!;
    const n = perClass.get(c) ?? 0;
    if (n < opts.perClass) trainIdx.push(i);
    else if (n < opts.perClass + validationPerClass) validationIdx.push(i);
    perClass.set(c, n + 1);
  }
  const model = await loadImageModel(DEFAULT_IMAGE_MODEL, { size: opts.imageSize });
  const problems = new Problems();
  const embed = async (split: FashionMnistSplit, name: string, idx: number[]) => {
    const refs = await pngs(split, name, idx, imagesDir);
    const step = await embedImages(refs, (i) => ({ file: refs[i]! }), {
      imagesDir, backbone: model.backbone, modelKey: model.key, cacheDir: join(opts.cacheDir, 'vitrine'), problems,
      onProgress: opts.progress ? progressBar(`embedding ${name}`) : undefined,
    });
    opts.log(`visual: ${name}: ${step.embedded} images embedded, ${step.cached} from the cache`);
    return step.features.map((f) => f!);
  };
  const t0 = performance.now();
  const testFeatures = await embed(test, 'test', Array.from({ length: test.count }, (_, i) => i));
  const trainFeatures = await embed(train, 'train', trainIdx);
  const validationFeatures = validationIdx.length ? await embed(train, 'train', validationIdx) : [];
  const embedSecs = (performance.now() - t0) / 1000;

  if (baselines) {
    // The generic backbone: its pooled last layer (the first 1,280 features), unadapted.
    const gap = unitRows(testFeatures, 0, 1280);
    const generic = floatKnn(gap.m, gap.dims);
    results.push({ method: 'backbone', metrics: { 'P@10': generic.p }, intervals: generic.ci, bytes: 4 * gap.dims, msPerQuery: generic.ms });
    opts.log(`visual: generic backbone (pooled out_relu) p@10 ${generic.p.toFixed(3)}`);
  }

  const t1 = performance.now();
  const trained = await trainProjectionHead(trainFeatures, trainIdx.map((i) => train.labels[i]!), {
    dims: opts.dims, seed: opts.seed, onEpoch: (e, loss) => opts.progress && opts.log(`visual: head epoch ${e + 1} loss ${loss.toFixed(3)}`),
  });
  const headSecs = (performance.now() - t1) / 1000;
  const e = normalizeRows(applyRows(trained.head, testFeatures), opts.dims);
  const ev = validationFeatures.length ? normalizeRows(applyRows(trained.head, validationFeatures), opts.dims) : undefined;
  trained.dispose();
  const f32 = floatKnn(e, opts.dims);
  // As shipped: int8 codes, scales derived from them in the browser.
  const q8 = quantizeInt8(e, opts.dims);
  const q = { ...q8, scales: unitScales(q8.codes, opts.dims) };
  const i8 = precision((k) => searchInt8(q, e.subarray(k * opts.dims, (k + 1) * opts.dims), 10, (i) => i === k));
  results.push({ method: 'vitrine-f32', metrics: { 'P@10': f32.p }, intervals: f32.ci, bytes: 4 * opts.dims, msPerQuery: f32.ms });
  // As the bundle stores it: int8 codes only (the reader derives the scales), a byte per dimension.
  results.push({ method: 'vitrine', metrics: { 'P@10': i8.p, 'P@10 loss vs f32': f32.p - i8.p }, intervals: i8.ci, bytes: opts.dims, msPerQuery: i8.ms });
  opts.log(`visual: vitrine p@10 float32 ${f32.p.toFixed(3)}, int8 ${i8.p.toFixed(3)}`);
  const notes = [
    `${queries.length} test queries searched against all ${test.count} test images; head trained on ${trainIdx.length} train images (${opts.perClass} per class), ${opts.imageSize} px input, ${opts.dims} dims`,
    `embedding ${testFeatures.length + trainFeatures.length + validationFeatures.length} images took ${embedSecs.toFixed(0)} s (cached features are reused); the head trained in ${headSecs.toFixed(0)} s`,
  ];
  return { results, notes, ...(ev ? { mmr: measureMmr(q, queries, labels, quantizeInt8(ev, opts.dims), validationIdx.map((i) => train.labels[i]!), opts) } : {}) };
}

/**
 * MMR on the similar row: lambda chosen on held-out train images (searched among themselves), then
 * the test queries' rows without and with the chosen lambda. Both re-rank the `MMR_CANDIDATES`
 * nearest by int8 search, with the dequantized rows, as the worker does.
 */
function measureMmr(testIndex: QuantizedMatrix, queries: readonly number[], labels: ArrayLike<number>, validation: QuantizedMatrix, validationLabels: readonly number[], opts: VisualOptions): { results: MethodResult[]; notes: string[] } {
  const rowsOf = (m: QuantizedMatrix, qs: readonly number[], classOf: ArrayLike<number>, lambdas: readonly number[]) => {
    const vectors = Array.from({ length: m.count }, (_, i) => dequantizeRow(m, i));
    return mmrRows(qs, (q) => searchInt8(m, vectors[q]!, MMR_CANDIDATES, (i) => i === q), (i) => vectors[i]!, (q, i) => classOf[q] === classOf[i], ROW, lambdas);
  };
  const v = { ...validation, scales: unitScales(validation.codes, validation.dims) };
  const choice = chooseLambda(rowsOf(v, Array.from({ length: v.count }, (_, i) => i), validationLabels, LAMBDAS));
  for (const line of choiceNotes('mmr', choice.rows, `λ ${choice.lambda}`, `λ ${RERANK.lambda}`)) opts.log(`visual: ${line.trim()}`);
  // The test rows at the lambda validation chose (RERANK.lambda ships: the notes say whether they agree).
  const results = mmrResults(rowsOf(testIndex, queries, labels, [1, choice.lambda]), opts.seed, choice.lambda);
  opts.log(`visual: mmr λ ${choice.lambda}: P@10 ${results[0]!.metrics['P@10']!.toFixed(3)} → ${results[1]!.metrics['P@10']!.toFixed(3)}, ILD@10 ${results[0]!.metrics['ILD@10']!.toFixed(3)} → ${results[1]!.metrics['ILD@10']!.toFixed(3)}`);
  return {
    results,
    notes: [
      `the similar row (${ROW} products): its ${MMR_CANDIDATES} nearest by int8 search, re-ranked by MMR over the dequantized rows; P@10: same-class share; ILD@10: mean pairwise 1 − cosine within the row (higher: more varied)`,
      `λ chosen on ${v.count} held-out train images (${opts.validationPerClass ?? 500} per class, unseen by the head, each searched among the others): the smallest λ, not below ${MMR_MIN_LAMBDA}, whose P@10 stays within ${MMR_MAX_DROP} of plain kNN's (below ${MMR_MIN_LAMBDA} relevance would weigh less than likeness to what the row already shows, and same-class precision cannot see a row drifting to the class's farther products)`,
      ...choiceNotes('mmr', choice.rows, `λ ${choice.lambda}`, `λ ${RERANK.lambda}`),
      `test: ${queries.length} test queries against all ${testIndex.count} test images; Δ: paired bootstrap 95% intervals`,
    ],
  };
}
