import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEvents, parseTimestamp, type EventEngine } from '../../../src/build/events.js';
import { readBaskets, readOutfits } from '../../../src/build/baskets.js';
import { Problems } from '../../../src/build/problems.js';
import { parseColumnSpec } from '../../../src/build/table.js';
import { createRng } from '../../../src/recommend/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'vitrine-events-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const index = new Map(['a', 'b', 'c', 'd', 'e'].map((id, i) => [id, i]));
/** Lists in a canonical order: the readers emit groups as they close, which says nothing. */
const lists = (l: Iterable<ArrayLike<number>>) => [...l].map((x) => Array.from(x)).sort((a, b) => a.join().localeCompare(b.join()));

describe('parseTimestamp', () => {
  it('reads Unix seconds, Unix milliseconds and ISO 8601', () => {
    expect(parseTimestamp('1700000000')).toBe(1_700_000_000_000);
    expect(parseTimestamp('1700000000123')).toBe(1_700_000_000_123);
    expect(parseTimestamp('2026-01-05T10:00:00Z')).toBe(Date.UTC(2026, 0, 5, 10));
    expect(parseTimestamp('2026-01-05 10:00:00+01:00')).toBe(Date.UTC(2026, 0, 5, 9));
    expect(parseTimestamp('2026-01-05 10:00')).toBe(Date.UTC(2026, 0, 5, 10)); // no zone: UTC, whatever the builder's zone
    expect(parseTimestamp('yesterday')).toBeUndefined();
    expect(parseTimestamp('05/01/2026')).toBeUndefined();
  });
});

describe.each(['js', 'duckdb'] as EventEngine[])('readEvents on %s', (engine) => {
  const readSessions = (path: string, o: Parameters<typeof readEvents>[1]) => readEvents(path, { ...o, engine });
  it('splits a user’s events at pauses over 30 minutes, in time order, repeats collapsed; purchases form baskets', async () => {
    const problems = new Problems();
    const path = file('users.csv', [
      'user_id,product_id,timestamp,kind',
      'u1,b,1700000060,view', 'u1,a,1700000000,view', 'u1,b,1700000120,view', 'u1,c,1700000180,view',
      'u2,d,1700000000,view', 'u1,d,1700003000,view', // 47 minutes later: a new session
      'u2,e,1700000100,purchase', 'u2,d,1700000200,purchase', 'u1,e,1700003060,view',
    ].join('\n'));
    const s = await readSessions(path, { index, problems });
    expect(lists(s.sessions)).toEqual([[0, 1, 2], [3], [3, 4]]);
    expect(lists(s.baskets)).toEqual([[3, 4]]);
    expect(s.rows).toBe(9);
    // In time order: u1's first session (t0), u2's (t0, after u1 by id), u1's second.
    expect([...s.sessions].map((x) => Array.from(x))).toEqual([[0, 1, 2], [3], [3, 4]]);
    expect(Array.from(s.starts)).toEqual([1_700_000_000_000, 1_700_000_000_000, 1_700_003_000_000]);
  });

  it('groups by an explicit session id and honours --events-columns and TSV', async () => {
    const problems = new Problems();
    const path = file('diginetica.tsv', 'SessionId\tItemId\tTime\n1\ta\t10\n1\tb\t20\n2\tc\t5\n1\td\t99999\n');
    const s = await readSessions(path, { index, problems, columns: parseColumnSpec('session=SessionId,item=ItemId,time=Time', ['session', 'user', 'item', 'time', 'kind'], '--events-columns') });
    expect(lists(s.sessions)).toEqual([[0, 1, 3], [2]]);
  });

  it('skips rows it cannot use, counting them with their lines, and keeps the rest', async () => {
    const problems = new Problems();
    const path = file('bad.csv', 'session_id,product_id,timestamp,kind\ns1,a,1700000000,view\ns1,zzz,1700000001,view\ns1,b,soon,view\ns1,c,1700000002,like\n,d,1700000003,view\ns1,e,1700000004\ns1,d,1700000005,add_to_cart\n');
    const s = await readSessions(path, { index, problems });
    expect(lists(s.sessions)).toEqual([[0]]);
    expect(problems.count('events naming products not in the catalog')).toBe(1);
    expect(problems.count('events with an unreadable timestamp')).toBe(1);
    expect(problems.count('events of an unknown kind')).toBe(1);
    expect(problems.count('events without a session or user')).toBe(1);
    expect(problems.count('malformed event rows')).toBe(1);
    expect(problems.warnings().join('\n')).toContain('bad.csv line 3: unknown product "zzz"');
  });

  it('says which column is missing, and how to map it', async () => {
    const problems = new Problems();
    await expect(readSessions(file('nouser.csv', 'product_id,timestamp\na,1\n'), { index, problems })).rejects.toThrow(/no session or user column .* --events-columns session=Name or user=Name/);
    await expect(readSessions(file('notime.csv', 'user_id,product_id\nu,a\n'), { index, problems })).rejects.toThrow(/no time column/);
    expect(() => parseColumnSpec('sesion=Id', ['session', 'item'], '--events-columns')).toThrow(/unknown role "sesion" \(roles: session, item\)/);
  });
});

