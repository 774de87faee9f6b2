/**
 * Event logs aggregated by DuckDB, embedded: it reads CSV/TSV, Parquet and NDJSON itself and
 * spills to disk, so a log larger than memory works. The SQL does what `readSessions` does in JS —
 * the same rows skipped for the same reasons, the same sessions in the same order — and hands back
 * only the sessions (the latest `maxViews` views of them) and the purchase baskets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { ListSet } from './grouping.js';
import { UserError, type Place, type Problems } from './problems.js';
import { openTable, parseDelimited, textChunks } from './table.js';
import { EVENT_KIND_CODES, EVENT_KINDS, EVENT_PROBLEMS, ISO_TIMESTAMP, UNIX_TIMESTAMP, eventColumns, eventProblem, type SessionData, type SessionOptions } from './events.js';
import { SESSION_GAP_MS } from '../recommend/sessions.js';

type DuckConnection = import('@duckdb/node-api').DuckDBConnection;

/** A string as an SQL literal. */
const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** How the engine may use the machine: DuckDB spills what does not fit to `tempDir`. */
export interface EngineLimits {
  /** DuckDB's memory limit, e.g. `2GB` (default: 2GB, which keeps the builder under 4 GB). */
  memory?: string;
  threads?: number;
}

type Format = 'csv' | 'parquet' | 'json';
const formatOf = (path: string): Format => {
  const ext = extname(path.replace(/\.(gz|zst)$/, '')).toLowerCase();
  return ext === '.parquet' ? 'parquet' : ext === '.json' || ext === '.ndjson' || ext === '.jsonl' ? 'json' : 'csv';
};

/**
 * Unix milliseconds from a VARCHAR column, as `parseTimestamp`: Unix seconds (below 10¹¹) or
 * milliseconds, or ISO 8601 (no zone: UTC); NULL if neither.
 */
const timeFromText = (t: string) => `CASE
  WHEN regexp_full_match(${t}, ${sqlString(UNIX_TIMESTAMP.source.slice(1, -1))}) THEN CASE WHEN ${t}::DOUBLE < 1e11 THEN ${t}::DOUBLE * 1000 ELSE ${t}::DOUBLE END
  WHEN regexp_full_match(${t}, ${sqlString(ISO_TIMESTAMP.source.slice(1, -1))}) THEN epoch_ms(CASE WHEN regexp_matches(${t}, '(Z|[+-]\\d{2}:?\\d{2})$') THEN TRY_CAST(${t} AS TIMESTAMPTZ) ELSE TRY_CAST(${t} AS TIMESTAMP) END)::DOUBLE
END`;

/** The event kind's code (events.ts EVENT_KIND_CODES) from a VARCHAR column; NULL for an unknown one. */
const kindFromText = (k: string) =>
  `CASE ${k} WHEN 'view' THEN 0 WHEN 'purchase' THEN 2 ELSE CASE regexp_replace(lower(${k}), '[\\s-]+', '_', 'g') ${Object.entries(EVENT_KINDS).map(([name, kind]) => `WHEN ${sqlString(name)} THEN ${EVENT_KIND_CODES[kind]}`).join(' ')} END END`;

/** With VITRINE_SQL_TIMES set, prints how long a step took since `t` (profiling the builder). */
const took = (name: string, t: number) => process.env.VITRINE_SQL_TIMES && process.stderr.write(`duckdb ${name}: ${((performance.now() - t) / 1000).toFixed(2)} s\n`);

/** Runs one statement, timed (see `took`). */
async function step(c: DuckConnection, name: string, sql: string): Promise<Record<string, unknown>[]> {
  const t = performance.now();
  const out = await rows(c, sql);
  took(name, t);
  return out;
}

