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
/** A paged bundle's index head (`cells/head.bin`): the same layout without the codes, which are in the cell files. */
const HEAD_MAGIC = 0x31484956; // "VIH1"
const HEADER = 28;

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** An index without its codes: what a query needs to pick its cells. */
export type IvfHead = Omit<IvfIndex, 'codes'>;

function encode(index: IvfHead, codes: Uint8Array | undefined): Uint8Array {
  const { dims, count, nlist, nprobe, rowBytes, slots } = index;
  const parts = [index.centroids, index.offsets, index.lo, index.step, slots, ...(codes ? [codes] : [])];
  // Codes come last: only the arrays before them are padded.
  const sizes = parts.map((p, i) => (i < 5 ? pad4(p.byteLength) : p.byteLength));
  const out = new Uint8Array(HEADER + sizes.reduce((a, b) => a + b, 0));
  new Uint32Array(out.buffer, 0, 7).set([codes ? MAGIC : HEAD_MAGIC, dims, count, nlist, nprobe, rowBytes, slots.length]);
  let at = HEADER;
  for (const [i, part] of parts.entries()) {
    out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
    at += sizes[i]!;
  }
  return out;
}

/** The file's bytes for `index`. */
export const encodeIvf = (index: IvfIndex): Uint8Array => encode(index, index.codes);

/** The head file's bytes for `index`: everything but the codes. */
export const encodeIvfHead = (index: IvfHead): Uint8Array => encode(index, undefined);

function decode(bytes: ArrayBuffer, count: number, dims: number, file: string, head: boolean): IvfIndex {
  const fail = (why: string): never => {
    throw new BundleError(file, why);
  };
  if (bytes.byteLength < HEADER) fail('is too short to be a search index');
  const [magic, d, n, nlist, nprobe, rowBytes, slotCount] = new Uint32Array(bytes, 0, 7);
  if (magic !== (head ? HEAD_MAGIC : MAGIC)) fail(`is not a Vitrine search index${head ? ' head' : ''} (no ${head ? 'VIH1' : 'VIV1'} header)`);
  if (d !== dims) fail(`has ${d} dims, similar.dims is ${dims}`);
  if (!(n! >= 1 && n! <= count)) fail(`indexes ${n} products, the bundle has ${count}`);
  if (!(nlist! >= 1 && nlist! <= n!)) fail(`has ${nlist} cells for ${n} products`);
  if (!(nprobe! >= 1 && nprobe! <= nlist!)) fail(`nprobe ${nprobe} is not within its ${nlist} cells`);
  if (!(rowBytes! >= 1 && 2 * rowBytes! <= dims + 1)) fail(`rows of ${rowBytes} bytes do not fit ${dims} dims`);
  if (slotCount! > Math.min(dims, 2 * rowBytes!)) fail(`${slotCount} code slots do not fit rows of ${rowBytes} bytes`);
  const sizes = [nlist! * dims * 4, (nlist! + 1) * 4, dims * 4, dims * 4, pad4(slotCount! * 2), head ? 0 : n! * rowBytes!];
  const expected = HEADER + sizes.reduce((a, b) => a + b, 0);
  if (bytes.byteLength !== expected) fail(`has ${bytes.byteLength} bytes, its header says ${expected}`);
  let at = HEADER;
  const next = (i: number) => ((at += sizes[i]!), at - sizes[i]!);
  const centroids = new Float32Array(bytes, next(0), nlist! * dims);
  const offsets = new Uint32Array(bytes, next(1), nlist! + 1);
  const lo = new Float32Array(bytes, next(2), dims);
  const step = new Float32Array(bytes, next(3), dims);
  const slots = new Uint16Array(bytes, next(4), slotCount!);
  const codes = head ? new Uint8Array(0) : new Uint8Array(bytes, next(5), n! * rowBytes!);
  if (offsets[0] !== 0 || offsets[nlist!] !== n) fail(`cell offsets run from ${offsets[0]} to ${offsets[nlist!]}, not 0 to ${n}`);
  for (let c = 0; c < nlist!; c++) if (offsets[c + 1]! < offsets[c]!) fail(`cell ${c} ends before it starts`);
  for (const s of slots) if (s >= dims) fail(`a code slot names dim ${s} of ${dims}`);
  for (const x of [centroids, lo, step]) for (const v of x) if (!Number.isFinite(v)) fail('holds a number that is not finite');
  return { dims, count: n!, nlist: nlist!, nprobe: nprobe!, centroids, offsets, lo, step, rowBytes: rowBytes!, slots, codes };
}

