/**
 * The worker's entry point: exposes the engine over comlink. Loaded as `vitrine-worker.js` next to
 * `vitrine.js`; the `.wasm` files sit beside it, found from this module's own URL — which is the
 * widget's origin (a CDN, say) even when the worker was started from a same-origin blob shim.
 */
import { expose } from 'comlink';
import { LIFELINE } from '../protocol.js';
import { createEngine } from './engine.js';

expose(createEngine({ assetBase: import.meta.url.replace(/[^/]*$/, '') }));

/**
 * A lifeline: the worker holds a Web Lock for life and posts its name; the page's request for it
 * is granted when the worker dies, which nothing else reports. The page counts the worker started
 * only once this message has come (the lock is granted late). `null`: no Web Locks here, no lifeline.
 */
const name = `vitrine-worker-${Math.random().toString(36).slice(2)}`;
if (navigator.locks) {
  navigator.locks
    .request(name, () => (postMessage({ [LIFELINE]: name }), new Promise<never>(() => {})))
    .catch(() => postMessage({ [LIFELINE]: null }));
} else postMessage({ [LIFELINE]: null });
