import type { HistoryEvent } from '../protocol.js';
import { getEngine } from './engine-client.js';
import { historyChanged } from './history-events.js';

/**
 * The shopper's browse history as Vitrine keeps it on this device (IndexedDB of the store's origin),
 * oldest first. It is never sent anywhere.
 *
 * ```js
 * import { getHistory } from 'https://cdn.example/vitrine/vitrine.js';
 * const views = (await getHistory()).filter((e) => e.kind === 'view');
 * ```
 */
export function getHistory(): Promise<HistoryEvent[]> {
  return getEngine().history();
}

/**
 * Deletes the whole browse history from this device — for a "clear my history" button. The
 * IndexedDB database itself goes, so nothing is left behind; the next recorded view starts afresh.
 * The elements on the page show their history-based rows again.
 */
export async function clearHistory(): Promise<void> {
  await getEngine().clearHistory();
  historyChanged('clear');
}

/**
 * Removes one product from the history (the × beside it in a "recently viewed" list). Every
 * `<vitrine-recs>` and `<vitrine-history>` on the page then shows its rows again without it.
 */
export async function forgetProduct(productId: string): Promise<void> {
  await getEngine().forget(productId);
  historyChanged('forget');
}

/**
 * Records a cart add or purchase (views are recorded by `<vitrine-recs>` itself), for a store
 * that wants its shoppers' own baskets to inform their recommendations.
 */
export function recordEvent(productId: string, kind: HistoryEvent['kind']): Promise<void> {
  return getEngine().record({ productId, kind, at: Date.now() });
}
