/**
 * The next-view benchmark's worker (bundled by scripts/bench.mts with esbuild): a bundle's "Next for
 * you" row exactly as the widget's worker computes it — the session file read and indexed, the GRU
 * loaded where the bundle's method uses it, `nextViewTop` (the sparse top of the row) — timed per
 * query inside the worker, for sessions of one view and of five.
 */
import { openBundle } from '../../src/bundle/reader.js';
import { indexSessions, modelProbabilities, needsModel, nextViewTop } from '../../src/recommend/next-view.js';

interface Job {
  /** Manifest URLs. */
  bundles: string[];
  /** The widget's dist/ (TF.js wasm files). */
  wasmBase: string;
  queries: number;
}

export interface NextTimes {
  bundle: string;
  items: number;
  method: string;
  /** Bytes of the row's files: the session sample, and the GRU's where the method uses it. */
  bytes: number;
  loadMs: number;
  /** ms per query, by session length. */
  ms: Record<string, number[]>;
}

self.onmessage = async (e: MessageEvent<Job>) => {
  const job = e.data;
  try {
    const out: NextTimes[] = [];
    for (const url of job.bundles) {
      const t0 = performance.now();
      const bundle = await openBundle(url);
      const n = bundle.manifest.nextView;
      if (!n?.sessions) throw new Error(`${url} has no session sample for the next row`);
      const sessionsFile = n.sessions;
      const items = bundle.manifest.items.count;
      const ix = indexSessions(await bundle.sessions(sessionsFile), items);
      let model: { scores(s: number[]): Promise<Float32Array> } | undefined;
      if (n.model) {
        const rt = await import('../../src/model/runtime.js');
        await rt.selectBackend('auto', { wasmBase: job.wasmBase });
        const { header, weights } = await bundle.tensors(n.model);
        model = rt.NextViewModel.load(header, weights, items, n.model.model);
      }
      const loadMs = performance.now() - t0;
      const bytes = [sessionsFile, ...(n.model ? [n.model.model, n.model.weights] : [])].reduce((a, f) => a + bundle.manifest.files[f]!.bytes, 0);
      const ms: Record<string, number[]> = {};
      let seed = 12345;
      const next = () => (seed = (seed * 1664525 + 1013904223) >>> 0) % items;
      for (const length of [1, 5]) {
        const times: number[] = [];
        for (let q = 0; q <= job.queries; q++) {
          const session = Array.from({ length }, next);
          const t = performance.now();
          const probabilities = model && needsModel(session, n.method) ? modelProbabilities(await model.scores(session)) : undefined;
          // As the worker's engine asks (src/worker/engine.ts): the sparse top of the row, limit + 4.
          nextViewTop(ix, session, n.method, 12, new Set(session), probabilities);
          if (q > 0) times.push(performance.now() - t); // the first query warms up
        }
        ms[`${length}`] = times;
      }
      const parts = ['sknn', 'rules', 'model'].filter((k) => (n.method as unknown as Record<string, unknown>)[k]);
      out.push({ bundle: url, items, method: parts.join(' + ') + (n.method.oneView ? ' (one view: without the model)' : ''), bytes, loadMs, ms });
    }
    postMessage({ results: out });
  } catch (err) {
    postMessage({ error: (err as Error).message });
  }
};
