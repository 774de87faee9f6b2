import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BundleError, MAX_BUNDLE_BYTES, MAX_FILE_BYTES, validateItems, validateManifest, validateTopK } from '../../../src/bundle/format.js';
import { decodeTensors, encodeTensors } from '../../../src/bundle/tensor-file.js';

const demo = () => JSON.parse(readFileSync('models/demo/manifest.json', 'utf8'));
const refusal = (f: () => unknown): BundleError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BundleError);
    return e as BundleError;
  }
  throw new Error('expected a BundleError');
};

describe('validateManifest', () => {
  it('accepts the demo bundle', () => {
    const m = validateManifest(demo());
    expect(m.items.count).toBe(1000);
    expect(m.similar?.dims).toBeGreaterThan(0);
  });

  it('checks a paged section\'s index cells: a count, the head listed, a tail only with cells', () => {
    // The demo as a paged bundle of one page and one meta file (its whole-catalog files still listed).
    const paged = () => {
      const m = demo();
      const entry = { bytes: 32, sha256: '0'.repeat(64) };
      m.paged = { pages: 1, meta: Math.ceil(m.items.count / 64), metaSize: 64, nextDepth: 3, cells: 4 };
      m.files['sums/pages-0.bin'] = entry;
      m.files['sums/meta-0.bin'] = entry;
      m.files['sums/cells-0.bin'] = entry;
      m.files['cells/head.bin'] = entry;
      return m;
    };
    expect(validateManifest(paged()).paged?.cells).toBe(4);
    const noHead = paged();
    delete noHead.files['cells/head.bin'];
    expect(refusal(() => validateManifest(noHead)).message).toMatch(/paged\.cells \(the index head\).*cells\/head\.bin/);
    expect(refusal(() => validateManifest({ ...paged(), paged: { ...paged().paged, cells: 0 } })).message).toMatch(/paged\.cells must be a positive integer/);
    const tail = paged();
    tail.paged.tail = 'cells/tail.bin';
    expect(refusal(() => validateManifest(tail)).message).toMatch(/paged\.tail/);
    tail.files['cells/tail.bin'] = { bytes: 68, sha256: '0'.repeat(64) };
    expect(validateManifest(tail).paged?.tail).toBe('cells/tail.bin');
    const { cells: _, ...uncelled } = tail.paged;
    expect(refusal(() => validateManifest({ ...tail, paged: uncelled })).message).toMatch(/paged\.tail is given without paged\.cells/);
  });

  it('refuses an unknown format version, naming the field', () => {
    const e = refusal(() => validateManifest({ ...demo(), version: 99 }));
    expect(e.file).toBe('manifest.json');
    expect(e.message).toMatch(/version 99 is not supported/);
  });

  it('refuses embeddings whose size disagrees with items × dims', () => {
    const m = demo();
    m.similar.dims = m.similar.dims + 1;
    expect(refusal(() => validateManifest(m)).message).toMatch(/similar\.codes.*bytes/);
  });

  it('refuses paths that leave the bundle for another scheme or the root, and files it does not list', () => {
    for (const path of ['https://evil.example/x.json', '/etc/passwd', 'javascript:alert(1)', 'a\\b']) {
      const m = demo();
      m.items.file = path;
      expect(refusal(() => validateManifest(m)).message).toMatch(/items\.file/);
    }
    const m = demo();
    m.complementary.file = 'not-listed.json';
    expect(refusal(() => validateManifest(m)).message).toMatch(/not listed/);
  });

  it('refuses absurd sizes and bad checksums before anything is fetched', () => {
    const m = demo();
    m.files['items.json'].bytes = 1e12;
    expect(refusal(() => validateManifest(m)).message).toMatch(/bytes must be an integer/);
    const n = demo();
    n.files['items.json'].sha256 = 'xyz';
    expect(refusal(() => validateManifest(n)).message).toMatch(/sha256 must be 64 hex/);
    expect(refusal(() => validateManifest('[]')).message).toMatch(/not a JSON object/);
  });
});

