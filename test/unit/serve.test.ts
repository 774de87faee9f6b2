import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from '../../scripts/serve.js';

// The demo server sends text compressed as a CDN would; what it sends must decode to the file.
let server: Served;
beforeAll(async () => void (server = await serve({ port: 0, host: '127.0.0.1', roots: { '/models/': 'models' } })));
afterAll(() => server.close());

/** A raw GET (Node's fetch would decode for us): status, headers and the bytes as sent. */
const get = (path: string, headers: Record<string, string>) =>
  new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    request(new URL(path, server.url), { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });

describe('serve', () => {
  const items = readFileSync('models/demo/items.json');

  it('sends JSON brotli- or gzip-compressed as the request accepts, and as it is otherwise', async () => {
    const br = await get('/models/demo/items.json', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(items)).toBe(true);
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(items.length / 5);
    const gz = await get('/models/demo/items.json', { 'accept-encoding': 'gzip, br;q=0' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(items)).toBe(true);
    const plain = await get('/models/demo/items.json', {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(items)).toBe(true);
    // Each form has its own validator, and caches are told the answer depends on Accept-Encoding.
    expect(new Set([br.headers.etag, gz.headers.etag, plain.headers.etag]).size).toBe(3);
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect((await get('/models/demo/items.json', { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) })).status).toBe(304);
  });

  it('leaves bytes that do not shrink (int8 embeddings, images) as they are', async () => {
    const e = await get('/models/demo/embeddings.i8', { 'accept-encoding': 'gzip, br' });
    expect(e.headers['content-encoding']).toBeUndefined();
    expect(e.body.length).toBe(64_000);
  });
});
