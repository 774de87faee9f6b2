/**
 * A seeded fuzzer of damaged bundles, derived from the demo bundle (models/demo + the shared image
 * model). Every case says which file is damaged, how, which row reads that file, and what the
 * refusal must say. The same seed gives the same cases on every machine.
 *
 * `assets.json` is not fuzzed: the worker never reads it (it lists thumbnails for the page and the
 * builder), so no damage to it is observable at run time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { createRng } from '../../src/recommend/rng.js';
import { decodeSessions, encodeSessions } from '../../src/bundle/session-file.js';
import type { Reply } from './fault-server.js';

export type Row = 'similar' | 'complementary' | 'next';
/** What a case needs from the page: nothing, TF.js and the image model, or a two-view session. */
export type Phase = 'plain' | 'image' | 'session';

export interface FuzzCase {
  id: number;
  /** The damage category, for the counts. */
  kind: string;
  what: string;
  /** Replies for paths under the case's directory (`demo/manifest.json`, `mobilenet_v2/weights.bin`). */
  replies: Map<string, Reply>;
  row: Row;
  /** A product in the bundle, or NEW0001 (not in it: its rows need the image model). */
  product: string;
  phase: Phase;
  /** The refusal: the file it names and what it says is wrong. */
  file: string;
  reason: RegExp;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const FILES = [
  'items.json', 'embeddings.i8', 'complementary.json', 'next-view/sessions.bin',
  'image-head/model.json', 'image-head/weights.bin', '../mobilenet_v2/model.json', '../mobilenet_v2/weights.bin',
  'pair-model/model.json', 'pair-model/weights.bin', 'next-view/model.json', 'next-view/weights.bin',
] as const;
type File = (typeof FILES)[number];

/**
 * How each file is made to be read (the row, the product and what the page must provide), and its
 * weight among random damage: cheap-to-read files more often; the pair model needs an image embedded first.
 */
const READER: Record<File, { row: Row; product: string; phase: Phase; weight: number }> = {
  'items.json': { row: 'similar', product: 'VT0001', phase: 'plain', weight: 4 },
  'embeddings.i8': { row: 'similar', product: 'VT0001', phase: 'plain', weight: 5 },
  'complementary.json': { row: 'complementary', product: 'VT0001', phase: 'plain', weight: 4 },
  'next-view/sessions.bin': { row: 'next', product: 'VT0001', phase: 'plain', weight: 4 },
  'image-head/model.json': { row: 'similar', product: 'NEW0001', phase: 'image', weight: 1 },
  'image-head/weights.bin': { row: 'similar', product: 'NEW0001', phase: 'image', weight: 1 },
  '../mobilenet_v2/model.json': { row: 'similar', product: 'NEW0001', phase: 'image', weight: 1 },
  '../mobilenet_v2/weights.bin': { row: 'similar', product: 'NEW0001', phase: 'image', weight: 1 },
  'pair-model/model.json': { row: 'complementary', product: 'NEW0001', phase: 'image', weight: 0.25 },
  'pair-model/weights.bin': { row: 'complementary', product: 'NEW0001', phase: 'image', weight: 0.25 },
  'next-view/model.json': { row: 'next', product: 'VT0001', phase: 'session', weight: 1.5 },
  'next-view/weights.bin': { row: 'next', product: 'VT0001', phase: 'session', weight: 1.5 },
};
const JSON_FILES: File[] = FILES.filter((f) => f.endsWith('.json'));

/** Where a manifest-relative path is served, relative to the case's directory. */
export const servedAt = (file: string) => posix.normalize(`demo/${file}`);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function pristine(): { manifest: Record<string, any>; bytes: Map<string, Buffer> } {
  const manifest = JSON.parse(readFileSync('models/demo/manifest.json', 'utf8'));
  const bytes = new Map<string, Buffer>([['demo/manifest.json', readFileSync('models/demo/manifest.json')]]);
  for (const f of FILES) bytes.set(servedAt(f), readFileSync(posix.join('models/demo', f)));
  return { manifest, bytes };
}

/** Builds the cases. `seed` picks the damage; the counts per kind are fixed. */
export function fuzzCases(seed: number): FuzzCase[] {
  const rng = createRng(seed);
  const { manifest, bytes } = pristine();
  const cases: FuzzCase[] = [];
  const pickFile = (from: readonly File[] = FILES) => from[rng.weighted(from.map((f) => READER[f].weight))]!;

  /** A case: `edit` gets a copy of the manifest and a map for replaced files. */
  const add = (kind: string, what: string, target: File | 'manifest.json', reason: RegExp, edit: (m: Record<string, any>, put: (f: string, r: Reply) => void, rehash: (f: File, b: Buffer) => void) => void, reader: File = target === 'manifest.json' ? 'items.json' : target) => {
    const m = structuredClone(manifest);
    const replies = new Map<string, Reply>();
    const put = (f: string, r: Reply) => replies.set(f === 'manifest.json' ? 'demo/manifest.json' : servedAt(f), r);
    const rehash = (f: File, b: Buffer) => {
      m.files[f] = { bytes: b.length, sha256: sha(b) };
      put(f, { body: b });
    };
    edit(m, put, rehash);
    if (!replies.has('demo/manifest.json')) replies.set('demo/manifest.json', { body: JSON.stringify(m, null, 1) });
    const { row, product, phase } = READER[reader];
    cases.push({ id: cases.length, kind, what, replies, row, product, phase, file: target, reason });
  };
  const orig = (f: File) => bytes.get(servedAt(f))!;
  const SHA = /^sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}$/;

