import { describe, expect, it } from 'vitest';
import { BundleError } from '../../../src/bundle/format.js';
import { decodeSessions, encodeSessions, MAX_SESSION_LENGTH } from '../../../src/bundle/session-file.js';

const lists = (sessions: number[][]) => {
  const offsets = [0];
  for (const s of sessions) offsets.push(offsets[offsets.length - 1]! + s.length);
  return { items: Int32Array.from(sessions.flat()), offsets: Int32Array.from(offsets) };
};
const back = (l: { items: Int32Array; offsets: Int32Array }) => Array.from({ length: l.offsets.length - 1 }, (_, s) => Array.from(l.items.subarray(l.offsets[s]!, l.offsets[s + 1]!)));
const refusal = (bytes: Uint8Array, items = 300): string => {
  try {
    decodeSessions(bytes, items, 'next-view/sessions.bin');
  } catch (e) {
    expect(e).toBeInstanceOf(BundleError);
    expect((e as BundleError).file).toBe('next-view/sessions.bin');
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('session file', () => {
  const sessions = [[0, 1, 2, 1], [299, 3], [7], [150, 149, 151, 0, 299]];

  it('round-trips sessions in order, repeats and large jumps included', () => {
    expect(back(decodeSessions(encodeSessions(lists(sessions), 300), 300, 'f'))).toEqual(sessions);
  });

  it('stores neighbouring products in one byte each (zigzag deltas)', () => {
    const near = [Array.from({ length: 100 }, (_, i) => 20_000 + (i % 2 ? i : -i))];
    const far = [Array.from({ length: 100 }, (_, i) => (i * 7919) % 30_000)];
    const size = (s: number[][]) => encodeSessions(lists(s), 30_000).length;
    // Header (magic, counts: 4 + 3 + 1 bytes), the length (1), the first item (3 bytes), then deltas.
    expect(size([[20_000, 20_001, 19_999, 20_002]])).toBe(4 + 3 + 1 + 1 + 3 + 3);
    expect(size(near)).toBeLessThan(size(far));
  });

  it('refuses a file that is not one, is for another catalog, or lies about its contents', () => {
    const good = encodeSessions(lists(sessions), 300);
    expect(refusal(Uint8Array.from([1, 2, 3, 4, 5]))).toMatch(/not a Vitrine session file/);
    expect(refusal(good, 301)).toMatch(/is for 300 items, the bundle has 301/);
    expect(refusal(good.subarray(0, good.length - 1))).toMatch(/ends in the middle of session 3/);
    expect(refusal(Uint8Array.from([...good, 0]))).toMatch(/1 bytes after its last session/);
    // A session count far beyond what the bytes can hold: refused before anything is allocated.
    expect(refusal(Uint8Array.from([0x56, 0x53, 0x53, 0x31, 0xac, 0x02, 0xff, 0xff, 0xff, 0x7f]))).toMatch(/says \d+ sessions, more than/);
    // An item outside the catalog (the delta walks past it).
    // Magic, 300 items (0xac 0x02), one session of one item: zigzag 600 (0xd8 0x04), a delta of +300.
    expect(refusal(Uint8Array.from([0x56, 0x53, 0x53, 0x31, 0xac, 0x02, 1, 1, 0xd8, 0x04]))).toMatch(/session 0 names item 300, outside 0…299/);
  });

  it('refuses to write what it could not read back', () => {
    expect(() => encodeSessions(lists([[3, 400]]), 300)).toThrow(/names item 400/);
    expect(() => encodeSessions(lists([Array.from({ length: MAX_SESSION_LENGTH + 1 }, () => 1)]), 300)).toThrow(/more than 1000/);
  });
});