async function rows(c: DuckConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** The source as a relation of VARCHAR columns with each record's ordinal (`rec`, from 1). */
async function source(c: DuckConnection, path: string, format: Format): Promise<{ header: string[]; from: string; delimiter?: string; width: number }> {
  if (format === 'csv') {
    const table = await openTable(path); // the header and its delimiter, as the JS reader sees them
    const names = table.header.map((_, i) => `c${i}`);
    const from = `read_csv(${sqlString(path)}, header = true, delim = ${sqlString(table.delimiter)}, quote = '"', escape = '"',
      columns = {${names.map((n) => `${sqlString(n)}: 'VARCHAR'`).join(', ')}}, store_rejects = true, strict_mode = true, null_padding = false, auto_detect = false) WITH ORDINALITY AS src(${names.map(ident).join(', ')}, rec)`;
    return { header: table.header, from, delimiter: table.delimiter, width: table.header.length };
  }
  const reader = format === 'parquet' ? `read_parquet(${sqlString(path)})` : `read_json(${sqlString(path)}, format = 'newline_delimited')`;
  const described = await rows(c, `DESCRIBE SELECT * FROM ${reader}`).catch((e: Error) => {
    throw new UserError(`${path}: cannot be read as ${format === 'json' ? 'JSON lines' : 'Parquet'} (${e.message.split('\n')[0]})`);
  });
  const header = described.map((r) => String(r.column_name));
  // Typed columns as text; a timestamp or date column as Unix milliseconds, which the parser reads.
  const asText = (name: string, type: string) =>
    /WITH TIME ZONE/.test(type) ? `CAST(epoch_ms(${ident(name)}) AS VARCHAR)`
    : /^(TIMESTAMP|DATE)/.test(type) ? `CAST(epoch_ms(CAST(${ident(name)} AS TIMESTAMP)) AS VARCHAR)`
    : `CAST(${ident(name)} AS VARCHAR)`;
  const cols = described.map((r, i) => `${asText(String(r.column_name), String(r.column_type))} AS c${i}`);
  return { header, from: `(SELECT ${cols.join(', ')}, ordinality AS rec FROM ${reader} WITH ORDINALITY)`, width: header.length };
}

/**
 * The physical line of each record ordinal (1-based, counting the records DuckDB accepted), for
 * the few examples a report names; reads the file only as far as the last one.
 */
async function linesOf(path: string, delimiter: string, width: number, recs: number[]): Promise<Map<number, number>> {
  const want = new Set(recs);
  const lines = new Map<number, number>();
  if (!want.size) return lines;
  const last = Math.max(...recs);
  let rec = 0;
  let header = true;
  for await (const row of parseDelimited(textChunks(path), delimiter)) {
    if (header) {
      header = false;
      continue;
    }
    if (row.error || row.fields.length !== width) continue;
    if (want.has(++rec)) lines.set(rec, row.line);
    if (rec >= last) break;
  }
  return lines;
}

/** `readSessions` on DuckDB (see the file's comment); `maxViews` keeps the latest sessions only. */
export async function readSessionsDuckDb(path: string, opts: SessionOptions & EngineLimits & { maxViews?: number }): Promise<SessionData> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const temp = await mkdtemp(join(tmpdir(), 'vitrine-duckdb-'));
  let db: import('@duckdb/node-api').DuckDBInstance | undefined;
  let c: DuckConnection | undefined;
  try {
    db = await DuckDBInstance.create(':memory:', {
      threads: String(opts.threads ?? 2), memory_limit: opts.memory ?? '2GB', temp_directory: temp,
      preserve_insertion_order: 'false',
    });
    c = await db.connect();
    return await aggregate(c, path, opts);
  } finally {
    c?.closeSync();
    db?.closeSync();
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * The catalog as a table: product id → index. With `fresh` (the evaluation's logs, read without a
 * catalog), the ids it selects get the next indices, in its order, in `opts.index` too.
 */
async function loadCatalog(c: DuckConnection, opts: SessionOptions, fresh?: string): Promise<void> {
  await c.run('CREATE TABLE catalog (id VARCHAR PRIMARY KEY, idx INTEGER)');
  const append = async (entries: Iterable<[string, number]>) => {
    const appender = await c.createAppender('catalog');
    for (const [id, idx] of entries) {
      appender.appendVarchar(id);
      appender.appendInteger(idx);
      appender.endRow();
    }
    appender.closeSync();
  };
  await append(opts.index);
  if (!fresh) return;
  const index = opts.index as Map<string, number>;
  const added: [string, number][] = [];
  for (const { id } of await step(c, 'new products', fresh)) {
    added.push([String(id), index.size]);
    index.set(String(id), index.size);
  }
  await append(added);
}

async function aggregate(c: DuckConnection, path: string, opts: SessionOptions & { maxViews?: number }): Promise<SessionData> {
  const format = formatOf(path);
  const src = await source(c, path, format);
  const col = eventColumns(src.header, path, opts.columns);
  const byUser = col.session === undefined;
  const gap = opts.gapMs ?? SESSION_GAP_MS;
  const text = (i: number | undefined) => (i === undefined ? `''` : `trim(coalesce(c${i}, ''))`);

  await loadCatalog(c, opts, opts.addUnknown ? `SELECT ${text(col.item)} AS id FROM ${src.from} WHERE id <> '' AND id NOT IN (SELECT id FROM catalog) GROUP BY id ORDER BY min(rec)` : undefined);
  const keyText = text(byUser ? col.user : col.session);
  const timeText = col.time === undefined ? `''` : text(col.time);
  const kindText = col.kind === undefined ? `''` : text(col.kind);
  // One pass over the log: each record's product index, time (ms), kind (0 view, 1 cart,
  // 2 purchase) and first problem, in the order the JS reader checks them (1 product, 2 time,
  // 3 kind, 4 key); a skipped record keeps its text for the report.
  await step(c, 'read', `CREATE TABLE ev AS
    WITH raw AS (SELECT rec, ${keyText} AS key, ${text(col.item)} AS id, ${timeText} AS tt, ${kindText} AS kt FROM ${src.from}),
    parsed AS (SELECT rec, key, id, ${col.time === undefined ? 'rec::DOUBLE' : timeFromText('tt')} AS time, ${col.kind === undefined ? '0' : kindFromText('kt')} AS kind, tt, kt FROM raw)
    SELECT rec, key, idx, time, kind::UTINYINT AS kind, problem::UTINYINT AS problem,
      CASE WHEN problem IS NOT NULL THEN id END AS id, CASE WHEN problem IS NOT NULL THEN tt END AS time_text, CASE WHEN problem IS NOT NULL THEN kt END AS kind_text
    FROM (SELECT *, CASE WHEN catalog.idx IS NULL THEN 1 WHEN time IS NULL THEN 2 WHEN kind IS NULL THEN 3 WHEN key = '' THEN 4 END AS problem
      FROM parsed LEFT JOIN catalog USING (id))`).catch((e: Error) => {
    throw new UserError(`${path}: cannot be read (${e.message.split('\n')[0]})`);
  });
  await report(c, path, src, format, opts.problems);

  const totals = (await step(c, 'totals', `SELECT (SELECT count(*) FROM ev) AS records, ${format === 'csv' ? '(SELECT count(DISTINCT line) FROM reject_errors)' : '0'} AS rejected`))[0]!;
  const { sessions, baskets, starts, views } = await sessionsOf(c, byUser, gap, opts.maxViews);
  return { sessions, baskets, starts, views, rows: Number(totals.records) + Number(totals.rejected) };
}

/**
 * Sessions from the `ev` table: a user's events split at pauses longer than `gap` (or one per
 * session id); the views in order, a view repeating the one before it dropped; the distinct
 * purchases. Only fixed-size aggregates and sorts, which DuckDB spills to disk: lists are put
 * together here, from rows, for the latest sessions holding `maxViews` views and for the baskets.
 */
async function sessionsOf(c: DuckConnection, byUser: boolean, gap: number, maxViews = Number.MAX_SAFE_INTEGER) {
  const order = 'ORDER BY time, rec';
  await step(c, 'sessions', `CREATE TABLE numbered AS
    WITH split AS (
      SELECT key, idx, time, kind, rec, ${byUser ? `CASE WHEN time - lag(time) OVER (PARTITION BY key ${order}) > ${gap} THEN 1 ELSE 0 END` : '0'} AS brk
      FROM ev WHERE problem IS NULL)
    SELECT key, idx, time, kind, rec, ${byUser ? `sum(brk) OVER (PARTITION BY key ${order} ROWS UNBOUNDED PRECEDING)` : '0'} AS sn FROM split`);
  await c.run('DROP TABLE ev'); // its disk, for what follows
  await step(c, 'views', `CREATE TABLE views AS SELECT key, sn, idx, time, rec
    FROM (SELECT *, lag(idx) OVER (PARTITION BY key, sn ${order}) AS prev FROM numbered WHERE kind = 0) WHERE prev IS NULL OR prev <> idx`);
  // Each session's start (its first event of any kind), views, and place in time order.
  await step(c, 'starts', `CREATE TABLE sessions AS
    SELECT key, sn, start, coalesce(n, 0) AS n, row_number() OVER (ORDER BY start, key, sn) AS ord
    FROM (SELECT key, sn, min(time) AS start FROM numbered GROUP BY key, sn) LEFT JOIN (SELECT key, sn, count(*) AS n FROM views GROUP BY key, sn) USING (key, sn)`);
  const [{ views }] = (await step(c, 'count', 'SELECT coalesce(sum(n), 0) AS views FROM sessions')) as [{ views: bigint }];
  const lists = async (name: string, sql: string, keep: (list: number[]) => boolean) => {
    const t = performance.now();
    const out = new ListSet();
    const starts: number[] = [];
    let ord = -1n;
    let list: number[] = [];
    let start = 0;
    const flush = () => {
      if (keep(list)) (out.add(list), starts.push(start));
    };
    for await (const chunk of (await c.stream(sql)).yieldRows()) {
      for (const [o, s, idx] of chunk as [bigint, number, number][]) {
        if (o !== ord) {
          flush();
          (ord = o), (start = s), (list = []);
        }
        list.push(idx);
      }
    }
    flush();
    took(name, t);
    return { lists: out.finish(), starts };
  };
  // The latest sessions whose views add up to at most maxViews; every basket of two or more products.
  const recent = await lists('fetch sessions', `SELECT ord, start, idx FROM views JOIN (
      SELECT key, sn, ord, start FROM sessions WHERE n > 0 QUALIFY sum(n) OVER (ORDER BY ord DESC ROWS UNBOUNDED PRECEDING) <= ${Math.floor(maxViews)}
    ) USING (key, sn) ORDER BY ord, time, rec`, (l) => l.length > 0);
  const baskets = await lists('fetch baskets', `SELECT ord, start, idx FROM (SELECT DISTINCT key, sn, idx FROM numbered WHERE kind = 2) JOIN sessions USING (key, sn)
    ORDER BY ord, idx`, (l) => l.length > 1);
  return { sessions: recent.lists, baskets: baskets.lists, starts: Float64Array.from(recent.starts), views: Number(views) };
}

/** The skipped records, per kind: their count and first few examples with their lines, kinds in order of their first. */
async function report(c: DuckConnection, path: string, src: { delimiter?: string; width: number }, format: Format, problems: Problems): Promise<void> {
  const listed: { kind: string; line: number; place: Place; reason: string }[] = [];
  const counts = new Map<string, number>();
  if (format === 'csv') {
    const [{ n }] = (await rows(c, `SELECT count(DISTINCT line) AS n FROM reject_errors`)) as [{ n: bigint }];
    counts.set(MALFORMED, Number(n));
    const rejected = await rows(c, `SELECT line, first(error_type ORDER BY column_idx) AS type, first(error_message ORDER BY column_idx) AS message
      FROM reject_errors GROUP BY line ORDER BY line LIMIT 5`);
    for (const r of rejected) {
      const found = /Found: (\d+)/.exec(String(r.message));
      const reason = /COLUMNS/.test(String(r.type)) && found ? `has ${found[1]} fields, the header has ${src.width}` : String(r.message).split('\n')[0]!;
      listed.push({ kind: MALFORMED, line: Number(r.line), place: { file: path, line: Number(r.line) }, reason });
    }
  }
  for (const { problem, n } of await rows(c, `SELECT problem, count(*) AS n FROM ev WHERE problem IS NOT NULL GROUP BY problem`)) {
    counts.set(eventProblem(EVENT_PROBLEMS[Number(problem) - 1]!, { id: '', time: '', kind: '' }).kind, Number(n));
  }
  const examples = await rows(c, `SELECT problem, rec, id, time_text, kind_text FROM ev WHERE problem IS NOT NULL QUALIFY row_number() OVER (PARTITION BY problem ORDER BY rec) <= 5`);
  const lines = src.delimiter === undefined ? new Map<number, number>() : await linesOf(path, src.delimiter, src.width, examples.map((e) => Number(e.rec)));
  for (const e of examples) {
    const rec = Number(e.rec);
    const p = eventProblem(EVENT_PROBLEMS[Number(e.problem) - 1]!, { id: String(e.id), time: String(e.time_text), kind: String(e.kind_text) });
    // A JSON line's record is its line (blank lines aside); a Parquet file has rows, not lines.
    const line = format === 'json' ? rec : lines.get(rec) ?? rec;
    listed.push(format === 'parquet' ? { kind: p.kind, line, place: { file: path }, reason: `row ${rec}: ${p.reason}` } : { kind: p.kind, line, place: { file: path, line }, reason: p.reason });
  }
  listed.sort((a, b) => a.line - b.line);
  for (const l of listed) problems.skip(l.kind, l.place, l.reason);
  for (const [kind, n] of counts) problems.skipUnlisted(kind, n - listed.filter((l) => l.kind === kind).length);
}

const MALFORMED = 'malformed event rows';
