import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { buildBundle, type BundleOptions } from './bundle.js';
import { embedSlice, mergeCaches, type EmbedOptions } from './embed-step.js';
import { updateBundle } from './update.js';
import { EVENT_COLUMNS } from './events.js';
import { BASKET_COLUMNS } from './baskets.js';
import { UserError } from './problems.js';
import { parseColumnSpec } from './table.js';

const HELP = `vitrine — on-device product recommendations

Usage:
  vitrine bundle --catalog products.csv --images ./images --out models/mystore [options]
  vitrine embed --catalog products.csv --images ./images --cache DIR [--shard I/N] [options]
  vitrine merge-cache --cache DIR PART_DIR...
  vitrine --version | --help

vitrine bundle: a store's catalog, images and events in, a verified model bundle out.

Inputs:
  --catalog FILE          products: CSV, TSV or JSON lines (id, title, url, image, price,
                          currency, category, brand, in_stock; other columns are kept)
  --images DIR            folder that catalog image paths are relative to
  --events FILE|URL       browse log: session_id or user_id, product_id, timestamp, kind
                          (view|cart|purchase); CSV, TSV, Parquet or NDJSON, or a ClickHouse
                          table: clickhouse://[user:password@]HOST:8123/DB.TABLE
  --events-columns SPEC   other column names: session=SessionId,item=ItemId,time=Time,kind=Type
                          (roles: session or user, item, time, kind)
  --session-gap MINUTES   a pause this long starts a new session (default 30)
  --max-views N           learn from the latest sessions holding N views (default 5,000,000)
  --engine duckdb|js      what aggregates the events: DuckDB, embedded (default; reads
                          CSV/TSV, Parquet and NDJSON, spills to disk), or the streaming JS reader
  --baskets FILE          purchase log, one row per order line: order_id, product_id
  --baskets-columns SPEC  other column names: order=OrderNo,item=Sku
  --outfits FILE          JSON: lists of product ids that go together
  --url-template T        product URL when the catalog has none: "/products/{id}"
  --skip-invalid FILE     build without broken catalog rows instead of failing; they go to
                          FILE (CSV: line, id, reason). Prices like 129,00 are read in
                          ;-delimited files either way

Output:
  --out DIR               the bundle folder (replaced only when the build succeeds)
  --update                refresh the bundle at --out from --catalog without retraining:
                          titles, prices and stock; new products embedded and appended
                          (products gone from the catalog stay, out of stock)
  --name NAME             bundle name (default: the folder's name)
  --thumbnails MODE       auto (default: for images given as files), all, none
  --thumbnail-size PX     longest side of thumbnails (default 256)
  --thumbnail-format F    webp (default) or jpeg

Models:
  --image-model FILE      a TF.js model.json (layers or graph) instead of the built-in MobileNetV2
  --image-model-layer L   layers models: take features from this layer
  --image-model-range R   pixel range the model expects: 0,1 (default), -1,1 or 0,255
  --image-size PX         input side, for models whose input size is not fixed
  --link-image-model      reference the image model where it lies instead of copying it in
  --dims N                embedding dimensions (default 64)
  --index-above N         catalogs with more products get a search index (4-bit codes in
                          cells, products listed in cell order) instead of a scan (default 200000)
  --page-above N          catalogs with more products get a paged bundle: every product's rows
                          precomputed into small page files, so a product page fetches kilobytes,
                          not the catalog (default 200000; 0 pages any catalog)
  --min-support N         goes with: pairs seen together fewer times are ignored
  --epochs N              next view: GRU epochs at most (default 20; early stopping on
                          held-back sessions usually ends sooner)
  --seed N                random seed (default 7): same inputs and seed, same bundle
  --lint FILE             also write a CSV of products whose image says another category
                          than the catalog gives (most confident first), to fix catalog errors

Other:
  --cache DIR             feature and thumbnail cache (default .cache/vitrine); re-runs only
                          embed new or changed images

vitrine embed: fills a cache with one slice of the catalog's image work (features and
thumbnails), so N machines share a large catalog: each runs --shard I/N (1-based) with its own
--cache, vitrine merge-cache joins the folders, and vitrine bundle --cache on the merged folder
embeds nothing. Takes bundle's --catalog, --images, --url-template, --skip-invalid, image model
and thumbnail flags (give bundle the same ones); an interrupted run resumes where it stopped.
  --shard I/N             this machine's slice: rows I of N contiguous runs (default 1/1)
  --no-progress           no progress bars
  --debug                 show stack traces of internal errors
`;

