/**
 * A title as a bag of hashed words — the pair model's "description embedding" (seed §3), small
 * enough to compute in the worker for a product that is not in the bundle.
 */

/** Words of a title (and brand, as one `brand:` token), lowercased, letters and digits of any script. */
export function titleTokens(title: string, brand?: string): string[] {
  const words = title.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]{2,}/gu) ?? [];
  const tokens = [...new Set(words)];
  if (brand) tokens.push(`brand:${brand.toLowerCase().normalize('NFKC').trim()}`);
  return tokens;
}

/** FNV-1a, 32-bit: the same bucket for the same word in Node and in every browser. */
export function hashToken(token: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % buckets;
}

/** Catalog attributes as `key:value` tokens (the pair model's "attribute embedding"). */
export function attributeTokens(attributes: Record<string, string | number | boolean> = {}): string[] {
  return Object.entries(attributes)
    .filter(([, v]) => typeof v !== 'string' || v.length <= 40)
    .map(([k, v]) => `${k.toLowerCase()}:${String(v).toLowerCase().normalize('NFKC').trim()}`);
}

/** The distinct buckets of a product's tokens: title words, brand, attributes. */
export function titleBuckets(title: string, brand: string | undefined, buckets: number, attributes?: Record<string, string | number | boolean>): number[] {
  return [...new Set([...titleTokens(title, brand), ...attributeTokens(attributes)].map((t) => hashToken(t, buckets)))];
}
