import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { BackendInfo, BackendPreference, Recommendation, RowKind, RowResult } from '../protocol.js';
import { getEngine } from './engine-client.js';
import { HISTORY_CHANGE, historyChanged, type HistoryChange } from './history-events.js';
import { prefetchBundle } from './prefetch.js';
import { chooseVariant, parseFilter, parseRerank, type VariantConfig } from './rules.js';
import { revealFocused, scrollRow, syncRow, watchRows } from './row-scroll.js';
import { styles } from './styles.js';

const ROW_KINDS: readonly RowKind[] = ['similar', 'complementary', 'next', 'recent'];
const BACKENDS: readonly BackendPreference[] = ['auto', 'webgpu', 'wasm', 'cpu'];
/** Every text the element shows, in English by default; `strings` overrides any of them. */
export interface VitrineStrings {
  similar: string;
  complementary: string;
  next: string;
  recent: string;
  /** The next row's note when it shows what is often viewed after this product (no history yet). */
  oftenNext: string;
  /** The similar row's note for a product not in the bundle; `{title}` is its `product-title`. */
  similarTo: string;
  /** The name of a row's button that scrolls back towards its first items; `{row}` is the row's title. */
  previous: string;
  /** The name of a row's button that scrolls on to more items; `{row}` is the row's title. */
  more: string;
}

export const DEFAULT_STRINGS: Readonly<VitrineStrings> = {
  similar: 'Visually similar',
  complementary: 'Goes with',
  next: 'Next for you',
  recent: 'Recently viewed',
  oftenNext: 'often viewed after this',
  similarTo: 'to {title}',
  previous: 'Previous: {row}',
  more: 'More: {row}',
};
const DEFAULT_LIMIT = 8;
const MAX_LIMIT = 50;

/** What both events say about the row, for analytics and A/B tests. */
export interface RowDetail {
  row: RowKind;
  basis: RowResult['basis'];
  /** How the row was ranked: basis and method, then re-ranking rules and `fill` (`RowResult.method`). */
  method: string;
  /** The bundle's build that answered (a hash of its manifest). */
  bundle: string;
  /** The A/B test variant this shopper is in, when the page set `variant` or `bucket`. */
  variant?: string;
}

/** `vitrine-select`'s detail: which recommendation the shopper picked. */
export interface SelectDetail extends RowDetail {
  productId: string;
  /** 1 for the row's first item. */
  position: number;
  url: string;
  /** The pick was a fallback fill, not one of the row's own results. */
  fill: boolean;
}

/** `vitrine-impression`'s detail: a row came into view (at least half of it, once per result). */
export interface ImpressionDetail extends RowDetail {
  /** In the row's order: position `i + 1`. */
  productIds: string[];
  /** Those of `productIds` that are fallback fill. */
  fill: string[];
}

type RowState = { status: 'pending' } | { status: 'done'; result: RowResult } | { status: 'failed' };

/**
 * The product whose view this page recorded last: several elements for one product, or a
 * re-render, record one view; a single-page app going A → B → A records three.
 */
let lastRecorded: string | undefined;

/**
 * Diagnostics are prefixed and printed once per distinct message — and once per cause: a worker
 * that cannot start fails the rows and the view's recording alike, and says so once.
 */
const reported = new Set<string>();
function report(message: string, level: 'error' | 'warn' = 'error', cause?: string): void {
  if (reported.has(message) || (cause !== undefined && reported.has(cause))) return;
  reported.add(message);
  if (cause !== undefined) reported.add(cause);
  console[level](`[vitrine] ${message}`);
}

/** A JSON-object attribute (`strings`, `variants`); anything else is reported once and the defaults stay. */
const jsonObject = (name: string, example: string) => (value: string | null): object => {
  if (!value) return {};
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // Reported below.
  }
  report(`${name}="${value.slice(0, 60)}" is not a JSON object such as ${example}; using the defaults`, 'warn');
  return {};
};

const formats = new Map<string, Intl.NumberFormat>();
function price(value: number | undefined, currency: string | undefined, lang: string): string {
  if (value === undefined) return '';
  const key = `${lang}|${currency ?? ''}`;
  let f = formats.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(lang || undefined, currency ? { style: 'currency', currency } : { minimumFractionDigits: 2 });
    } catch {
      f = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2 });
    }
    formats.set(key, f);
  }
  return f.format(value);
}

