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
 * A lifeline: this worker holds a Web Lock for its whole life and tells the page its name; the
 * page's request for the same lock is granted when the worker is gone — closed or killed without
 * an uncaught error, which nothing else reports (MessagePort's `close` event is not in every
 * Chromium). The lock is granted asynchronously, possibly after the first calls are answered, so the
 * page counts the worker started only once this message has come: a worker that died before it could
 * hold its lock would otherwise go unnoticed and its calls hang. Without Web Locks (an insecure page),
 * or where they are refused (site data blocked: "The request was denied"), the message says `null`:
 * no lifeline, and no error.
 */
const name = `vitrine-worker-${Math.random().toString(36).slice(2)}`;
if (navigator.locks) {
  navigator.locks
    .request(name, () => (postMessage({ [LIFELINE]: name }), new Promise<never>(() => {})))
    .catch(() => postMessage({ [LIFELINE]: null }));
} else postMessage({ [LIFELINE]: null });