const MERGE_OPTIONS = { cache: { type: 'string' }, help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } } as const;

const EMBED_OPTIONS = {
  catalog: { type: 'string' }, images: { type: 'string' }, 'url-template': { type: 'string' }, 'skip-invalid': { type: 'string' }, thumbnails: { type: 'string' },
  'thumbnail-size': { type: 'string' }, 'thumbnail-format': { type: 'string' }, 'image-model': { type: 'string' },
  'image-model-layer': { type: 'string' }, 'image-model-range': { type: 'string' }, 'image-size': { type: 'string' },
  cache: { type: 'string' }, shard: { type: 'string' }, 'no-progress': { type: 'boolean' }, debug: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

const OPTIONS = {
  catalog: { type: 'string' }, images: { type: 'string' }, events: { type: 'string' }, 'events-columns': { type: 'string' },
  'session-gap': { type: 'string' }, 'max-views': { type: 'string' }, engine: { type: 'string' }, baskets: { type: 'string' }, 'baskets-columns': { type: 'string' }, outfits: { type: 'string' },
  'url-template': { type: 'string' }, 'skip-invalid': { type: 'string' }, out: { type: 'string' }, name: { type: 'string' }, thumbnails: { type: 'string' },
  'thumbnail-size': { type: 'string' }, 'thumbnail-format': { type: 'string' }, 'image-model': { type: 'string' },
  'image-model-layer': { type: 'string' }, 'image-model-range': { type: 'string' }, 'image-size': { type: 'string' },
  'link-image-model': { type: 'boolean' }, dims: { type: 'string' }, 'min-support': { type: 'string' },
  epochs: { type: 'string' }, 'index-above': { type: 'string' }, 'page-above': { type: 'string' }, seed: { type: 'string' }, lint: { type: 'string' }, cache: { type: 'string' }, 'no-progress': { type: 'boolean' },
  debug: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, update: { type: 'boolean' },
} as const;

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`--${name} ${v}: expected a whole number from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UserError(`--${name} ${v}: expected one of ${allowed.join(', ')}`);
  return v as T;
}

type Flags = Record<string, string | boolean | undefined>;

function flags(argv: string[], options: NonNullable<ParseArgsConfig['options']>, command: string, positionals = false): { values: Flags; positionals: string[] } {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: positionals }) as { values: Flags; positionals: string[] };
  } catch (e) {
    throw new UserError(`${(e as Error).message.replace(/\. To specify.*$/s, '')} (see vitrine ${command} --help)`);
  }
}

/** The image step's flags, shared by bundle and embed. */
function imageFlags(values: Flags) {
  const s = (k: string) => values[k] as string | undefined;
  let range: [number, number] | undefined;
  if (s('image-model-range')) {
    const r = s('image-model-range')!.split(',').map(Number);
    if (r.length !== 2 || r.some((x) => !Number.isFinite(x)) || r[0]! >= r[1]!) throw new UserError(`--image-model-range ${s('image-model-range')}: expected low,high such as 0,1 or -1,1`);
    range = [r[0]!, r[1]!];
  }
  return {
    images: s('images'),
    urlTemplate: s('url-template'),
    thumbnails: oneOf('thumbnails', s('thumbnails'), ['auto', 'all', 'none'] as const),
    thumbnailSize: int('thumbnail-size', s('thumbnail-size'), 16, 2048),
    thumbnailFormat: oneOf('thumbnail-format', s('thumbnail-format'), ['webp', 'jpeg'] as const),
    imageModel: s('image-model'),
    imageModelLayer: s('image-model-layer'),
    imageModelRange: range,
    imageSize: int('image-size', s('image-size'), 16, 1024),
    cacheDir: s('cache') ?? '.cache/vitrine',
    progress: values['no-progress'] ? false : undefined,
  };
}

/** Turns the command line into bundle options; throws a UserError naming the bad flag. */
export function parseBundleArgs(argv: string[]): BundleOptions & { help?: boolean; debug?: boolean; update?: boolean } {
  const { values } = flags(argv, OPTIONS, 'bundle');
  const s = (k: string) => values[k] as string | undefined;
  if (values.help) return { catalog: '', out: '', help: true };
  if (!s('catalog')) throw new UserError('--catalog is required (see vitrine bundle --help)');
  if (!s('out')) throw new UserError('--out is required: the folder to write the bundle to');
  return {
    ...imageFlags(values),
    catalog: s('catalog')!,
    out: s('out')!,
    events: s('events'),
    eventsColumns: s('events-columns') ? parseColumnSpec(s('events-columns')!, Object.keys(EVENT_COLUMNS), '--events-columns') : undefined,
    sessionGapMinutes: int('session-gap', s('session-gap'), 1, 60 * 24 * 7),
    maxViews: int('max-views', s('max-views'), 1, Number.MAX_SAFE_INTEGER),
    engine: oneOf('engine', s('engine'), ['duckdb', 'js'] as const),
    baskets: s('baskets'),
    basketsColumns: s('baskets-columns') ? parseColumnSpec(s('baskets-columns')!, Object.keys(BASKET_COLUMNS), '--baskets-columns') : undefined,
    outfits: s('outfits'),
    name: s('name'),
    linkImageModel: values['link-image-model'] as boolean | undefined,
    dims: int('dims', s('dims'), 2, 1024),
    indexAbove: int('index-above', s('index-above'), 0, 1e9),
    pageAbove: int('page-above', s('page-above'), 0, 1e9),
    minSupport: int('min-support', s('min-support'), 1, 1_000_000),
    epochs: int('epochs', s('epochs'), 1, 1000),
    seed: int('seed', s('seed'), 0, 2 ** 31 - 1),
    lint: s('lint'),
    debug: values.debug as boolean | undefined,
    update: values.update as boolean | undefined,
    skipInvalid: s('skip-invalid'),
  };
}

/** Turns `vitrine embed`'s command line into its options. */
export function parseEmbedArgs(argv: string[]): EmbedOptions & { help?: boolean } {
  const { values } = flags(argv, EMBED_OPTIONS, 'embed');
  if (values.help) return { catalog: '', help: true };
  if (!values.catalog) throw new UserError('--catalog is required (see vitrine embed --help)');
  if (!values.cache) throw new UserError('--cache is required: the folder this slice of the work goes to');
  let shard: EmbedOptions['shard'];
  if (values.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.shard as string);
    const [i, n] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
    if (!(n >= 1 && i >= 1 && i <= n)) throw new UserError(`--shard ${values.shard}: expected I/N with 1 ≤ I ≤ N, such as 2/8`);
    shard = { index: i - 1, count: n };
  }
  return { ...imageFlags(values), catalog: values.catalog as string, shard, skipInvalid: values['skip-invalid'] as string | undefined };
}

function version(): string {
  const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '../../package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** Runs the command line; resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const debug = argv.includes('--debug');
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(HELP);
      return command ? 0 : 2;
    }
    if (command === '--version') {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    if (command === 'embed') {
      const opts = parseEmbedArgs(rest);
      if (opts.help) process.stdout.write(HELP);
      else await embedSlice(opts);
      return 0;
    }
    if (command === 'merge-cache') {
      const { values, positionals } = flags(rest, MERGE_OPTIONS, 'merge-cache', true);
      if (values.help) return process.stdout.write(HELP), 0;
      if (!values.cache || !positionals.length) throw new UserError('merge-cache needs --cache DIR (the merged cache) and one or more part folders');
      const { copied, present } = await mergeCaches(values.cache as string, positionals);
      process.stderr.write(`merged ${positionals.length} caches into ${values.cache}: ${copied} files copied, ${present} already there\n`);
      return 0;
    }
    if (command !== 'bundle') throw new UserError(`unknown command "${command}" (commands: bundle, embed, merge-cache; see vitrine --help)`);
    const opts = parseBundleArgs(rest);
    if (opts.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (opts.update) {
      const ignored = (['events', 'baskets', 'outfits', 'lint'] as const).filter((k) => opts[k]);
      if (ignored.length) throw new UserError(`--update takes the catalog and its images only (it retrains nothing); drop ${ignored.map((k) => `--${k}`).join(', ')}`);
      await updateBundle(opts);
      return 0;
    }
    const report = await buildBundle(opts);
    const s = report.seconds;
    process.stderr.write(`done in ${Object.values(s).reduce((a, b) => a + b, 0).toFixed(1)} s (${Object.entries(s).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')})\n`);
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`vitrine: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`vitrine: internal error: ${(e as Error).message}\n${debug ? `${(e as Error).stack}\n` : 'Run again with --debug for details, and please report it.\n'}`);
    return 1;
  }
}

// Started as a program (bin/vitrine.js imports this module with the arguments).
export async function run(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2));
}
