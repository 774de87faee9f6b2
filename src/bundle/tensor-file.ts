/**
 * A small container for a model's weights: a JSON header describing each tensor (name, shape,
 * storage) and one binary file. Storage is `float32`, `float16` (half the bytes, ~3 significant
 * digits) or `int8` with one float32 scale per row (a quarter of the bytes) — the item tables
 * that dominate a recommender's size. No code, no TF.js: readable in a worker before TF.js loads.
 */

export type Storage = 'float32' | 'float16' | 'int8';

export interface TensorEntry {
  name: string;
  shape: number[];
  storage: Storage;
  /** Byte offset of the data in the binary file (4-byte aligned). */
  offset: number;
  /** int8 only: byte offset of the per-row float32 scales. */
  scalesOffset?: number;
}

export interface TensorHeader {
  format: 'vitrine-tensors';
  version: 1;
  tensors: TensorEntry[];
  /** Model hyper-parameters (sizes, kind). */
  config: Record<string, number | string>;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 half precision, round to nearest even. */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  storage: Storage;
}

const align4 = (n: number) => (n + 3) & ~3;

/** Packs tensors into a header and one binary blob. */
export function encodeTensors(tensors: readonly NamedTensor[], config: TensorHeader['config']): { header: TensorHeader; data: Uint8Array } {
  const entries: TensorEntry[] = [];
  let size = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`${t.name}: shape ${t.shape.join('×')} does not match ${t.data.length} values`);
    const entry: TensorEntry = { name: t.name, shape: t.shape, storage: t.storage, offset: size };
    size = align4(size + n * (t.storage === 'float32' ? 4 : t.storage === 'float16' ? 2 : 1));
    if (t.storage === 'int8') {
      entry.scalesOffset = size;
      size += 4 * t.shape[0]!;
    }
    entries.push(entry);
  }
  const data = new Uint8Array(size);
  const view = new DataView(data.buffer);
  tensors.forEach((t, k) => {
    const e = entries[k]!;
    if (t.storage === 'float32') t.data.forEach((v, i) => view.setFloat32(e.offset + 4 * i, v, true));
    else if (t.storage === 'float16') t.data.forEach((v, i) => view.setUint16(e.offset + 2 * i, toHalf(v), true));
    else {
      const rows = t.shape[0]!;
      const cols = t.data.length / rows;
      for (let r = 0; r < rows; r++) {
        let max = 0;
        for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(t.data[r * cols + c]!));
        const scale = max > 0 ? max / 127 : 1;
        view.setFloat32(e.scalesOffset! + 4 * r, scale, true);
        for (let c = 0; c < cols; c++) view.setInt8(e.offset + r * cols + c, Math.round(t.data[r * cols + c]! / scale));
      }
    }
  });
  return { header: { format: 'vitrine-tensors', version: 1, tensors: entries, config }, data };
}

/** Unpacks tensors to float32, checking every entry against the blob's size first. */
export function decodeTensors(header: TensorHeader, data: ArrayBuffer, file = 'tensors'): Map<string, { shape: number[]; data: Float32Array }> {
  if (header?.format !== 'vitrine-tensors' || header.version !== 1 || !Array.isArray(header.tensors)) {
    throw new Error(`${file}: not a vitrine-tensors v1 header`);
  }
  const view = new DataView(data);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  // Where each tensor's bytes lie; together they must tile the file as encodeTensors lays it out.
  const spans: [number, number, string][] = [];
  for (const e of header.tensors) {
    if (typeof e !== 'object' || !e) throw new Error(`${file}: a tensor entry is not an object`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d > 0 && d < 1e8)) throw new Error(`${file}: ${e.name} has an invalid shape`);
    const n = e.shape.reduce((a, b) => a * b, 1);
    const width = e.storage === 'float32' ? 4 : e.storage === 'float16' ? 2 : e.storage === 'int8' ? 1 : NaN;
    const end = e.offset + n * width;
    const scalesEnd = e.storage === 'int8' ? (e.scalesOffset ?? -1) + 4 * e.shape[0]! : 0;
    if (!Number.isInteger(end) || e.offset < 0 || end > data.byteLength || scalesEnd > data.byteLength || (e.storage === 'int8' && !(e.scalesOffset! >= 0) || !Number.isInteger(scalesEnd))) {
      throw new Error(`${file}: ${e.name} (${e.storage}, ${e.shape.join('×')}) lies outside the ${data.byteLength}-byte weights file`);
    }
    spans.push([e.offset, end, e.name]);
    if (e.storage === 'int8') spans.push([e.scalesOffset!, scalesEnd, `${e.name}'s scales`]);
  }
  let at = 0;
  for (const [start, end, name] of spans.sort((a, b) => a[0] - b[0])) {
    if (start !== align4(at)) throw new Error(`${file}: ${name} starts at byte ${start}, expected ${align4(at)}: the header's shapes do not match the weights file`);
    at = end;
  }
  if (align4(at) !== data.byteLength) throw new Error(`${file}: the header's tensors cover ${align4(at)} bytes, the weights file has ${data.byteLength}`);
  for (const e of header.tensors) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    if (e.storage === 'float32') for (let i = 0; i < n; i++) v[i] = view.getFloat32(e.offset + 4 * i, true);
    else if (e.storage === 'float16') for (let i = 0; i < n; i++) v[i] = fromHalf(view.getUint16(e.offset + 2 * i, true));
    else {
      const cols = n / e.shape[0]!;
      for (let r = 0; r < e.shape[0]!; r++) {
        const scale = view.getFloat32(e.scalesOffset! + 4 * r, true);
        if (!Number.isFinite(scale)) throw new Error(`${file}: ${e.name} row ${r} has a scale that is not a finite number`);
        for (let c = 0; c < cols; c++) v[r * cols + c] = view.getInt8(e.offset + r * cols + c) * scale;
      }
    }
    out.set(e.name, { shape: e.shape, data: v });
  }
  return out;
}
