import { releaseProxy, wrap, type Remote } from 'comlink';
import type { EngineApi } from '../protocol.js';

/** The worker's file name, beside `vitrine.js` in the built `dist/`. */
const WORKER_FILE = 'vitrine-worker.js';
/** A worker that has not answered by then is given up on (its script stalled). */
const START_TIMEOUT_MS = 30_000;

type Start = 'direct' | 'shim';

/**
 * Starts the worker from the widget's own URL, one of two ways:
 * - `direct`: `new Worker(url)`. Browsers refuse it when `url` is on another origin (the widget on a
 *   CDN), and on a cross-origin-isolated page (COEP) unless the script itself is sent with COEP.
 * - `shim`: a same-origin blob whose only line imports the real module. Module imports may cross
 *   origins (with CORS), the blob inherits the page's COEP, and inside the module
 *   `import.meta.url` is still the widget's URL, so the `.wasm` files are found there. A strict CSP
 *   must allow `worker-src blob:` for it.
 */
function startWorker(url: URL, how: Start): { worker: Worker; revoke: () => void } {
  const options: WorkerOptions = { type: 'module', name: 'vitrine' };
  if (how === 'direct') return { worker: new Worker(url, options), revoke: () => {} };
  const shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' }));
  return { worker: new Worker(shim, options), revoke: () => URL.revokeObjectURL(shim) };
}

const describe = (ev: Event) => (ev instanceof ErrorEvent && ev.message ? ev.message : 'it did not load');

/** Starts a worker and waits for its first answer; tries the next way to start it if that fails. */
async function connect(url: URL): Promise<{ worker: Worker; remote: Remote<EngineApi> }> {
  // On a cross-origin-isolated page `direct` works only if the host sends COEP with the script
  // too; most do not, and finding out costs a round trip and the script's bytes: shim first.
  const ways: Start[] = url.origin !== location.origin ? ['shim'] : globalThis.crossOriginIsolated ? ['shim', 'direct'] : ['direct', 'shim'];
  const failures: string[] = [];
  for (const how of ways) {
    let started: ReturnType<typeof startWorker>;
    try {
      started = startWorker(url, how);
    } catch (e) {
      failures.push(`${how}: ${(e as Error).message}`);
      continue;
    }
    const { worker, revoke } = started;
    const remote = wrap<EngineApi>(worker);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failed = new Promise<string>((resolve) => {
      // Handled here: a worker that cannot load must not surface as an uncaught error on the store's page.
      worker.addEventListener('error', (ev) => (ev.preventDefault(), resolve(describe(ev))), { once: true });
      timer = setTimeout(() => resolve(`no answer within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    });
    const outcome = await Promise.race([remote.storage().then(() => undefined), failed]);
    clearTimeout(timer);
    revoke();
    if (outcome === undefined) return { worker, remote };
    failures.push(`${how}: ${outcome}`);
    remote[releaseProxy]();
    worker.terminate();
  }
  throw new Error(`the worker ${url.href} could not start (${failures.join('; ')})`);
}

let engine: EngineApi | undefined;

/**
 * The page's one engine, shared by every `<vitrine-recs>` on it; the worker starts on first use.
 * Calls reject (never hang) when the worker cannot start or dies.
 */
export function getEngine(): EngineApi {
  if (engine) return engine;
  const url = new URL(WORKER_FILE, import.meta.url);
  let fail!: (e: Error) => void;
  const dead = new Promise<never>((_, reject) => (fail = reject));
  dead.catch(() => {});
  const ready = connect(url).then(({ worker, remote }) => {
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      fail(new Error(`the worker ${url.href} stopped: ${describe(ev)}`));
    });
    return remote;
  });
  ready.catch(() => {});
  const call =
    <A extends unknown[], R>(method: (remote: Remote<EngineApi>, ...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      ready.then((remote) => Promise.race([method(remote, ...args), dead]));
  engine = {
    recommend: call((r, q) => r.recommend(q)),
    record: call((r, e) => r.record(e)),
    history: call((r) => r.history()),
    forget: call((r, id) => r.forget(id)),
    clearHistory: call((r) => r.clearHistory()),
    storage: call((r) => r.storage()),
  };
  return engine;
}
