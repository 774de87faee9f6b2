import { extname } from 'node:path';
import { Problems, UserError } from './problems.js';
import type { BundleItem } from '../bundle/format.js';
import { openTable, readJsonLines } from './table.js';

/** One product of a store's catalog, as the builder reads it. */
export interface CatalogItem {
  id: string;
  title: string;
  /** Product page URL (absolute, or relative to where the store serves the bundle). */
  url: string;
  /** A path under `--images`, or an http(s) URL. */
  image: string;
  price?: number;
  currency?: string;
  category?: string;
  brand?: string;
  /** Out-of-stock products are recommended to nobody, but their pages still get rows. */
  inStock: boolean;
  /** Every other column, kept as given. */
  attributes: Record<string, string | number | boolean>;
  /** Line in the catalog file, for messages. */
  line: number;
}

export interface CatalogOptions {
  /** Builds `url` from `{id}` when the catalog has no url column: `/products/{id}`. */
  urlTemplate?: string;
}

const KNOWN = new Set(['id', 'title', 'url', 'image', 'price', 'currency', 'category', 'brand', 'in_stock']);
/** Other spellings seen in exports, mapped to the names above. */
const ALIASES: Record<string, string> = {
  product_id: 'id', item_id: 'id', sku: 'id', name: 'title', link: 'url', product_url: 'url',
  image_url: 'image', image_link: 'image', instock: 'in_stock', availability: 'in_stock', stock: 'in_stock',
};
const canonical = (name: string) => {
  const n = name.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return ALIASES[n] ?? n;
};

const TRUE = new Set(['1', 'true', 'yes', 'y', 'in_stock', 'in stock', 'instock', 'available']);
const FALSE = new Set(['0', 'false', 'no', 'n', 'out_of_stock', 'out of stock', 'outofstock', 'unavailable', 'sold out']);
export const MAX_ID_LENGTH = 256;

/**
 * Whether a product URL stays http(s) once a browser parses it. Browsers drop tabs and newlines
 * anywhere in a URL and control characters around it, so `java\tscript:` is `javascript:`: ask the
 * URL parser, as the page will, rather than a pattern.
 */
function isHttpOrRelative(url: string): boolean {
  try {
    return /^https?:$/.test(new URL(url, 'https://relative.invalid/').protocol);
  } catch {
    return false;
  }
}

/**
 * Checks one catalog record; returns the item, or the reasons it is broken. `record` maps canonical
 * column names to values (strings from CSV, any JSON type from JSONL).
 */
export function parseItem(record: Record<string, unknown>, line: number, opts: CatalogOptions = {}): CatalogItem | string[] {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const v = record[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') {
      problems.push(`${name} must be text, not ${Array.isArray(v) ? 'a list' : typeof v}`);
      return undefined;
    }
    const s = String(v).trim();
    return s === '' ? undefined : s;
  };
  const id = text('id');
  if (!id) problems.push('id is missing');
  else if (id.length > MAX_ID_LENGTH) problems.push(`id is longer than ${MAX_ID_LENGTH} characters`);
  const title = text('title');
  if (!title) problems.push('title is missing');
  let url = text('url');
  if (!url && opts.urlTemplate && id) url = opts.urlTemplate.replaceAll('{id}', encodeURIComponent(id));
  if (!url) problems.push('url is missing (or give --url-template "/products/{id}")');
  else if (!isHttpOrRelative(url)) problems.push(`url ${JSON.stringify(url.slice(0, 60))} is not http(s) or relative`);
  const image = text('image');
  if (!image) problems.push('image is missing');

  let price: number | undefined;
  const rawPrice = record.price;
  if (rawPrice !== undefined && rawPrice !== null && rawPrice !== '') {
    price = typeof rawPrice === 'number' ? rawPrice : /^\s*\d+(\.\d+)?\s*$/.test(String(rawPrice)) ? Number(rawPrice) : NaN;
    if (!Number.isFinite(price) || price < 0) {
      problems.push(`price ${JSON.stringify(rawPrice)} is not a number like 12.95`);
      price = undefined;
    }
  }
  const currency = text('currency')?.toUpperCase();
  if (currency && !/^[A-Z]{3}$/.test(currency)) problems.push(`currency ${JSON.stringify(currency)} is not a 3-letter ISO 4217 code like EUR`);

  let inStock = true;
  const rawStock = record.in_stock;
  if (typeof rawStock === 'boolean') inStock = rawStock;
  else if (rawStock !== undefined && rawStock !== null && String(rawStock).trim() !== '') {
    const s = String(rawStock).trim().toLowerCase();
    if (TRUE.has(s)) inStock = true;
    else if (FALSE.has(s)) inStock = false;
    else problems.push(`in_stock ${JSON.stringify(rawStock)} is not one of true/false, yes/no, 1/0`);
  }

  if (problems.length) return problems;
  const attributes: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(record)) {
    if (KNOWN.has(k) || v === undefined || v === null || v === '') continue;
    attributes[k] = typeof v === 'number' || typeof v === 'boolean' ? v : typeof v === 'string' ? v : JSON.stringify(v);
  }
  return {
    id: id!, title: title!, url: url!, image: image!, price, currency,
    category: text('category'), brand: text('brand'), inStock, attributes, line,
  };
}