/**
 * Reads an index file, checking it against the bundle's item count (it may index fewer: see above) and dims; anything that does not
 * add up is a {@link BundleError} naming `file`, so a search can trust every offset.
 */
export const decodeIvf = (bytes: ArrayBuffer, count: number, dims: number, file: string): IvfIndex => decode(bytes, count, dims, file, false);

/** Reads a head file, checked as {@link decodeIvf} checks an index. */
export function decodeIvfHead(bytes: ArrayBuffer, count: number, dims: number, file: string): IvfHead {
  const { codes: _, ...head } = decode(bytes, count, dims, file, true);
  return head;
}

/**
 * One cell of a paged bundle's index (`cells/<c>.bin`), positions `offsets[c]` to `offsets[c+1]`:
 * their int8 rows' scales (f32), the int8 rows (`dims` each), then their 4-bit codes. A query
 * fetches only the cells it scans and rescores from the rows they carry.
 */
export interface IvfCell {
  scales: Float32Array;
  rows: Int8Array;
  codes: Uint8Array;
}

const cellSizes = (n: number, dims: number, rowBytes: number) => [4 * n, n * dims, n * rowBytes];

/** Cell `c`'s bytes: `rows` are the bundle's int8 rows in position order. */
export function encodeIvfCell(index: IvfIndex, rows: { codes: Int8Array; scales: Float32Array }, c: number): Uint8Array {
  const { dims, rowBytes, offsets } = index;
  const [from, to] = [offsets[c]!, offsets[c + 1]!];
  const sizes = cellSizes(to - from, dims, rowBytes);
  const out = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const scales = rows.scales.subarray(from, to);
  const codes = rows.codes.subarray(from * dims, to * dims);
  out.set(new Uint8Array(scales.buffer, scales.byteOffset, scales.byteLength), 0);
  out.set(new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength), sizes[0]!);
  out.set(index.codes.subarray(from * rowBytes, to * rowBytes), sizes[0]! + sizes[1]!);
  return out;
}

/** Reads cell `c` of `head`, its length checked against the cell's size. */
export function decodeIvfCell(bytes: ArrayBuffer, head: IvfHead, c: number, file: string): IvfCell {
  const n = head.offsets[c + 1]! - head.offsets[c]!;
  const sizes = cellSizes(n, head.dims, head.rowBytes);
  const expected = sizes.reduce((a, b) => a + b, 0);
  if (bytes.byteLength !== expected) throw new BundleError(file, `has ${bytes.byteLength} bytes, cell ${c} of ${n} products needs ${expected}`);
  const scales = new Float32Array(bytes, 0, n);
  for (const v of scales) if (!Number.isFinite(v)) throw new BundleError(file, 'holds a scale that is not finite');
  return { scales, rows: new Int8Array(bytes, sizes[0]!, n * head.dims), codes: new Uint8Array(bytes, sizes[0]! + sizes[1]!, n * head.rowBytes) };
}

/**
 * A paged bundle's products past its index's cells (added by `--update`; `cells/tail.bin`): their
 * scales (f32) and int8 rows, positions `from` on. A query scans them all, as an unpaged bundle's.
 */
export function encodeIvfTail(rows: { codes: Int8Array; scales: Float32Array; count: number; dims: number }, from: number): Uint8Array {
  const n = rows.count - from;
  const out = new Uint8Array(4 * n + n * rows.dims);
  const scales = rows.scales.subarray(from);
  out.set(new Uint8Array(scales.buffer, scales.byteOffset, 4 * n), 0);
  const codes = rows.codes.subarray(from * rows.dims);
  out.set(new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength), 4 * n);
  return out;
}

/** Reads a tail file of `n` products. */
export function decodeIvfTail(bytes: ArrayBuffer, n: number, dims: number, file: string): { scales: Float32Array; rows: Int8Array } {
  if (bytes.byteLength !== n * (4 + dims)) throw new BundleError(file, `has ${bytes.byteLength} bytes, ${n} products past the index need ${n * (4 + dims)}`);
  const scales = new Float32Array(bytes, 0, n);
  for (const v of scales) if (!Number.isFinite(v)) throw new BundleError(file, 'holds a scale that is not finite');
  return { scales, rows: new Int8Array(bytes, 4 * n, n * dims) };
}
