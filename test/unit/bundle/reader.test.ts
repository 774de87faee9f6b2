import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleError } from '../../../src/bundle/format.js';
import { openBundle } from '../../../src/bundle/reader.js';
import { serve, type Served } from '../../../scripts/serve.js';
import { startFaultServer, type FaultServer, type Reply } from '../../e2e/fault-server.js';

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
    await expect(b.topK(b.manifest.complementary!.file!)).rejects.toThrow(/complementary\.json: has 100 bytes, the manifest says/);
  });

  it('refuses a missing manifest with the HTTP status', async () => {
    await expect(open('/models/nowhere/manifest.json')).rejects.toThrow(/manifest\.json: HTTP 404/);
  });
});

describe('openBundle over a faulty network', () => {
  let faults: FaultServer;
  let rule: (path: string, hit: number) => Reply | undefined = () => undefined;
  beforeAll(async () => {
    faults = await startFaultServer((path, hit) => rule(path, hit));
  });
  afterAll(() => faults.close());
  const demo = (name: string) => readFileSync(`models/demo/${name}`);
  const quick = { retryDelayMs: 5, stallMs: 300, timeoutMs: 2000 };
  const at = (p: string) => openBundle(new URL(`/models/demo/${p}`, faults.url).href, quick);

  it('retries a 500 twice with backoff, then names the file and the tries', async () => {
    rule = (p) => (p.endsWith('/manifest.json') ? { status: 500, body: 'down' } : undefined);
    const before = faults.hits('/models/demo/manifest.json');
    await expect(at('manifest.json')).rejects.toThrow(/^bundle file manifest\.json: could not be fetched from \S+ in 3 tries \(HTTP 500\)$/);
    expect(faults.hits('/models/demo/manifest.json') - before).toBe(3);
  });

  it('does not retry a 404', async () => {
    rule = (p) => (p.endsWith('/complementary.json') ? { status: 404, body: 'gone' } : undefined);
    const b = await at('manifest.json');
    const before = faults.hits('/models/demo/complementary.json');
    await expect(b.topK('complementary.json')).rejects.toThrow(/complementary\.json: HTTP 404 from/);
    expect(faults.hits('/models/demo/complementary.json') - before).toBe(1);
  });

  it('retries a connection dropped mid-file, and a failed file is fetched again on the next call', async () => {
    let drops = 3;
    rule = (p) => (p.endsWith('/next-view/sessions.bin') && drops-- > 0 ? { body: demo('next-view/sessions.bin'), delivery: { how: 'drop', after: 5000 } } : undefined);
    const b = await at('manifest.json');
    const before = faults.hits('/models/demo/next-view/sessions.bin');
    await expect(b.sessions('next-view/sessions.bin')).rejects.toThrow(/next-view\/sessions\.bin: could not be fetched from \S+ in 3 tries/);
    expect(faults.hits('/models/demo/next-view/sessions.bin') - before).toBe(3);
    // The failure is not cached: the next call (a later page view, a re-render) tries again.
    expect((await b.sessions('next-view/sessions.bin')).offsets.length).toBeGreaterThan(100);
  });

  it('aborts a stalled response and gives up after the bounded retries', async () => {
    rule = (p) => (p.endsWith('/complementary.json') ? { body: demo('complementary.json'), delivery: { how: 'stall', after: 1000 } } : undefined);
    const b = await at('manifest.json');
    const before = faults.hits('/models/demo/complementary.json');
    const t0 = Date.now();
    await expect(b.topK('complementary.json')).rejects.toThrow(/in 3 tries \(stalled: nothing received for 300 ms\)/);
    expect(faults.hits('/models/demo/complementary.json') - before).toBe(3);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('waits for a slow response that keeps sending', async () => {
    rule = (p) => (p.endsWith('/embeddings.i8') ? { body: demo('embeddings.i8'), delivery: { how: 'slow', chunks: 5, everyMs: 200 } } : undefined);
    const b = await at('manifest.json');
    expect((await b.embeddings()).scales).toHaveLength(1000);
  });

  it('stops reading an endless body at the limit, and refuses a 2 GB Content-Length before reading', async () => {
    rule = (p) => (p.endsWith('/manifest.json') ? { body: '{', delivery: { how: 'endless' } } : undefined);
    await expect(at('manifest.json')).rejects.toThrow(/^bundle file manifest\.json: is longer than the 1048576 bytes allowed; stopped reading$/);
    rule = (p) => (p.endsWith('/items.json') ? { body: demo('items.json'), delivery: { how: 'endless' } } : p.endsWith('/embeddings.i8') ? { body: demo('embeddings.i8'), delivery: { how: 'lying-length', length: 2 ** 31 } } : undefined);
    const b = await at('manifest.json');
    await expect(b.items()).rejects.toThrow(/^bundle file items\.json: is longer than the 174845 bytes the manifest says; stopped reading$/);
    await expect(b.embeddings()).rejects.toThrow(/^bundle file embeddings\.i8: is 2147483648 bytes \(Content-Length\), more than the 64000 the manifest says$/);
    // What was sent is bounded by what the reader accepts (twice: once past the cache), not endless.
    await new Promise((r) => setTimeout(r, 300));
    const sent = faults.sent('/models/demo/items.json');
    await new Promise((r) => setTimeout(r, 300));
    expect(faults.sent('/models/demo/items.json')).toBe(sent);
  });
});

describe('openBundle and caches', () => {
  it('refetches past the cache once when a copy does not match the manifest, and takes the fresh copy', async () => {
    const modes: (RequestCache | undefined)[] = [];
    const real = (u: string, i?: RequestInit) => fetch(u, i);
    const b = await openBundle(new URL('/models/demo/manifest.json', server.url).href, {
      fetch: async (u, i) => {
        if (!u.endsWith('/embeddings.i8')) return real(u, i);
        modes.push(i?.cache);
        // The HTTP cache's stale copy first, then the server's.
        return i?.cache === 'reload' ? real(u, i) : new Response(new Uint8Array(64000).fill(1));
      },
    });
    expect((await b.embeddings()).scales).toHaveLength(1000);
    expect(modes).toEqual([undefined, 'reload']);
  });

  it('reads a file the page has just received from the cache as it is; a retry, or a copy that fails its checksum, asks the server', async () => {
    const seen: [string, RequestCache | undefined][] = [];
    let failFirst = true;
    const real = (u: string, i?: RequestInit) => fetch(u, i);
    const b = await openBundle(new URL('/models/demo/manifest.json', server.url).href, {
      cached: ['items.json', 'embeddings.i8'],
      retryDelayMs: 1,
      fetch: async (u, i) => {
        const name = u.slice(u.lastIndexOf('/') + 1);
        seen.push([name, i?.cache]);
        if (name === 'items.json' && failFirst) return (failFirst = false), new Response('busy', { status: 503 });
        // The cache's copy of the embeddings is an older bundle's.
        if (name === 'embeddings.i8' && i?.cache === 'force-cache') return new Response(new Uint8Array(64000).fill(1));
        return real(u, i);
      },
    });
    expect(await b.items()).toHaveLength(1000);
    expect((await b.embeddings()).codes).toHaveLength(64_000);
    expect(seen).toEqual([
      ['manifest.json', undefined],
      ['items.json', 'force-cache'],
      ['items.json', undefined],
      ['embeddings.i8', 'force-cache'],
      ['embeddings.i8', 'reload'],
    ]);
  });

  it('takes the manifest the page already has, checked like a fetched one, and does not fetch it', async () => {
    const asked: string[] = [];
    const url = new URL('/models/demo/manifest.json', server.url).href;
    const fetchLogged = (u: string, i?: RequestInit) => (asked.push(u.slice(u.lastIndexOf('/') + 1)), fetch(u, i));
    const b = await openBundle(url, { manifest: readFileSync('models/demo/manifest.json', 'utf8'), fetch: fetchLogged });
    expect(await b.items()).toHaveLength(1000);
    expect(asked).toEqual(['items.json']);
    await expect(openBundle(url, { manifest: '{"format":"vitrine-bundle"', fetch: fetchLogged })).rejects.toThrow(/^bundle file manifest\.json: is not valid JSON/);
    await expect(openBundle(url, { manifest: '{"format":"vitrine-bundle","version":99}', fetch: fetchLogged })).rejects.toThrow(/^bundle file manifest\.json: /);
    expect(asked).toEqual(['items.json']);
  });
});
