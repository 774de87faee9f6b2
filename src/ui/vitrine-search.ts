import { LitElement, css, html, nothing, type TemplateResult } from 'lit';

/** A photo larger than this (a side, in pixels) is scaled down on the device before it is embedded. */
const MAX_SIDE = 1024;
/** Files larger than this are refused before they are read. */
const MAX_BYTES = 40 * 1024 * 1024;

/** The texts the element shows, overridable as a whole or in part through `strings`. */
export interface VitrineSearchStrings {
  prompt: string;
  choose: string;
  yourPhoto: string;
  notImage: string;
  tooLarge: string;
  searching: string;
}

export const DEFAULT_SEARCH_STRINGS: VitrineSearchStrings = {
  prompt: 'Search by photo: drop an image here, paste one, or',
  choose: 'choose a photo',
  yourPhoto: 'your photo',
  notImage: 'That file is not an image this browser can read.',
  tooLarge: 'That file is larger than 40 MB.',
  searching: 'Looking for similar products…',
};

/**
 * Search by photo: a shopper drops, pastes, picks (or, on a phone, takes) a photo; it is embedded in
 * the worker with the bundle's own image model and the closest products are shown — a
 * `<vitrine-recs>` row (its parts are exported: style them as `vitrine-search::part(item)`). The
 * photo never leaves the device: it is read, scaled down when large, and handed to the worker as a
 * `blob:` URL, which only this page can read.
 *
 * ```html
 * <vitrine-search src="/models/mystore/manifest.json" limit="12"></vitrine-search>
 * ```
 *
 * @fires vitrine-select - A shopper picked a result (from the inner row): `{productId, row, position, url}`.
 * @fires vitrine-search - A photo was accepted and is being searched: `{name, type, width, height}`.
 * @csspart drop - The drop zone (focusable: paste into it).
 * @csspart preview - The photo being searched.
 * @csspart status - The message line (errors, progress).
 * @tagname vitrine-search
 */
export class VitrineSearchElement extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    [part~='drop'] {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.75rem;
      padding: 1rem;
      border: 2px dashed color-mix(in srgb, currentColor 35%, transparent);
      border-radius: var(--vitrine-radius, 0.5rem);
    }
    [part~='drop']:focus-visible,
    [part~='drop'].over {
      outline: 2px solid var(--vitrine-accent, currentColor);
      outline-offset: 2px;
    }
    [part~='preview'] {
      width: 4rem;
      height: 4rem;
      object-fit: cover;
      border-radius: var(--vitrine-radius, 0.5rem);
    }
    label {
      text-decoration: underline;
      cursor: pointer;
    }
    input {
      position: absolute;
      width: 1px;
      height: 1px;
      opacity: 0;
    }
    input:focus-visible + label {
      outline: 2px solid var(--vitrine-accent, currentColor);
    }
    vitrine-recs {
      margin-block-start: 1rem;
    }
  `;

  static override properties = {
    src: {},
    limit: { type: Number },
    backend: {},
    strings: { attribute: false },
    photo: { state: true },
    message: { state: true },
    over: { state: true },
  };

  /** URL of the bundle's `manifest.json` (relative URLs resolve against the page). */
  src = '';
  /** Results to show, 1–50. */
  limit = 12;
  /** TF.js backend, as for `<vitrine-recs>`. */
  backend = 'auto';
  /** Texts to show instead of the English defaults, any subset. */
  strings: Partial<VitrineSearchStrings> = {};

  private photo?: { url: string; id: string };
  private message = '';
  private over = false;
  private searches = 0;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.release();
  }

  /** Searches for products like `file` (an image): what a drop, a paste or the file picker does. */
  async search(file: Blob): Promise<void> {
    const t = { ...DEFAULT_SEARCH_STRINGS, ...this.strings };
    if (file.size > MAX_BYTES) return void (this.message = t.tooLarge);
    const n = ++this.searches;
    let image: Blob;
    let size: { width: number; height: number };
    try {
      ({ image, size } = await fitted(file));
    } catch {
      if (n === this.searches) this.message = t.notImage;
      return;
    }
    if (n !== this.searches) return;
    this.release();
    this.photo = { url: URL.createObjectURL(image), id: `vitrine-search:${n}` };
    this.message = '';
    this.dispatchEvent(new CustomEvent('vitrine-search', { detail: { name: (file as File).name ?? '', type: file.type, ...size }, bubbles: true, composed: true }));
  }

  private release(): void {
    if (this.photo) URL.revokeObjectURL(this.photo.url);
    this.photo = undefined;
  }

  private picked(e: Event): void {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file) void this.search(file);
    input.value = '';
  }

  private dropped(e: DragEvent): void {
    e.preventDefault();
    this.over = false;
    const file = [...(e.dataTransfer?.files ?? [])][0];
    if (file) void this.search(file);
  }

  private pasted(e: ClipboardEvent): void {
    const file = [...(e.clipboardData?.items ?? [])].find((i) => i.kind === 'file')?.getAsFile();
    if (!file) return;
    e.preventDefault();
    void this.search(file);
  }

  protected override render(): TemplateResult {
    const t = { ...DEFAULT_SEARCH_STRINGS, ...this.strings };
    const over = (on: boolean) => (e: DragEvent) => (e.preventDefault(), (this.over = on));
    return html`
      <div part="drop" class=${this.over ? 'over' : ''} tabindex="0" role="group" aria-label=${t.prompt}
        @dragover=${over(true)} @dragleave=${over(false)} @drop=${this.dropped} @paste=${this.pasted}>
        ${this.photo ? html`<img part="preview" src=${this.photo.url} alt=${t.yourPhoto} />` : nothing}
        <span>${t.prompt}</span>
        <input id="file" type="file" accept="image/*" capture="environment" @change=${this.picked} />
        <label for="file">${t.choose}</label>
        <p part="status" role="status">${this.message}</p>
      </div>
      ${this.photo
        ? html`<vitrine-recs src=${this.src} product=${this.photo.id} image=${this.photo.url} product-title=${t.yourPhoto} rows="similar"
            limit=${this.limit} backend=${this.backend} record-view="off" exportparts="row, row-title, row-note, items, item, link, image, title, price, loading, scroll, scroll-previous, scroll-next"></vitrine-recs>`
        : nothing}
    `;
  }
}

/** The photo, scaled down to at most {@link MAX_SIDE} a side when larger (decoded here: a file that is not an image throws). */
async function fitted(file: Blob): Promise<{ image: Blob; size: { width: number; height: number } }> {
  const bitmap = await createImageBitmap(file);
  try {
    const { width, height } = bitmap;
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    if (scale === 1) return { image: file, size: { width, height } };
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [Math.round(width * scale), Math.round(height * scale)];
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const image = await new Promise<Blob>((done, fail) => canvas.toBlob((b) => (b ? done(b) : fail(new Error('not encoded'))), 'image/png'));
    return { image, size: { width: canvas.width, height: canvas.height } };
  } finally {
    bitmap.close();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'vitrine-search': VitrineSearchElement;
  }
  interface HTMLElementEventMap {
    'vitrine-search': CustomEvent<{ name: string; type: string; width: number; height: number }>;
  }
}
