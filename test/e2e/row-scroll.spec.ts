import type { Locator, Page } from '@playwright/test';
import { expect, items, row, test, watchErrors } from './fixtures.js';

// A row's scroll buttons, its keyboard use, reduced motion and a right-to-left page, in Chromium.
// At the default 1280 × 720 the demo's rows show 5 of their 8 cards whole.

const list = (page: Page, kind = 'similar') => page.locator(`${row(kind)} >> [part~="items"]`);
const scrollLeft = (ul: Locator) => ul.evaluate((e) => e.scrollLeft);
/** Indexes of the cards wholly inside the list's scroll box (the 4px of padding kept for the focus ring aside). */
const wholeCards = (ul: Locator) =>
  ul.evaluate((e) => {
    const box = e.getBoundingClientRect();
    return [...e.children].flatMap((li, i) => {
      const r = li.getBoundingClientRect();
      return r.left >= box.left - 0.5 && r.right <= box.right + 0.5 ? [i] : [];
    });
  });

test('each row has previous and next buttons, named after the row, that page through it and say when it is at either end', async ({ page, store }) => {
  const errors = watchErrors(page);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(`${store.url}product.html?id=VT0001`);
  for (const kind of ['similar', 'complementary', 'next']) await expect(page.locator(items(kind))).toHaveCount(8);
  // Real buttons, one pair per row, named from `strings` (English by default) and the row's title.
  for (const title of ['Visually similar', 'Goes with', 'Next for you']) {
    await expect(page.getByRole('button', { name: `Previous: ${title}`, exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: `More: ${title}`, exact: true })).toBeVisible();
  }
  await page.locator('#recs').evaluate((e) => e.setAttribute('limit', '20'));
  await expect(page.locator(items('similar'))).toHaveCount(20);
  const previous = page.getByRole('button', { name: 'Previous: Visually similar' });
  const more = page.getByRole('button', { name: 'More: Visually similar' });
  const ul = list(page);
  // At the start: previous is disabled (aria-disabled: it stays focusable), more is not.
  await expect(previous).toBeDisabled();
  await expect(previous).toHaveAttribute('aria-disabled', 'true');
  await expect(more).toBeEnabled();
  expect(await wholeCards(ul)).toEqual([0, 1, 2, 3, 4]);
  // More: the first card not shown whole comes first, none is skipped; the last page ends the row.
  for (const view of [[5, 6, 7, 8, 9], [10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]) {
    await more.click();
    await expect.poll(() => wholeCards(ul)).toEqual(view);
  }
  await expect(more).toBeDisabled();
  await expect(previous).toBeEnabled();
  // Pressed again at the end, it stays where it is.
  await more.press('Enter');
  expect(await wholeCards(ul)).toEqual([15, 16, 17, 18, 19]);
  // By keyboard, back to the start: the focus stays on the button that scrolled, at the end too.
  await previous.focus();
  for (const view of [[10, 11, 12, 13, 14], [5, 6, 7, 8, 9], [0, 1, 2, 3, 4]]) {
    await previous.press('Enter');
    await expect.poll(() => wholeCards(ul)).toEqual(view);
  }
  expect(await scrollLeft(ul)).toBe(0);
  await expect(previous).toBeDisabled();
  await expect(previous).toBeFocused();
  await more.focus();
  await page.keyboard.press('Space');
  await expect.poll(() => wholeCards(ul)).toEqual([5, 6, 7, 8, 9]);
  await expect(more).toBeFocused();
  // The other rows did not move.
  expect(await scrollLeft(list(page, 'complementary'))).toBe(0);
  // A narrower window shows fewer cards: a page of them is fewer.
  await page.setViewportSize({ width: 480, height: 720 });
  await ul.evaluate((e) => e.scrollTo({ left: 0 }));
  await expect(previous).toBeDisabled();
  const narrow = await wholeCards(ul);
  expect(narrow.length).toBeLessThan(5);
  await more.click();
  await expect.poll(() => wholeCards(ul)).toEqual(narrow.map((i) => i + narrow.length));
  // A row that fits whole has no buttons.
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.locator('#recs').evaluate((e) => e.setAttribute('limit', '3'));
  await expect(page.locator(items('similar'))).toHaveCount(3);
  await expect(page.locator(`${row('similar')} >> [part~="scroll"]`)).toHaveCount(2);
  await expect(page.locator(`${row('similar')} >> [part~="scroll"]`).first()).toBeHidden();
  await expect(page.locator(`${row('similar')} >> [part~="scroll"]`).last()).toBeHidden();
  expect(errors).toEqual([]);
});

test('the buttons are named from `strings` too', async ({ page, store }) => {
  await page.goto(`${store.url}product.html?id=VT0001`);
  await page.locator('#recs').evaluate((e) => e.setAttribute('strings', JSON.stringify({ similar: 'Ähnliche Artikel', previous: 'Zurück: {row}', more: 'Weitere: {row}' })));
  await expect(page.getByRole('button', { name: 'Zurück: Ähnliche Artikel', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Weitere: Ähnliche Artikel', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Weitere: Goes with', exact: true })).toBeVisible();
});

test('the keyboard reaches every card: Tab walks a row, which scrolls to show the focused card and its whole focus ring', async ({ page, store }) => {
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(`${store.url}product.html?id=VT0001`);
  await expect(page.locator(items('similar'))).toHaveCount(8);
  const ul = list(page);
  const links = page.locator(`${items('similar')} >> [part~="link"]`);
  // The row's buttons, then its cards, in reading order.
  await page.getByRole('button', { name: 'Previous: Visually similar' }).focus();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'More: Visually similar' })).toBeFocused();
  /** The focused link's box grown by its focus ring (2px wide, 2px away) lies inside the list's scroll box. */
  const ringInside = () =>
    ul.evaluate((e) => {
      const a = (e.getRootNode() as ShadowRoot).activeElement!;
      const r = a.getBoundingClientRect();
      const box = e.getBoundingClientRect();
      return r.left - 4 >= box.left - 0.5 && r.right + 4 <= box.right + 0.5 && r.top - 4 >= box.top - 0.5;
    });
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    await expect(links.nth(i)).toBeFocused();
    await expect.poll(ringInside, `card ${i + 1}`).toBe(true);
  }
  expect(await scrollLeft(ul)).toBeGreaterThan(0);
  expect(await wholeCards(ul)).toContain(7);
  // Back with Shift+Tab to the first card: the row scrolls back to its start.
  for (let i = 6; i >= 0; i--) await page.keyboard.press('Shift+Tab');
  await expect(links.first()).toBeFocused();
  await expect.poll(() => scrollLeft(ul)).toBe(0);
  // The next Tab after the last card leaves the row for the next row's buttons.
  await links.last().focus();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Previous: Goes with' })).toBeFocused();
});