async function* records(path: string): AsyncGenerator<{ line: number; record?: Record<string, unknown>; error?: string }> {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') {
    for await (const l of readJsonLines(path)) {
      if (l.error) yield { line: l.line, error: l.error };
      else if (!l.value || typeof l.value !== 'object' || Array.isArray(l.value)) yield { line: l.line, error: 'is not a JSON object' };
      else {
        const record: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(l.value)) record[canonical(k)] = v;
        yield { line: l.line, record };
      }
    }
    return;
  }
  const table = await openTable(path);
  const names = table.header.map(canonical);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new UserError(`${path} line 1: column ${JSON.stringify(n)} appears twice`);
    seen.add(n);
  }
  for (const need of ['id', 'title', 'image']) {
    if (!seen.has(need)) throw new UserError(`${path} line 1: no ${need} column (columns are: ${table.header.join(', ')})`);
  }
  for await (const row of table.rows) {
    if (row.error) yield { line: row.line, error: row.error };
    else if (row.fields.length !== names.length) yield { line: row.line, error: `has ${row.fields.length} fields, the header has ${names.length}` };
    else yield { line: row.line, record: Object.fromEntries(names.map((n, i) => [n, row.fields[i]])) };
  }
}

/**
 * Reads a catalog (CSV, TSV or JSON lines). Every broken row is reported — file, line, reason —
 * and then the build fails: a catalog with broken rows would give a bundle with holes.
 */
export async function readCatalog(path: string, opts: CatalogOptions = {}): Promise<CatalogItem[]> {
  const problems = new Problems();
  const items: CatalogItem[] = [];
  const lineOf = new Map<string, number>();
  for await (const r of records(path)) {
    if (r.error) {
      problems.fatal({ file: path, line: r.line }, r.error);
      continue;
    }
    const item = parseItem(r.record!, r.line, opts);
    if (Array.isArray(item)) {
      problems.fatal({ file: path, line: r.line }, item.join('; '));
      continue;
    }
    const first = lineOf.get(item.id);
    if (first !== undefined) {
      problems.fatal({ file: path, line: r.line }, `id ${JSON.stringify(item.id)} is used already on line ${first}`);
      continue;
    }
    lineOf.set(item.id, r.line);
    items.push(item);
  }
  problems.throwIfFatal(`the catalog ${path} is broken`);
  if (!items.length) throw new UserError(`the catalog ${path} has no products`);
  return items;
}

/** A catalog row as items.json holds it (the same keys in the same order for a build and an update). */
export function bundleItem(it: CatalogItem, image: string): BundleItem {
  return {
    id: it.id, title: it.title, url: it.url, image,
    ...(it.price !== undefined ? { price: it.price } : {}),
    ...(it.currency ? { currency: it.currency } : {}),
    ...(it.category ? { category: it.category } : {}),
    ...(it.brand ? { brand: it.brand } : {}),
    ...(it.inStock ? {} : { inStock: false }),
  };
}
