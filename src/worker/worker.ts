/**
 * The worker's entry point: exposes the engine over comlink. Loaded as `vitrine-worker.js` next to
 * `vitrine.js`; the `.wasm` files sit beside it, found from this module's own URL — which is the
 * widget's origin (a CDN, say) even when the worker was started from a same-origin blob shim.
 */
import { expose } from 'comlink';
import { createEngine } from './engine.js';

expose(createEngine({ assetBase: import.meta.url.replace(/[^/]*$/, '') }));

/**
 * A lifeline: this worker holds a Web Lock for its whole life and tells the page its name; the
 * page's request for the same lock is granted when the worker is gone — closed or killed without
 * an uncaught error, which nothing else reports (MessagePort's `close` event is not in every
 * Chromium). Without Web Locks (an insecure page) there is no lifeline.
 */
const name = `vitrine-worker-${Math.random().toString(36).slice(2)}`;
// Refused where site data is blocked ("The request was denied"): no lifeline then, and no error.
navigator.locks?.request(name, () => (postMessage({ 'vitrine-lifeline': name }), new Promise<never>(() => {}))).catch(() => {});