describe('validateItems and validateTopK', () => {
  const item = (id: string) => ({ id, title: 't', url: '/p', image: 'i.png', price: 1 });
  it('refuse a count mismatch, a repeated id, a missing field and a non-finite price', () => {
    expect(() => validateItems([item('a')], 2, 'items.json')).toThrow(/lists 1 items, the manifest says 2/);
    expect(() => validateItems([item('a'), item('a')], 2, 'items.json')).toThrow(/repeats id "a"/);
    expect(() => validateItems([{ id: 'a', title: 't', url: '/p' }], 1, 'items.json')).toThrow(/no string image/);
    expect(() => validateItems([{ ...item('a'), price: 'free' }], 1, 'items.json')).toThrow(/price/);
    expect(validateItems([item('a'), item('b')], 2, 'items.json')).toHaveLength(2);
  });

  it('refuse out-of-range indices and non-finite scores', () => {
    expect(() => validateTopK([[[1, 0.5]], []], 2, 'c.json')).not.toThrow();
    expect(() => validateTopK([[[2, 0.5]], []], 2, 'c.json')).toThrow(/entry 0/);
    expect(() => validateTopK([[[1, null]], []], 2, 'c.json')).toThrow(/entry 0/);
    expect(() => validateTopK([[]], 2, 'c.json')).toThrow(/array of 2 lists/);
  });
});

describe('size caps', () => {
  it('refuses files that together exceed the bundle cap, before anything is fetched', () => {
    const m = demo();
    for (let k = 0; k < 5; k++) m.files[`pad-${k}.bin`] = { bytes: MAX_FILE_BYTES, sha256: '0'.repeat(64) };
    expect(refusal(() => validateManifest(m)).message).toBe(`bundle file manifest.json: files add up to ${5 * MAX_FILE_BYTES + Object.values(demo().files as Record<string, { bytes: number }>).reduce((a, e) => a + e.bytes, 0)} bytes, more than the ${MAX_BUNDLE_BYTES} allowed`);
  });
});

describe('decodeTensors', () => {
  const t = (name: string, shape: number[], storage: 'float32' | 'float16' | 'int8' = 'float32') => ({ name, shape, storage, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
  const { header, data } = encodeTensors([t('a', [3, 5], 'float16'), t('b', [4, 2], 'int8'), t('c', [7])], { kind: 'x' });
  const buf = () => data.slice().buffer;
  it('decodes what encodeTensors wrote', () => {
    expect([...decodeTensors(header, buf()).keys()]).toEqual(['a', 'b', 'c']);
  });
  it('refuses headers whose shapes or offsets do not tile the weights file', () => {
    const bad = (edit: (h: typeof header) => void) => {
      const h = structuredClone(header);
      edit(h);
      return () => decodeTensors(h, buf(), 'w.json');
    };
    expect(bad((h) => (h.tensors[2]!.shape = [14]))).toThrow(/w\.json: c \(float32, 14\) lies outside the \d+-byte weights file/);
    expect(bad((h) => (h.tensors[0]!.shape = [3, 4]))).toThrow(/w\.json: b starts at byte \d+, expected \d+: the header's shapes do not match the weights file/);
    expect(bad((h) => (h.tensors[2]!.shape = [6]))).toThrow(/w\.json: the header's tensors cover \d+ bytes, the weights file has \d+/);
    expect(bad((h) => (h.tensors[1]!.offset += 4))).toThrow(/starts at byte|lies outside/);
    expect(bad((h) => ((h.tensors as unknown[])[0] = null))).toThrow(/w\.json: a tensor entry is not an object/);
  });
  it('refuses non-finite int8 row scales', () => {
    const d = data.slice();
    new DataView(d.buffer).setFloat32(header.tensors[1]!.scalesOffset! + 4, NaN, true);
    expect(() => decodeTensors(header, d.buffer, 'w.json')).toThrow(/w\.json: b row 1 has a scale that is not a finite number/);
  });
});
