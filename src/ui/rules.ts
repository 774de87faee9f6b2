/**
 * A store's rules as the element's attributes give them — `filter`, `rerank`, and the A/B test
 * variants — parsed and checked here, at the boundary, into what the worker's query takes.
 */
import type { RerankRule, RowFilter } from '../protocol.js';

/** A ranking configuration an A/B test switches between (`variants`). */
export interface VariantConfig {
  /** Re-ranking rules, as the `rerank` attribute takes them (`"mmr impressions"`, `""` for none). */
  rerank?: string;
  /** `"off"`: short rows stay short. */
  fill?: string;
  /** Share of shoppers bucketed into this variant, relative to the others (default 1). */
  weight?: number;
}

/**
 * `filter="category: Sneaker, Sandal; brand: Acme; price: 20-100"`: clauses split by `;`, values
 * by `,`; a price range may be open (`20-`, `-100`). Returns the filter and what was not understood.
 */
export function parseFilter(text: string): { filter?: RowFilter; bad: string[] } {
  const filter: RowFilter = {};
  const bad: string[] = [];
  for (const clause of text.split(';').map((c) => c.trim()).filter(Boolean)) {
    const [, key, value = ''] = /^(\w+)\s*:\s*(.*)$/.exec(clause) ?? [];
    const values = value.split(',').map((v) => v.trim()).filter(Boolean);
    const range = /^(\d+(?:\.\d+)?)?\s*-\s*(\d+(?:\.\d+)?)?$/.exec(value.trim());
    if ((key === 'category' || key === 'brand') && values.length) filter[key] = values;
    else if (key === 'price' && range && (range[1] || range[2])) {
      if (range[1]) filter.minPrice = Number(range[1]);
      if (range[2]) filter.maxPrice = Number(range[2]);
    } else bad.push(clause);
  }
  return { filter: Object.keys(filter).length ? filter : undefined, bad };
}

const RULES: readonly RerankRule[] = ['mmr', 'impressions'];

/** `rerank="mmr impressions"`: the known rules in the given order; the rest named as unknown. */
export function parseRerank(text: string): { rules: RerankRule[]; bad: string[] } {
  const tokens = [...new Set(text.split(/\s+/).filter(Boolean))];
  return { rules: tokens.filter((t): t is RerankRule => (RULES as string[]).includes(t)), bad: tokens.filter((t) => !(RULES as string[]).includes(t)) };
}

/**
 * The variant a shopper is in: the one named, else one chosen from `bucket` (a store-given id,
 * such as a hashed customer number) by its FNV-1a hash over the variants' weights — the same id
 * always lands in the same variant, on every page and device.
 */
export function chooseVariant(variants: Record<string, VariantConfig>, named: string, bucket: string): string | undefined {
  if (named) return named;
  const names = Object.keys(variants).sort();
  if (!bucket || !names.length) return undefined;
  let h = 0x811c9dc5;
  for (let i = 0; i < bucket.length; i++) h = Math.imul(h ^ bucket.charCodeAt(i), 0x01000193);
  // FNV-1a's last characters reach only its low bits: mixed (murmur3's finalizer), `user-1` and `user-2` land apart.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  const weights = names.map((n) => Math.max(0, Number(variants[n]!.weight ?? 1)) || 0);
  let at = ((h >>> 0) / 2 ** 32) * weights.reduce((a, w) => a + w, 0);
  return names.find((_, i) => (at -= weights[i]!) < 0) ?? names[names.length - 1];
}
