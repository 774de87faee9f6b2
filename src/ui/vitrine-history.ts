import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { Recommendation } from '../protocol.js';
import { getEngine } from './engine-client.js';
import { clearHistory, forgetProduct } from './history-api.js';
import { HISTORY_CHANGE } from './history-events.js';

/** The texts the element shows; `{title}` is a product's title. */
export interface VitrineHistoryStrings {
  heading: string;
  remove: string;
  clear: string;
  kept: string;
  empty: string;
}

export const DEFAULT_HISTORY_STRINGS: VitrineHistoryStrings = {
  heading: 'Recently viewed',
  remove: 'Remove {title} from your history',
  clear: 'Clear history',
  kept: 'Kept on this device only.',
  empty: 'Nothing yet. Kept on this device only.',
};

/**
 * The shopper's recently viewed products, as Vitrine keeps them on this device, each removable
 * with ×, and a button that clears the whole history. Removing one changes the "next" and
 * "recently viewed" rows of every `<vitrine-recs>` on the page at once.
 *
 * ```html
 * <vitrine-history src="/models/mystore/manifest.json" product="SKU-123"></vitrine-history>
 * ```
 *
 * @csspart heading - The heading.
 * @csspart items - The list.
 * @csspart item - One product (`data-product-id`).
 * @csspart link - Its link.
 * @csspart image - Its image.
 * @csspart title - Its title.
 * @csspart remove - Its × button.
 * @csspart clear - The clear-history button.
 * @csspart note - The line saying where the history is kept.
 * @tagname vitrine-history
 */
export class VitrineHistoryElement extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: 0.5rem;
    }
    li {
      display: flex;
      align-items: center;
      gap: 0.5rem;
    }
    a {
      display: flex;
      align-items: center;
      gap: 0.5rem;
      flex: 1;
      color: inherit;
    }
    img {
      width: 2.5rem;
      height: 2.5rem;
      object-fit: contain;
      background: var(--vitrine-image-bg, #f3f3f3);
      border-radius: var(--vitrine-radius, 0.5rem);
    }
    button {
      font: inherit;
      cursor: pointer;
    }
    [part~='remove'] {
      border: none;
      background: none;
      font-size: 1.2em;
      line-height: 1;
      padding: 0.25rem 0.5rem;
    }
    :is(a, button):focus-visible {
      outline: 2px solid var(--vitrine-accent, currentColor);
      outline-offset: 2px;
    }
  `;

  static override properties = {
    src: {},
    product: {},
    limit: { type: Number },
    strings: { attribute: false },
    items: { state: true },
  };

  /** URL of the bundle's `manifest.json`: products are shown with its titles and images. */
  src = '';
  /** The page's own product, left out of the list. */
  product = '';
  /** Products to list, 1–50. */
  limit = 12;
  /** Texts to show instead of the English defaults, any subset. */
  strings: Partial<VitrineHistoryStrings> = {};

  private items: Recommendation[] = [];
  private asking = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener(HISTORY_CHANGE, this.refresh);
    // Back and forward restore the page from the browser's cache: the history may have changed since.
    addEventListener('pageshow', this.shown);
  }

  private readonly shown = (e: PageTransitionEvent) => e.persisted && this.refresh();

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener(HISTORY_CHANGE, this.refresh);
    removeEventListener('pageshow', this.shown);
    this.asking++;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!(changed.has('src') || changed.has('product') || changed.has('limit'))) return;
    // The first list waits for idle time: a product page's rows come first.
    if (this.hasUpdated || typeof requestIdleCallback !== 'function') this.refresh();
    else requestIdleCallback(this.refresh, { timeout: 2000 });
  }

  /** Reads the history again (it changed, or the element's inputs did). */
  private readonly refresh = (): void => {
    const n = ++this.asking;
    if (!this.src || !this.isConnected) return void (this.items = []);
    const limit = Number.isInteger(this.limit) && this.limit >= 1 && this.limit <= 50 ? this.limit : 12;
    getEngine()
      .recommend({ src: new URL(this.src, document.baseURI).href, row: 'recent', product: this.product, limit, page: document.baseURI })
      .then(
        (r) => n === this.asking && (this.items = r.items),
        (e: Error) => n === this.asking && ((this.items = []), console.warn(`[vitrine] history unavailable: ${e.message}`)),
      );
  };

  protected override render(): TemplateResult {
    const t = { ...DEFAULT_HISTORY_STRINGS, ...this.strings };
    return html`
      <h2 part="heading">${t.heading}</h2>
      ${this.items.length
        ? html`<ul part="items">
            ${this.items.map(
              (it) => html`<li part="item" data-product-id=${it.id}>
                <a part="link" href=${it.url}>${it.image ? html`<img part="image" src=${it.image} alt="" loading="lazy" />` : nothing}<span part="title">${it.title}</span></a>
                <button part="remove" type="button" aria-label=${t.remove.replaceAll('{title}', it.title)} @click=${() => void forgetProduct(it.id)}>×</button>
              </li>`,
            )}
          </ul>`
        : nothing}
      <p part="note">${this.items.length ? t.kept : t.empty}</p>
      ${this.items.length ? html`<button part="clear" type="button" @click=${() => void clearHistory()}>${t.clear}</button>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vitrine-history': VitrineHistoryElement;
  }
}