for (const motion of ['reduce', 'no-preference'] as const) {
  test(`prefers-reduced-motion: ${motion} — the buttons scroll ${motion === 'reduce' ? 'at once' : 'smoothly'}`, async ({ page, store }) => {
    await page.emulateMedia({ reducedMotion: motion });
    await page.goto(`${store.url}product.html?id=VT0001`);
    await expect(page.locator(items('similar'))).toHaveCount(8);
    await expect(page.getByRole('button', { name: 'More: Visually similar' })).toBeEnabled();
    // Where the list is right after the click, and on each frame until it stops.
    const seen = await page.locator('vitrine-recs').evaluate(async (el) => {
      const root = el.shadowRoot!;
      const ul = root.querySelector<HTMLElement>('[data-row="similar"] ul')!;
      root.querySelector<HTMLButtonElement>('[data-row="similar"] [part~="scroll-next"]')!.click();
      const positions = [ul.scrollLeft];
      for (let still = 0; still < 10 && positions.length < 300; ) {
        await new Promise(requestAnimationFrame);
        still = ul.scrollLeft === positions.at(-1) ? still + 1 : 0;
        positions.push(ul.scrollLeft);
      }
      return { positions, end: ul.scrollWidth - ul.clientWidth };
    });
    const { positions, end } = seen;
    expect(positions.at(-1)).toBeCloseTo(end, 0);
    const between = positions.filter((x) => x > 0 && x < end - 1);
    if (motion === 'reduce') {
      expect(positions[0], 'scrolled within the click').toBeCloseTo(end, 0);
      expect(between).toEqual([]);
    } else {
      expect(positions[0], 'not yet scrolled within the click').toBe(0);
      expect(between.length, `frames on the way: ${positions.join(' ')}`).toBeGreaterThanOrEqual(3);
    }
  });
}

test('a right-to-left page mirrors the rows: the first card at the right, previous right of next, and next scrolls leftwards', async ({ page, store }) => {
  const errors = watchErrors(page);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(`${store.url}product.html?id=VT0001`);
  // The demo's product page has a link that shows it right to left (`?dir=rtl`).
  await page.getByRole('link', { name: 'Show this page right to left' }).click();
  await expect(page).toHaveURL(/[?&]dir=rtl/);
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.locator(items('similar'))).toHaveCount(8);
  const ul = list(page);
  const box = (await ul.boundingBox())!;
  const cards = await page.locator(items('similar')).evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ left: r.left, right: r.right })));
  // Cards flow from the right: the first is flush with the list's right edge (past its 4px padding).
  expect(cards[0]!.right).toBeCloseTo(box.x + box.width - 4, 0);
  for (let i = 1; i < cards.length; i++) expect(cards[i]!.right).toBeLessThan(cards[i - 1]!.left + 1);
  expect(await wholeCards(ul)).toEqual([0, 1, 2, 3, 4]);
  const previous = page.getByRole('button', { name: 'Previous: Visually similar' });
  const more = page.getByRole('button', { name: 'More: Visually similar' });
  expect((await previous.boundingBox())!.x).toBeGreaterThan((await more.boundingBox())!.x);
  await expect(previous).toBeDisabled();
  await more.click();
  // Chromium's scrollLeft is 0 at a right-to-left list's start and negative towards its end.
  await expect.poll(() => wholeCards(ul)).toEqual([3, 4, 5, 6, 7]);
  expect(await scrollLeft(ul)).toBeLessThan(0);
  const moved = await page.locator(items('similar')).first().evaluate((e) => e.getBoundingClientRect().left);
  expect(moved).toBeGreaterThan(cards[0]!.left);
  await expect(more).toBeDisabled();
  await expect(previous).toBeEnabled();
  await previous.click();
  await expect.poll(() => scrollLeft(ul)).toBe(0);
  await expect(previous).toBeDisabled();
  // And back: the same link returns to left to right.
  await page.getByRole('link', { name: 'Show this page left to right' }).click();
  await expect(page.locator('html')).not.toHaveAttribute('dir', 'rtl');
  expect(errors).toEqual([]);
});
