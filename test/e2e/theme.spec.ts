import type { Page } from '@playwright/test';
import sharp from 'sharp';
import { expect, items, row, test } from './fixtures.js';

// The same product page's rows under two themes — the demo store's own (light, its accent) and a
// dark one — set only through the documented custom properties and parts. Screenshots go to
// test-results/ (git-ignored, attached to the report); nothing is compared with a stored image:
// the checks read colours and sizes that each theme sets.

type Rgb = [number, number, number];
const hex = (h: string): Rgb => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;
const distance = (a: Rgb, b: Rgb) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

const themes = {
  // public/demo.css: `vitrine-recs { --vitrine-accent: var(--accent) }` on a white page.
  light: { accent: '#8a3b12', background: '#ffffff', card: 160, css: '' },
  dark: {
    accent: '#ffb000',
    background: '#15151b',
    card: 128,
    css: `vitrine-recs { --vitrine-card-width: 8rem; --vitrine-gap: 1rem; --vitrine-radius: 0; --vitrine-accent: #ffb000;
            color: #f2f2f2; background: #15151b; }
          vitrine-recs::part(row-title) { font-family: Georgia, serif; }
          vitrine-recs::part(scroll) { background: #2c2c36; }`,
  },
} as const;

/** The page's pixels, decoded, with a way to read one at CSS pixel (x, y) (device scale 1). */
async function shoot(page: Page, path: string) {
  const png = await page.screenshot({ path, animations: 'disabled' });
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): Rgb => {
    const i = (Math.round(y) * info.width + Math.round(x)) * 3;
    return [data[i]!, data[i + 1]!, data[i + 2]!];
  };
  return { png, at };
}

test('two themes, by custom properties and parts alone: screenshots differ, and prices, focus ring, background and card width are each theme’s', async ({ page, store }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  const shots: Buffer[] = [];
  for (const [name, theme] of Object.entries(themes)) {
    await page.goto(`${store.url}product.html?id=VT0001`);
    if (theme.css) await page.addStyleTag({ content: theme.css });
    await expect(page.locator(items('similar'))).toHaveCount(8);
    const section = page.locator(row('similar'));
    await section.scrollIntoViewIfNeeded();
    // The images in view are loaded, so both screenshots show the same products whole.
    const shown = () =>
      page.locator(`${row('similar')} >> [part~="items"]`).evaluate((ul) => {
        const end = ul.getBoundingClientRect().right;
        return [...ul.querySelectorAll('img')].filter((i) => i.getBoundingClientRect().left < end).every((i) => i.complete && i.naturalWidth > 0);
      });
    await expect.poll(shown).toBe(true);
    // Keyboard focus on the row's first card, for its focus ring.
    await page.getByRole('button', { name: 'More: Visually similar' }).focus();
    await page.keyboard.press('Tab');
    const link = page.locator(`${items('similar')} >> [part~="link"]`).first();
    await expect(link).toBeFocused();

    const path = testInfo.outputPath(`theme-${name}.png`);
    const { png, at } = await shoot(page, path);
    await testInfo.attach(`theme-${name}`, { path, contentType: 'image/png' });
    shots.push(png);

    // --vitrine-card-width sets the cards' width.
    const card = (await page.locator(items('similar')).first().boundingBox())!;
    expect(card.width, name).toBeCloseTo(theme.card, 0);
    // The focus ring (2px wide, 2px out) is the accent: read in the middle of its left side.
    const a = (await link.boundingBox())!;
    expect(distance(at(a.x - 3, a.y + a.height / 2), hex(theme.accent)), `${name}: focus ring`).toBeLessThan(12);
    // The background beside the heading, between its text and the scroll buttons.
    const title = (await page.locator(`${row('similar')} >> [part~="row-title"]`).boundingBox())!;
    expect(distance(at(title.x + title.width - 4, title.y + title.height / 2), hex(theme.background)), `${name}: background`).toBeLessThan(6);
    // Price text is drawn in the accent: its most saturated pixels are the accent, and none is the other theme's.
    const price = (await page.locator(`${items('similar')} >> [part~="price"]`).first().boundingBox())!;
    const pixels: Rgb[] = [];
    for (let y = Math.ceil(price.y); y < price.y + price.height; y++) for (let x = Math.ceil(price.x); x < price.x + price.width; x++) pixels.push(at(x, y));
    const other = Object.entries(themes).find(([n]) => n !== name)![1].accent;
    expect(pixels.filter((p) => distance(p, hex(theme.accent)) < 25).length, `${name}: price pixels in the accent`).toBeGreaterThan(20);
    expect(pixels.filter((p) => distance(p, hex(other)) < 25), `${name}: price pixels in the other theme's accent`).toEqual([]);
  }
  // The two screenshots are not the same picture.
  const [light, dark] = await Promise.all(shots.map((png) => sharp(png).removeAlpha().raw().toBuffer()));
  let differ = 0;
  for (let i = 0; i < light!.length; i += 3) if (Math.abs(light![i]! - dark![i]!) > 32) differ++;
  expect(differ / (light!.length / 3), 'share of pixels that differ').toBeGreaterThan(0.1);
});
