import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundleWriter } from '../../src/bundle/writer.js';
import type { BundleItem } from '../../src/bundle/format.js';
import { quantizeInt8 } from '../../src/recommend/knn.js';
import { encodeSessions } from '../../src/bundle/session-file.js';
import { sessionLists } from '../../src/recommend/sessions.js';
import { DEMO_ROOTS } from '../../scripts/serve.js';
import { expect, test, watchErrors } from './fixtures.js';

/**
 * A store's catalog is data the widget must never run. Every string below ends up in a bundle as a
 * title, brand, category, currency, id, product URL or image URL, and the element renders them all
 * on a page whose `__trap()` records any code that runs. Anything that executes — a script, an
 * event handler, a `javascript:` link, a CSS expression, a template — calls the trap.
 */
const TRAP = "__trap()";
const MARKUP = [
  `<script>${TRAP}</script>`,
  `<img src=x onerror="${TRAP}">`,
  `"><svg onload=${TRAP}>`,
  `'><iframe srcdoc="<script>parent.${TRAP}</script>"></iframe>`,
  `<a href="javascript:${TRAP}">click</a>`,
  `<math><mi xlink:href="javascript:${TRAP}">x</mi></math>`,
  `<details open ontoggle=${TRAP}>`,
  `<base href="https://evil.example/">`,
  `<meta http-equiv="refresh" content="0;url=javascript:${TRAP}">`,
  `x" onmouseover="${TRAP}" data-x="`,
  `</style><style>*{display:none!important}</style>`,
  `red;background:url(javascript:${TRAP})`,
  `width:expression(${TRAP})`,
  `}</style><link rel=stylesheet href=//evil.example/x.css>`,
  `{{constructor.constructor('${TRAP}')()}}`,
  '${' + TRAP + '}',
  `<!--`,
  `]]><![CDATA[`,
  `&lt;script&gt;${TRAP}&lt;/script&gt;`,
  `\u202Eevil.exe\u202C — right-to-left override`,
  `\u2067isolate\u2069 and \u200F marks \u200E`,
  `\uD800 lone high surrogate`,
  `lone low surrogate \uDFFF and reversed pair \uDC00\uD800`,
  `nul \u0000 and controls \u0007\u001B[31m`,
  'W'.repeat(20_000),
  'long words '.repeat(3_000),
  `\uFEFFbyte order mark, zero\u200Bwidth`,
  `𝓤𝓷𝓲𝓬𝓸𝓭𝓮 ﷽ Z̴̧̛̞͓̈́a̷̢̛͇l̸̰̈́g̴̣͝o̵͚͊`,
];
/** Product URLs and image URLs that must never reach an `href` or a `src`. */
const BAD_URLS = [
  `javascript:${TRAP}`,
  `JaVaScRiPt:${TRAP}`,
  `  javascript:${TRAP}`,
  `java\tscript:${TRAP}`,
  `java\nscript:${TRAP}`,
  `\u0001javascript:${TRAP}`,
  `data:text/html,<script>${TRAP}</script>`,
  `data:image/svg+xml,<svg onload="${TRAP}"/>`,
  `vbscript:msgbox(1)`,
  `blob:https://evil.example/1`,
  `file:///etc/passwd`,
  `about:blank`,
];
/** Harmless-looking URLs that are fine to link to: http(s), relative, protocol-relative (resolves to http(s)). */
const OK_URLS = ['/products/a?x=<script>', 'products/b#"onclick="x', 'https://shop.example/p/c', '//shop.example/p/d', 'https://shop.example/p/e" onmouseover="x'];

const DIMS = 8;

