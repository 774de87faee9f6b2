/**
 * The demo store: real product images from Zalando's Fashion-MNIST (MIT), with titles, brands,
 * prices and styles derived from them, and shoppers simulated by a seeded, documented generator.
 *
 * How shoppers are simulated (everything from `createRng(seed)`, so the same seed gives the same data):
 * - Each product has a popularity drawn from a Zipf-like law and a *style* (casual, office,
 *   outdoor, evening) that depends on its category; an outfit is a top + bottom (or a dress) +
 *   shoes, sometimes a coat and a bag, all of one style.
 * - A shopper browses sessions of 3–12 views, 20 s to 5 min apart, sessions separated by
 *   1–72 hours. From a product, the next view is, with probability 0.5, another product of the
 *   same category and style; 0.3, a product of a category that completes an outfit in that style;
 *   0.2, a popular product of any kind. A fifth of the views end in a cart add, and some sessions
 *   in a purchase of the carted items (a basket).
 */
import type { Rng } from '../recommend/rng.js';
import { FASHION_MNIST_CLASSES, imageAt, type FashionMnistSplit } from './fashion-mnist.js';

export const STYLES = ['casual', 'office', 'outdoor', 'evening'] as const;
export type Style = (typeof STYLES)[number];

/** Which styles each Fashion-MNIST class can belong to. */
const CLASS_STYLES: Record<number, Style[]> = {
  0: ['casual', 'evening'], 1: ['casual', 'office', 'outdoor'], 2: ['casual', 'outdoor'],
  3: ['evening', 'office', 'casual'], 4: ['outdoor', 'office'], 5: ['casual', 'evening'],
  6: ['office', 'casual'], 7: ['casual', 'outdoor'], 8: ['office', 'evening', 'casual'], 9: ['outdoor', 'office', 'evening'],
};
const NOUNS: Record<number, string[]> = {
  0: ['T-shirt', 'Top', 'Tee'], 1: ['Trousers', 'Chinos', 'Jeans'], 2: ['Pullover', 'Jumper', 'Sweater'],
  3: ['Dress', 'Midi dress', 'Shift dress'], 4: ['Coat', 'Parka', 'Jacket'], 5: ['Sandals', 'Sliders'],
  6: ['Shirt', 'Blouse', 'Overshirt'], 7: ['Sneakers', 'Trainers', 'Runners'], 8: ['Bag', 'Tote', 'Shoulder bag'],
  9: ['Ankle boots', 'Chelsea boots', 'Boots'],
};
const PRICE: Record<number, [number, number]> = {
  0: [9, 39], 1: [29, 99], 2: [29, 89], 3: [29, 129], 4: [79, 249], 5: [19, 69], 6: [24, 79], 7: [39, 149], 8: [25, 199], 9: [59, 189],
};
const BRANDS = ['Nordhavn', 'Lumen & Co', 'Atelier Vey', 'Kestrel', 'Maru', 'Ostra', 'Fenwick', 'Solvej', 'Brisa', 'Talland', 'Quill', 'Harrow'];
/** Outfit slots: categories that complete each other. */
const TOPS = [0, 2, 6];
const BOTTOMS = [1];
const SHOES = [5, 7, 9];
const OUTER = [4];
const BAGS = [8];

export interface DemoProduct {
  id: string;
  title: string;
  category: string;
  label: number;
  brand: string;
  price: number;
  currency: 'EUR';
  style: Style;
  tone: 'light' | 'grey' | 'dark';
  /** Index in the Fashion-MNIST split the image comes from. */
  source: { split: 'train' | 't10k'; index: number };
  /** Inverted Fashion-MNIST pixels (garment on white, like a product photo), 28×28 gray. */
  pixels: Uint8Array;
  popularity: number;
}

export interface DemoEvent {
  user: string;
  productId: string;
  /** Unix milliseconds. */
  at: number;
  kind: 'view' | 'cart' | 'purchase';
}

/** Picks `perClass` images of each class from a split, in index order, starting at `skip` per class. */
export function pickImages(split: FashionMnistSplit, perClass: number, skip = 0): { index: number; label: number }[] {
  const seen = new Array<number>(10).fill(0);
  const out: { index: number; label: number }[] = [];
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i]!;
    const k = seen[label]!++;
    if (k >= skip && k < skip + perClass) out.push({ index: i, label });
  }
  return out;
}

function toneOf(pixels: Uint8Array): DemoProduct['tone'] {
  let sum = 0;
  let n = 0;
  for (const v of pixels) if (v < 250) { sum += v; n++; }
  const mean = n ? sum / n : 255;
  return mean < 100 ? 'dark' : mean > 170 ? 'light' : 'grey';
}

const TONE_WORD = { light: 'Light', grey: 'Grey', dark: 'Black' } as const;

