/**
 * `vitrine bundle --update`: a bundle refreshed from today's catalog without retraining — prices,
 * titles and stock change hourly, a full build does not need to. Existing products take the
 * catalog's fields (products gone from the catalog are kept, out of stock); new products are
 * embedded with the bundle's own image model and head, appended (to the similar row's codes; past
 * the search index's cells, where a query scans them), given goes-with lists by the bundle's pair
 * model, and a row of zeros in the next-view GRU's item table (it never predicts them). Every other
 * file is carried over; the manifest lists the new checksums, so the widget reads the new files on
 * the next page view. A paged bundle (bundle/pages.ts): see build/update-paged.ts.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BundleError, validateItems, validateTopK, type BundleItem, type Manifest } from '../bundle/format.js';
import { decodeSessions, encodeSessions } from '../bundle/session-file.js';
import { BundleWriter } from '../bundle/writer.js';
import type { TensorHeader } from '../bundle/tensor-file.js';
import { encodeLists } from '../recommend/goes-with.js';
import { readCatalogFor } from './catalog.js';
import { Problems } from './problems.js';
import { updatePaged } from './update-paged.js';
import { appendAdded, applyCatalog, embedNew, grownCodes, extendPairModel, growItemTable, readBundleFiles, replaceBeside, updated as done, type Added, type UpdateOptions, type UpdateReport } from './update-steps.js';

export type { UpdateOptions, UpdateReport } from './update-steps.js';

export async function updateBundle(opts: UpdateOptions): Promise<UpdateReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const t0 = performance.now();
  const dir = resolve(opts.out);
  const { manifest, files } = await readBundleFiles(dir);
  const json = (path: string): unknown => JSON.parse(new TextDecoder().decode(files.get(path)!));
  const count = manifest.items.count;
  if (manifest.paged) return updatePaged(opts, dir, manifest, files, t0);
  if (!manifest.items.file) throw new BundleError('manifest.json', 'names no items file');
  const itemsFile = manifest.items.file;
  const items = validateItems(json(itemsFile), count, itemsFile);
  const catalog = await readCatalogFor(opts, log);
  log(`update: ${count} products in ${opts.out}, ${catalog.length} in ${opts.catalog}`);
  const { updated, fresh, changed, gone } = applyCatalog(items, catalog);

  // New products: embedded as the builder would, with the bundle's own model and head.
  const problems = new Problems();
  const added = await embedNew(fresh, dir, manifest, files, opts, problems, log);
  const total = count + added.length;

  // The new bundle: every file carried over, the changed ones replaced.
  const out = new Map(files);
  const assets = manifest.assets ? (json(manifest.assets) as Record<string, { bytes: number; sha256: string }>) : {};
  const newAssets = appendAdded(updated, added, count, opts);
  out.set(itemsFile, new TextEncoder().encode(JSON.stringify(updated)));
  if (added.length) growFiles(out, manifest, files, updated, added);

  // Written beside the bundle, then moved into place, as a build does.
  await replaceBeside(dir, async (tmp) => {
    const w = new BundleWriter(tmp);
    const thumbs = new BundleWriter(tmp);
    for (const path of Object.keys(assets)) thumbs.add(path, await readFile(join(dir, path)));
    for (const [path, bytes] of newAssets) thumbs.add(path, bytes);
    const put = (path: string) => (path.startsWith('../') ? w.record(path, out.get(path)!) : w.add(path, out.get(path)!));
    for (const path of Object.keys(manifest.files)) if (path !== manifest.assets) put(path);
    if (manifest.assets) w.add(manifest.assets, JSON.stringify(thumbs.listed()));
    const { format: _f, version: _v, files: _files, ...fieldsOf } = manifest;
    w.finish({ ...fieldsOf, items: { ...manifest.items, count: total } });
  });
  return done(opts, problems, t0, { changed, added: added.length, gone, total });
}

/**
 * The files that grow with `added` products (indices from the bundle's count on), replaced in `out`:
 * their int8 codes, goes-with lists from the pair model (which gains their legs), the session
 * sample's item count, and a row of zeros in the GRU's item table.
 */
function growFiles(out: Map<string, Uint8Array>, manifest: Manifest, files: Map<string, Uint8Array>, updated: readonly BundleItem[], added: readonly Added[]): void {
  const count = manifest.items.count;
  const total = count + added.length;
  const json = (path: string): unknown => JSON.parse(new TextDecoder().decode(files.get(path)!));
  if (manifest.similar) out.set(manifest.similar.codes, new Uint8Array(grownCodes(files, manifest.similar, added).buffer));
  const c = manifest.complementary;
  if (c?.file) {
    const file = c.file;
    const lists = validateTopK(json(file), count, file);
    let pairLists = added.map(() => [] as [number, number][]);
    if (c.pairModel) {
      const { lists: more, bytes } = extendPairModel(c.pairModel, files, updated, added, count, c.method.k);
      pairLists = more;
      out.set(c.pairModel.weights, bytes.data);
      out.set(c.pairModel.model, new TextEncoder().encode(JSON.stringify(bytes.header)));
    }
    out.set(file, new TextEncoder().encode(encodeLists([...lists, ...pairLists])));
  }
  if (manifest.nextView?.sessions) {
    const path = manifest.nextView.sessions;
    out.set(path, encodeSessions(decodeSessions(files.get(path)!, count, path), total));
  }
  const nv = manifest.nextView?.model;
  if (nv) {
    const grown = growItemTable(JSON.parse(new TextDecoder().decode(files.get(nv.model)!)) as TensorHeader, files.get(nv.weights)!, total, nv.model);
    out.set(nv.weights, grown.data);
    out.set(nv.model, new TextEncoder().encode(JSON.stringify(grown.header)));
  }
}