function hostileBundle(dir: string): { items: BundleItem[]; linkable: Set<string> } {
  const items: BundleItem[] = [];
  const linkable = new Set<string>();
  const add = (it: Omit<BundleItem, 'id'> & { id?: string }, ok: boolean) => {
    const id = it.id ?? `H${items.length}`;
    items.push({ ...it, id });
    if (ok) linkable.add(id);
  };
  add({ id: 'P0', title: 'The product on the page', url: '/products/p0', image: 'img/p0.png', price: 10, currency: 'EUR' }, true);
  MARKUP.forEach((s, i) => {
    // Each markup string as a title, and again as brand, category and currency of another item.
    add({ title: s, url: `/products/t${i}`, image: `img/${i}.png`, price: 9.99 }, true);
    add({ title: `Item ${i}`, brand: s, category: s, currency: s.slice(0, 3), url: `/products/b${i}`, image: 'img/x.png', price: 1 }, true);
  });
  add({ id: `x" onmouseover="${TRAP}`, title: 'hostile id', url: '/products/id', image: 'img/x.png' }, true);
  add({ id: `<img src=x onerror=${TRAP}>`, title: 'hostile id 2', url: '/products/id2', image: 'img/x.png' }, true);
  BAD_URLS.forEach((u, i) => {
    add({ title: `bad product URL ${i}`, url: u, image: 'img/x.png' }, false);
    // A bad image URL on an otherwise fine item: the item shows, without an image.
    add({ title: `bad image URL ${i}`, url: `/products/i${i}`, image: u }, true);
  });
  OK_URLS.forEach((u, i) => add({ title: `odd but http(s) URL ${i}`, url: u, image: u }, true));
  add({ title: 'price 1e308', url: '/products/big', image: 'img/x.png', price: 1e308, currency: 'EUR' }, true);

  // Every item near every other: the similar and goes-with rows of P0 list them all (limit 50 per row, so several products).
  const n = items.length;
  const m = new Float32Array(n * DIMS);
  for (let r = 0; r < n; r++) for (let d = 0; d < DIMS; d++) m[r * DIMS + d] = 1 + (d === r % DIMS ? 0.01 * (r + 1) : 0);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let d = 0; d < DIMS; d++) s += m[r * DIMS + d]! ** 2;
    for (let d = 0; d < DIMS; d++) m[r * DIMS + d]! /= Math.sqrt(s);
  }
  const q = quantizeInt8(m, DIMS);
  // Item i's lists: the 50 items after it (wrapping), so the rows of items 0, 30 and 60 cover every item.
  const all = (self: number): [number, number][] => Array.from({ length: 50 }, (_, k): [number, number] => [(self + 1 + k) % n, 50 - k]);
  const w = new BundleWriter(dir);
  w.finish({
    name: 'hostile',
    items: { count: n, file: w.add('items.json', JSON.stringify(items)) },
    similar: { dims: DIMS, metric: 'cosine', codes: w.add('embeddings.i8', new Uint8Array(q.codes.buffer)) },
    complementary: { file: w.add('complementary.json', JSON.stringify(items.map((_, i) => all(i)))), method: { score: 'count', k: 50 } },
    // One session per item: it and the 50 after it. Rules reading 50 steps after the page's product find those 50.
    nextView: {
      sessions: w.add('next-view/sessions.bin', encodeSessions(sessionLists(items.map((_, i) => [i, ...all(i).map(([j]) => j)])), n)),
      method: { maxLength: 20, rules: { window: 50, depth: 1, sample: 500, weight: 1 } },
    },
  });
  return { items, linkable };
}

