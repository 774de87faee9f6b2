/// <reference types="vitest/config" />
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { minify } from 'rolldown/utils';
import { defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);

/** TF.js's wasm binaries, copied beside `vitrine-worker.js`, which finds them from its own URL. */
function tfjsWasmFiles(): Plugin {
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  const files = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  return {
    name: 'vitrine:tfjs-wasm',
    apply: 'build',
    generateBundle() {
      for (const fileName of files) this.emitFile({ type: 'asset', fileName, source: readFileSync(join(dir, fileName)) });
    },
  };
}

/** The module of tfjs-backend-wasm whose factory function is copied, as source, into its thread workers. */
const THREADED_FACTORY = /tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;

/**
 * Minifies each chunk — but the threaded wasm factory without `compress`. tfjs-backend-wasm starts
 * its thread workers from `factory.toString()`; the compressor rewrites the factory's
 * `typeof _scriptDir !== "undefined"` guard into a bare reference to a variable that exists only
 * outside the function, so every thread worker dies with "e is not defined" and
 * `setBackend('wasm')` never resolves on a cross-origin-isolated page. Renaming alone is safe.
 */
function minifyChunks(): Plugin {
  return {
    name: 'vitrine:minify',
    apply: 'build',
    enforce: 'post',
    // After every other plugin's renderChunk (one of Vite's re-prints chunks for the build target).
    async generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        const copiedAsSource = chunk.moduleIds.some((id) => THREADED_FACTORY.test(id));
        const out = await minify(chunk.fileName, chunk.code, {
          module: true,
          compress: copiedAsSource ? false : { target: 'es2022' },
          mangle: true,
          codegen: { removeWhitespace: true },
        });
        if (out.errors.length) this.error(`minifying ${chunk.fileName}: ${out.errors.map((e) => e.message).join('; ')}`);
        chunk.code = out.code;
        chunk.map = null;
      }
    },
  };
}

/**
 * `npm run build` → `dist/`: what a store hosts (on its own origin or a CDN).
 * - `vitrine.js`: the script a store pastes; defines `<vitrine-recs>`; small (no TF.js).
 * - `vitrine-worker.js`: the engine; imports TF.js lazily from `chunks/` when a row needs a model.
 * - `tfjs-backend-wasm*.wasm`: TF.js's wasm backend binaries.
 * Every file is found relative to the script's own URL, so `dist/` can live anywhere.
 *
 * Two passes (`vite build`, then `vite build --mode worker`), so that the page's script shares no
 * chunk with the worker: built together, the modules both use (comlink, the capped stream reader)
 * became a chunk that `vitrine.js` imports statically — one more round trip before the element is
 * even defined (≈ 180 ms on a phone's link). Each entry now carries its own copy (≈ 2 KB gzip).
 */
export default defineConfig(({ mode }) => ({
  publicDir: false,
  build: {
    outDir: 'dist',
    // The page's pass runs first and starts from an empty dist/; the worker's adds to it.
    emptyOutDir: mode !== 'worker',
    target: 'es2022',
    // Done per chunk by minifyChunks(), which knows the one chunk that must not be compressed.
    minify: false,
    // Vite's preload helper touches `document`, which a worker does not have; chunks load on import anyway.
    modulePreload: false,
    rolldownOptions: {
      input: (mode === 'worker' ? { 'vitrine-worker': 'src/worker/worker.ts' } : { vitrine: 'src/index.ts' }) as Record<string, string>,
      // The entry keeps its exports (clearHistory, …); extra internal exports are allowed.
      preserveEntrySignatures: 'allow-extension',
      output: {
        entryFileNames: '[name].js',
        chunkFileNames: 'chunks/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
        minifyInternalExports: true,
        // The threaded wasm factory alone in its chunk, so only it skips compression. (Grouping
        // TF.js by package for nicer names was tried: it merged modules across the lazy boundary,
        // making the WebGPU backend a static import of the runtime.)
        codeSplitting: { groups: [{ name: 'tfjs-wasm-threaded', test: THREADED_FACTORY, includeDependenciesRecursively: false }] },
      },
    },
  },
  plugins: mode === 'worker' ? [tfjsWasmFiles(), minifyChunks()] : [minifyChunks()],
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
  },
}));
