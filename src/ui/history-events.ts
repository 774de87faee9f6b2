/**
 * The page-wide signal that the shopper's history on this device changed — a view recorded, a
 * product forgotten, the history cleared — so every element whose rows read it asks again.
 */
export const HISTORY_CHANGE = 'vitrine-history-change';

export interface HistoryChange {
  reason: 'view' | 'forget' | 'clear';
  /** The element that caused it (it refreshes itself). */
  source?: EventTarget;
}

export function historyChanged(reason: HistoryChange['reason'], source?: EventTarget): void {
  document.dispatchEvent(new CustomEvent<HistoryChange>(HISTORY_CHANGE, { detail: { reason, source } }));
}