  // 1. Bit flips, checksums as the manifest says: sha256 must catch every one.
  for (let n = 0; n < 120; n++) {
    const f = pickFile();
    const b = Buffer.from(orig(f));
    const at = rng.int(b.length);
    const bit = rng.int(8);
    b[at] ^= 1 << bit;
    add(f.endsWith('.json') ? 'bit flip (JSON file)' : 'bit flip (binary file)', `${f}: byte ${at} bit ${bit}`, f, SHA, (_m, put) => put(f, { body: b }));
  }
  // 2. Truncation: fewer bytes than the manifest says.
  for (let n = 0; n < 30; n++) {
    const f = pickFile();
    const len = rng.int(orig(f).length);
    add('truncated', `${f} cut to ${len} bytes`, f, new RegExp(`^has ${len} bytes, the manifest says ${orig(f).length}$`), (_m, put) => put(f, { body: orig(f).subarray(0, len) }));
  }
  // 3. Extra bytes: more than the manifest says, cut off while reading.
  for (let n = 0; n < 15; n++) {
    const f = pickFile();
    const extra = 1 + rng.int(4096);
    add('too long', `${f} + ${extra} bytes`, f, new RegExp(`^is (longer than the ${orig(f).length} bytes the manifest says; stopped reading|\\d+ bytes \\(Content-Length\\), more than the ${orig(f).length} the manifest says)$`), (_m, put) => put(f, { body: Buffer.concat([orig(f), Buffer.alloc(extra, 7)]) }));
  }
  // 4. Missing files (404), the manifest too.
  for (const f of FILES) add('missing (404)', `${f} 404`, f, new RegExp(`^HTTP 404 from \\S+/${esc(servedAt(f))}$`), (_m, put) => put(f, { status: 404, body: 'not found' }));
  add('missing (404)', 'manifest.json 404', 'manifest.json', /^HTTP 404 from \S+\/demo\/manifest\.json$/, (_m, put) => put('manifest.json', { status: 404, body: 'not found' }));
  // 5. Wrong lengths in the manifest (checksums kept).
  for (let n = 0; n < 15; n++) {
    const f = pickFile();
    const real = orig(f).length;
    const claimed = rng.next() < 0.5 ? Math.max(0, real - 1 - rng.int(1000)) : real + 1 + rng.int(1000);
    const bySize = f === 'embeddings.i8';
    add('wrong length in manifest', `${f} listed as ${claimed} bytes (is ${real})`, bySize ? 'manifest.json' : f,
      bySize ? /^similar\.codes file has \d+ bytes, items\.count × dims is \d+$/
        : claimed < real ? new RegExp(`^is (longer than the ${claimed} bytes the manifest says; stopped reading|${real} bytes \\(Content-Length\\), more than the ${claimed} the manifest says)$`)
          : new RegExp(`^has ${real} bytes, the manifest says ${claimed}$`),
      (m) => (m.files[f].bytes = claimed), f);
  }
  // 6. Bad JSON in bundle files, checksums recomputed so the parser must catch it.
  for (let n = 0; n < 20; n++) {
    const f = pickFile(JSON_FILES);
    const b = Buffer.from(orig(f));
    const how = n % 3;
    const at = 1 + rng.int(b.length - 2);
    let body: Buffer;
    if (how === 0) body = b.subarray(0, at);
    else if (how === 1) body = Buffer.concat([b.subarray(0, at), Buffer.from([0xff]), b.subarray(at)]);
    else {
      // The first structural character at or after `at` becomes `#`.
      const text = b.toString();
      const i = text.slice(at).search(/[{}[\]:,]/) + at;
      body = Buffer.from(text.slice(0, i) + '#' + text.slice(i + 1));
    }
    add('bad JSON (checksum recomputed)', `${f}: ${['truncated at', 'invalid UTF-8 at', 'structural character replaced after'][how]} ${at}`, f, /^is not valid JSON \(.+\)$/, (_m, _put, rehash) => rehash(f, body));
  }
  // 7. The manifest itself: bad JSON, truncation, not an object.
  const mText = bytes.get('demo/manifest.json')!.toString();
  for (let n = 0; n < 20; n++) {
    const how = n % 4;
    const at = 1 + rng.int(mText.length - 2);
    let body: Buffer;
    let what: string;
    if (how === 0) (body = Buffer.from(mText.slice(0, at))), (what = `truncated at ${at}`);
    else if (how === 1) {
      // A bit flip in a structural character: the JSON breaks.
      const i = mText.slice(at).search(/[{}[\]:,"]/) + at;
      const bit = rng.int(8);
      body = Buffer.from(mText);
      body[i] ^= 1 << bit;
      what = `bit ${bit} of the ${JSON.stringify(mText[i])} at ${i} flipped`;
    } else if (how === 2) (body = Buffer.concat([Buffer.from(mText.slice(0, at)), Buffer.from([0xc3, 0x28]), Buffer.from(mText.slice(at))])), (what = `invalid UTF-8 at ${at}`);
    else {
      const json = ['null', '[]', '42', '"manifest"', ''][n % 5]!;
      (body = Buffer.from(json)), (what = `the manifest is ${JSON.stringify(json)}`);
    }
    add('manifest: bad JSON', `manifest.json ${what}`, 'manifest.json', /^(is not valid JSON \(.+\)|the manifest is not a JSON object)$/, (_m, put) => put('manifest.json', { body }));
  }
  // 8. Unknown format or version.
  for (const v of [0, 1, 99, '2', 1.5, null, -1]) add('unknown format/version', `version ${JSON.stringify(v)}`, 'manifest.json', /^version .+ is not supported \(this reader knows 2\)$/, (m) => (m.version = v));
  for (const f of ['vitrine-bundl', 'onnx', null]) add('unknown format/version', `format ${JSON.stringify(f)}`, 'manifest.json', /^format .+ expected "vitrine-bundle"$/, (m) => (m.format = f));
  // 9. NaN and ±Infinity scales (of the int8 model tensors; the bundle's embeddings carry none), checksums recomputed.
  for (const [f, tensor, n] of [['next-view', 'items', 12], ['pair-model', 'legs', 4]] as const) {
    const header = JSON.parse(orig(`${f}/model.json`).toString());
    const t = header.tensors.find((x: { name: string }) => x.name === tensor);
    for (let k = 0; k < n; k++) {
      const b = Buffer.from(orig(`${f}/weights.bin`));
      const r = rng.int(t.shape[0]);
      b.writeFloatLE(k % 2 ? Infinity : NaN, t.scalesOffset + 4 * r);
      add('NaN/Infinity scales', `${f} ${tensor} row ${r} scale`, `${f}/model.json`, new RegExp(`^${tensor} row ${r} has a scale that is not a finite number$`), (_m, _put, rehash) => rehash(`${f}/weights.bin`, b));
    }
  }
  // 10. Counts that disagree with shapes.
  const itemsJson = JSON.parse(orig('items.json').toString()) as Record<string, unknown>[];
  for (let n = 0; n < 3; n++) {
    const list = itemsJson.slice();
    list.splice(rng.int(list.length), 1);
    add('counts disagree', 'items.json lists 999 items', 'items.json', /^lists 999 items, the manifest says 1000$/, (_m, _put, rehash) => rehash('items.json', Buffer.from(JSON.stringify(list))));
  }
  for (let n = 0; n < 2; n++) {
    const list = itemsJson.slice();
    const i = 1 + rng.int(list.length - 1);
    list[i] = { ...list[i], id: list[i - 1]!.id };
    add('counts disagree', `items.json repeats an id at ${i}`, 'items.json', new RegExp(`^item ${i} repeats id "${list[i - 1]!.id}"$`), (_m, _put, rehash) => rehash('items.json', Buffer.from(JSON.stringify(list))));
  }
  for (const c of [999, 1001, 0, 2000]) add('counts disagree', `items.count ${c}`, 'manifest.json', /^similar\.codes file has 64000 bytes, items\.count × dims is \d+$/, (m) => (m.items.count = c));
  for (const d of [63, 65, 128, 32]) add('counts disagree', `similar.dims ${d}`, 'manifest.json', new RegExp(`^similar\\.codes file has 64000 bytes, items\\.count × dims is ${1000 * d}$`), (m) => (m.similar.dims = d));
  {
    const f = 'complementary.json';
    const lists = JSON.parse(orig(f).toString()) as unknown[][];
    // The row reads VT0001's list (entry 0), but the whole file is checked when it loads.
    for (const [bad, label] of [[[1000, 1], 'index = count'], [[-1, 1], 'index -1'], [[2.5, 1], 'index 2.5'], [['3', 1], 'index "3"'], [[3, null], 'score null']] as const) {
      const copy = structuredClone(lists);
      const i = rng.int(copy.length);
      (copy[i] as unknown[]).push(bad);
      add('counts disagree', `${f}: entry ${i} gets ${label}`, f, new RegExp(`^entry ${i} has an invalid \\[index, score\\] pair$`), (_m, _put, rehash) => rehash(f, Buffer.from(JSON.stringify(copy))));
    }
    add('counts disagree', `${f}: 999 lists`, f, /^must be an array of 1000 lists$/, (_m, _put, rehash) => rehash(f, Buffer.from(JSON.stringify(lists.slice(1)))));
  }
  // The session sample: for another catalog size, an item out of range, bytes left over (checksums recomputed).
  {
    const f = 'next-view/sessions.bin';
    const sessions = decodeSessions(orig(f), 1000, f);
    const bigger = Buffer.from(encodeSessions(sessions, 1001));
    add('counts disagree', `${f}: written for 1001 items`, f, /^is for 1001 items, the bundle has 1000$/, (_m, _put, rehash) => rehash(f, bigger));
    const items = sessions.items.slice();
    const at = rng.int(items.length);
    items[at] = 1000;
    const s = sessions.offsets.findIndex((o) => o > at) - 1;
    const out = Buffer.from(encodeSessions({ items, offsets: sessions.offsets }, 1001));
    out.set(Buffer.from(encodeSessions(sessions, 1000)).subarray(4, 6), 4); // the item count back to 1000
    add('counts disagree', `${f}: session ${s} names item 1000`, f, new RegExp(`^session ${s} names item 1000, outside 0…999$`), (_m, _put, rehash) => rehash(f, out));
    add('counts disagree', `${f}: 3 bytes after the last session`, f, /^has 3 bytes after its last session$/, (_m, _put, rehash) => rehash(f, Buffer.concat([orig(f), Buffer.from([1, 1, 1])])));
  }
  // Tensor headers whose shapes disagree with the weights' bytes (checksums recomputed).
  for (const [f, k] of [['next-view', 6], ['pair-model', 2]] as const) {
    const header = JSON.parse(orig(`${f}/model.json`).toString());
    for (let n = 0; n < k; n++) {
      const h = structuredClone(header);
      const t = h.tensors[rng.int(h.tensors.length)];
      const how = n % 3;
      if (how === 0) t.shape[0] *= 2;
      else if (how === 1) t.shape[t.shape.length - 1] += t.shape[t.shape.length - 1] > 1 ? -1 : 1;
      else t.offset += 4;
      add('counts disagree', `${f}: tensor ${t.name} ${['first dim doubled', 'last dim ± 1', 'offset + 4'][how]}`, `${f}/model.json`, /(lies outside the \d+-byte weights file|starts at byte \d+, expected \d+|tensors cover \d+ bytes, the weights file has \d+|should be [\d×]+, is [\d×]+)/, (_m, _put, rehash) => rehash(`${f}/model.json`, Buffer.from(JSON.stringify(h))));
    }
  }
  // TF.js layers models whose weight shapes disagree with the weights file.
  for (const [f, n] of [['image-head/model.json', 2], ['../mobilenet_v2/model.json', 1]] as const) {
    const j = JSON.parse(orig(f).toString());
    for (let k = 0; k < n; k++) {
      const h = structuredClone(j);
      const w = h.weightsManifest[0].weights[rng.int(h.weightsManifest[0].weights.length)];
      w.shape[0] += 1 + k;
      // Refused before TF.js builds the model (which would leave its tensors behind).
      add('counts disagree', `${f}: weight ${w.name} shape ${w.shape.join('×')}`, f, /^the weights file has \d+ bytes, the model's weights need \d+$/, (_m, _put, rehash) => rehash(f, Buffer.from(JSON.stringify(h))));
    }
  }
  // 11. Absurd sizes meant to exhaust memory.
  for (const f of ['items.json', 'embeddings.i8', 'next-view/weights.bin'] as const) {
    add('absurd size', `${f} listed as 10 GB`, 'manifest.json', new RegExp(`^files\\["${esc(f)}"\\]\\.bytes must be an integer from 0 to 268435456$`), (m) => (m.files[f].bytes = 10 * 2 ** 30), f);
  }
  for (let n = 0; n < 2; n++) {
    add('absurd size', 'files add up to more than 1 GB', 'manifest.json', /^files add up to \d+ bytes, more than the 1073741824 allowed$/, (m) => {
      for (let k = 0; k < 5 + n; k++) m.files[`pad-${k}.bin`] = { bytes: 250 * 2 ** 20, sha256: '0'.repeat(64) };
    });
  }
  for (const f of ['items.json', 'embeddings.i8', 'complementary.json', 'next-view/sessions.bin'] as const) {
    add('absurd size', `${f} sent with a 2 GB Content-Length`, f, new RegExp(`^is 2147483648 bytes \\(Content-Length\\), more than the ${orig(f).length} the manifest says$`), (_m, put) => put(f, { body: orig(f), delivery: { how: 'lying-length', length: 2 ** 31 } }));
  }
  add('absurd size', 'manifest.json sent with a 2 GB Content-Length', 'manifest.json', /^is 2147483648 bytes \(Content-Length\), more than the 1048576 allowed$/, (_m, put) => put('manifest.json', { body: mText, delivery: { how: 'lying-length', length: 2 ** 31 } }));
  for (const f of ['items.json', 'embeddings.i8', 'complementary.json', 'next-view/sessions.bin'] as const) {
    add('absurd size', `${f} streams without end`, f, new RegExp(`^is longer than the ${orig(f).length} bytes the manifest says; stopped reading$`), (_m, put) => put(f, { body: orig(f), delivery: { how: 'endless' } }));
  }
  add('absurd size', 'manifest.json streams without end', 'manifest.json', /^is longer than the 1048576 bytes allowed; stopped reading$/, (_m, put) => put('manifest.json', { body: mText, delivery: { how: 'endless' } }));
  // 12. Manifest fields that are wrong in kind.
  const fieldCases: [string, (m: Record<string, any>) => void, RegExp][] = [
    ['sha256 not hex', (m) => (m.files['items.json'].sha256 = 'xyz'), /^files\["items\.json"\]\.sha256 must be 64 hex digits$/],
    ['sha256 upper case', (m) => (m.files['embeddings.i8'].sha256 = m.files['embeddings.i8'].sha256.toUpperCase()), /^files\["embeddings\.i8"\]\.sha256 must be 64 hex digits$/],
    ['sha256 too short', (m) => (m.files['complementary.json'].sha256 = m.files['complementary.json'].sha256.slice(1)), /^files\["complementary\.json"\]\.sha256 must be 64 hex digits$/],
    ['bytes negative', (m) => (m.files['items.json'].bytes = -1), /^files\["items\.json"\]\.bytes must be an integer/],
    ['bytes fractional', (m) => (m.files['items.json'].bytes = 1.5), /^files\["items\.json"\]\.bytes must be an integer/],
    ['bytes a string', (m) => (m.files['items.json'].bytes = '174845'), /^files\["items\.json"\]\.bytes must be an integer/],
    ['absolute path', (m) => (m.items.file = '/etc/passwd'), /^items\.file must be a relative path$/],
    ['another origin', (m) => (m.items.file = 'https://evil.example/items.json'), /^items\.file must be a relative path$/],
    ['javascript: path', (m) => (m.similar.codes = 'javascript:alert(1)'), /^similar\.codes must be a relative path$/],
    ['backslash path', (m) => (m.complementary.file = 'a\\b.json'), /^complementary\.file must be a relative path$/],
    ['unlisted file', (m) => (m.nextView.sessions = 'nowhere.bin'), /^nextView\.sessions names "nowhere\.bin", which is not listed in files$/],
    ['files missing', (m) => delete m.files, /^files is missing$/],
    ['items missing', (m) => delete m.items, /^items is missing$/],
    ['metric dot', (m) => (m.similar.metric = 'dot'), /^similar\.metric must be "cosine"$/],
    ['dims 0', (m) => (m.similar.dims = 0), /^similar\.dims must be an integer from 1 to 4096$/],
    ['inputSize 0', (m) => (m.imageModel.inputSize = 0), /^imageModel\.inputSize must be an integer from 1 to 1024$/],
    ['inputRange reversed', (m) => (m.imageModel.inputRange = [1, -1]), /^imageModel\.inputRange must be \[low, high\] with low < high$/],
    ['maxLength 0', (m) => (m.nextView.method.maxLength = 0), /^nextView\.method config\.maxLength must be a number from 1 to 1000$/],
    ['negative weight', (m) => (m.nextView.method.model.weight = -1), /^nextView\.method model\.weight must be a number from 0 to 1000$/],
    ['model unused', (m) => (delete m.nextView.method.model, delete m.nextView.method.oneView), /^nextView\.model is given, and nextView\.method does not use it$/],
    ['one-view scorer without a model', (m) => delete m.nextView.method.model, /^nextView\.method oneView is given without a model$/],
    ['method magic', (m) => (m.complementary.method = 'magic'), /^complementary\.method\.score must be count, conditional or cosine$/],
    ['list length 0', (m) => (m.complementary.method.k = 0), /^complementary\.method\.k must be an integer from 1 to 1000$/],
    ['head as a graph model', (m) => (m.imageModel.head.format = 'graph'), /^imageModel\.head\.format must be "layers"$/],
  ];
  for (const [what, edit, reason] of fieldCases) add('manifest: wrong field', what, 'manifest.json', reason, (m) => edit(m));
  return cases;
}

/** Pristine bytes for paths a case does not replace. */
export function replyFor(c: FuzzCase, rest: string, base: Map<string, Buffer>): Reply | undefined {
  const r = c.replies.get(rest);
  if (r) return r;
  const b = base.get(rest);
  return b && { body: b };
}

