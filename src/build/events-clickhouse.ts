/**
 * Event logs that already live in ClickHouse (as product-analytics tools keep them), aggregated
 * where they are: `--events clickhouse://[user[:password]@]HOST:8123/DB.TABLE`, over its HTTP
 * interface, a `Distributed` table included (each shard groups its own rows). The SQL gives
 * what `readSessions` gives — the same sessions in the same order, the same rows skipped — with
 * three differences a store should know: events of one user at the same millisecond are ordered by
 * product id (a table has no file order), ISO times keep whole seconds, and a skipped row is named
 * by its session or user, not a line. Written for ClickHouse 18.16 (Debian's) and later: no window
 * functions, one array join per query level.
 */
import { ListSet } from './grouping.js';
import { SESSION_GAP_MS } from '../recommend/sessions.js';
import { UserError } from './problems.js';
import { EVENT_KIND_CODES, EVENT_KINDS, EVENT_PROBLEMS, ISO_TIMESTAMP, UNIX_TIMESTAMP, eventColumns, eventProblem, type SessionData, type SessionOptions } from './events.js';

const UNKNOWN_KIND = 255;

export interface ClickHouseTable {
  /** The HTTP interface, e.g. `http://host:8123/`. */
  url: string;
  user?: string;
  password?: string;
  database: string;
  table: string;
  /** The source as the user wrote it, password removed: what reports name. */
  name: string;
}

