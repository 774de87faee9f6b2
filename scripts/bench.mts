#!/usr/bin/env -S npx tsx
/**
 * `npm run bench`: what shoppers and stores feel, in Debian's headless Chromium on this machine,
 * as ratios measured side by side in one run (absolute times on a shared 2-core machine are noise).
 * Prints a table, writes test/bench/RESULTS.md and, with --json FILE, the figures as JSON.
 * Benchmarks never fail on a number.
 *
 *   npm run bench [-- --quick] [--runs N] [--json FILE] [--out DIR]
 *
 * Measured so far: time to first row (cold and warm cache) vs the bare fetch of the bytes it needs,
 * payload (widget JS gzip/brotli, TF.js chunks, bytes per product, whether TF.js loads when no row
 * needs it), long tasks during load, the page's JS heap. Not yet: kNN at 10k/100k/1M, per-backend
 * inference, builder throughput — reported as "not measured" (null) until they are.
 */
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { chromium, type Browser } from '@playwright/test';
import { build } from 'esbuild';
import { staticGraph } from './js-graph.js';
import { serve } from './serve.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, runs: { type: 'string' }, json: { type: 'string' }, out: { type: 'string' } } });
const runs = Number(values.runs ?? (values.quick ? 5 : 15));
const out = values.out ?? 'test/bench';

interface Figure {
  key: string;
  what: string;
  value: number | null;
  unit: string;
  baseline?: { what: string; value: number | null };
  ratio?: number | null;
  target?: string;
}
const figures: Figure[] = [];
const fig = (f: Figure) => {
  figures.push(f);
  const v = f.value === null ? 'not measured' : `${fmt(f.value)} ${f.unit}`;
  const b = f.baseline ? `  vs ${f.baseline.what} ${f.baseline.value === null ? '—' : `${fmt(f.baseline.value)} ${f.unit}`}` : '';
  const r = f.ratio !== undefined && f.ratio !== null ? `  ratio ${f.ratio.toFixed(2)}` : '';
  process.stderr.write(`${f.key.padEnd(22)} ${v}${b}${r}${f.target ? `  (target ${f.target})` : ''}\n    ${f.what}\n`);
};
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]! : NaN;
};

const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--enable-unsafe-webgpu', '--enable-precise-memory-info'],
};

