/**
 * Vitrine: `<script type="module" src=".../vitrine.js">` defines `<vitrine-recs>`,
 * `<vitrine-search>` and `<vitrine-history>`; importing it also gives the small history API below.
 */
import { VitrineRecsElement } from './ui/vitrine-recs.js';
import { VitrineSearchElement } from './ui/vitrine-search.js';
import { VitrineHistoryElement } from './ui/vitrine-history.js';

// Two copies of the script on one page (a theme and an app both adding it) must not throw.
if (!customElements.get('vitrine-recs')) customElements.define('vitrine-recs', VitrineRecsElement);
if (!customElements.get('vitrine-search')) customElements.define('vitrine-search', VitrineSearchElement);
if (!customElements.get('vitrine-history')) customElements.define('vitrine-history', VitrineHistoryElement);

export { clearHistory, forgetProduct, getHistory, recordEvent } from './ui/history-api.js';
export type { VitrineRecsElement, SelectDetail, ImpressionDetail, VitrineStrings } from './ui/vitrine-recs.js';
export type { VitrineSearchElement, VitrineSearchStrings } from './ui/vitrine-search.js';
export type { VitrineHistoryElement, VitrineHistoryStrings } from './ui/vitrine-history.js';
export type { BackendInfo, HistoryEvent, Recommendation, RowKind } from './protocol.js';