/** Builds products from chosen Fashion-MNIST images; ids are `${prefix}${n}`. */
export function makeProducts(
  split: FashionMnistSplit,
  splitName: 'train' | 't10k',
  picks: { index: number; label: number }[],
  rng: Rng,
  prefix: string,
): DemoProduct[] {
  return picks.map(({ index, label }, n) => {
    const src = imageAt(split, index);
    const pixels = new Uint8Array(src.length);
    for (let i = 0; i < src.length; i++) pixels[i] = 255 - src[i]!;
    const tone = toneOf(pixels);
    const brand = rng.pick(BRANDS);
    const [lo, hi] = PRICE[label]!;
    return {
      id: `${prefix}${String(n + 1).padStart(4, '0')}`,
      title: `${brand} ${TONE_WORD[tone]} ${rng.pick(NOUNS[label]!)}`,
      category: FASHION_MNIST_CLASSES[label]!,
      label,
      brand,
      price: Math.round(lo + rng.next() * (hi - lo)) - 0.05,
      currency: 'EUR',
      style: rng.pick(CLASS_STYLES[label]!),
      tone,
      source: { split: splitName, index },
      pixels,
      popularity: 1 / Math.pow(1 + rng.int(200), 0.8),
    };
  });
}

/** Outfits: lists of product ids of one style that go together. */
export function makeOutfits(products: DemoProduct[], count: number, rng: Rng): string[][] {
  const by = (labels: number[], style: Style) => products.filter((p) => labels.includes(p.label) && p.style === style);
  const outfits: string[][] = [];
  for (let tries = 0; outfits.length < count && tries < count * 20; tries++) {
    const style = rng.pick(STYLES);
    const dress = rng.next() < 0.3 ? by([3], style) : [];
    const slots = dress.length ? [dress, by(SHOES, style)] : [by(TOPS, style), by(BOTTOMS, style), by(SHOES, style)];
    if (rng.next() < 0.4) slots.push(by(OUTER, style));
    if (rng.next() < 0.5) slots.push(by(BAGS, style));
    if (slots.some((s) => s.length === 0)) continue;
    outfits.push(slots.map((s) => s[rng.weighted(s.map((p) => p.popularity))]!.id));
  }
  return outfits;
}

const COMPLEMENTS: Record<number, number[]> = {
  0: [...BOTTOMS, ...SHOES, ...BAGS], 2: [...BOTTOMS, ...SHOES, ...OUTER], 6: [...BOTTOMS, ...SHOES, ...BAGS],
  1: [...TOPS, ...SHOES, ...OUTER], 3: [...SHOES, ...BAGS, ...OUTER], 4: [...TOPS, ...BOTTOMS, ...SHOES],
  5: [...TOPS, 3, ...BAGS], 7: [...TOPS, ...BOTTOMS], 8: [...TOPS, 3, ...SHOES], 9: [...BOTTOMS, ...OUTER, ...TOPS],
};

/** Simulated browse/cart/purchase events for `users` shoppers, time-ordered per user. */
export function simulateEvents(products: DemoProduct[], users: number, rng: Rng, start = Date.UTC(2026, 8, 1)): DemoEvent[] {
  const groups = new Map<string, DemoProduct[]>();
  const key = (label: number, style: Style) => `${label}/${style}`;
  for (const p of products) {
    const k = key(p.label, p.style);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(p);
  }
  const popular = (ps: DemoProduct[]) => ps[rng.weighted(ps.map((p) => p.popularity))]!;
  const events: DemoEvent[] = [];
  for (let u = 0; u < users; u++) {
    const user = `shopper-${u + 1}`;
    let t = start + rng.int(30 * 24) * 3600_000;
    const sessions = 1 + rng.int(4);
    for (let s = 0; s < sessions; s++) {
      let p = popular(products);
      const length = 3 + rng.int(10);
      const cart: string[] = [];
      for (let v = 0; v < length; v++) {
        events.push({ user, productId: p.id, at: t, kind: 'view' });
        if (rng.next() < 0.2) {
          cart.push(p.id);
          events.push({ user, productId: p.id, at: t + 5_000, kind: 'cart' });
        }
        t += 20_000 + rng.int(280_000);
        const r = rng.next();
        let pool: DemoProduct[] | undefined;
        if (r < 0.5) pool = groups.get(key(p.label, p.style));
        else if (r < 0.8) {
          const label = rng.pick(COMPLEMENTS[p.label]!);
          pool = groups.get(key(label, p.style));
        }
        const next = pool && pool.length > 1 ? popular(pool.filter((q) => q.id !== p.id)) : popular(products);
        p = next;
      }
      if (cart.length && rng.next() < 0.6) {
        for (const id of new Set(cart)) events.push({ user, productId: id, at: t, kind: 'purchase' });
      }
      t += 3600_000 + rng.int(71 * 3600_000);
    }
  }
  return events;
}
