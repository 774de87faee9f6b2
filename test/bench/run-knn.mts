#!/usr/bin/env -S npx tsx
/**
 * The kNN benchmark alone (no build, no server): bundles test/bench/knn-worker.ts, runs it in a Blob
 * worker of headless Chromium for each size and data kind, and prints every method's median time
 * per query as a ratio to the float32 scan measured in the same run.
 *
 *   npx tsx test/bench/run-knn.mts [--sizes 10000,100000,1000000] [--data random,clustered] [--queries N] [--json FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import { build } from 'esbuild';

const { values } = parseArgs({ options: { sizes: { type: 'string' }, data: { type: 'string' }, queries: { type: 'string' }, json: { type: 'string' } } });
const sizes = (values.sizes ?? '10000,100000,1000000').split(',').map(Number);
const kinds = (values.data ?? 'random,clustered').split(',');
const base = Array.from(new Int8Array(readFileSync('models/demo/embeddings.i8')));

interface Result {
  n: number;
  data: string;
  chosen: string;
  f32: number[];
  methods: { name: string; ms: number[]; recall: number; bytesPerItem: number; buildMs?: number; note?: string }[];
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

const code = (await build({ entryPoints: ['test/bench/knn-worker.ts'], bundle: true, format: 'iife', write: false, target: 'es2022' })).outputFiles[0]!.text;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const results: Result[] = [];
try {
  const page = await browser.newPage();
  for (const n of sizes) {
    for (const data of kinds) {
      const job = { n, dims: 64, queries: Number(values.queries ?? (n >= 1_000_000 ? 50 : 60)), k: 10, seed: 7, data, ...(data === 'demo' ? { base } : {}) };
      const res = await page.evaluate(
        ({ code, job }) =>
          new Promise<Result>((resolve, reject) => {
            const w = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
            w.onmessage = (e) => (resolve(e.data), w.terminate());
            w.onerror = (e) => reject(new Error(e.message));
            w.postMessage(job);
          }),
        { code, job },
      );
      results.push(res);
      const f32 = median(res.f32);
      process.stdout.write(`\n${n.toLocaleString('en')} × 64, ${data} (${job.queries} queries; Vitrine uses ${res.chosen})\n  ${'f32-scan (baseline)'.padEnd(30)} ${f32.toFixed(3).padStart(8)} ms\n`);
      for (const m of res.methods) {
        const ms = median(m.ms);
        const build = m.buildMs === undefined ? '' : `  build ${(m.buildMs / 1000).toFixed(1)} s`;
        process.stdout.write(
          `  ${m.name.padEnd(30)} ${ms.toFixed(3).padStart(8)} ms  ratio ${(ms / f32).toFixed(3).padStart(6)}  recall@10 ${m.recall.toFixed(3)}  ${m.bytesPerItem.toFixed(1).padStart(5)} B/item${build}${m.note ? `  (${m.note})` : ''}\n`,
        );
      }
    }
  }
} finally {
  await browser.close();
}
if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 1) + '\n');
