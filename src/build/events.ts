import { SESSION_GAP_MS } from '../recommend/sessions.js';
import { FrozenLists, Grouper, ListSet } from './grouping.js';
import { Problems, UserError } from './problems.js';
import { findColumns, openTable, type ColumnSpec } from './table.js';

/** Event columns by role: a session id, or a user whose events split into sessions at pauses. */
const ROLES = ['session', 'user', 'item', 'time', 'kind'] as const;
type Role = (typeof ROLES)[number];

/** Default column names per role (compared ignoring case, spaces, `_` and `-`). */
export const EVENT_COLUMNS: Record<Role, string[]> = {
  session: ['session_id', 'session'],
  user: ['user_id', 'user', 'visitor_id', 'customer_id'],
  item: ['product_id', 'item_id', 'product', 'item'],
  time: ['timestamp', 'time', 'ts', 'event_time', 'date'],
  kind: ['kind', 'event', 'event_type', 'type', 'action'],
};

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A timestamp in Unix milliseconds: Unix seconds or milliseconds (told apart by size: anything
 * below 10¹¹ is seconds, i.e. before 1973 in milliseconds), or ISO 8601. `undefined` if neither.
 */
export function parseTimestamp(raw: string): number | undefined {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n < 1e11 ? n * 1000 : n;
  }
  if (ISO.test(s)) {
    const t = Date.parse(s.replace(' ', 'T'));
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

export type EventKind = 'view' | 'cart' | 'purchase';
const KINDS: Record<string, EventKind> = {
  view: 'view', views: 'view', pageview: 'view', detail: 'view', click: 'view', '': 'view',
  cart: 'cart', addtocart: 'cart', add_to_cart: 'cart', basket: 'cart',
  purchase: 'purchase', buy: 'purchase', order: 'purchase', transaction: 'purchase', checkout: 'purchase',
};

export interface SessionOptions {
  /** Product id → index in the bundle. */
  index: ReadonlyMap<string, number>;
  /**
   * Give an unknown product id the next free index (in `index`, which must then be a Map) instead
   * of skipping its rows: for logs read without a catalog (the evaluation).
   */
  addUnknown?: boolean;
  /** From `--events-columns session=SessionId,item=ItemId,time=Time`. */
  columns?: ColumnSpec;
  /** A pause longer than this starts a new session (when sessions come from a user column). */
  gapMs?: number;
  problems: Problems;
}

export interface SessionData {
  /** Each session's viewed items, time-ordered, repeats of the same item in a row collapsed. */
  sessions: FrozenLists;
  /** Items purchased together in one session (two or more): baskets for the goes-with row. */
  baskets: FrozenLists;
  /** Each session's start (its first event's time, Unix ms; the row number when there is no time column). */
  starts: Float64Array;
  rows: number;
  views: number;
}

interface Ev {
  item: number;
  time: number;
  kind: EventKind;
  seq: number;
}

/**
 * Streams an event log (CSV or TSV) into sessions. Rows are grouped by session id, or by user and
 * split at pauses longer than `gapMs`; rows it cannot use (an unknown product, a bad timestamp,
 * an unknown kind) are skipped and reported.
 */
export async function readSessions(path: string, opts: SessionOptions): Promise<SessionData> {
  const table = await openTable(path);
  const col = findColumns(table.header, path, EVENT_COLUMNS, opts.columns ?? {}, ['item'], '--events-columns');
  if (col.session === undefined && col.user === undefined) {
    throw new UserError(`${path} line 1: no session or user column (looked for ${[...EVENT_COLUMNS.session, ...EVENT_COLUMNS.user].join(', ')}; map one with --events-columns session=Name or user=Name)`);
  }
  if (col.session === undefined && col.time === undefined) {
    throw new UserError(`${path} line 1: sessions are split from users by time, but there is no time column (map one with --events-columns time=Name)`);
  }
  const byUser = col.session === undefined;
  const gap = opts.gapMs ?? SESSION_GAP_MS;
  const sessions = new ListSet();
  const baskets = new ListSet();
  const starts: number[] = [];
  let views = 0;
  const session = (events: Ev[]) => {
    const viewed: number[] = [];
    const bought = new Set<number>();
    for (const e of events) {
      if (e.kind === 'view' && viewed[viewed.length - 1] !== e.item) viewed.push(e.item);
      if (e.kind === 'purchase') bought.add(e.item);
    }
    views += viewed.length;
    if (viewed.length) {
      sessions.add(viewed);
      starts.push(events[0]!.time);
    }
    if (bought.size > 1) baskets.add([...bought].sort((a, b) => a - b));
  };
  // A closed group is one session (session ids), or one user's events, split at long pauses.
  const emit = (_key: string, events: Ev[]) => {
    events.sort((a, b) => a.time - b.time || a.seq - b.seq);
    if (!byUser) return session(events);
    let start = 0;
    for (let i = 1; i <= events.length; i++) {
      if (i === events.length || events[i]!.time - events[i - 1]!.time > gap) {
        session(events.slice(start, i));
        start = i;
      }
    }
  };
  const groups = new Grouper<Ev>(emit);
  const keyCol = (byUser ? col.user : col.session)!;
  const width = table.header.length;
  let rows = 0;
  for await (const row of table.rows) {
    rows++;
    const place = { file: path, line: row.line };
    if (row.error || row.fields.length !== width) {
      opts.problems.skip('malformed event rows', place, row.error ?? `has ${row.fields.length} fields, the header has ${width}`);
      continue;
    }
    const f = row.fields;
    const id = f[col.item!]!.trim();
    let item = opts.index.get(id);
    if (item === undefined && opts.addUnknown && id) {
      item = opts.index.size;
      (opts.index as Map<string, number>).set(id, item);
    }
    if (item === undefined) {
      opts.problems.skip('events naming products not in the catalog', place, `unknown product ${JSON.stringify(id.slice(0, 80))}`);
      continue;
    }
    let time = rows; // file order, when the log has no time column
    if (col.time !== undefined) {
      const t = parseTimestamp(f[col.time]!);
      if (t === undefined) {
        opts.problems.skip('events with an unreadable timestamp', place, `timestamp ${JSON.stringify(f[col.time]!.slice(0, 40))} is not Unix seconds/milliseconds or ISO 8601`);
        continue;
      }
      time = t;
    }
    let kind: EventKind = 'view';
    if (col.kind !== undefined) {
      const k = KINDS[f[col.kind]!.trim().toLowerCase().replace(/[\s-]+/g, '_')];
      if (!k) {
        opts.problems.skip('events of an unknown kind', place, `kind ${JSON.stringify(f[col.kind]!.slice(0, 40))} is not view, cart or purchase`);
        continue;
      }
      kind = k;
    }
    const key = f[keyCol]!.trim();
    if (!key) {
      opts.problems.skip('events without a session or user', place, `the ${byUser ? 'user' : 'session'} column is empty`);
      continue;
    }
    groups.group(key).push({ item, time, kind, seq: rows });
  }
  groups.finish();
  return { sessions: sessions.finish(), baskets: baskets.finish(), starts: Float64Array.from(starts), rows, views };
}
