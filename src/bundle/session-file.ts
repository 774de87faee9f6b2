/**
 * The next-view row's session sample as a bundle file: the builder keeps, for every product, its
 * most recent sessions, and writes their union here, oldest first. Compact and plain:
 *
 * - a 4-byte magic `VSS1`, then unsigned LEB128 varints: item count, session count, and per
 *   session its length followed by its items, each the zigzag delta from the item before it
 *   (the first from 0) — consecutive views are often of neighbouring products, which a catalog
 *   sorted by category numbers closely, so most deltas take one byte;
 * - sessions in time order: a session's position is its age, which the scorer's recency decay reads.
 *
 * No code and no TF.js: the worker decodes it with the first row's plain typed-array code.
 */
import type { SessionLists } from '../recommend/sessions.js';
import { BundleError } from './format.js';

const MAGIC = [0x56, 0x53, 0x53, 0x31]; // "VSS1"
/** The longest session a file may hold (the builder keeps a session's latest views up to this). */
export const MAX_SESSION_LENGTH = 1000;

/** Encodes sessions of item indices in [0, itemCount). */
export function encodeSessions(sessions: SessionLists, itemCount: number): Uint8Array {
  const out: number[] = [...MAGIC];
  const varint = (v: number) => {
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  const count = sessions.offsets.length - 1;
  varint(itemCount);
  varint(count);
  for (let s = 0; s < count; s++) {
    const a = sessions.offsets[s]!;
    const b = sessions.offsets[s + 1]!;
    if (b - a > MAX_SESSION_LENGTH) throw new RangeError(`session ${s} has ${b - a} items, more than ${MAX_SESSION_LENGTH}`);
    varint(b - a);
    let prev = 0;
    for (let i = a; i < b; i++) {
      const item = sessions.items[i]!;
      if (!(item >= 0 && item < itemCount)) throw new RangeError(`session ${s} names item ${item}, outside 0…${itemCount - 1}`);
      const d = item - prev;
      varint(d >= 0 ? 2 * d : -2 * d - 1);
      prev = item;
    }
  }
  return Uint8Array.from(out);
}

/**
 * Decodes a session file, checking everything against the bundle: the magic, the item count, every
 * item in range, no session longer than allowed, nothing truncated or left over. Throws a
 * {@link BundleError} naming `file` and what is wrong.
 */
export function decodeSessions(bytes: ArrayBuffer | Uint8Array, itemCount: number, file: string): SessionLists {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const fail = (why: string): never => {
    throw new BundleError(file, why);
  };
  if (u8.length < 4 || MAGIC.some((m, i) => u8[i] !== m)) fail('is not a Vitrine session file (no VSS1 magic)');
  let pos = 4;
  const varint = (what: string): number => {
    let v = 0;
    let scale = 1;
    for (let n = 0; n < 5; n++) {
      if (pos >= u8.length) return fail(`ends in the middle of ${what}`);
      const byte = u8[pos++]!;
      v += (byte & 0x7f) * scale;
      if (byte < 0x80) return v;
      scale *= 128;
    }
    return fail(`has an over-long number in ${what}`);
  };
  const items = varint('the item count');
  if (items !== itemCount) fail(`is for ${items} items, the bundle has ${itemCount}`);
  const count = varint('the session count');
  // Every session takes at least two bytes: a count beyond that is a lie, refused before allocating.
  if (count > (u8.length - pos) / 2) fail(`says ${count} sessions, more than its ${u8.length} bytes can hold`);
  const offsets = new Int32Array(count + 1);
  const flat: number[] = [];
  for (let s = 0; s < count; s++) {
    const length = varint(`session ${s}`);
    if (length < 1 || length > MAX_SESSION_LENGTH) fail(`session ${s} has length ${length}, expected 1 to ${MAX_SESSION_LENGTH}`);
    let prev = 0;
    for (let i = 0; i < length; i++) {
      const z = varint(`session ${s}`);
      const item = prev + (z % 2 ? -(z + 1) / 2 : z / 2);
      if (!(item >= 0 && item < itemCount)) fail(`session ${s} names item ${item}, outside 0…${itemCount - 1}`);
      flat.push(item);
      prev = item;
    }
    offsets[s + 1] = flat.length;
  }
  if (pos !== u8.length) fail(`has ${u8.length - pos} bytes after its last session`);
  return { items: Int32Array.from(flat), offsets };
}
