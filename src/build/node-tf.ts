import * as tf from '@tensorflow/tfjs-core';
// The union package's Node build registers tensor methods (t.flatten(), …) that tfjs-layers calls;
// tfjs-core alone does not. The browser build imports them from tfjs-core's ESM files instead.
import '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * TF.js for the builder in Node: the WASM backend (SIMD), the same kernels the browser's
 * fallback uses, so embeddings built here match the ones a shopper's browser computes.
 * Falls back to the pure-JS cpu backend where WASM cannot start.
 */
export async function initNodeTf(backend: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  if (backend === 'wasm') {
    const require = createRequire(import.meta.url);
    setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
    if (await tf.setBackend('wasm').catch(() => false)) {
      registerWasmTrainingKernels();
      return 'wasm';
    }
  }
  await tf.setBackend('cpu');
  return 'cpu';
}

/**
 * Training the next-view model differentiates its embedding lookup (a gather), whose gradient is
 * `UnsortedSegmentSum` — a kernel tfjs-backend-wasm does not have. Registering this small one lets
 * training stay on wasm: measured, one epoch over 9,643 examples took 4.5 s here against 283 s on
 * the pure-JS cpu backend, with the same loss.
 */
function registerWasmTrainingKernels(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const wasm = backend as WasmBackendLike;
      const values = wasm.readSync(x.dataId) as Float32Array;
      const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
      const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const out = wasm.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
      const sums = wasm.typedArrayFromHeap(out) as Float32Array;
      sums.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i]!;
        if (s < 0 || s >= numSegments) continue;
        for (let k = 0; k < inner; k++) sums[s * inner + k]! += values[i * inner + k]!;
      }
      return out;
    },
  });
}

/** The parts of tfjs-backend-wasm's backend class the kernel above uses. */
interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}