/**
 * Product recommendations computed in the shopper's browser from a static model bundle.
 *
 * ```html
 * <vitrine-recs src="/models/mystore/manifest.json" product="SKU-123"></vitrine-recs>
 * ```
 *
 * @fires vitrine-select - A shopper picked a recommendation: `{productId, row, position, url}`.
 *   Cancelable: `preventDefault()` stops the navigation (for a single-page app's router).
 * @fires vitrine-impression - A row came into view: `{row, productIds, basis}`.
 * @csspart row - One row (`data-row` is `similar`, `complementary` or `next`).
 * @csspart row-title - A row's heading.
 * @csspart row-note - The note in a heading that says what the row is based on.
 * @csspart items - The list of a row's items.
 * @csspart item - One recommendation (`data-product-id`).
 * @csspart link - The item's link to its product page.
 * @csspart image - The item's image.
 * @csspart title - The item's title.
 * @csspart price - The item's price.
 * @csspart loading - The placeholder shown while a row is computed.
 * @csspart scroll - Both of a row's scroll buttons (hidden when the row fits; `aria-disabled` at an end).
 * @csspart scroll-previous - The button that scrolls a row back towards its first items.
 * @csspart scroll-next - The button that scrolls a row on to more items.
 * @slot title-similar - Replaces the "Visually similar" heading text.
 * @slot title-complementary - Replaces the "Goes with" heading text.
 * @slot title-next - Replaces the "Next for you" heading text.
 * @cssprop --vitrine-card-width - Width of an item card (default 10rem).
 * @cssprop --vitrine-gap - Space between cards (default 0.75rem).
 * @cssprop --vitrine-radius - Corner radius of images (default 0.5rem).
 * @cssprop --vitrine-image-bg - Background behind product images (default #f3f3f3).
 * @cssprop --vitrine-accent - Colour of prices and focus rings (default currentColor).
 * @tagname vitrine-recs
 */
export class VitrineRecsElement extends LitElement {
  static override styles = styles;
  static override properties = {
    src: {},
    product: {},
    rows: {},
    limit: { type: Number },
    image: {},
    productTitle: { attribute: 'product-title' },
    backend: {},
    history: {},
    recordView: { attribute: 'record-view' },
    exclude: {},
    filter: {},
    fill: {},
    rerank: {},
    variant: {},
    bucket: {},
    variants: { converter: { fromAttribute: jsonObject('variants', '{"a": {}, "b": {"rerank": "mmr"}}') } },
    strings: { converter: { fromAttribute: jsonObject('strings', '{"similar": "…"}') } },
    states: { state: true },
  };
  static {
    // The rows' scroll buttons are marked after each render.
    this.addInitializer(watchRows);
  }

  /** URL of the bundle's `manifest.json` (relative URLs resolve against the page). */
  src = '';
  /** Id of the product this page shows. */
  product = '';
  /** Which rows to show, in order: a space-separated subset of `similar complementary next`. */
  rows = 'similar complementary next';
  /** Items per row, 1–50. */
  limit = DEFAULT_LIMIT;
  /** Image URL of a product that is not in the bundle yet: its similar row is computed from the image. */
  image?: string;
  /** Title of that product (used to label the similar row for assistive technology). */
  productTitle?: string;
  /** Which TF.js backend to use: `auto` (default), or `webgpu`, `wasm`, `cpu` to force one ({@link activeBackend} says which runs). */
  backend: string = 'auto';
  /** `history="off"` records nothing (a store's consent switch); the next row then shows "often viewed next". */
  history: string = 'on';
  /**
   * `record-view="off"` shows the rows without recording a view of `product`: for an element in a
   * cart drawer, a footer or a quick view, which a shopper did not open as a product page.
   */
  recordView: string = 'on';
  /** Space-separated product ids no row shows: the cart, what the shopper bought, a store's exclusions. */
  exclude = '';
  /** A store's rule: `category: Sneaker, Sandal; brand: Acme; price: 20-100` (every clause must match). */
  filter = '';
  /** `fill="off"`: a row shorter than `limit` stays short (default: topped up from popular products of the same category, then overall). */
  fill = 'on';
  /** Re-ranking rules, in order: `mmr` (diversity), `impressions` (shown often, never opened: sinks). */
  rerank = '';
  /** The A/B test variant to show: a key of `variants` (or any label, for the page's own analytics). */
  variant = '';
  /** A store-given id (e.g. a hashed customer number) that picks the variant deterministically when `variant` is not set. */
  bucket = '';
  /** The ranking configuration of each variant: `{"a": {}, "b": {"rerank": "mmr", "weight": 1}}`; it overrides `rerank` and `fill`. */
  variants: Record<string, VariantConfig> = {};
  /**
   * Texts to show instead of the English defaults ({@link DEFAULT_STRINGS}), any subset: set the
   * property, or the `strings` attribute to JSON: `strings='{"similar": "Ähnliche Artikel"}'`.
   */
  strings: Partial<VitrineStrings> = {};

