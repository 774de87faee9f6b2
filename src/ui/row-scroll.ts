import type { ReactiveElement } from 'lit';

/**
 * A row's previous and next buttons (`value` -1 and 1, before the list in the row's section):
 * - a button scrolls the list by the cards that fit whole, towards the row's start or end in the
 *   reading direction (leftwards on a right-to-left page, where Chromium's `scrollLeft` is ≤ 0);
 * - smoothly only when the shopper allows motion: the list's CSS `scroll-behavior` decides;
 * - at either end the button says so with `aria-disabled` (a `disabled` button would drop the focus
 *   of the keyboard user pressing it); a row that fits whole hides both.
 *
 * ```ts
 * html`<button value="1" @click=${scrollRow}>›</button><ul @scroll=${syncRow}>…</ul>`
 * ```
 */
export function scrollRow(e: Event): void {
  const button = e.currentTarget as HTMLButtonElement;
  const ul = button.parentElement!.querySelector('ul')!;
  const [a, b] = ul.children as HTMLCollectionOf<HTMLElement>;
  const pitch = b ? Math.abs(b.offsetLeft - a.offsetLeft) : ul.clientWidth;
  ul.scrollBy({ left: +button.value * (ul.matches(':dir(rtl)') ? -pitch : pitch) * (Math.floor(ul.clientWidth / pitch) || 1) });
}

/**
 * Shows the whole of a card that gets the focus, ring included (the list's scroll padding): Chromium's
 * own focus scrolling moves only to a card wholly out of view, and leaves one partly in view cut off.
 */
export function revealFocused(e: Event): void {
  (e.target as Element).scrollIntoView({ block: 'nearest', inline: 'nearest' });
}

/** Marks a list's buttons for where it is scrolled to: a `scroll` event's or a ResizeObserver entry's target. */
export function syncRow({ target }: { target: EventTarget | null }): void {
  const ul = target as HTMLElement;
  const [back, on] = ul.parentElement!.querySelectorAll('button');
  const x = Math.abs(ul.scrollLeft);
  const max = ul.scrollWidth - ul.clientWidth;
  back.ariaDisabled = `${x < 1}`;
  on.ariaDisabled = `${x > max - 1}`;
  back.hidden = on.hidden = max < 1;
}

/**
 * Marks every row's buttons after each render of `host`, without reading layout while rendering: a
 * ResizeObserver reports each list once the browser has laid it out (before it paints), and again
 * when it resizes. Observing afresh reports every list again: a row's items may have changed, not its size.
 */
export function watchRows(host: ReactiveElement): void {
  let observer: ResizeObserver | undefined;
  host.addController({
    hostUpdated() {
      observer?.disconnect();
      observer ??= new ResizeObserver((entries) => entries.forEach(syncRow));
      host.renderRoot.querySelectorAll('ul').forEach((ul) => observer!.observe(ul));
    },
  });
}