test('hostile catalog strings render as text: nothing executes, links are http(s) only, layout stays in the row', async ({ page, startServer }) => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-hostile-'));
  try {
    const { items, linkable } = hostileBundle(join(dir, 'bundle'));
    const products = [items[0]!.id, items[30]!.id, items[60]!.id];
    writeFileSync(
      join(dir, 'page.html'),
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>hostile</title><script type="module" src="/dist/vitrine.js"></script>
       <body style="margin:0;width:800px">${products.map((_, i) => `<vitrine-recs id="e${i}" src="/hostile/bundle/manifest.json" limit="50" history="off"></vitrine-recs>`).join('\n')}
       <button id="still-works" onclick="this.textContent='clicked'">page button</button></body></html>`,
    );
    const store = await startServer({ roots: { ...DEMO_ROOTS, '/hostile/': dir } });
    const errors = watchErrors(page);
    await page.addInitScript(() => {
      const w = window as unknown as { __trapped: string[]; __trap: () => void };
      w.__trapped = [];
      w.__trap = () => void w.__trapped.push(new Error().stack ?? 'trap');
      window.alert = w.__trap as never;
    });
    await page.setViewportSize({ width: 800, height: 900 });
    await page.goto(`${store.url}hostile/page.html`);
    // Ids are set as properties: some are not valid in HTML attributes as written above.
    await page.evaluate((ids) => ids.forEach((id, i) => document.getElementById(`e${i}`)!.setAttribute('product', id)), products);
    for (let i = 0; i < products.length; i++) {
      await expect(page.locator(`#e${i} >> [part~="row"]`)).toHaveCount(3);
    }
    const seen = await page.evaluate(() => {
      const out: { id: string; title: string; href: string | null; img: string | null; width: number; height: number; row: { left: number; right: number }; tags: string[]; onAttrs: number }[] = [];
      for (const host of document.querySelectorAll('vitrine-recs')) {
        const root = host.shadowRoot!;
        for (const li of root.querySelectorAll<HTMLElement>('[part~="item"]')) {
          const row = li.closest('[part~="row"]')!.getBoundingClientRect();
          const box = li.getBoundingClientRect();
          out.push({
            id: li.dataset.productId!,
            title: li.querySelector('[part~="title"]')!.textContent!,
            href: li.querySelector('a')!.getAttribute('href'),
            img: li.querySelector('img')?.getAttribute('src') ?? null,
            width: box.width,
            height: box.height,
            row: { left: row.left, right: row.right },
            tags: [...li.querySelectorAll('*')].map((e) => e.localName),
            onAttrs: [...li.querySelectorAll('*')].flatMap((e) => [...e.attributes]).filter((a) => /^on/i.test(a.name)).length,
          });
        }
      }
      return out;
    });
    const byId = new Map(items.map((it) => [it.id, it]));
    // Every linkable item shows somewhere, with its title verbatim; no item with a bad URL shows at all.
    const shownIds = new Set(seen.map((s) => s.id));
    expect([...shownIds].filter((id) => !linkable.has(id))).toEqual([]);
    expect([...linkable].filter((id) => !products.includes(id) && !shownIds.has(id))).toEqual([]);
    for (const s of seen) {
      // The DOM holds the string as text, verbatim (lone surrogates included).
      expect(s.title).toBe(byId.get(s.id)!.title);
      expect(s.href).toMatch(/^https?:\/\//);
      if (s.img !== null) expect(s.img).toMatch(/^https?:\/\//);
      expect(s.tags.filter((t) => !['a', 'img', 'span'].includes(t))).toEqual([]);
      expect(s.onAttrs).toBe(0);
      // Layout: a fixed card, two lines of title at most, whatever the string's length.
      expect(s.width).toBeLessThanOrEqual(seen[0]!.width + 1);
      expect(s.height).toBeLessThan(400);
    }
    // The page does not scroll sideways: long strings stay inside their rows.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(800);
    // Hover and focus every link: no handler of the catalog's runs.
    const links = page.locator('vitrine-recs >> [part~="link"]');
    const count = await links.count();
    for (let i = 0; i < count; i += 7) await links.nth(i).hover();
    await page.locator('#still-works').click();
    await expect(page.locator('#still-works')).toHaveText('clicked');
    expect(await page.evaluate(() => (window as unknown as { __trapped: string[] }).__trapped)).toEqual([]);
    expect(errors).toEqual([]);
    const tried = MARKUP.length * 5 + BAD_URLS.length * 2 + OK_URLS.length * 2 + 3;
    console.log(`hostile catalog: ${MARKUP.length} markup strings (as title, brand, category, currency), ${BAD_URLS.length} bad URLs (as product and image URL), ${OK_URLS.length} odd http(s) URLs, 2 hostile ids, 1 absurd price: ${tried} placements, ${seen.length} items rendered, 0 executed`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
