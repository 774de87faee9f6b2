/**
 * A self-contained check of knn-simd's `score4` kernel (plain or relaxed SIMD): random rows and
 * query, the kernel's hits against the formula in knn-simd.wat. It imports nothing, so an e2e test
 * can run the same function inside Chromium (page.evaluate), whose relaxed SIMD Node may lack.
 * Returns the mismatches, empty when the kernel agrees.
 */
export function score4Mismatches(base64: string, stride: number, rows: number, seed: number): string[] {
  const bin = atob(base64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const memory = instance.exports.memory as WebAssembly.Memory;
  type Score4 = (codes: number, query: number, out: number, rows: number, stride: number, width: number, scale: number, add: number, floor: number) => number;
  const score4 = instance.exports.score4 as Score4;
  const width = Math.ceil(stride / 16) * 16;
  const queryAt = Math.ceil(((rows + 4) * stride + width) / 16) * 16;
  const outAt = queryAt + 2 * width;
  memory.grow(Math.ceil((outAt + rows * 8 + 64) / 65536));
  let state = seed >>> 0 || 1;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0), state >>> 24);
  const heap = new Uint8Array(memory.buffer);
  for (let i = 0; i < queryAt; i++) heap[i] = next();
  const query = new Int8Array(memory.buffer, queryAt, 2 * width);
  for (let j = 0; j < stride; j++) (query[j] = next() - 128), (query[width + j] = next() - 128);
  const scale = 0.01;
  const add = 0.5;
  const expected = Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let j = 0; j < stride; j++) s += (heap[r * stride + j]! & 15) * query[j]! + (heap[r * stride + j]! >> 4) * query[width + j]!;
    return add + scale * s;
  });
  // A floor halfway between two scores, so float32 rounding cannot move a row across it.
  const sorted = [...new Set(expected)].sort((a, b) => b - a);
  const cut = Math.min(sorted.length - 1, Math.floor(sorted.length / 3));
  const floor = cut > 0 ? (sorted[cut]! + sorted[cut - 1]!) / 2 : -Infinity;
  const n = score4(0, queryAt, outAt, rows, stride, width, scale, add, floor);
  const ids = new Int32Array(memory.buffer, outAt, 2 * n);
  const scores = new Float32Array(memory.buffer, outAt, 2 * n);
  const want = expected.map((s, r) => [r, s] as const).filter(([, s]) => s > floor);
  const problems: string[] = [];
  if (n !== want.length) problems.push(`stride ${stride}: ${n} rows above the floor, expected ${want.length}`);
  for (let t = 0; t < Math.min(n, want.length); t++) {
    if (ids[2 * t] !== want[t]![0] || Math.abs(scores[2 * t + 1]! - want[t]![1]) > 1e-3) {
      problems.push(`stride ${stride}: hit ${t} is row ${ids[2 * t]} scoring ${scores[2 * t + 1]}, expected row ${want[t]![0]} scoring ${want[t]![1]}`);
      break;
    }
  }
  if (score4(0, queryAt, outAt, rows, stride, width, scale, add, Infinity) !== 0) problems.push(`stride ${stride}: rows above an infinite floor`);
  return problems;
}

/** The shapes every kernel is checked on: the 64-dim row (31 B), whole chunks, short and long rows. */
export const SCORE4_CASES: readonly (readonly [stride: number, rows: number, seed: number])[] = [[31, 203, 1], [32, 64, 2], [16, 5, 3], [40, 97, 4], [3, 9, 5]];
