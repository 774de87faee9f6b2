/**
 * One aggregation of an event log, in its own process so its peak memory is its own: the builder's
 * events step (`readEvents`) over `--events FILE` against a catalog of `--products N` ids (`p0`…).
 * Prints one JSON line: `{ engine, rows, sessions, views, baskets, seconds, eventsPerSecond, peakRss }`
 * (peakRss in bytes: the process's maximum resident set, DuckDB's native memory included).
 *
 *   npx tsx test/bench/aggregate-events.mts --engine duckdb|js --events FILE --products N
 */
import { parseArgs } from 'node:util';
import { MAX_VIEWS, readEvents } from '../../src/build/events.js';
import { Problems } from '../../src/build/problems.js';

import { productId } from './events-gen.js';

const { values } = parseArgs({ options: { engine: { type: 'string' }, events: { type: 'string' }, products: { type: 'string' } } });
const engine = values.engine === 'js' ? 'js' : 'duckdb';
const products = Number(values.products ?? 100_000);
const index = new Map(Array.from({ length: products }, (_, i) => [productId(i), i]));
const t = performance.now();
const data = await readEvents(values.events!, { index, problems: new Problems(), engine, maxViews: MAX_VIEWS });
const seconds = (performance.now() - t) / 1000;
process.stdout.write(JSON.stringify({
  engine, rows: data.rows, sessions: data.sessions.count, views: data.views, baskets: data.baskets.count,
  seconds, eventsPerSecond: data.rows / seconds, peakRss: process.resourceUsage().maxRSS * 1024,
}) + '\n');
