import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import sharp from 'sharp';
import type { Pixels } from '../model/image-embedder.js';

/** Bigger image files than this are refused (a catalog row pointing at a video, say). */
export const MAX_IMAGE_BYTES = 50 * 1024 * 1024;
/**
 * Images with more pixels than this are refused before anything decodes them: a product photo is
 * rarely over 24 MP, while a small file can claim billions (a decompression bomb: 0.9 MB of PNG for
 * 30000 × 30000 pixels, 3.6 GB decoded).
 */
export const MAX_IMAGE_PIXELS = 40_000_000;
const FETCH_TIMEOUT_MS = 30_000;
const FETCH_RETRIES = 2;

/** Why an image could not be used; the message names the image, for the build's warnings. */
export class ImageError extends Error {
  override name = 'ImageError';
}

export const isUrl = (ref: string) => /^https?:\/\//i.test(ref);

/**
 * The bytes of a catalog image: an http(s) URL (fetched, with retries on network errors and 5xx),
 * or a path under `imagesDir` (never outside it).
 */
export async function loadImageBytes(ref: string, imagesDir: string | undefined): Promise<Uint8Array> {
  if (isUrl(ref)) return fetchImage(ref);
  if (!imagesDir) throw new ImageError(`image ${JSON.stringify(ref)} is a path, but no --images folder was given`);
  const root = resolve(imagesDir);
  const path = resolve(root, ref);
  const rel = relative(root, path);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new ImageError(`image ${JSON.stringify(ref)} is outside the --images folder`);
  try {
    const bytes = await readFile(path);
    if (bytes.byteLength > MAX_IMAGE_BYTES) throw new ImageError(`image ${ref} is ${bytes.byteLength} bytes, more than ${MAX_IMAGE_BYTES}`);
    return bytes;
  } catch (e) {
    if (e instanceof ImageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageError(code === 'ENOENT' ? `image ${ref} not found in ${imagesDir}` : `image ${ref} cannot be read (${(e as Error).message})`);
  }
}

async function fetchImage(url: string): Promise<Uint8Array> {
  let last = '';
  for (let attempt = 0; attempt <= FETCH_RETRIES; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
    } catch (e) {
      last = (e as Error).name === 'TimeoutError' ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : (e as Error).message;
      continue;
    }
    if (res.status >= 500) {
      last = `HTTP ${res.status}`;
      continue;
    }
    if (!res.ok) throw new ImageError(`image ${url}: HTTP ${res.status}`);
    if (Number(res.headers.get('content-length') ?? 0) > MAX_IMAGE_BYTES) throw new ImageError(`image ${url} is larger than ${MAX_IMAGE_BYTES} bytes`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength > MAX_IMAGE_BYTES) throw new ImageError(`image ${url} is larger than ${MAX_IMAGE_BYTES} bytes`);
    return bytes;
  }
  throw new ImageError(`image ${url} could not be fetched (${last})`);
}

/**
 * An image's size from its header (nothing decoded), checked against {@link MAX_IMAGE_PIXELS}; an
 * {@link ImageError} for a file that is no image or claims too many pixels.
 */
export async function imageSize(bytes: Uint8Array, name: string): Promise<{ width: number; height: number }> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageError(`image ${name} is not a readable image (${(e as Error).message})`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new ImageError(`image ${name} has no size in its header`);
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageError(`image ${name} is ${width} × ${height} pixels, more than ${MAX_IMAGE_PIXELS / 1e6} MP: refused before decoding (a decompression bomb, or a poster)`);
  }
  return { width, height };
}

/**
 * Decodes JPEG, PNG, WebP (and what else libvips reads) to full-size RGBA, the way the browser's
 * worker does: EXIF orientation applied, embedded colour profiles ignored.
 */
export async function decodeImage(bytes: Uint8Array, name: string): Promise<Pixels> {
  try {
    const { data, info } = await sharp(bytes, { ignoreIcc: true, failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS })
      .rotate()
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 4 };
  } catch (e) {
    throw new ImageError(`image ${name} is not a readable image (${(e as Error).message})`);
  }
}

export interface ThumbnailOptions {
  /** Longest side in pixels; smaller images are not enlarged. */
  size: number;
  format: 'webp' | 'jpeg';
  quality?: number;
}

const isPng = (b: Uint8Array) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;

/**
 * A small thumbnail for offline bundles (a kiosk, a USB stick): WebP or JPEG, never enlarged.
 * WebP from a PNG is lossless — PNGs are graphics and line art, where lossy artefacts show.
 */
export async function makeThumbnail(bytes: Uint8Array, opts: ThumbnailOptions, name = 'image'): Promise<Uint8Array> {
  try {
    const img = sharp(bytes, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS }).rotate().resize(opts.size, opts.size, { fit: 'inside', withoutEnlargement: true });
    const out = opts.format === 'jpeg'
      ? await img.flatten({ background: '#ffffff' }).jpeg({ quality: opts.quality ?? 82, mozjpeg: true }).toBuffer()
      : await img.webp(isPng(bytes) ? { lossless: true, effort: 4 } : { quality: opts.quality ?? 82, effort: 4 }).toBuffer();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new ImageError(`image ${name} cannot be made into a thumbnail (${(e as Error).message})`);
  }
}
