/**
 * Everything TF.js, behind one dynamic import: the worker loads this module only when a row needs
 * a model (embedding a new product's image, scoring the next view), so the similar and goes-with
 * rows render without downloading TF.js at all.
 */
// tfjs-layers calls tensor methods (`t.flatten()`, …) that tfjs-core only adds with this import.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';

export { selectBackend } from './backend.js';
export { Backbone, ImageEmbedder } from './image-embedder.js';
export { NextViewModel } from './next-view.js';
