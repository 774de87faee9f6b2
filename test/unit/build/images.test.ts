import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, ImageError, imageSize, loadImageBytes, makeThumbnail, MAX_IMAGE_PIXELS } from '../../../src/build/images.js';

const dir = mkdtempSync(join(tmpdir(), 'vitrine-images-'));
const rgb = Buffer.alloc(40 * 20 * 3, 0).map((_, i) => (i % 3 === 0 ? 200 : 30));
let png: Buffer;
let jpeg: Buffer;
let base = '';
let hits = 0;
const server = createServer((req, res) => {
  if (req.url === '/flaky.png' && hits++ === 0) res.writeHead(503).end();
  else if (req.url === '/flaky.png' || req.url === '/ok.png') res.writeHead(200, { 'Content-Type': 'image/png' }).end(png);
  else res.writeHead(404).end();
});

beforeAll(async () => {
  png = await sharp(rgb, { raw: { width: 40, height: 20, channels: 3 } }).png().toBuffer();
  jpeg = await sharp(rgb, { raw: { width: 40, height: 20, channels: 3 } }).jpeg().toBuffer();
  writeFileSync(join(dir, 'a.png'), png);
  writeFileSync(join(dir, 'a.jpg'), jpeg);
  writeFileSync(join(dir, 'a.webp'), await sharp(rgb, { raw: { width: 40, height: 20, channels: 3 } }).webp({ lossless: true }).toBuffer());
  writeFileSync(join(dir, 'not-an-image.png'), 'hello');
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('loadImageBytes', () => {
  it('reads a path under the images folder and never outside it', async () => {
    expect(Buffer.from(await loadImageBytes('a.png', dir)).equals(png)).toBe(true);
    await expect(loadImageBytes('../etc/passwd', dir)).rejects.toThrow(/outside the --images folder/);
    await expect(loadImageBytes('missing.png', dir)).rejects.toThrow(/image missing\.png not found in/);
    await expect(loadImageBytes('a.png', undefined)).rejects.toThrow(/no --images folder/);
  });

  it('fetches http(s) URLs, retrying a server error, and names a 404', async () => {
    expect((await loadImageBytes(`${base}/ok.png`, undefined)).byteLength).toBe(png.byteLength);
    expect((await loadImageBytes(`${base}/flaky.png`, undefined)).byteLength).toBe(png.byteLength);
    expect(hits).toBe(2);
    const e = await loadImageBytes(`${base}/gone.png`, undefined).catch((x) => x);
    expect(e).toBeInstanceOf(ImageError);
    expect(e.message).toBe(`image ${base}/gone.png: HTTP 404`);
  });
});

describe('decodeImage', () => {
  it('decodes PNG, JPEG and WebP to full-size RGBA', async () => {
    for (const name of ['a.png', 'a.jpg', 'a.webp']) {
      const p = await decodeImage(await loadImageBytes(name, dir), name);
      expect([p.width, p.height, p.channels, p.data.length]).toEqual([40, 20, 4, 40 * 20 * 4]);
      expect(Math.abs(p.data[0]! - 200)).toBeLessThan(12);
      expect(p.data[3]).toBe(255);
    }
  });

  it('names an unreadable image', async () => {
    await expect(decodeImage(await loadImageBytes('not-an-image.png', dir), 'not-an-image.png')).rejects.toThrow(/image not-an-image\.png is not a readable image/);
  });
});

describe('makeThumbnail', () => {
  it('never enlarges, shrinks big images to the size, and keeps PNG pixels exactly (lossless WebP)', async () => {
    const small = await makeThumbnail(png, { size: 256, format: 'webp' });
    const meta = await sharp(small).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 40, 20]);
    expect(await sharp(small).raw().toBuffer()).toEqual(await sharp(png).raw().toBuffer());
    const big = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#884422' } }).jpeg().toBuffer();
    const t = await sharp(await makeThumbnail(big, { size: 256, format: 'jpeg' })).metadata();
    expect([t.format, t.width, t.height]).toEqual(['jpeg', 256, 171]);
  });
});

describe('imageSize', () => {
  it('reads the size from the header, and refuses a corrupt file or one claiming too many pixels before decoding', async () => {
    expect(await imageSize(png, 'a.png')).toEqual({ width: 40, height: 20 });
    const corrupt = Buffer.concat([png.subarray(0, 40), Buffer.alloc(100, 7)]);
    await expect(makeThumbnail(corrupt, { size: 64, format: 'webp' }, 'corrupt.png')).rejects.toThrow(ImageError);
    await expect(decodeImage(corrupt, 'corrupt.png')).rejects.toThrow(ImageError);
    await expect(imageSize(Buffer.from('hello'), 'hello.png')).rejects.toThrow(/hello\.png is not a readable image/);
    // 8000 × 6000 = 48 MP: a few KB of PNG, 192 MB decoded.
    const bomb = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#000000' } }).png({ compressionLevel: 9 }).toBuffer();
    expect(bomb.length).toBeLessThan(200_000);
    expect(8000 * 6000).toBeGreaterThan(MAX_IMAGE_PIXELS);
    await expect(imageSize(bomb, 'bomb.png')).rejects.toThrow(/bomb\.png is 8000 × 6000 pixels, more than 40 MP/);
    await expect(makeThumbnail(bomb, { size: 64, format: 'webp' }, 'bomb.png')).rejects.toThrow(ImageError);
  });
});