/** Records the first `[part~="item"]` in any <vitrine-recs> (ms since navigation start) and every long task. */
const PROBE = `(() => {
  window.__bench = { firstItem: null, longTasks: [] };
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__bench.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  const check = () => {
    for (const el of document.querySelectorAll('vitrine-recs')) {
      if (el.shadowRoot && el.shadowRoot.querySelector('[part~="item"]')) { window.__bench.firstItem = performance.now(); return; }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

async function main() {
  const store = await serve({ port: 0, host: '127.0.0.1' });
  const browser: Browser = await chromium.launch(LAUNCH);
  const raw = JSON.parse(readFileSync('models/demo/manifest.json', 'utf8')) as { items: { count: number }; similar: { dims: number }; files: Record<string, { bytes: number }> };
  const assets = JSON.parse(readFileSync('models/demo/assets.json', 'utf8')) as Record<string, { bytes: number }>;
  const manifest = { items: raw.items.count, dims: raw.similar.dims, files: Object.entries(raw.files).map(([path, f]) => ({ path, bytes: f.bytes })) };
  const needed = ['manifest.json', ...manifest.files.map((f) => f.path).filter((p) => /^(items\.json|embeddings|scales)/.test(p))];
  try {
    // 1. Time to first row, cold (a fresh context: empty cache) and warm (the same context again),
    //    next to the bare fetch of the files the first row needs, in the same kind of page.
    const page = `${store.url}product.html?id=VT0001`;
    const ttfr = { cold: [] as number[], warm: [] as number[], fetchCold: [] as number[], fetchWarm: [] as number[], longTasks: [] as number[], heap: [] as number[] };
    for (let r = 0; r < runs + 1; r++) {
      const context = await browser.newContext();
      await context.addInitScript(PROBE);
      for (const phase of ['cold', 'warm'] as const) {
        const p = await context.newPage();
        await p.goto(page);
        await p.waitForFunction(() => (window as unknown as { __bench: { firstItem: number | null } }).__bench.firstItem !== null, undefined, { timeout: 60_000 });
        await p.waitForTimeout(300);
        const b = await p.evaluate(() => (window as unknown as { __bench: { firstItem: number; longTasks: number[] } }).__bench);
        const heap = await p.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN);
        // The bare fetch, in a page of the same origin without the widget.
        const f = await context.newPage();
        await f.goto(`${store.url}bench-blank.txt`).catch(() => undefined);
        const ms = await f.evaluate(
          async ({ base, files, cache }) => {
            const t = performance.now();
            await Promise.all(files.map((x) => fetch(base + x, { cache: cache as RequestCache }).then((r) => r.arrayBuffer())));
            return performance.now() - t;
          },
          { base: `${store.url}models/demo/`, files: needed, cache: phase === 'cold' ? 'no-store' : 'default' },
        );
        if (r > 0) {
          // Run 0 warms the machine (JIT, disk cache) and is left out.
          ttfr[phase].push(b.firstItem);
          ttfr[phase === 'cold' ? 'fetchCold' : 'fetchWarm'].push(ms);
          if (phase === 'cold') ttfr.longTasks.push(...b.longTasks), ttfr.heap.push(heap);
        }
        await f.close();
        await p.close();
      }
      await context.close();
    }
    const tc = median(ttfr.cold);
    const fc = median(ttfr.fetchCold);
    fig({ key: 'ttfr_cold', what: `navigation start → first item of a row, fresh cache (median of ${runs}; p95 ${fmt(p95(ttfr.cold))} ms)`, value: tc, unit: 'ms', baseline: { what: 'bare fetch of manifest+items+embeddings', value: fc }, ratio: tc / fc, target: '≤ 1.5' });
    const tw = median(ttfr.warm);
    const fw = median(ttfr.fetchWarm);
    fig({ key: 'ttfr_warm', what: `the same, second view in the same browser context (median; p95 ${fmt(p95(ttfr.warm))} ms)`, value: tw, unit: 'ms', baseline: { what: 'bare fetch, warm', value: fw }, ratio: tw / fw });

    // 5. Long tasks during load (any source; Vitrine's share is at most this).
    fig({ key: 'longtasks_load', what: `long tasks (> 50 ms) per cold load, all sources; the longest ${ttfr.longTasks.length ? fmt(Math.max(...ttfr.longTasks)) : 0} ms`, value: ttfr.longTasks.length / runs, unit: 'per load', target: 'none over 50 ms from Vitrine' });
    // 6. The page's heap after the demo bundle's rows are shown.
    fig({ key: 'heap_page', what: 'page JS heap after the rows are shown (performance.memory; the worker is not counted)', value: median(ttfr.heap) / 1e6, unit: 'MB' });

    // 4. Payload.
    const own = new Set(['dist/vitrine.js', 'dist/vitrine-worker.js'].flatMap((e) => [...staticGraph(e)]));
    const gz = [...own].reduce((a, f) => a + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    const br = [...own].reduce((a, f) => a + brotliCompressSync(readFileSync(f)).length, 0);
    fig({ key: 'widget_gzip', what: `the widget's own JS (${own.size} files: entry, worker, static imports)`, value: gz / 1024, unit: 'KB gzip', target: '≤ 30' });
    fig({ key: 'widget_brotli', what: 'the same, brotli', value: br / 1024, unit: 'KB brotli' });
    const lazy = readdirSync('dist/chunks').map((f) => join('dist/chunks', f)).filter((f) => !own.has(f));
    const wasm = readdirSync('dist').filter((f) => f.endsWith('.wasm')).map((f) => join('dist', f));
    const lazyGz = lazy.reduce((a, f) => a + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    fig({ key: 'tfjs_gzip', what: `TF.js and model code, loaded only when a row needs a model (${lazy.length} chunks)`, value: lazyGz / 1024, unit: 'KB gzip' });
    fig({ key: 'tfjs_wasm', what: `TF.js wasm binaries (one is fetched: simd, threaded-simd or plain)`, value: Math.max(...wasm.map((f) => statSync(f).size)) / 1024, unit: 'KB (largest)' });
    // The bundle's own files (not the shared image model one level up), and its thumbnails.
    const bundleBytes = manifest.files.filter((f) => !f.path.startsWith('../')).reduce((a, f) => a + f.bytes, 0);
    const thumbs = Object.values(assets).reduce((a, f) => a + f.bytes, 0);
    fig({ key: 'bundle_per_item', what: `demo bundle bytes per product, models and lists included, thumbnails not (they add ${fmt(thumbs / manifest.items)} B)`, value: bundleBytes / manifest.items, unit: 'B' });
    const emb = manifest.files.filter((f) => /^(embeddings|scales)/.test(f.path)).reduce((a, f) => a + f.bytes, 0);
    const dims = manifest.dims;
    fig({ key: 'embeddings_vs_f32', what: `embedding bytes per product (int8 + scale) vs float32 at ${dims} dims`, value: emb / manifest.items, unit: 'B', baseline: { what: 'float32', value: 4 * dims }, ratio: emb / manifest.items / (4 * dims), target: '≤ 0.25' });

    // Whether TF.js is downloaded on a page whose rows need no model (a first visit: no session yet).
    const context = await browser.newContext();
    const p = await context.newPage();
    const urls: string[] = [];
    context.on('request', (r) => urls.push(r.url()));
    await p.goto(`${store.url}product.html?id=VT0002`);
    await p.waitForLoadState('networkidle');
    const tf = urls.filter((u) => /\.wasm$|\/chunks\/(runtime|dist)-/.test(u));
    fig({ key: 'tfjs_loaded_no_model', what: `TF.js files requested on a first visit, whose rows need no model (${urls.length} requests in all)`, value: tf.length, unit: 'files', target: '0' });
    await context.close();

    // 2. Similar-items search in a worker: Vitrine's int8 scan vs a float32 scan, random unit vectors.
    const code = (await build({ entryPoints: ['test/bench/knn-worker.ts'], bundle: true, format: 'iife', write: false, target: 'es2022' })).outputFiles[0]!.text;
    const kp = await browser.newPage();
    await kp.goto(`${store.url}bench-blank.txt`).catch(() => undefined);
    const knn: Record<string, { f32: number; i8: number; recall: number; bytes: number }> = {};
    for (const n of values.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]) {
      const res = await kp.evaluate(
        ({ code, job }) =>
          new Promise<{ f32: number[]; i8: number[]; recall: number; bytesPerItem: number }>((resolve, reject) => {
            const w = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
            w.onmessage = (e) => (resolve(e.data), w.terminate());
            w.onerror = (e) => reject(new Error(e.message));
            w.postMessage(job);
          }),
        { code, job: { n, dims: manifest.dims, queries: n >= 1_000_000 ? 10 : runs * 4, k: 10, seed: 7 } },
      );
      const label = n >= 1_000_000 ? '1m' : `${n / 1000}k`;
      knn[label] = { f32: median(res.f32), i8: median(res.i8), recall: res.recall, bytes: res.bytesPerItem };
      fig({
        key: `knn${label}_vs_f32`, what: `similar-items query in a worker at ${n.toLocaleString('en')} × ${manifest.dims} (int8 scan, ${res.bytesPerItem} B/item; recall@10 vs exact float32 ${res.recall.toFixed(3)})`,
        value: knn[label]!.i8, unit: 'ms', baseline: { what: 'float32 scan', value: knn[label]!.f32 }, ratio: knn[label]!.i8 / knn[label]!.f32,
        target: n === 100_000 ? '≤ 0.25, recall ≥ 0.95' : n >= 1_000_000 ? '≤ 0.05, recall ≥ 0.90, ≤ 32 B/item' : undefined,
      });
    }
    await kp.close();
    if (values.quick) fig({ key: 'knn1m_vs_f32', what: 'similar-items query at 1M items (left out of --quick)', value: null, unit: '' });

    for (const [key, what] of [
      ['chosen_vs_best', 'the backend Vitrine picks vs the fastest measured'],
      ['builder_img_s', 'builder images/second per Node backend'],
    ] as const) fig({ key, what, value: null, unit: '' });
  } finally {
    await browser.close();
    await store.close();
  }

  const get = (k: string) => figures.find((f) => f.key === k);
  const recallOf = (k: string) => Number(/recall@10 vs exact float32 ([\d.]+)/.exec(get(k)?.what ?? '')?.[1] ?? NaN);
  const orNull = (x: number | null | undefined) => (x === undefined || x === null || Number.isNaN(x) ? null : x);
  const json = {
    ratios: { ttfr_vs_fetch: orNull(get('ttfr_cold')?.ratio), knn100k_vs_f32: orNull(get('knn100k_vs_f32')?.ratio), knn1m_vs_f32: orNull(get('knn1m_vs_f32')?.ratio), chosen_vs_best: null },
    recall: { knn100k: orNull(recallOf('knn100k_vs_f32')), knn1m: orNull(recallOf('knn1m_vs_f32')) },
    bytes: { widget_gzip: Math.round((get('widget_gzip')?.value ?? 0) * 1024), per_item_1m: get('knn1m_vs_f32')?.value != null ? manifest.dims + 4 : null },
    figures,
    runs,
    date: new Date().toISOString(),
  };
  if (values.json) writeFileSync(values.json, JSON.stringify(json, null, 1) + '\n');
  mkdirSync(out, { recursive: true });
  const rows = figures.map((f) => `| ${f.key} | ${f.value === null ? 'not measured yet' : `${fmt(f.value)} ${f.unit}`} | ${f.baseline ? `${f.baseline.what}: ${f.baseline.value === null ? '—' : `${fmt(f.baseline.value)} ${f.unit}`}` : ''} | ${f.ratio != null ? f.ratio.toFixed(2) : ''} | ${f.target ?? ''} | ${f.what} |`);
  writeFileSync(
    join(out, 'RESULTS.md'),
    [
      '# Vitrine benchmarks',
      '',
      `Written by \`npm run bench\`${values.quick ? ' --quick' : ''} (${runs} runs after a warm-up; headless Debian Chromium, this 2-core machine, shared: read the ratios, not the absolute times).`,
      '',
      '| figure | value | baseline | ratio | target | what |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
  process.stderr.write(`wrote ${join(out, 'RESULTS.md')}${values.json ? ` and ${values.json}` : ''}\n`);
}

await main();
