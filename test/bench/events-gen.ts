/**
 * A synthetic, seeded browse log for the builder's scale benchmark, written by DuckDB (100M rows
 * in about a minute, where a JS loop writing CSV takes several).
 *
 * The model: `events / 6` visits of six events each, one minute apart; visit v belongs to user
 * hash(v) mod `events / 30` (so a user makes about five visits, at random times, over 60 days)
 * and starts from a product drawn with popularity ∝ rank^-½ (u² of a uniform u); the visit's
 * later views stay among the 16 products after it in the catalog, as browsing a category does. 3% of events are
 * purchases, 5% add-to-carts, the rest views. Columns: user_id, product_id (`p<N>`), timestamp
 * (Unix seconds), kind — CSV with a header, rows in visit order (a log is not sorted by user).
 */
export interface EventLogSpec {
  events: number;
  products: number;
  seed?: number;
}

/** The product ids the log names: `p0` … `p<products-1>`. */
export const productId = (i: number) => `p${i}`;

export async function writeEventLog(path: string, spec: EventLogSpec): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1GB', preserve_insertion_order: 'true' });
  const c = await db.connect();
  const seed = spec.seed ?? 1;
  const users = Math.max(1, Math.floor(spec.events / 30));
  const unit = (x: string) => `(hash(${x}, ${seed}) % 1000000007) / 1000000007.0`;
  try {
    await c.run(`COPY (
      SELECT 'u' || (hash(i // 6, ${seed}) % ${users}) AS user_id,
        'p' || ((floor(${spec.products} * pow(${unit('i // 6')}, 2))::BIGINT + (CASE WHEN i % 6 = 0 THEN 0 ELSE hash(i, ${seed + 1}) % 17 END) + ${spec.products}) % ${spec.products}) AS product_id,
        1700000000 + (hash(i // 6, ${seed + 2}) % 5184000) + (i % 6) * 60 AS timestamp,
        CASE WHEN hash(i, ${seed + 3}) % 100 < 3 THEN 'purchase' WHEN hash(i, ${seed + 3}) % 100 < 8 THEN 'cart' ELSE 'view' END AS kind
      FROM range(${spec.events}) t(i)
    ) TO '${path.replaceAll("'", "''")}' (FORMAT csv, HEADER true)`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