  /** @internal */
  private states = new Map<RowKind, RowState>();
  private generation = 0;
  private backendInfo: BackendInfo | null = null;
  private observer?: IntersectionObserver;
  private readonly impressed = new Set<string>();

  /** The TF.js backend in use and why it was chosen; `null` until a row has needed a model. */
  get activeBackend(): BackendInfo | null {
    return this.backendInfo;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener(HISTORY_CHANGE, this.onHistory);
    this.observer?.disconnect();
    this.observer = undefined;
    this.generation++;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener(HISTORY_CHANGE, this.onHistory);
    // Reattached after a disconnect (moved in the DOM): load again.
    if (this.hasUpdated) this.load();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const inputs = ['src', 'product', 'rows', 'limit', 'image', 'productTitle', 'backend', 'history', 'recordView', 'exclude', 'filter', 'fill', 'rerank', 'variant', 'bucket', 'variants'] as const;
    if (inputs.some((p) => changed.has(p))) this.load();
  }

  /** Validates the attributes once, here at the boundary; warns naming the allowed values. */
  private config() {
    if (!this.src || !this.product) return undefined;
    const rows: RowKind[] = [];
    for (const token of this.rows.split(/\s+/).filter(Boolean)) {
      if ((ROW_KINDS as string[]).includes(token)) rows.includes(token as RowKind) || rows.push(token as RowKind);
      else report(`rows: unknown row "${token}" ignored (allowed: ${ROW_KINDS.join(', ')})`, 'warn');
    }
    let limit = this.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      report(`limit="${this.getAttribute('limit')}" is not an integer from 1 to ${MAX_LIMIT}; using ${DEFAULT_LIMIT}`, 'warn');
      limit = DEFAULT_LIMIT;
    }
    let backend = this.backend as BackendPreference;
    if (!BACKENDS.includes(backend)) {
      report(`backend="${backend}" is unknown (allowed: ${BACKENDS.join(', ')}); using auto`, 'warn');
      backend = 'auto';
    }
    let src: string;
    let image: string | undefined;
    try {
      src = new URL(this.src, document.baseURI).href;
      image = this.image ? new URL(this.image, document.baseURI).href : undefined;
    } catch {
      report(`src="${this.src}" or image="${this.image}" is not a URL`);
      return undefined;
    }
    const record = this.history !== 'off' && !['off', 'false'].includes(this.recordView.trim().toLowerCase());
    const exclude = [...new Set((this.exclude ?? '').split(/\s+/).filter(Boolean))];
    const variant = chooseVariant(this.variants ?? {}, this.variant, this.bucket);
    const v: VariantConfig = (variant !== undefined && this.variants?.[variant]) || {};
    const { filter, bad } = parseFilter(this.filter ?? '');
    const rerank = parseRerank(v.rerank ?? this.rerank ?? '');
    for (const b of [...bad, ...rerank.bad]) report(`filter or rerank: "${b}" ignored (filter: "category: …; brand: …; price: 20-100"; rerank: mmr, impressions)`, 'warn');
    const fill = (v.fill ?? this.fill) !== 'off';
    return { src, image, rows, limit, backend, product: this.product, record, exclude, filter, rerank: rerank.rules, fill, variant };
  }

  private load(): void {
    const generation = ++this.generation;
    this.impressed.clear();
    // The bundle's first files are fetched, and the worker started, as soon as there is a src —
    // before the page names its product (a page's script often sets it after fetching its own data).
    if (this.src && this.isConnected) {
      try {
        prefetchBundle(new URL(this.src, document.baseURI).href, this.product, (Number.isInteger(this.limit) && this.limit > 0 ? Math.min(this.limit, MAX_LIMIT) : DEFAULT_LIMIT) + 4);
        // In a task of its own: the page's script that defined the element stays short.
        setTimeout(() => {
          try {
            getEngine();
          } catch {
            // No worker here: said once there is a product.
          }
        });
      } catch {
        // Not a URL: config() says so.
      }
    }
    const config = this.config();
    this.states = new Map(config?.rows.map((r) => [r, { status: 'pending' }]));
    if (!config || !this.isConnected) return;
    let engine: ReturnType<typeof getEngine>;
    try {
      engine = getEngine();
    } catch (e) {
      report(`could not start: ${(e as Error).message}`);
      this.states = new Map();
      return;
    }
    const { src, image, limit, backend, product, exclude, filter, rerank, fill } = config;
    this.variantName = config.variant;
    // The view is recorded before the next row is asked for, so the model sees this page too.
    let recorded: Promise<unknown> = Promise.resolve();
    if (config.record && lastRecorded !== product) {
      lastRecorded = product;
      recorded = engine.record({ productId: product, kind: 'view', at: Date.now() }).then(() => historyChanged('view', this), (e) => {
        lastRecorded = undefined;
        // After the rows' failures of the same call chain: a worker that cannot start is reported
        // once, as the rows being unavailable, not first as a lost view.
        setTimeout(() => report(`could not record this view: ${(e as Error).message}`, 'warn', (e as Error).message));
      });
    }
    this.ask = (row, after = Promise.resolve()) =>
      after
        .then(() => engine.recommend({ src, row, product, limit, image, title: this.productTitle, backend, page: document.baseURI, fill, ...(exclude.length ? { exclude } : {}), ...(filter ? { filter } : {}), ...(rerank.length ? { rerank } : {}) }))
        .then(
          (result) => this.settle(generation, row, { status: 'done', result }),
          (e: Error) => {
            // Reported by cause: a bundle that cannot load is one message, not one per row.
            report(`recommendations unavailable: ${e.message}`, 'error', e.message);
            this.settle(generation, row, { status: 'failed' });
          },
        );
    // The rows that read the history wait for this view to be stored.
    for (const row of config.rows) this.ask(row, row === 'next' || row === 'recent' ? recorded : undefined);
  }

  /** The variant this element's rows were asked for (`variant`, or chosen from `bucket`). */
  private variantName?: string;

  /** What both events say about `row`. */
  private rowDetail(row: RowKind, result: RowResult): RowDetail {
    return { row, basis: result.basis, method: result.method ?? result.basis, bundle: result.bundle ?? '', ...(this.variantName !== undefined ? { variant: this.variantName } : {}) };
  }

  /** Asks the worker for `row` again (after `after`), for the current product and bundle. */
  private ask?: (row: RowKind, after?: Promise<unknown>) => void;

  /** The history changed (a product forgotten, the history cleared, a view elsewhere): the rows that read it are asked again. */
  private readonly onHistory = (e: Event) => {
    if ((e as CustomEvent<HistoryChange>).detail?.source === this) return;
    for (const row of ['next', 'recent'] as const) if (this.states.has(row)) this.ask?.(row);
  };

  private settle(generation: number, row: RowKind, state: RowState): void {
    if (generation !== this.generation) return; // a newer product or bundle replaced this request
    if (state.status === 'done' && state.result.backend) this.backendInfo = state.result.backend;
    this.states = new Map(this.states).set(row, state);
  }

  protected override render(): TemplateResult {
    return html`${[...this.states].map(([row, state]) =>
      state.status === 'pending'
        ? html`<div part="loading" data-row=${row} aria-hidden="true">${Array.from({ length: Math.min(this.limit || DEFAULT_LIMIT, 6) }, () => html`<span class="skeleton"></span>`)}</div>`
        : state.status === 'done' && state.result.items.length
          ? this.renderRow(row, state.result)
          : nothing,
    )}`;
  }

  /** The defaults, overridden by whatever `strings` gives as text. */
  private text(): VitrineStrings {
    const out = { ...DEFAULT_STRINGS };
    for (const key of Object.keys(out) as (keyof VitrineStrings)[]) {
      const v = (this.strings as Record<string, unknown> | undefined)?.[key];
      if (typeof v === 'string') out[key] = v;
    }
    return out;
  }

  private renderRow(row: RowKind, result: RowResult): TemplateResult {
    const lang = this.priceLang();
    const t = this.text();
    const note = result.basis === 'often-next' ? t.oftenNext : result.basis === 'image' && this.productTitle ? t.similarTo.replaceAll('{title}', this.productTitle) : '';
    // The heading, then the scroll buttons (row-scroll.ts; `value` is the direction; no `type`: a
    // button in a shadow root submits no form), then the list, whose links are the keyboard's way in.
    return html`<section part="row" data-row=${row} data-basis=${result.basis} aria-labelledby="title-${row}">
      <h2 part="row-title" id="title-${row}"><slot name="title-${row}">${t[row]}</slot>${note ? html` <span part="row-note">· ${note}</span>` : nothing}</h2>
      <button part="scroll scroll-previous" value="-1" aria-label=${t.previous.replaceAll('{row}', t[row])} @click=${scrollRow}>‹</button>
      <button part="scroll scroll-next" value="1" aria-label=${t.more.replaceAll('{row}', t[row])} @click=${scrollRow}>›</button>
      <ul part="items" @scroll=${syncRow} @focusin=${revealFocused}>
        ${result.items.map((item, i) => this.renderItem(row, item, i + 1, lang))}
      </ul>
    </section>`;
  }

  /** The language prices are shown in: the page's (nearest `lang`), else the browser's. */
  private priceLang(): string {
    return this.closest('[lang]')?.getAttribute('lang') ?? navigator.language;
  }

  private renderItem(row: RowKind, item: Recommendation, position: number, lang: string): TemplateResult {
    return html`<li part="item" data-product-id=${item.id}>
      <a part="link" href=${item.url} @click=${(e: MouseEvent) => this.select(e, row, item, position)}>
        ${item.image ? html`<img part="image" src=${item.image} alt="" loading="lazy" />` : html`<span part="image" class="no-image"></span>`}
        <span part="title">${item.title}</span>
        ${item.price !== undefined ? html`<span part="price">${price(item.price, item.currency, lang)}</span>` : nothing}
      </a>
    </li>`;
  }

  private select(e: MouseEvent, row: RowKind, item: Recommendation, position: number): void {
    const state = this.states.get(row);
    const about = state?.status === 'done' ? this.rowDetail(row, state.result) : { row, basis: 'embedding' as const, method: '', bundle: '' };
    const detail: SelectDetail = { ...about, productId: item.id, position, url: item.url, fill: !!item.fill };
    const go = this.dispatchEvent(new CustomEvent('vitrine-select', { detail, bubbles: true, composed: true, cancelable: true }));
    if (!go) e.preventDefault();
  }

  protected override updated(): void {
    const sections = this.renderRoot.querySelectorAll<HTMLElement>('section[part~="row"]');
    if (!sections.length) return;
    if (typeof IntersectionObserver === 'undefined') {
      sections.forEach((s) => this.impress(s));
      return;
    }
    this.observer ??= new IntersectionObserver(
      (entries) => entries.forEach((en) => en.isIntersecting && this.impress(en.target as HTMLElement)),
      { threshold: 0.5 },
    );
    sections.forEach((s) => this.observer!.observe(s));
  }

  private impress(section: HTMLElement): void {
    const row = section.dataset.row as RowKind;
    const state = this.states.get(row);
    if (state?.status !== 'done' || this.impressed.has(row)) return;
    this.impressed.add(row);
    this.observer?.unobserve(section);
    const { items } = state.result;
    const detail: ImpressionDetail = { ...this.rowDetail(row, state.result), productIds: items.map((i) => i.id), fill: items.filter((i) => i.fill).map((i) => i.id) };
    this.dispatchEvent(new CustomEvent('vitrine-impression', { detail, bubbles: true, composed: true }));
    // Counted on this device for the `impressions` rule; a shopper who turned history off leaves none.
    if (this.history !== 'off' && row !== 'recent') getEngine().impressed(detail.productIds).catch(() => {});
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vitrine-recs': VitrineRecsElement;
  }
  interface HTMLElementEventMap {
    'vitrine-select': CustomEvent<SelectDetail>;
    'vitrine-impression': CustomEvent<ImpressionDetail>;
  }
}
