/**
 * The model-inference benchmark's worker (bundled by scripts/bench.mts with esbuild, served from the
 * bench server's origin, one fresh worker per backend): the demo bundle's image embedder and
 * next-view model, loaded through the same reader and runtime the widget's worker uses, timed
 * inside the worker (no messaging). `backend: 'auto'` is Vitrine's own choice.
 */
import { openBundle } from '../../src/bundle/reader.js';
import { Backbone, ImageEmbedder, NextViewModel, selectBackend } from '../../src/model/runtime.js';
import type { BackendPreference } from '../../src/protocol.js';
import type { Pixels } from '../../src/model/image-embedder.js';

interface Job {
  backend: BackendPreference;
  /** The store's URL, ending in `/`: the bundle is under models/demo/, the wasm files under dist/. */
  base: string;
  /** Image sides to time: the demo's own input size, and the default 224. */
  sizes: number[];
  /** Spend about this long per measurement (ms); at least one timed run each. */
  budgetMs: number;
  maxRuns: number;
}

export interface ModelTimes {
  backend: string;
  reason: string;
  /** ms per image, by `${side}x${batch}`. */
  image: Record<string, number[]>;
  /** ms per next-view query (a 5-item session). */
  next: number[];
  loadMs: number;
}

function noise(side: number, seed: number): Pixels {
  const data = new Uint8Array(side * side * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) data[i] = (s = (s * 1664525 + 1013904223) >>> 0) >>> 24;
  return { data, width: side, height: side, channels: 3 };
}

/** Times `fn` after one untimed warm-up call, until the budget or `maxRuns` is spent. */
async function timed(fn: () => Promise<unknown>, per: number, budgetMs: number, maxRuns: number): Promise<number[]> {
  await fn();
  const out: number[] = [];
  const start = performance.now();
  while (out.length < maxRuns && (out.length === 0 || performance.now() - start < budgetMs)) {
    const t = performance.now();
    await fn();
    out.push((performance.now() - t) / per);
  }
  return out;
}

self.onmessage = async (e: MessageEvent<Job>) => {
  const job = e.data;
  try {
    const t0 = performance.now();
    const info = await selectBackend(job.backend, { wasmBase: `${job.base}dist/` });
    const bundle = await openBundle(`${job.base}models/demo/manifest.json`);
    const m = bundle.manifest;
    if (!m.imageModel || !m.nextView?.model) throw new Error('the demo bundle has no image or next-view model');
    const [backboneFiles, headFiles, items, nv] = await Promise.all([
      bundle.model(m.imageModel.backbone), bundle.model(m.imageModel.head), bundle.items(), bundle.tensors(m.nextView.model),
    ]);
    const next = NextViewModel.load(nv.header, nv.weights, items.length);
    const loadMs = performance.now() - t0;
    const image: Record<string, number[]> = {};
    for (const size of job.sizes) {
      const spec = { size, range: m.imageModel.inputRange ?? ([0, 1] as const) };
      const embedder = await ImageEmbedder.load(await Backbone.load(backboneFiles, m.imageModel.backbone.format === 'graph' ? 'graph' : 'layers', spec), headFiles);
      for (const batch of [1, 16]) {
        const imgs = Array.from({ length: batch }, (_, i) => noise(size, i + 1));
        image[`${size}x${batch}`] = await timed(() => embedder.embed(imgs), batch, job.budgetMs, job.maxRuns);
      }
      embedder.dispose();
    }
    const session = [3, 14, 15, 92, 65].map((i) => i % items.length);
    const nextMs = await timed(() => next.scores(session), 1, job.budgetMs, job.maxRuns * 4);
    postMessage({ backend: info.name, reason: info.reason, image, next: nextMs, loadMs } satisfies ModelTimes);
  } catch (err) {
    postMessage({ error: (err as Error).message });
  }
};
