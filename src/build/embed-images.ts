import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { backboneFeatures, type Pixels } from '../model/image-embedder.js';

export interface EmbedImagesOptions {
  /** Directory for cached features, keyed by backbone and image content hash. */
  cacheDir?: string;
  /** A string identifying the backbone (its weights' hash): a changed model invalidates the cache. */
  modelKey: string;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ImageInput {
  /** The encoded file's bytes: the cache key. */
  bytes: Uint8Array;
  pixels: Pixels;
}

export const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/**
 * Backbone features for every image, batched; an image whose bytes were embedded before with the
 * same backbone is read from the cache instead, so a re-run only embeds new or changed images.
 */
export async function embedImages(backbone: tfl.LayersModel, images: ImageInput[], opts: EmbedImagesOptions): Promise<Float32Array[]> {
  const batch = opts.batchSize ?? 16;
  const dir = opts.cacheDir ? join(opts.cacheDir, opts.modelKey.slice(0, 16)) : undefined;
  if (dir) mkdirSync(dir, { recursive: true });
  const out: (Float32Array | undefined)[] = new Array(images.length);
  const todo: number[] = [];
  images.forEach((img, i) => {
    const file = dir && join(dir, sha256(img.bytes) + '.f32');
    if (file && existsSync(file)) {
      const b = readFileSync(file);
      out[i] = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    } else todo.push(i);
  });
  let done = images.length - todo.length;
  opts.onProgress?.(done, images.length);
  for (let s = 0; s < todo.length; s += batch) {
    const idx = todo.slice(s, s + batch);
    const feats = await backboneFeatures(backbone, idx.map((i) => images[i]!.pixels));
    const dims = feats.length / idx.length;
    idx.forEach((i, k) => {
      const f = feats.slice(k * dims, (k + 1) * dims);
      out[i] = f;
      if (dir) writeFileSync(join(dir, sha256(images[i]!.bytes) + '.f32'), new Uint8Array(f.buffer));
    });
    done += idx.length;
    opts.onProgress?.(done, images.length);
  }
  return out as Float32Array[];
}

/** A one-line progress bar with rate and ETA, redrawn in place on a TTY, every 10% otherwise. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  const t0 = performance.now();
  let first = -1;
  let lastTenth = -1;
  return (done, total) => {
    if (first < 0) first = done;
    const secs = (performance.now() - t0) / 1000;
    const rate = secs > 0 ? (done - first) / secs : 0;
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    const width = 24;
    const fill = total ? Math.round((done / total) * width) : width;
    const line = `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${rate.toFixed(1)}/s ETA ${eta}s`;
    if (stream.isTTY) stream.write(`\r${line}${done === total ? '\n' : ''}`);
    else {
      const tenth = total ? Math.floor((done / total) * 10) : 10;
      if (tenth !== lastTenth || done === total) stream.write(line + '\n');
      lastTenth = tenth;
    }
  };
}
