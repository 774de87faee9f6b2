// The demo store's own page logic: a catalog and product pages. The recommendations are
// <vitrine-recs>, the "recently viewed" panel <vitrine-history>; both come from the widget's script.
import { recordEvent } from '/dist/vitrine.js';

const BUNDLE = new URL('/models/demo/', location.href);
const PAGE_SIZE = 60;

/**
 * The product page preloads the bundle's files for the widget, which takes the preloaded response:
 * this page reads the copy that preload put in the HTTP cache rather than asking the server again.
 */
const preloaded = (file) => (document.querySelector(`link[rel=preload][href$="/${file}"]`) ? { cache: 'force-cache' } : undefined);

const getJson = async (url, init) => {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
};
const arrivalsLoad = getJson('/new-arrivals.json');
const productsLoad = Promise.all([getJson(new URL('items.json', BUNDLE), preloaded('items.json')), arrivalsLoad]).then(([items, arrivals]) => {
  const all = new Map();
  for (const it of items) all.set(it.id, { ...it, image: new URL(it.image, BUNDLE).href, isNew: false });
  for (const it of arrivals) all.set(it.id, { ...it, image: new URL(it.image, location.href).href, isNew: true });
  return { items, arrivals, all };
});

const money = (p) => (p.price === undefined ? '' : new Intl.NumberFormat('en', { style: 'currency', currency: p.currency ?? 'EUR' }).format(p.price));
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
};
const productLink = (id) => `/product.html?id=${encodeURIComponent(id)}`;

function card(p) {
  return el('li', { className: 'card' },
    el('a', { href: productLink(p.id) },
      el('img', { src: p.image, alt: '', loading: 'lazy', width: 140, height: 140 }),
      el('span', { className: 'title', textContent: p.title }),
      el('span', { className: 'price', textContent: money(p) })));
}

async function catalogPage() {
  const { items: listed, arrivals, all } = await productsLoad;
  // With image URLs resolved against the bundle, as the widget resolves them.
  const items = listed.map((p) => all.get(p.id));
  const grid = document.getElementById('catalog');
  const more = document.getElementById('more');
  const search = document.getElementById('search');
  const categories = [...new Set(items.map((p) => p.category))];
  let category = '';
  let shown = PAGE_SIZE;
  const chips = ['', ...categories].map((c) => {
    const b = el('button', { type: 'button', className: 'chip', textContent: c || 'All' });
    b.addEventListener('click', () => {
      category = c;
      shown = PAGE_SIZE;
      chips.forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
      render();
    });
    b.setAttribute('aria-pressed', String(c === ''));
    return b;
  });
  document.getElementById('categories').replaceChildren(...chips);
  const render = () => {
    const q = search.value.trim().toLowerCase();
    const hits = items.filter((p) => (!category || p.category === category) && (!q || `${p.title} ${p.brand} ${p.category}`.toLowerCase().includes(q)));
    grid.replaceChildren(...hits.slice(0, shown).map(card));
    document.getElementById('count').textContent = `${hits.length} products`;
    more.hidden = hits.length <= shown;
  };
  search.addEventListener('input', () => {
    shown = PAGE_SIZE;
    render();
  });
  more.addEventListener('click', () => {
    shown += PAGE_SIZE;
    render();
  });
  render();
  document.getElementById('arrivals').replaceChildren(...arrivals.map((p) => card({ ...p, image: new URL(p.image, location.href).href })));
}

async function productPage() {
  const params = new URLSearchParams(location.search);
  const id = params.get('id');
  // `?dir=rtl` lays the page out right to left, as a store in Arabic or Hebrew would: the rows mirror.
  const rtl = params.get('dir') === 'rtl';
  if (rtl) document.documentElement.dir = 'rtl';
  const switched = new URL(location.href);
  if (rtl) switched.searchParams.delete('dir');
  else switched.searchParams.set('dir', 'rtl');
  document.getElementById('dir-switch').href = switched.pathname + switched.search;
  document.getElementById('dir-switch').textContent = rtl ? 'Show this page left to right' : 'Show this page right to left';
  const recs = document.getElementById('recs');
  document.getElementById('history-list').setAttribute('product', id);
  if (!id) {
    document.getElementById('product-title').textContent = 'No product chosen';
    return;
  }
  // Point the widget at the product first (the rows start computing at once), then draw the page.
  // `?backend=wasm|webgpu|cpu` tries a TF.js backend by hand.
  const backend = new URLSearchParams(location.search).get('backend');
  if (backend) recs.setAttribute('backend', backend);
  // A store's rules and A/B tests, by hand: `?filter=brand: Nordhavn&rerank=mmr impressions&variant=b`.
  for (const name of ['filter', 'rerank', 'fill', 'variant']) {
    const value = new URLSearchParams(location.search).get(name);
    if (value !== null) recs.setAttribute(name, value);
  }
  const arrival = (await arrivalsLoad).find((a) => a.id === id);
  if (arrival) {
    recs.setAttribute('image', new URL(arrival.image, location.href).href);
    recs.setAttribute('product-title', arrival.title);
  }
  recs.setAttribute('product', id);

  const rules = [
    ['As the store ships it', {}],
    ['Under €40 only (filter), short rows filled from popular products', { filter: 'price: -40' }],
    ['Diverse rows (rerank: mmr)', { rerank: 'mmr' }],
    ['Fresh rows: what you were shown often and never opened sinks (rerank: impressions)', { rerank: 'impressions' }],
    ['A/B test: variant b of a store test', { variant: 'b', rerank: 'mmr impressions' }],
  ];
  document.getElementById('store-rules-list').replaceChildren(...rules.map(([text, params]) =>
    el('li', {}, el('a', { href: productLink(id) + (Object.keys(params).length ? `&${new URLSearchParams(params)}` : ''), textContent: text }))));
  const log = document.getElementById('analytics-log');
  const note = (text) => log.append(el('li', { textContent: text }));
  const about = (d) => `${d.method}, bundle ${d.bundle}${d.variant ? `, variant ${d.variant}` : ''}`;
  recs.addEventListener('vitrine-impression', (e) => note(`impression: ${e.detail.row} row, ${e.detail.productIds.length} items${e.detail.fill.length ? ` (${e.detail.fill.length} fill)` : ''} — ${about(e.detail)}`));
  recs.addEventListener('vitrine-select', (e) => note(`select: ${e.detail.productId} from the ${e.detail.row} row, position ${e.detail.position}${e.detail.fill ? ' (fill)' : ''} — ${about(e.detail)}`));

  const { all } = await productsLoad;
  const p = all.get(id);
  if (!p) {
    document.getElementById('product-title').textContent = `No product ${id}`;
    return;
  }
  document.title = `${p.title} · Vitrine demo store`;
  document.getElementById('product-image').src = p.image;
  document.getElementById('product-image').alt = p.title;
  document.getElementById('product-title').textContent = p.title;
  document.getElementById('product-meta').textContent = `${p.brand} · ${p.category}${p.isNew ? ' · new arrival' : ''}`;
  document.getElementById('product-price').textContent = money(p);
  document.getElementById('add-to-cart').addEventListener('click', () =>
    recordEvent(id, 'cart').then(
      () => (document.getElementById('cart-note').textContent = 'Added to cart (recorded on this device only).'),
      () => (document.getElementById('cart-note').textContent = 'Added to cart.'),
    ));
}

const page = document.body.dataset.page;
(page === 'product' ? productPage() : catalogPage()).catch((e) => console.error('[demo]', e));
