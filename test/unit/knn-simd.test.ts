import { describe, expect, it } from 'vitest';
import { KNN_SIMD_WASM } from '../../src/recommend/knn-simd.js';

describe('knn-simd.ts', () => {
  it('holds the bytes knn-simd.wat compiles to (run `node scripts/build-knn-wasm.mjs` after editing the .wat)', async () => {
    // A plain .mjs script: imported by a computed path so TypeScript does not look for its types.
    const script = '../../scripts/build-knn-wasm.mjs';
    const { compileKnnWat } = (await import(script)) as { compileKnnWat: () => Promise<Uint8Array> };
    expect(Buffer.from(KNN_SIMD_WASM, 'base64').equals(Buffer.from(await compileKnnWat()))).toBe(true);
  });

  it('stays a few hundred bytes (it ships inside the worker, within the 30 KB gzip budget)', () => {
    expect(Buffer.from(KNN_SIMD_WASM, 'base64').length).toBeLessThan(2048);
  });
});
