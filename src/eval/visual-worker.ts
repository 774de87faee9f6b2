/**
 * The visual task in its own thread: TF.js's wasm backend runs on one core in Node, so the
 * evaluation embeds Fashion-MNIST on the second core while the next-view and complementary tasks
 * run on the first. Messages: `{log}` lines, then `{done}` with the results (and MMR's, when asked
 * for) or `{missing}`/`{error}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DatasetMissingError } from '../build/fashion-mnist.js';
import { initNodeTf } from '../build/node-tf.js';
import { evaluateVisual, type VisualOptions } from './visual.js';

const port = parentPort!;
try {
  await initNodeTf();
  const done = await evaluateVisual({ ...(workerData as Omit<VisualOptions, 'log'>), log: (log) => port.postMessage({ log }) });
  port.postMessage({ done });
} catch (e) {
  port.postMessage(e instanceof DatasetMissingError ? { missing: e.message } : { error: (e as Error).stack ?? String(e) });
}
