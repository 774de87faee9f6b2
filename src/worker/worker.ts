/**
 * The worker's entry point: exposes the engine over comlink. Loaded as `vitrine-worker.js` next to
 * `vitrine.js`; the `.wasm` files sit beside it, found from this module's own URL — which is the
 * widget's origin (a CDN, say) even when the worker was started from a same-origin blob shim.
 */
import { expose } from 'comlink';
import { createEngine } from './engine.js';

expose(createEngine({ assetBase: import.meta.url.replace(/[^/]*$/, '') }));
