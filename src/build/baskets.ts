import { readFile } from 'node:fs/promises';
import { type FrozenLists, Grouper, ListSet } from './grouping.js';
import { Problems, UserError } from './problems.js';
import { findColumns, openTable, type ColumnSpec } from './table.js';
import { parseTimestamp } from './events.js';

/** Default column names of a purchase log: one row per order line. */
export const BASKET_COLUMNS = {
  order: ['order_id', 'order', 'transaction_id', 'transaction', 'basket_id', 'invoice'],
  item: ['product_id', 'item_id', 'product', 'item', 'sku'],
  time: ['timestamp', 'time', 'ts', 'order_time', 'order_date', 'date'],
};

export interface PositivesOptions {
  index: ReadonlyMap<string, number>;
  problems: Problems;
  /**
   * Give an unknown product id the next free index (in `index`, which must then be a Map) instead
   * of skipping its lines: for logs read without a catalog (the evaluation).
   */
  addUnknown?: boolean;
}

/** A purchase log's baskets, in time order when the log has a time column (else in file order). */
export interface BasketLog {
  baskets: FrozenLists;
  timed: boolean;
}

/**
 * Streams a purchase log (CSV/TSV, `order_id, product_id[, timestamp]` per line) into baskets of
 * two or more distinct products. Lines naming unknown products are skipped and reported.
 */
export async function readBaskets(path: string, opts: PositivesOptions & { columns?: ColumnSpec }): Promise<BasketLog> {
  const table = await openTable(path);
  const col = findColumns(table.header, path, BASKET_COLUMNS, opts.columns ?? {}, ['order', 'item'], '--baskets-columns');
  const closed: { items: number[]; time: number }[] = [];
  const groups = new Grouper<{ item: number; time: number }>((_order, lines) => {
    const distinct = [...new Set(lines.map((l) => l.item))].sort((a, b) => a - b);
    if (distinct.length > 1) closed.push({ items: distinct, time: Math.min(...lines.map((l) => l.time)) });
  });
  const width = table.header.length;
  for await (const row of table.rows) {
    const place = { file: path, line: row.line };
    if (row.error || row.fields.length !== width) {
      opts.problems.skip('malformed basket rows', place, row.error ?? `has ${row.fields.length} fields, the header has ${width}`);
      continue;
    }
    const id = row.fields[col.item!]!.trim();
    let item = opts.index.get(id);
    if (item === undefined && opts.addUnknown && id) {
      item = opts.index.size;
      (opts.index as Map<string, number>).set(id, item);
    }
    if (item === undefined) {
      opts.problems.skip('basket lines naming products not in the catalog', place, `unknown product ${JSON.stringify(id.slice(0, 80))}`);
      continue;
    }
    let time = row.line; // file order, when the log has no time column
    if (col.time !== undefined) {
      const t = parseTimestamp(row.fields[col.time]!);
      if (t === undefined) {
        opts.problems.skip('basket lines with an unreadable timestamp', place, `timestamp ${JSON.stringify(row.fields[col.time]!.slice(0, 40))} is not Unix seconds/milliseconds or ISO 8601`);
        continue;
      }
      time = t;
    }
    groups.group(row.fields[col.order!]!.trim()).push({ item, time });
  }
  groups.finish();
  closed.sort((a, b) => a.time - b.time);
  const baskets = new ListSet();
  for (const b of closed) baskets.add(b.items);
  return { baskets: baskets.finish(), timed: col.time !== undefined };
}

/** An outfit entry's product id: a string, or an object with `id`/`item_id`/`product_id`. */
function outfitId(x: unknown): string | undefined {
  if (typeof x === 'string' || typeof x === 'number') return String(x);
  if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    const v = o.id ?? o.item_id ?? o.product_id;
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return undefined;
}

/**
 * Reads outfits: a JSON array whose entries are lists of product ids, or objects with an `items`
 * list (Polyvore's `{"set_id", "items": [{"item_id", "index"}]}` works as is). Outfits keep the
 * products the catalog has; those left with fewer than two are skipped and reported.
 */
export async function readOutfits(path: string, opts: PositivesOptions): Promise<FrozenLists> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UserError(err.code === 'ENOENT' ? `${path}: no such file` : `${path}: is not valid JSON (${err.message})`);
  }
  if (!Array.isArray(raw)) throw new UserError(`${path}: expected a JSON array of outfits (lists of product ids)`);
  const outfits = new ListSet();
  raw.forEach((entry, n) => {
    const place = { file: path, line: undefined };
    const list = Array.isArray(entry) ? entry : entry && typeof entry === 'object' ? (entry as { items?: unknown }).items : undefined;
    if (!Array.isArray(list)) {
      opts.problems.skip('outfits that are not lists of product ids', place, `outfit ${n + 1} is neither a list nor an object with an items list`);
      return;
    }
    const items = new Set<number>();
    for (const x of list) {
      const id = outfitId(x);
      const i = id === undefined ? undefined : opts.index.get(id);
      if (i === undefined) opts.problems.skip('outfit entries naming products not in the catalog', place, `outfit ${n + 1}: unknown product ${JSON.stringify(String(id ?? x).slice(0, 80))}`);
      else items.add(i);
    }
    if (items.size > 1) outfits.add([...items].sort((a, b) => a - b));
    else opts.problems.skip('outfits with fewer than two known products', place, `outfit ${n + 1}`);
  });
  return outfits.finish();
}
