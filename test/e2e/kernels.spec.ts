import { expect, test } from './fixtures.js';
import { KNN_RELAXED_WASM, KNN_SIMD_WASM } from '../../src/recommend/knn-simd.js';
import { SCORE4_CASES, score4Mismatches } from '../unit/recommend/score4-check.js';

// The 4-bit search kernel in the browser that runs it: Chromium has relaxed SIMD (Node may not),
// and the index uses that module first. Same check as test/unit/recommend/knn-simd.test.ts.
test('the 4-bit kernels, plain and relaxed SIMD, score as the formula says in Chromium', async ({ page }) => {
  await page.goto('about:blank');
  const run = (base64: string) =>
    page.evaluate(
      ([src, b64, cases]) => {
        const check = new Function(`return (${src})`)() as typeof score4Mismatches;
        return { valid: WebAssembly.validate(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), problems: cases.flatMap(([s, r, seed]) => check(b64, s, r, seed)) };
      },
      [score4Mismatches.toString(), base64, SCORE4_CASES] as const,
    );
  const relaxed = await run(KNN_RELAXED_WASM);
  expect(relaxed.valid, 'Chromium validates the relaxed SIMD module').toBe(true);
  expect(relaxed.problems).toEqual([]);
  expect((await run(KNN_SIMD_WASM)).problems).toEqual([]);
});
