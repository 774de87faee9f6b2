// The demo store's style map: every catalog product drawn as its thumbnail at its place in the first
// two principal components of its image embedding, so a merchandiser sees which products the model
// finds alike. It reads the bundle's static files only (manifest, items, int8 codes, thumbnails):
// no widget, no worker, no TF.js.
import { pca } from '/pca.js';

const BUNDLE = new URL('/models/demo/', location.href);
/** Category colours (Tableau 10); a catalog with more categories gets evenly spaced hues. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const fetchOk = async (url) => {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
};
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
const percent = new Intl.NumberFormat('en', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

/**
 * The products and their int8 embedding rows, as the manifest lists them (src/bundle/format.ts).
 * Lengths are checked against the manifest; a paged bundle (no `items.file`) cannot be drawn whole.
 */
async function loadBundle() {
  const manifest = await (await fetchOk(new URL('manifest.json', BUNDLE))).json();
  const itemsFile = manifest.items?.file;
  const codesFile = manifest.similar?.codes;
  if (manifest.format !== 'vitrine-bundle' || !itemsFile || !codesFile) {
    throw new Error('the style map needs a whole (not paged) vitrine bundle with items.file and similar.codes');
  }
  const { count } = manifest.items;
  const { dims } = manifest.similar;
  const [items, codes] = await Promise.all([
    fetchOk(new URL(itemsFile, BUNDLE)).then((r) => r.json()),
    fetchOk(new URL(codesFile, BUNDLE)).then((r) => r.arrayBuffer()),
  ]);
  if (items.length !== count) throw new Error(`${itemsFile}: ${items.length} products, the manifest says ${count}`);
  if (codes.byteLength !== count * dims) throw new Error(`${codesFile}: ${codes.byteLength} bytes, expected ${count} × ${dims}`);
  return { items, codes: new Int8Array(codes), dims };
}

/** The int8 rows scaled to unit length: the similar row compares them by cosine, so length carries nothing. */
function unitRows(codes, dims) {
  const rows = new Float64Array(codes.length);
  for (let row = 0; row < codes.length; row += dims) {
    let sum = 0;
    for (let j = row; j < row + dims; j++) sum += codes[j] * codes[j];
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let j = row; j < row + dims; j++) rows[j] = codes[j] * scale;
  }
  return rows;
}

/**
 * Positions in percent of the plot's width and height, one scale for both axes (a distance on the
 * map is a distance in the two components, whichever way it points), centred. The plot's aspect
 * ratio follows the points' spread, within 2:3 to 5:2.
 */
function layout(scores, n) {
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, scores[2 * i]);
    maxX = Math.max(maxX, scores[2 * i]);
    minY = Math.min(minY, scores[2 * i + 1]);
    maxY = Math.max(maxY, scores[2 * i + 1]);
  }
  const spanX = maxX - minX || 1;
  const spanY = maxY - minY || 1;
  const ratio = Math.min(2.5, Math.max(2 / 3, spanX / spanY));
  // Units → percent of the width (x) and of the height (y), the same length on screen.
  const perUnitX = 100 * Math.min(1 / spanX, 1 / (ratio * spanY));
  const perUnitY = perUnitX * ratio;
  const [midX, midY] = [(minX + maxX) / 2, (minY + maxY) / 2];
  // The second component points up, as on any chart.
  return { ratio, at: (i) => [50 + (scores[2 * i] - midX) * perUnitX, 50 - (scores[2 * i + 1] - midY) * perUnitY] };
}

function drawLegend(categories, colour, counts, points) {
  const plot = document.getElementById('plot');
  const chips = ['', ...categories].map((c) => {
    const chip = el('button', { type: 'button', className: 'chip' });
    if (c) chip.append(el('span', { className: 'swatch' }), `${c} (${counts.get(c)})`);
    else chip.append('All');
    if (c) chip.style.setProperty('--ring', colour.get(c));
    chip.setAttribute('aria-pressed', String(c === ''));
    chip.addEventListener('click', () => {
      for (const x of chips) x.setAttribute('aria-pressed', String(x === chip));
      for (const p of points) p.classList.toggle('faded', c !== '' && p.dataset.category !== c);
      if (c) plot.dataset.highlight = c;
      else delete plot.dataset.highlight;
    });
    return chip;
  });
  document.getElementById('legend').replaceChildren(el('span', { className: 'muted', textContent: 'Highlight:' }), ...chips);
}

async function styleMap() {
  const status = document.getElementById('map-status');
  const { items, codes, dims } = await loadBundle();
  const n = items.length;
  const { scores, variances, total } = pca(unitRows(codes, dims), dims, 2);
  const [pc1, pc2] = variances.map((v) => percent.format(total > 0 ? v / total : 0));
  document.getElementById('pc1').textContent = pc1;
  document.getElementById('pc2').textContent = pc2;

  const categoryOf = (p) => p.category ?? 'Other';
  const categories = [...new Set(items.map(categoryOf))];
  const colour = new Map(categories.map((c, i) => [c, categories.length <= PALETTE.length ? PALETTE[i] : `hsl(${Math.round((360 * i) / categories.length)} 65% 50%)`]));
  const counts = new Map(categories.map((c) => [c, 0]));
  for (const p of items) counts.set(categoryOf(p), counts.get(categoryOf(p)) + 1);

  const { ratio, at } = layout(scores, n);
  const map = document.getElementById('map');
  map.style.setProperty('--ratio', ratio.toFixed(4));
  // Left to right in the document too: tabbing walks the map across.
  const order = items.map((_, i) => i).sort((a, b) => scores[2 * a] - scores[2 * b] || a - b);
  const points = order.map((i) => {
    const p = items[i];
    const category = categoryOf(p);
    const name = `${p.title} (${category})`;
    const [left, top] = at(i);
    const a = el('a', { href: `/product.html?id=${encodeURIComponent(p.id)}`, className: 'point', title: name },
      el('img', { src: new URL(p.image, BUNDLE).href, alt: name, width: 32, height: 32, decoding: 'async' }));
    Object.assign(a.dataset, { id: p.id, category, x: String(scores[2 * i]), y: String(scores[2 * i + 1]) });
    a.style.left = `${left.toFixed(3)}%`;
    a.style.top = `${top.toFixed(3)}%`;
    a.style.setProperty('--ring', colour.get(category));
    return a;
  });
  document.getElementById('plot').replaceChildren(...points);
  drawLegend(categories, colour, counts, points);
  status.textContent = `${n.toLocaleString('en')} products, ${categories.length} categories; the two axes together explain ${percent.format((variances[0] + variances[1]) / (total || 1))} of the variance.`;
}

styleMap().catch((e) => {
  document.getElementById('map-status').textContent = `The map could not be drawn: ${e.message}`;
  console.error('[style map]', e);
});
