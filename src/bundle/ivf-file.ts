/**
 * The similar row's search index (recommend/ivf.ts) as a bundle file, written for catalogs too large
 * to scan. Little-endian, every section 4-byte aligned so the reader takes typed-array views:
 *
 * - a 4-byte magic `VIV1`; then u32 `dims`, `count`, `nlist`, `nprobe`, `rowBytes`, `slotCount`;
 * - f32 centres (`nlist × dims`), u32 offsets (`nlist + 1`), f32 `lo` and `step` (`dims` each),
 *   u16 slots (`slotCount`, padded to 4 bytes), then the codes (`count × rowBytes` bytes).
 *
 * Positions are the bundle's item indices: the builder lists products in the index's cell order.
 * An updated bundle (`vitrine bundle --update`) may list products past the index's `count`: products
 * added since the index was built, which a search scans.
 */
import type { IvfIndex } from '../recommend/ivf.js';
import { BundleError } from './format.js';

const MAGIC = 0x31564956; // "VIV1" read as a little-endian u32
const HEADER = 28;

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** The file's bytes for `index`. */
export function encodeIvf(index: IvfIndex): Uint8Array {
  const { dims, count, nlist, nprobe, rowBytes, slots } = index;
  const sizes = [nlist * dims * 4, (nlist + 1) * 4, dims * 4, dims * 4, pad4(slots.length * 2), count * rowBytes];
  const out = new Uint8Array(HEADER + sizes.reduce((a, b) => a + b, 0));
  new Uint32Array(out.buffer, 0, 7).set([MAGIC, dims, count, nlist, nprobe, rowBytes, slots.length]);
  let at = HEADER;
  for (const [i, part] of [index.centroids, index.offsets, index.lo, index.step, index.slots, index.codes].entries()) {
    out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
    at += sizes[i]!;
  }
  return out;
}

/**
 * Reads an index file, checking it against the bundle's item count (it may index fewer: see above) and dims; anything that does not
 * add up is a {@link BundleError} naming `file`, so a search can trust every offset.
 */
export function decodeIvf(bytes: ArrayBuffer, count: number, dims: number, file: string): IvfIndex {
  const fail = (why: string): never => {
    throw new BundleError(file, why);
  };
  if (bytes.byteLength < HEADER) fail('is too short to be a search index');
  const [magic, d, n, nlist, nprobe, rowBytes, slotCount] = new Uint32Array(bytes, 0, 7);
  if (magic !== MAGIC) fail('is not a Vitrine search index (no VIV1 header)');
  if (d !== dims) fail(`has ${d} dims, similar.dims is ${dims}`);
  if (!(n! >= 1 && n! <= count)) fail(`indexes ${n} products, the bundle has ${count}`);
  if (!(nlist! >= 1 && nlist! <= n!)) fail(`has ${nlist} cells for ${n} products`);
  if (!(nprobe! >= 1 && nprobe! <= nlist!)) fail(`nprobe ${nprobe} is not within its ${nlist} cells`);
  if (!(rowBytes! >= 1 && 2 * rowBytes! <= dims + 1)) fail(`rows of ${rowBytes} bytes do not fit ${dims} dims`);
  if (slotCount! > Math.min(dims, 2 * rowBytes!)) fail(`${slotCount} code slots do not fit rows of ${rowBytes} bytes`);
  const sizes = [nlist! * dims * 4, (nlist! + 1) * 4, dims * 4, dims * 4, pad4(slotCount! * 2), n! * rowBytes!];
  const expected = HEADER + sizes.reduce((a, b) => a + b, 0);
  if (bytes.byteLength !== expected) fail(`has ${bytes.byteLength} bytes, its header says ${expected}`);
  let at = HEADER;
  const next = (i: number) => ((at += sizes[i]!), at - sizes[i]!);
  const centroids = new Float32Array(bytes, next(0), nlist! * dims);
  const offsets = new Uint32Array(bytes, next(1), nlist! + 1);
  const lo = new Float32Array(bytes, next(2), dims);
  const step = new Float32Array(bytes, next(3), dims);
  const slots = new Uint16Array(bytes, next(4), slotCount!);
  const codes = new Uint8Array(bytes, next(5), n! * rowBytes!);
  if (offsets[0] !== 0 || offsets[nlist!] !== n) fail(`cell offsets run from ${offsets[0]} to ${offsets[nlist!]}, not 0 to ${n}`);
  for (let c = 0; c < nlist!; c++) if (offsets[c + 1]! < offsets[c]!) fail(`cell ${c} ends before it starts`);
  for (const s of slots) if (s >= dims) fail(`a code slot names dim ${s} of ${dims}`);
  for (const x of [centroids, lo, step]) for (const v of x) if (!Number.isFinite(v)) fail('holds a number that is not finite');
  return { dims, count: n!, nlist: nlist!, nprobe: nprobe!, centroids, offsets, lo, step, rowBytes: rowBytes!, slots, codes };
}
