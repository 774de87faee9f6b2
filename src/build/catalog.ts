import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Problems, UserError } from './problems.js';
import type { BundleItem } from '../bundle/format.js';
import { openTable, readJsonLines } from './table.js';

/** One product of a store's catalog, as the builder reads it. */
export interface CatalogItem {
  id: string;
  title: string;
  /** Product page URL: absolute, or relative to the page that shows the row (the worker resolves it there). */
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
  /** Prices may use a decimal comma (`129,00`, `1.299,00`): set for files delimited by `;`, as such exports are. */
  decimalComma?: boolean;
  /**
   * Called with each broken row instead of failing the build (`--skip-invalid`): the catalog is
   * read without it, as merchant feeds are handled.
   */
  onInvalid?: (row: InvalidRow) => void;
}

/** A catalog row left out, and why. */
export interface InvalidRow {
  line: number;
  id?: string;
  reason: string;
}

/** A price as written: `12.95`; with `decimalComma`, also `12,95` and `1.299,00`. */
function parsePrice(raw: string, decimalComma: boolean | undefined): number {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (decimalComma && /^(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$/.test(s)) return Number(s.replaceAll('.', '').replace(',', '.'));
  return NaN;
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
    price = typeof rawPrice === 'number' ? rawPrice : parsePrice(String(rawPrice), opts.decimalComma);
    if (!Number.isFinite(price) || price < 0) {
      problems.push(`price ${JSON.stringify(rawPrice)} is not a number like ${opts.decimalComma ? '12,95 or 12.95' : '12.95'}`);
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

async function* records(path: string, delimiter: (d: string) => void): AsyncGenerator<{ line: number; record?: Record<string, unknown>; error?: string }> {
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
  delimiter(table.delimiter);
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
 * and then the build fails: a catalog with broken rows would give a bundle with holes. With
 * `onInvalid` (`--skip-invalid`), broken rows go there instead and the rest is read.
 */
export async function readCatalog(path: string, opts: CatalogOptions = {}): Promise<CatalogItem[]> {
  const problems = new Problems();
  const items: CatalogItem[] = [];
  const lineOf = new Map<string, number>();
  let decimalComma = opts.decimalComma;
  const broken = (line: number, reason: string, id?: string) => {
    if (opts.onInvalid) opts.onInvalid({ line, ...(id ? { id } : {}), reason });
    else problems.fatal({ file: path, line }, reason);
  };
  for await (const r of records(path, (d) => (decimalComma ??= d === ';'))) {
    if (r.error) {
      broken(r.line, r.error);
      continue;
    }
    const item = parseItem(r.record!, r.line, { ...opts, decimalComma });
    if (Array.isArray(item)) {
      const id = r.record!.id;
      broken(r.line, item.join('; '), typeof id === 'string' || typeof id === 'number' ? String(id).trim() || undefined : undefined);
      continue;
    }
    const first = lineOf.get(item.id);
    if (first !== undefined) {
      broken(r.line, `id ${JSON.stringify(item.id)} is used already on line ${first}`, item.id);
      continue;
    }
    lineOf.set(item.id, r.line);
    items.push(item);
  }
  problems.throwIfFatal(`the catalog ${path} is broken`);
  if (!items.length) throw new UserError(`the catalog ${path} has no products${opts.onInvalid ? ' that could be used' : ''}`);
  return items;
}

/** The `--skip-invalid` report: one CSV row per row left out, with its line and reasons. */
export function invalidReport(rows: readonly InvalidRow[]): string {
  const cell = (v: string | number | undefined) => (v === undefined ? '' : /[",\n\r]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  return ['line,id,reason', ...rows.map((r) => [r.line, r.id, r.reason].map(cell).join(','))].join('\n') + '\n';
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

/** The catalog, its broken rows failing the build — or, with `skipInvalid`, left out and written to that report. */
export async function readCatalogFor(opts: { catalog: string; urlTemplate?: string; skipInvalid?: string }, log: (line: string) => void): Promise<CatalogItem[]> {
  if (!opts.skipInvalid) return readCatalog(opts.catalog, { urlTemplate: opts.urlTemplate });
  const invalid: InvalidRow[] = [];
  const catalog = await readCatalog(opts.catalog, { urlTemplate: opts.urlTemplate, onInvalid: (r) => invalid.push(r) });
  await writeFile(opts.skipInvalid, invalidReport(invalid));
  if (invalid.length) log(`warning: ${invalid.length} catalog rows are broken and left out (first: line ${invalid[0]!.line}: ${invalid[0]!.reason}); all of them, with lines and reasons → ${opts.skipInvalid}`);
  return catalog;
}
