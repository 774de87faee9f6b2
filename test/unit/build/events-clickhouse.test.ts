import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../../src/build/bundle.js';
import { readEvents } from '../../../src/build/events.js';
import { parseClickHouseUrl } from '../../../src/build/events-clickhouse.js';
import { Problems } from '../../../src/build/problems.js';
import { startCluster, type Cluster } from '../../clickhouse-cluster.js';
import { makeStore, type Store } from './fixture.js';

// A real two-node ClickHouse cluster (Debian's clickhouse-server, which .ci/run installs): the
// store's events split by user over the two shards, read through a Distributed table.
let cluster: Cluster;
let store: Store;
let source: string;
const junk = ['u900,NOPE-1,2026-01-05T10:00:00.000Z,view', 'u901,MUG-1,whenever,view', 'u902,MUG-2,2026-01-05T10:00:00.000Z,like', ',MUG-3,2026-01-05T10:00:00.000Z,view'];

beforeAll(async () => {
  [cluster, store] = await Promise.all([startCluster(), makeStore(8)]);
  const lines = readFileSync(store.events, 'utf8').trim().split('\n');
  // Purchases too, so both engines build baskets: each user's last view is also bought, the one before too.
  const rows = [...lines.slice(1), ...lines.slice(1).filter((_, i) => i % 10 >= 8).map((l) => l.replace(/,view$/, ',purchase'))];
  rows.push(...junk);
  writeFileSync(store.events, [lines[0], ...rows].join('\n') + '\n');
  for (const node of [0, 1]) await cluster.query(node, 'CREATE TABLE events_local (user_id String, product_id String, timestamp String, kind String) ENGINE = MergeTree() ORDER BY user_id');
  await cluster.query(0, 'CREATE TABLE events AS events_local ENGINE = Distributed(vitrine, default, events_local, rand())');
  const tsv = (rs: string[]) => rs.map((r) => r.split(',').join('\t')).join('\n') + '\n';
  const shard = (r: string) => Number(/^u?(\d*)/.exec(r)![1] || 0) % 2;
  await cluster.query(0, 'INSERT INTO events_local FORMAT TSV', tsv(rows.filter((r) => shard(r) === 0)));
  await cluster.query(1, 'INSERT INTO events_local FORMAT TSV', tsv(rows.filter((r) => shard(r) === 1)));
  source = `clickhouse://127.0.0.1:${cluster.http[0]}/default.events`;
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('events in a ClickHouse cluster', () => {
  it('reads the Distributed table over both shards into the sessions DuckDB reads from the same events', async () => {
    const index = new Map(store.ids.map((id, i) => [id, i]));
    const [pc, pd] = [new Problems(), new Problems()];
    const ch = await readEvents(source, { index, problems: pc });
    const duck = await readEvents(store.events, { index, problems: pd });
    const plain = (s: typeof ch) => ({ sessions: [...s.sessions].map((x) => Array.from(x)), baskets: [...s.baskets].map((x) => Array.from(x)), starts: Array.from(s.starts), rows: s.rows, views: s.views });
    expect(ch.sessions.count).toBe(120);
    expect(ch.baskets.count).toBeGreaterThan(20);
    expect(plain(ch)).toEqual(plain(duck));
    for (const kind of ['events naming products not in the catalog', 'events with an unreadable timestamp', 'events of an unknown kind', 'events without a session or user']) {
      expect(pc.count(kind), kind).toBe(1);
      expect(pd.count(kind), kind).toBe(1);
    }
    expect(pc.warnings().join('\n')).toContain(`${source}: user "u900": unknown product "NOPE-1"`);
    // The latest sessions only, as DuckDB keeps them.
    expect(plain(await readEvents(source, { index, problems: new Problems(), maxViews: 40 }))).toEqual(plain(await readEvents(store.events, { index, problems: new Problems(), maxViews: 40 })));
  });

  it('builds the same bundle as DuckDB does from the same events', async () => {
    const common = { name: 'store', catalog: store.catalog, images: store.images, cache: join(store.dir, 'cache'), seed: 3, epochs: 2, log: () => {} };
    await buildBundle({ ...common, events: store.events, out: join(store.dir, 'from-duckdb') });
    await buildBundle({ ...common, events: source, out: join(store.dir, 'from-clickhouse') });
    const manifest = (dir: string) => JSON.parse(readFileSync(join(store.dir, dir, 'manifest.json'), 'utf8')) as { files: Record<string, { sha256: string }>; nextView?: unknown };
    const [a, b] = [manifest('from-duckdb'), manifest('from-clickhouse')];
    expect(a.nextView).toBeDefined();
    expect(b).toEqual(a);
  }, 300_000);

  it('says what is wrong with a ClickHouse source', async () => {
    expect(() => parseClickHouseUrl('clickhouse://db.example:8123/')).toThrow(/clickhouse:\/\/HOST:8123\/DB.TABLE/);
    expect(parseClickHouseUrl('clickhouse://ana:s3cret@db.example/shop.events')).toMatchObject({ url: 'http://db.example:8123/', user: 'ana', password: 's3cret', database: 'shop', table: 'events', name: 'clickhouse://db.example:8123/shop.events' });
    const index = new Map(store.ids.map((id, i) => [id, i]));
    await expect(readEvents(`clickhouse://127.0.0.1:${cluster.http[0]}/default.nope`, { index, problems: new Problems() })).rejects.toThrow(/default.nope: ClickHouse says: .*doesn't exist/);
    await expect(readEvents('clickhouse://127.0.0.1:9/default.events', { index, problems: new Problems() })).rejects.toThrow(/cannot reach ClickHouse/);
  });
});
