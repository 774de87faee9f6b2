/**
 * The readers of a paged bundle (bundle/pages.ts): page and meta files and the search index's
 * cells, each verified against its sums file. Loaded by the reader on first use (its own chunk).
 */
import { BundleError, parseJson, type BundleItem, type Manifest } from './format.js';
import type { IvfCell, IvfHead } from './ivf-file.js';
import { CELLS_HEAD, cellPath, MAX_SHARD_BYTES, metaPath, pageOf, pagePath, shardCount, SUMS_PER_FILE, sumsPath, validateMeta, validatePage, type PagedSection, type PageRecord, type ShardKind } from './pages.js';

/** What a paged bundle's reader adds to a bundle's. */
export interface Paging {
  /** A paged bundle's record of a product, with its rows' lists (undefined: not in the catalog). */
  page(id: string): Promise<PageRecord | undefined>;
  /** A paged bundle's products by index, from the meta files they are in. */
  products(indices: readonly number[]): Promise<BundleItem[]>;
  /** A paged bundle's search index without its codes (`paged.cells`: it has one). */
  ivfHead(): Promise<IvfHead>;
  /** A paged bundle's index cell `c`: its products' codes and int8 rows. */
  cell(c: number): Promise<IvfCell>;
  /** A paged bundle's products past its index's cells (added by an update): their int8 rows, positions `from` on. */
  ivfTail(): Promise<{ from: number; scales: Float32Array; rows: Int8Array } | undefined>;
}

/** A paged bundle's page and meta files, each verified against its sums file (bundle/pages.ts). */
export function paging(
  manifest: Manifest,
  verified: (path: string, entry: { sha256: string | Promise<string> }, max: number) => Promise<ArrayBuffer>,
  file: (path: string) => Promise<ArrayBuffer>,
  cached: <T>(key: string, load: () => Promise<T>) => Promise<T>,
): Paging {
  const count = manifest.items.count;
  const paged = (): PagedSection => {
    if (!manifest.paged) throw new BundleError('manifest.json', 'is not a paged bundle');
    return manifest.paged;
  };
  /** A page, meta or cell file, fetched while its sums file is (one round trip, not two), then checked against it. */
  const shard = (kind: ShardKind, n: number, path: string) => {
    const chunk = Math.floor(n / SUMS_PER_FILE);
    const total = shardCount(paged(), kind);
    if (!(Number.isInteger(n) && n >= 0 && n < total)) return Promise.reject(new BundleError(path, `is not one of the bundle's ${total} ${kind} files`));
    const sha256 = file(sumsPath(kind, chunk)).then((buffer) => {
      const sums = new Uint8Array(buffer);
      if (sums.length !== 32 * Math.min(SUMS_PER_FILE, total - chunk * SUMS_PER_FILE)) throw new BundleError(sumsPath(kind, chunk), `has ${sums.length} bytes, not 32 for each of its files`);
      const at = (n % SUMS_PER_FILE) * 32;
      return Array.from(sums.subarray(at, at + 32), (b) => b.toString(16).padStart(2, '0')).join('');
    });
    return verified(path, { sha256 }, MAX_SHARD_BYTES);
  };
  const json = async (kind: ShardKind, n: number, path: string) => parseJson(await shard(kind, n, path), path);
  const checked = <T>(path: string, check: () => T): T => {
    try {
      return check();
    } catch (e) {
      throw e instanceof BundleError ? e : new BundleError(path, String((e as Error).message).replace(`${path}: `, ''));
    }
  };
  const pageFile = (n: number) =>
    cached(`page:${n}`, async () => {
      const raw = await json('pages', n, pagePath(n));
      return checked(pagePath(n), () => validatePage(raw, n, paged(), count));
    });
  const metaFile = (n: number) =>
    cached(`meta:${n}`, async () => {
      const raw = await json('meta', n, metaPath(n));
      return checked(metaPath(n), () => validateMeta(raw, n, paged(), count));
    });
  const ivfHead = () =>
    cached('ivf-head', async () => {
      const cells = paged().cells;
      if (!cells) throw new BundleError('manifest.json', 'has no search index cells (paged.cells)');
      const head = (await import('./ivf-file.js')).decodeIvfHead(await file(CELLS_HEAD), count, manifest.similar?.dims ?? 0, CELLS_HEAD);
      // Products an update added sit past the cells, in the tail file.
      if (head.nlist !== cells || head.count > count || (head.count < count && !paged().tail)) throw new BundleError(CELLS_HEAD, `has ${head.nlist} cells for ${head.count} products, the manifest says ${cells} for ${count}${paged().tail ? '' : ' (and lists no tail file)'}`);
      return head;
    });
  const ivfTail = () =>
    cached('ivf-tail', async () => {
      const [head, path] = [await ivfHead(), paged().tail];
      if (!path || head.count === count) return undefined;
      const { decodeIvfTail } = await import('./ivf-file.js');
      return { from: head.count, ...decodeIvfTail(await file(path), count - head.count, head.dims, path) };
    });
  return {
    page: async (id) => {
      const records = await pageFile(pageOf(id, paged().pages));
      return Object.hasOwn(records, id) ? records[id] : undefined;
    },
    products: async (indices) => {
      const size = paged().metaSize;
      const files = await Promise.all([...new Set(indices.map((i) => Math.floor(i / size)))].map(async (n) => [n, await metaFile(n)] as const));
      const byFile = new Map(files);
      return indices.map((i) => byFile.get(Math.floor(i / size))![i % size]!);
    },
    ivfHead,
    ivfTail,
    cell: (c) =>
      cached(`cell:${c}`, async () => {
        const [head, bytes, { decodeIvfCell }] = await Promise.all([ivfHead(), shard('cells', c, cellPath(c)), import('./ivf-file.js')]);
        return decodeIvfCell(bytes, head, c, cellPath(c));
      }),
  };
}

