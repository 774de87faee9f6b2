import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleError } from '../../src/bundle/format.js';
import { openBundle } from '../../src/bundle/reader.js';
import { serve, type Served } from '../../scripts/serve.js';

// The real bundle over real HTTP: the demo's models/ and a scratch copy to damage.
let server: Served;
let scratch: string;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vitrine-reader-'));
  cpSync('models', scratch, { recursive: true, filter: (src) => !src.includes('/images/') });
  server = await serve({ port: 0, host: '127.0.0.1', roots: { '/models/': 'models', '/scratch/': scratch } });
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

const open = (path: string) => openBundle(new URL(path, server.url).href, { retryDelayMs: 1 });

describe('openBundle', () => {
  it('opens the demo bundle and verifies every file it reads', async () => {
    const b = await open('/models/demo/manifest.json');
    const items = await b.items();
    expect(items).toHaveLength(1000);
    const e = await b.embeddings();
    expect(e.codes.length).toBe(1000 * e.dims);
    expect(b.resolve(items[0]!.image)).toBe(new URL(`/models/demo/${items[0]!.image}`, server.url).href);
    const head = await b.model(b.manifest.imageModel!.head);
    expect(head.weights.byteLength).toBe(b.manifest.files[b.manifest.imageModel!.head.weights]!.bytes);
  });

  it('refuses a file whose bytes changed, naming it and the checksum', async () => {
    const path = join(scratch, 'demo/embeddings.i8');
    const bytes = readFileSync(path);
    bytes[17] ^= 0x40;
    writeFileSync(path, bytes);
    const b = await open('/scratch/demo/manifest.json');
    const e = await b.embeddings().catch((x) => x);
    expect(e).toBeInstanceOf(BundleError);
    expect(e.file).toBe('embeddings.i8');
    expect(e.message).toMatch(/sha256 is [0-9a-f]{64}, the manifest says/);
    // Items are intact and still load: one damaged file costs one row, not the bundle.
    expect(await b.items()).toHaveLength(1000);
  });

  it('refuses a truncated file by its length', async () => {
    const path = join(scratch, 'demo/complementary.json');
    writeFileSync(path, readFileSync(path).subarray(0, 100));
    const b = await open('/scratch/demo/manifest.json');
    await expect(b.topK(b.manifest.complementary!.file)).rejects.toThrow(/complementary\.json: has 100 bytes, the manifest says/);
  });

  it('refuses a missing manifest with the HTTP status', async () => {
    await expect(open('/models/nowhere/manifest.json')).rejects.toThrow(/manifest\.json: HTTP 404/);
  });
});