describe('DuckDB and the streaming reader agree', () => {
  // A messy log: interleaved users, equal timestamps, ISO and Unix times, kinds in several spellings,
  // unknown products, unreadable times, empty users, quoted fields, blank lines, short rows.
  const rng = createRng(7);
  const lines = ['user_id,product_id,timestamp,kind'];
  const ids = [...index.keys(), 'gone'];
  let t = 1_700_000_000;
  for (let r = 0; r < 3000; r++) {
    t += rng.int(4) === 0 ? 0 : rng.int(900);
    const user = rng.int(50) === 0 ? '' : `u${rng.int(20)}`;
    const time = rng.int(300) === 0 ? 'later' : rng.int(2) ? String(t) : new Date(t * 1000).toISOString().replace('.000Z', '').replace('T', ' ');
    const kind = ['view', 'view', 'View', 'detail', 'purchase', 'add-to-cart', 'wish'][rng.int(7)]!;
    const id = ids[rng.int(ids.length)]!;
    if (rng.int(200) === 0) lines.push(`${user},${id}`);
    else if (rng.int(100) === 0) lines.push('');
    else lines.push(`${user},${rng.int(2) ? `"${id}"` : id},${time},${kind}`);
  }
  const path = file('messy.csv', lines.join('\n') + '\n');
  const plain = (s: Awaited<ReturnType<typeof readEvents>>) => ({
    sessions: [...s.sessions].map((x) => Array.from(x)), baskets: [...s.baskets].map((x) => Array.from(x)),
    starts: Array.from(s.starts), rows: s.rows, views: s.views,
  });

  it('gives the same sessions, baskets, counts and reported lines for the same log', async () => {
    const [pj, pd] = [new Problems(), new Problems()];
    const js = plain(await readEvents(path, { index, problems: pj, engine: 'js' }));
    const duck = plain(await readEvents(path, { index, problems: pd, engine: 'duckdb' }));
    expect(js.sessions.length).toBeGreaterThan(50);
    expect(js.baskets.length).toBeGreaterThan(5);
    expect(duck).toEqual(js);
    expect(pd.warnings()).toEqual(pj.warnings());
    expect(pj.count('malformed event rows')).toBeGreaterThan(0);
    expect(pj.count('events of an unknown kind')).toBeGreaterThan(100);
  });

  it('reads the same log as Parquet and as JSON lines, and keeps only the latest views when asked', async () => {
    const js = plain(await readEvents(path, { index, problems: new Problems(), engine: 'js' }));
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const from = `read_csv('${path}', columns = {'user_id': 'VARCHAR', 'product_id': 'VARCHAR', 'timestamp': 'VARCHAR', 'kind': 'VARCHAR'}, header = true, auto_detect = false, ignore_errors = true)`;
    await c.run(`COPY (SELECT * FROM ${from}) TO '${join(dir, 'messy.parquet')}' (FORMAT parquet)`);
    await c.run(`COPY (SELECT * FROM ${from}) TO '${join(dir, 'messy.ndjson')}' (FORMAT json)`);
    c.closeSync();
    for (const name of ['messy.parquet', 'messy.ndjson']) {
      const got = plain(await readEvents(join(dir, name), { index, problems: new Problems(), engine: 'duckdb' }));
      expect({ ...got, rows: 0 }, name).toEqual({ ...js, rows: 0 });
    }
    const latest = plain(await readEvents(path, { index, problems: new Problems(), engine: 'duckdb', maxViews: 100 }));
    const tail = js.sessions.slice(-latest.sessions.length);
    expect(latest.sessions).toEqual(tail);
    const kept = tail.reduce((a, x) => a + x.length, 0);
    expect(kept).toBeLessThanOrEqual(100);
    expect(kept + js.sessions[js.sessions.length - latest.sessions.length - 1]!.length).toBeGreaterThan(100);
    expect(plain(await readEvents(path, { index, problems: new Problems(), engine: 'js', maxViews: 100 }))).toEqual(latest);
  });
});

describe('readBaskets and readOutfits', () => {
  it('groups order lines by order, even when an order’s lines are not together', async () => {
    const problems = new Problems();
    const b = await readBaskets(file('orders.csv', 'order_id,product_id\n1,a\n2,c\n1,b\n2,c\n3,d\n2,e\n1,nope\n'), { index, problems });
    expect(lists(b.baskets)).toEqual([[0, 1], [2, 4]]);
    expect(b.timed).toBe(false);
    expect(problems.count('basket lines naming products not in the catalog')).toBe(1);
  });

  it('puts baskets in time order when the log has a time column, and can add unknown products', async () => {
    const problems = new Problems();
    const known = new Map(index);
    const b = await readBaskets(file('timed.csv', 'order_id,product_id,order_date\n1,a,2024-03-02\n2,c,2024-03-01\n1,b,2024-03-02\n2,new,2024-03-01\n3,d,yesterday\n3,e,2024-03-03\n'), { index: known, problems, addUnknown: true });
    expect(b.timed).toBe(true);
    // Order 2 (1 March, with the new product) before order 1 (2 March); order 3 lost its unreadable line.
    expect([...b.baskets].map((x) => Array.from(x))).toEqual([[2, known.get('new')!], [0, 1]]);
    expect(problems.count('basket lines with an unreadable timestamp')).toBe(1);
  });

  it('reads plain lists and Polyvore-style outfits, dropping unknown products', async () => {
    const problems = new Problems();
    const o = await readOutfits(file('outfits.json', JSON.stringify([['a', 'b'], { set_id: 'x', items: [{ item_id: 'c', index: 1 }, { item_id: 'e', index: 2 }, { item_id: 'nope' }] }, ['a']])), { index, problems });
    expect(lists(o)).toEqual([[0, 1], [2, 4]]);
    expect(problems.count('outfit entries naming products not in the catalog')).toBe(1);
    expect(problems.count('outfits with fewer than two known products')).toBe(1);
    await expect(readOutfits(file('o.json', '{"a":1}'), { index, problems })).rejects.toThrow(/expected a JSON array/);
  });
});
