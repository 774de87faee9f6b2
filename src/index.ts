/**
 * Vitrine: `<script type="module" src=".../vitrine.js">` defines `<vitrine-recs>`, and
 * `<vitrine-search>` and `<vitrine-history>` whose code loads when the page has one; importing it
 * also gives the small history API below.
 */
import { VitrineRecsElement } from './ui/vitrine-recs.js';
import { defineWhenUsed } from './ui/define.js';

// Two copies of the script on one page (a theme and an app both adding it) must not throw.
if (!customElements.get('vitrine-recs')) customElements.define('vitrine-recs', VitrineRecsElement);
defineWhenUsed({
  'vitrine-search': () => import('./ui/vitrine-search.js').then((m) => m.VitrineSearchElement),
  'vitrine-history': () => import('./ui/vitrine-history.js').then((m) => m.VitrineHistoryElement),
});

export { clearHistory, forgetProduct, getHistory, recordEvent } from './ui/history-api.js';
export { defineVitrineElements } from './ui/define.js';
export type { VitrineRecsElement, SelectDetail, ImpressionDetail, VitrineStrings } from './ui/vitrine-recs.js';
export type { VitrineSearchElement, VitrineSearchStrings } from './ui/vitrine-search.js';
export type { VitrineHistoryElement, VitrineHistoryStrings } from './ui/vitrine-history.js';
export type { BackendInfo, HistoryEvent, Recommendation, RowKind } from './protocol.js';
