import { describe, expect, it } from 'vitest';
import { chooseVariant, parseFilter, parseRerank } from '../../../src/ui/rules.js';

describe('parseFilter', () => {
  it('reads category and brand lists and a price range, clause by clause', () => {
    expect(parseFilter('category: Ankle boot, Sneaker; brand: Acme;price: 20-99.5')).toEqual({
      filter: { category: ['Ankle boot', 'Sneaker'], brand: ['Acme'], minPrice: 20, maxPrice: 99.5 },
      bad: [],
    });
  });
  it('takes open price ranges', () => {
    expect(parseFilter('price: 20-').filter).toEqual({ minPrice: 20 });
    expect(parseFilter('price: -100').filter).toEqual({ maxPrice: 100 });
  });
  it('names what it does not understand and keeps the rest', () => {
    expect(parseFilter('colour: red; price: cheap; brand: ; category: Bag')).toEqual({ filter: { category: ['Bag'] }, bad: ['colour: red', 'price: cheap', 'brand:'] });
    expect(parseFilter('')).toEqual({ filter: undefined, bad: [] });
    expect(parseFilter('price: -')).toEqual({ filter: undefined, bad: ['price: -'] });
  });
});

describe('parseRerank', () => {
  it('keeps the known rules in order, once each, and names the others', () => {
    expect(parseRerank(' impressions mmr  impressions shuffle')).toEqual({ rules: ['impressions', 'mmr'], bad: ['shuffle'] });
    expect(parseRerank('')).toEqual({ rules: [], bad: [] });
  });
});

describe('chooseVariant', () => {
  const variants = { a: {}, b: { rerank: 'mmr' } };
  it('takes the named variant first', () => {
    expect(chooseVariant(variants, 'b', 'anyone')).toBe('b');
    expect(chooseVariant({}, 'only-a-label', '')).toBe('only-a-label');
  });
  it('buckets an id deterministically, about evenly over equal weights', () => {
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 2000; i++) {
      const v = chooseVariant(variants, '', `customer-${i}`)!;
      expect(chooseVariant(variants, '', `customer-${i}`)).toBe(v);
      counts[v]!++;
    }
    expect(counts.a! / 2000).toBeGreaterThan(0.45);
    expect(counts.a! / 2000).toBeLessThan(0.55);
  });
  it('ids that differ in their last character only are spread too', () => {
    const got = Array.from({ length: 9 }, (_, i) => chooseVariant(variants, '', `user-${i + 1}`));
    expect(new Set(got)).toEqual(new Set(['a', 'b']));
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const v = chooseVariant(variants, '', `u${String(i).padStart(4, '0')}`)!;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect(counts.get('a')! / 1000).toBeGreaterThan(0.45);
    expect(counts.get('a')! / 1000).toBeLessThan(0.55);
  });
  it('follows the weights; a zero weight gets no one', () => {
    let b = 0;
    for (let i = 0; i < 2000; i++) b += chooseVariant({ a: { weight: 3 }, b: { weight: 1 }, c: { weight: 0 } }, '', `u${i}`) === 'b' ? 1 : 0;
    expect(b / 2000).toBeGreaterThan(0.2);
    expect(b / 2000).toBeLessThan(0.3);
    for (let i = 0; i < 200; i++) expect(chooseVariant({ a: { weight: 1 }, c: { weight: 0 } }, '', `u${i}`)).toBe('a');
  });
  it('without a name or a bucket there is no variant', () => {
    expect(chooseVariant(variants, '', '')).toBeUndefined();
    expect(chooseVariant({}, '', 'someone')).toBeUndefined();
  });
});
