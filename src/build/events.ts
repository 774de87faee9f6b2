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

/** Unix seconds or milliseconds, and ISO 8601 dates and times: what `parseTimestamp` and the SQL engines accept. */
export const UNIX_TIMESTAMP = /^\d+(\.\d+)?$/;
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A timestamp in Unix milliseconds: Unix seconds or milliseconds (told apart by size: anything
 * below 10¹¹ is seconds, i.e. before 1973 in milliseconds), or ISO 8601 (a time without a zone is
 * UTC: a build must not depend on the builder's time zone). `undefined` if neither.
 */
export function parseTimestamp(raw: string): number | undefined {
  const s = raw.trim();
  if (UNIX_TIMESTAMP.test(s)) {
    const n = Number(s);
    return n < 1e11 ? n * 1000 : n;
  }
  const iso = ISO_TIMESTAMP.exec(s);
  if (iso) {
    const t = Date.parse(s.replace(' ', 'T') + (iso[1] && !iso[4] ? 'Z' : ''));
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

export type EventKind = 'view' | 'cart' | 'purchase';
/** The SQL engines' codes for the kinds. */
export const EVENT_KIND_CODES: Record<EventKind, number> = { view: 0, cart: 1, purchase: 2 };
/** Event kinds by name (lower case, spaces and dashes as `_`); an empty kind is a view. */
export const EVENT_KINDS: Record<string, EventKind> = {
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
 * An event log's columns by role, from its header (`where` names it in errors): an item, and a
 * session, or a user and a time to split the user's events into sessions.
 */
export function eventColumns(header: string[], file: string, columns: ColumnSpec = {}, where = `${file} line 1`): Partial<Record<Role, number>> {
  const col = findColumns(header, file, EVENT_COLUMNS, columns, ['item'], '--events-columns');
  if (col.session === undefined && col.user === undefined) {
    throw new UserError(`${where}: no session or user column (looked for ${[...EVENT_COLUMNS.session, ...EVENT_COLUMNS.user].join(', ')}; map one with --events-columns session=Name or user=Name)`);
  }
  if (col.session === undefined && col.time === undefined) {
    throw new UserError(`${where}: sessions are split from users by time, but there is no time column (map one with --events-columns time=Name)`);
  }
  return col;
}

/** The checks a row can fail, in the order every reader makes them (the SQL engines number them from 1). */
export const EVENT_PROBLEMS = ['product', 'time', 'kind', 'key'] as const;
export type EventProblem = (typeof EVENT_PROBLEMS)[number];

/** A row the readers skip, by the check it failed: the report's kind and reason. */
export function eventProblem(problem: EventProblem, row: { id: string; time: string; kind: string }): { kind: string; reason: string } {
  switch (problem) {
    case 'product': return { kind: 'events naming products not in the catalog', reason: `unknown product ${JSON.stringify(row.id.slice(0, 80))}` };
    case 'time': return { kind: 'events with an unreadable timestamp', reason: `timestamp ${JSON.stringify(row.time.slice(0, 40))} is not Unix seconds/milliseconds or ISO 8601` };
    case 'kind': return { kind: 'events of an unknown kind', reason: `kind ${JSON.stringify(row.kind.slice(0, 40))} is not view, cart or purchase` };
    default: return { kind: 'events without a session or user', reason: 'the session or user column is empty' };
  }
}

/**
 * Views of the latest sessions the models learn from: the whole log is aggregated (sessions,
 * baskets), but a store's recent behaviour is what a shopper repeats, and this bounds the
 * training time and memory of a log of any size.
 */
export const MAX_VIEWS = 5_000_000;

/** An `--events` source that is a ClickHouse table, not a file. */
export const isClickHouse = (source: string): boolean => /^clickhouses?:\/\//i.test(source);

/** Which engine aggregates an event log: DuckDB (default), or the streaming reader in this file. */
export type EventEngine = 'duckdb' | 'js';

/**
 * An event log's sessions and purchase baskets, aggregated by `engine` (see `readSessions`; both
 * give the same result), or by ClickHouse where the log lives there (`clickhouse://HOST:8123/DB.TABLE`).
 * `maxViews` keeps the latest sessions holding that many views; every basket is kept.
 */
export async function readEvents(path: string, opts: SessionOptions & { engine?: EventEngine; maxViews?: number }): Promise<SessionData> {
  if (isClickHouse(path)) {
    const { readSessionsClickHouse } = await import('./events-clickhouse.js');
    return readSessionsClickHouse(path, opts);
  }
  if (opts.engine === 'js') return latest(await readSessions(path, opts), opts.maxViews);
  const { readSessionsDuckDb } = await import('./events-duckdb.js');
  return readSessionsDuckDb(path, opts);
}

/** The latest sessions holding at most `maxViews` views (all of them without a cap). */
function latest(data: SessionData, maxViews = Infinity): SessionData {
  let from = data.sessions.count;
  for (let views = 0; from > 0 && (views += data.sessions.get(from - 1).length) <= maxViews; ) from--;
  if (from === 0) return data;
  const kept = new ListSet();
  for (let i = from; i < data.sessions.count; i++) kept.add(data.sessions.get(i));
  return { ...data, sessions: kept.finish(), starts: data.starts.slice(from) };
}

/** A session as the JS reader closes it: its views and purchases, and what orders it among the others. */
interface ClosedSession {
  /** The session or user id, and (by user) the user's session number. */
  key: string;
  n: number;
  start: number;
  viewed: number[];
  bought: number[];
}

/**
 * Streams an event log (CSV or TSV) into sessions. Rows are grouped by session id, or by user and
 * split at pauses longer than `gapMs`; rows it cannot use (an unknown product, a bad timestamp,
 * an unknown kind) are skipped and reported. Sessions come out in time order (by their first
 * event; ties by session or user id, then by the user's session number).
 */
export async function readSessions(path: string, opts: SessionOptions): Promise<SessionData> {
  const table = await openTable(path);
  const col = eventColumns(table.header, path, opts.columns);
  const byUser = col.session === undefined;
  const gap = opts.gapMs ?? SESSION_GAP_MS;
  const closed: ClosedSession[] = [];
  // A closed group is one session (session ids), or one user's events, split at long pauses.
  const groups = new Grouper<Ev>((key, events) => {
    events.sort((a, b) => a.time - b.time || a.seq - b.seq);
    if (!byUser) closed.push(closeSession(key, 0, events));
    else splitAtPauses(events, gap).forEach((part, n) => closed.push(closeSession(key, n, part)));
  });
  const width = table.header.length;
  let rows = 0;
  let records = 0;
  for await (const row of table.rows) {
    rows++;
    const place = { file: path, line: row.line };
    if (row.error || row.fields.length !== width) {
      opts.problems.skip('malformed event rows', place, row.error ?? `has ${row.fields.length} fields, the header has ${width}`);
      continue;
    }
    records++;
    const read = readEvent(row.fields, col, records, opts);
    if ('problem' in read) {
      const p = eventProblem(read.problem, read.raw);
      opts.problems.skip(p.kind, place, p.reason);
      continue;
    }
    groups.group(read.key).push(read.event);
  }
  groups.finish();
  return sessionData(closed, rows);
}

/**
 * One well-formed row as an event (`seq`: its record number), keyed by its session or user; or
 * the first check it fails, with the raw values the report quotes. An unknown product gets the
 * next free index with `addUnknown`.
 */
function readEvent(f: string[], col: Partial<Record<Role, number>>, seq: number, opts: SessionOptions): { key: string; event: Ev } | { problem: EventProblem; raw: { id: string; time: string; kind: string } } {
  const id = f[col.item!]!.trim();
  const fail = (problem: EventProblem) => ({ problem, raw: { id, time: col.time === undefined ? '' : f[col.time]!.trim(), kind: col.kind === undefined ? '' : f[col.kind]!.trim() } });
  let item = opts.index.get(id);
  if (item === undefined && opts.addUnknown && id) {
    item = opts.index.size;
    (opts.index as Map<string, number>).set(id, item);
  }
  if (item === undefined) return fail('product');
  let time = seq; // record order, when the log has no time column
  if (col.time !== undefined) {
    const t = parseTimestamp(f[col.time]!);
    if (t === undefined) return fail('time');
    time = t;
  }
  let kind: EventKind = 'view';
  if (col.kind !== undefined) {
    const k = EVENT_KINDS[f[col.kind]!.trim().toLowerCase().replace(/[\s-]+/g, '_')];
    if (!k) return fail('kind');
    kind = k;
  }
  const key = f[(col.session ?? col.user)!]!.trim();
  if (!key) return fail('key');
  return { key, event: { item, time, kind, seq } };
}

/** A user's time-ordered events, split where a pause is longer than `gap`. */
function splitAtPauses(events: Ev[], gap: number): Ev[][] {
  const parts: Ev[][] = [];
  let start = 0;
  for (let i = 1; i <= events.length; i++) {
    if (i === events.length || events[i]!.time - events[i - 1]!.time > gap) {
      parts.push(events.slice(start, i));
      start = i;
    }
  }
  return parts;
}

/** A session's views (repeats of the same item in a row collapsed) and its purchases (each item once, in index order). */
function closeSession(key: string, n: number, events: Ev[]): ClosedSession {
  const viewed: number[] = [];
  const bought = new Set<number>();
  for (const e of events) {
    if (e.kind === 'view' && viewed[viewed.length - 1] !== e.item) viewed.push(e.item);
    if (e.kind === 'purchase') bought.add(e.item);
  }
  return { key, n, start: events[0]!.time, viewed, bought: [...bought].sort((a, b) => a - b) };
}

/** The closed sessions in time order (ties by key, then session number), as sessions and baskets. */
function sessionData(closed: ClosedSession[], rows: number): SessionData {
  closed.sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : a.n - b.n));
  const sessions = new ListSet();
  const baskets = new ListSet();
  const starts: number[] = [];
  let views = 0;
  for (const s of closed) {
    views += s.viewed.length;
    if (s.viewed.length) {
      sessions.add(s.viewed);
      starts.push(s.start);
    }
    if (s.bought.length > 1) baskets.add(s.bought);
  }
  return { sessions: sessions.finish(), baskets: baskets.finish(), starts: Float64Array.from(starts), rows, views };
}