/** `clickhouse://[user[:password]@]host[:port]/db.table` (clickhouses:// for HTTPS). */
export function parseClickHouseUrl(source: string): ClickHouseTable {
  let u: URL;
  try {
    u = new URL(source);
  } catch {
    throw new UserError(`--events ${source}: not a URL (expected clickhouse://HOST:8123/DB.TABLE)`);
  }
  const path = decodeURIComponent(u.pathname.replace(/^\//, ''));
  const m = /^([^.]+)\.(.+)$/.exec(path) ?? (path && !path.includes('.') ? [path, 'default', path] : undefined);
  if (!m) throw new UserError(`--events ${source}: name the table as clickhouse://HOST:8123/DB.TABLE`);
  const secure = u.protocol === 'clickhouses:';
  return {
    url: `${secure ? 'https' : 'http'}://${u.hostname}:${u.port || (secure ? 8443 : 8123)}/`,
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    database: m[1]!, table: m[2]!,
    name: `clickhouse://${u.hostname}:${u.port || (secure ? 8443 : 8123)}/${m[1]}.${m[2]}`,
  };
}

/** A string as a ClickHouse literal (backslashes and quotes escaped). */
const lit = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
const ident = (s: string): string => `\`${s.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
/** Text with surrounding white space removed (18.16 has no trim). */
const trimmed = (x: string) => `replaceRegexpAll(${x}, ${lit('^\\s+|\\s+$')}, '')`;

/** A TSV field (the external catalog table). */
const tsv = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));

async function request(t: ClickHouseTable, sql: string, catalog?: string): Promise<Response> {
  const params = new URLSearchParams({ query: sql, database: t.database });
  const headers: Record<string, string> = {};
  if (t.user !== undefined) headers.Authorization = `Basic ${Buffer.from(`${t.user}:${t.password ?? ''}`).toString('base64')}`;
  let body: FormData | undefined;
  if (catalog !== undefined) {
    // The catalog's ids travel with the query as an external table; ClickHouse sends it on to every shard.
    params.set('_catalog_structure', 'id String');
    params.set('_catalog_format', 'TSV');
    body = new FormData();
    body.append('_catalog', new Blob([catalog]), '_catalog');
  }
  let r: Response;
  try {
    r = await fetch(`${t.url}?${params}`, { method: 'POST', headers, body });
  } catch (e) {
    throw new UserError(`${t.name}: cannot reach ClickHouse (${(e as Error).cause ?? (e as Error).message})`);
  }
  if (!r.ok) throw new UserError(`${t.name}: ClickHouse says: ${(await r.text()).trim().split('\n')[0]}`);
  return r;
}

const text = async (t: ClickHouseTable, sql: string, catalog?: string) => (await request(t, sql, catalog)).text();

/** JSON lines of a response, as they arrive. */
async function* jsonLines(r: Response): AsyncGenerator<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line) yield JSON.parse(line) as Record<string, unknown>;
    }
  }
  if (rest.trim()) yield JSON.parse(rest) as Record<string, unknown>;
}

/** Unix ms from a column of `type`, as `parseTimestamp` reads it; nan when unreadable. */
function timeExpr(col: string, type: string): string {
  const c = ident(col);
  const rule = (n: string) => `if(${n} < 1e11, ${n} * 1000, ${n})`;
  if (/^(Nullable\()?DateTime/.test(type)) return `ifNull(toFloat64(toUInt32(${c})) * 1000, nan)`;
  if (/^(Nullable\()?Date\b/.test(type)) return `ifNull(toFloat64(toUInt32(toDateTime(${c}))) * 1000, nan)`;
  if (/^(Nullable\()?(U?Int|Float|Decimal)/.test(type)) return `ifNull(${rule(`toFloat64(${c})`)}, nan)`;
  const s = trimmed(`ifNull(toString(${c}), '')`);
  // multiIf evaluates every branch: each must accept any text.
  return `multiIf(match(${s}, ${lit(UNIX_TIMESTAMP.source)}), ${rule(`ifNull(toFloat64OrNull(${s}), nan)`)},
    match(${s}, ${lit(ISO_TIMESTAMP.source)}), ifNull(toFloat64(toUInt32(parseDateTimeBestEffortOrNull(${s}, 'UTC'))) * 1000, nan), nan)`;
}

/**
 * `readSessions` on ClickHouse (see the file's comment). `maxViews` keeps the latest sessions'
 * views (every basket is kept).
 */
export async function readSessionsClickHouse(source: string, opts: SessionOptions & { maxViews?: number }): Promise<SessionData> {
  if (opts.addUnknown) throw new UserError(`${source}: a ClickHouse log is read against a catalog`);
  const t = parseClickHouseUrl(source);
  const described = (await text(t, `DESCRIBE TABLE ${ident(t.database)}.${ident(t.table)} FORMAT TSV`)).trim().split('\n').map((l) => l.split('\t'));
  const header = described.map((d) => d[0]!);
  const types = new Map(described.map((d) => [d[0]!, d[1]!]));
  const col = eventColumns(header, t.name, opts.columns, t.name);
  const byUser = col.session === undefined;
  const gap = opts.gapMs ?? SESSION_GAP_MS;
  const str = (i: number | undefined) => (i === undefined ? `''` : trimmed(`ifNull(toString(${ident(header[i]!)}), '')`));
  const names = Object.keys(EVENT_KINDS);
  const kind = col.kind === undefined ? '0' : `transform(replaceRegexpAll(lower(${str(col.kind)}), ${lit('[\\s-]+')}, '_'), [${names.map(lit).join(', ')}], [${names.map((n) => EVENT_KIND_CODES[EVENT_KINDS[n]!]).join(', ')}], ${UNKNOWN_KIND})`;
  // With no time column (session ids), events keep no order a table can give: by product id.
  const time = col.time === undefined ? '0' : timeExpr(header[col.time]!, types.get(header[col.time]!)!);
  // Each row's first problem, in the order the JS reader checks them (0: none); it names the
  // fields the queries use, so the grouping runs on the shards over a Distributed table.
  const problem = `multiIf(NOT ((${str(col.item)} AS item) IN _catalog), 1, isNaN(${time} AS t), 2, (${kind} AS k) = ${UNKNOWN_KIND}, 3, (${str(byUser ? col.user : col.session)} AS key) = '', 4, 0)`;
  const from = `${ident(t.database)}.${ident(t.table)}`;
  const catalog = [...opts.index.keys()].map((id) => tsv(id)).join('\n') + '\n';

  // Skipped rows: counts and a few examples per reason.
  const counted = await request(t, `SELECT ${problem} AS problem, count() AS n, groupArray(5)((key, item, ${col.time === undefined ? `''` : str(col.time)}, ${col.kind === undefined ? `''` : str(col.kind)})) AS examples
    FROM ${from} GROUP BY problem FORMAT JSONEachRow`, catalog);
  let rows = 0;
  for await (const r of jsonLines(counted)) {
    const n = Number(r.n);
    rows += n;
    if (!Number(r.problem)) continue;
    const examples = r.examples as [string, string, string, string][];
    const problemName = EVENT_PROBLEMS[Number(r.problem) - 1]!;
    for (const [key, id, timeText, kindText] of examples) {
      const p = eventProblem(problemName, { id, time: timeText, kind: kindText });
      opts.problems.skip(p.kind, { file: t.name }, `${byUser ? 'user' : 'session'} ${JSON.stringify(key.slice(0, 40))}: ${p.reason}`);
    }
    opts.problems.skipUnlisted(eventProblem(problemName, { id: '', time: '', kind: '' }).kind, n - examples.length);
  }

  // A key's events in time order (ties by product id, then kind), numbered into sessions at long
  // pauses; then each session's views (repeats in a row dropped) and distinct purchases.
  const perKey = `SELECT key, arraySort(groupArray((t, item, k))) AS evs,
      ${byUser ? `arrayCumSum(arrayMap((e, i) -> if(i > 1 AND e.1 - evs[i - 1].1 > ${gap}, 1, 0), evs, arrayEnumerate(evs)))` : 'arrayMap(e -> 0, evs)'} AS sns
    FROM ${from} WHERE ${problem} = 0 GROUP BY key`;
  const perEvent = `SELECT key, sns[i] AS sn, evs[i] AS e FROM (${perKey}) ARRAY JOIN arrayEnumerate(evs) AS i`;
  const perSession = `SELECT key, sn, min(e.1) AS start, arraySort(groupArray(e)) AS sorted,
      arrayMap(x -> x.2, arrayFilter(x -> x.3 = 0, sorted)) AS viewed,
      arrayFilter((x, i) -> i = 1 OR x != viewed[i - 1], viewed, arrayEnumerate(viewed)) AS views,
      arraySort(arrayDistinct(arrayMap(x -> x.2, arrayFilter(x -> x.3 = 2, sorted)))) AS bought
    FROM (${perEvent}) GROUP BY key, sn`;
  // Latest first, so the view budget keeps the newest sessions; reversed at the end.
  const result = await request(t, `SELECT start, views, bought FROM (${perSession}) ORDER BY start DESC, key DESC, sn DESC FORMAT JSONEachRow`, catalog);
  const kept: { start: number; views: number[] }[] = [];
  const baskets: number[][] = [];
  let views = 0;
  let budget = opts.maxViews ?? Infinity;
  const index = (id: string) => opts.index.get(id)!;
  for await (const r of jsonLines(result)) {
    const v = (r.views as string[]).map(index);
    const b = (r.bought as string[]).map(index).sort((x, y) => x - y);
    views += v.length;
    if (v.length && (budget -= v.length) >= 0) kept.push({ start: Number(r.start), views: v });
    if (b.length > 1) baskets.push(b);
  }
  const sessions = new ListSet();
  const starts: number[] = [];
  for (let i = kept.length - 1; i >= 0; i--) {
    sessions.add(kept[i]!.views);
    starts.push(kept[i]!.start);
  }
  const basketSet = new ListSet();
  for (let i = baskets.length - 1; i >= 0; i--) basketSet.add(baskets[i]!);
  return { sessions: sessions.finish(), baskets: basketSet.finish(), starts: Float64Array.from(starts), rows, views };
}
