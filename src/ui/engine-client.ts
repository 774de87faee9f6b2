import { releaseProxy, wrap, type Remote } from 'comlink';
import { LIFELINE, type EngineApi } from '../protocol.js';
import { prefetched } from './prefetch.js';

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

/** A started worker: its proxy, and `gone`, which rejects (and `dead` is set) once it has stopped. */
interface Live {
  remote: Remote<EngineApi>;
  gone: Promise<never>;
  dead?: Error;
}

/**
 * Starts a worker and waits for its first answer; tries the next way to start it if that fails.
 * Once started, the worker counts as stopped when it throws an uncaught error (handled here, so it
 * never surfaces on the store's page) or when the lock it holds for its life is released (it was closed or killed
 * without an error: nothing else would tell, and its calls would hang).
 */
async function connect(url: URL): Promise<Live> {
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
    let stop!: (why: string) => void;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    // Handled here: a worker that cannot load, or throws later, must not surface as an uncaught error on the store's page.
    worker.addEventListener('error', (ev) => (ev.preventDefault(), stop(describe(ev))));
    let lifeline!: () => void;
    const toldLifeline = new Promise<void>((resolve) => (lifeline = resolve));
    worker.addEventListener('message', (ev: MessageEvent) => {
      if (!ev.data || typeof ev.data !== 'object' || !(LIFELINE in ev.data)) return;
      const lock: unknown = ev.data[LIFELINE];
      // Granted once the worker, which holds this lock for its life, is gone.
      // `null`: no Web Locks, or refused (site data blocked): then there is no lifeline, no error.
      if (typeof lock === 'string') navigator.locks?.request(lock, () => stop('it was closed')).catch(() => {});
      lifeline();
    });
    timer = setTimeout(() => stop(`no answer within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    // Started = answers calls and holds its lifeline (granted after the first answers, possibly).
    const outcome = await Promise.race([Promise.all([remote.storage(), toldLifeline]).then(() => undefined), stopped]);
    clearTimeout(timer);
    revoke();
    if (outcome === undefined) {
      const live: Live = { remote, gone: stopped.then((why) => Promise.reject((live.dead = new Error(`the worker ${url.href} stopped: ${why}`)))) };
      live.gone.catch(() => {});
      // A stopped worker may still be running (it threw): end it, it answers nothing more.
      live.gone.catch(() => (remote[releaseProxy](), worker.terminate()));
      return live;
    }
    failures.push(`${how}: ${outcome}`);
    remote[releaseProxy]();
    worker.terminate();
  }
  throw new Error(`the worker ${url.href} could not start (${failures.join('; ')})`);
}

let engine: EngineApi | undefined;

/**
 * The page's one engine, shared by every `<vitrine-recs>` on it; the worker starts on first use.
 * - Calls reject (never hang) when the worker cannot start or stops.
 * - A worker that stops is restarted once, with one console line; the calls it was answering are
 *   asked again of the new one (they are reads, except `record`, which is asked again only if the
 *   new worker's history lacks the event: never twice). A second stop is final: calls reject.
 */
export function getEngine(): EngineApi {
  if (engine) return engine;
  const url = new URL(WORKER_FILE, import.meta.url);
  let restarted = false;
  const start = () => {
    const live = connect(url);
    live.catch(() => {});
    return live;
  };
  let current = start();
  const run = async <R>(method: (r: Remote<EngineApi>) => Promise<R>, again = method): Promise<R> => {
    const attempt = current;
    const live = await attempt;
    try {
      if (live.dead) throw live.dead; // its proxy is released: calling it would throw something else
      return await Promise.race([method(live.remote), live.gone]);
    } catch (e) {
      if (!live.dead) throw e;
      if (attempt === current) {
        if (restarted) throw e;
        restarted = true;
        console.warn(`[vitrine] ${live.dead.message}; restarting it`);
        current = start();
      }
      const next = await current;
      if (next.dead) throw next.dead;
      return Promise.race([again(next.remote), next.gone]);
    }
  };
  engine = {
    // What the page's prefetch has when the query is sent (after the worker has started), not when asked.
    recommend: (q) => run((r) => r.recommend({ ...prefetched(q.src), ...q })),
    record: (e) =>
      run(
        (r) => r.record(e),
        async (r) => {
          // The stopped worker may have stored it before it stopped.
          if (!(await r.history()).some((h) => h.at === e.at && h.productId === e.productId && h.kind === e.kind)) await r.record(e);
        },
      ),
    history: () => run((r) => r.history()),
    forget: (id) => run((r) => r.forget(id)),
    impressed: (ids) => run((r) => r.impressed(ids)),
    clearHistory: () => run((r) => r.clearHistory()),
    storage: () => run((r) => r.storage()),
  };
  return engine;
}
