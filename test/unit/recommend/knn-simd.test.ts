import { describe, expect, it } from 'vitest';
import { KNN_RELAXED_WASM, KNN_SIMD_WASM } from '../../../src/recommend/knn-simd.js';
import { SCORE4_CASES, score4Mismatches } from './score4-check.js';

describe('knn-simd.ts', () => {
  it('holds the bytes the .wat files compile to (run `node scripts/build-knn-wasm.mjs` after editing them)', async () => {
    // A plain .mjs script: imported by a computed path so TypeScript does not look for its types.
    const script = '../../../scripts/build-knn-wasm.mjs';
    const { compileKnnWat, RELAXED_WAT } = (await import(script)) as { compileKnnWat: (path?: string) => Promise<Uint8Array>; RELAXED_WAT: string };
    expect(Buffer.from(KNN_SIMD_WASM, 'base64').equals(Buffer.from(await compileKnnWat()))).toBe(true);
    expect(Buffer.from(KNN_RELAXED_WASM, 'base64').equals(Buffer.from(await compileKnnWat(RELAXED_WAT)))).toBe(true);
  });

  it('stays small (it ships inside the worker, within the 30 KB gzip budget)', () => {
    expect(Buffer.from(KNN_SIMD_WASM, 'base64').length + Buffer.from(KNN_RELAXED_WASM, 'base64').length).toBeLessThan(3072);
  });

  it('score4 scores 4-bit rows as the formula says and keeps only those above the floor', () => {
    expect(SCORE4_CASES.flatMap(([stride, rows, seed]) => score4Mismatches(KNN_SIMD_WASM, stride, rows, seed))).toEqual([]);
  });

  // Node may lack relaxed SIMD (Chromium has it; test/e2e/kernels.spec.ts checks it there).
  it.runIf(WebAssembly.validate(Buffer.from(KNN_RELAXED_WASM, 'base64')))('score4 with relaxed SIMD agrees with the formula too', () => {
    expect(SCORE4_CASES.flatMap(([stride, rows, seed]) => score4Mismatches(KNN_RELAXED_WASM, stride, rows, seed))).toEqual([]);
  });
});
