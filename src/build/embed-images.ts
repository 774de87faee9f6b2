import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backbone } from '../model/image-embedder.js';
import { decodeImage, ImageError, imageSize, loadImageBytes, makeThumbnail, type ThumbnailOptions } from './images.js';
import type { Problems } from './problems.js';

export const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** Bumped when the way pixels become model input changes, so old cached features are not reused. */
const PREPROCESS_VERSION = 2;
/** Bumped when thumbnails are made differently. */
const THUMBNAIL_VERSION = 2;
/** Decoded RGBA bytes a batch may hold (at least one image): 256 MB, ~40 product photos of 1.6 MP. */
const MAX_BATCH_PIXEL_BYTES = 256 * 1024 * 1024;

export interface ImageStepOptions {
  /** Folder that catalog image paths are relative to. */
  imagesDir?: string;
  backbone: Backbone;
  /** Identifies the backbone (a hash of its files): a different model never reuses cached features. */
  modelKey: string;
  /** Where features and thumbnails are cached by image content hash; none when undefined. */
  cacheDir?: string;
  thumbnails?: ThumbnailOptions;
  batchSize?: number;
  /** Images loaded and decoded at once. */
  concurrency?: number;
  problems: Problems;
  onProgress?: (done: number, total: number) => void;
}

export interface ImageStepResult {
  /** Per input, its backbone features — or undefined when its image could not be used. */
  features: (Float32Array | undefined)[];
  thumbnails: (Uint8Array | undefined)[];
  /** How many images were embedded now, and how many came from the cache. */
  embedded: number;
  cached: number;
}

async function readCached(path: string | undefined): Promise<Buffer | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(path);
  } catch {
    return undefined;
  }
}

let tmpCounter = 0;

/**
 * Writes via a temporary name, so an interrupted build never leaves half a cache file. Names are
 * unique per write: two products with the same image write the same entry at the same time.
 */
async function writeCached(path: string | undefined, bytes: Uint8Array): Promise<void> {
  if (!path) return;
  const tmp = `${path}.${process.pid}.${tmpCounter++}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

async function mapLimit<T, R>(xs: readonly T[], limit: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await fn(xs[i]!, i);
      }
    }),
  );
  return out;
}

/** One embedding run: its inputs, where the cache is, and what it has found so far. */
interface ImageRun {
  refs: readonly string[];
  opts: ImageStepOptions;
  featureDir?: string;
  thumbDir?: string;
  features: (Float32Array | undefined)[];
  thumbnails: (Uint8Array | undefined)[];
  embedded: number;
  cached: number;
  done: number;
  /** Reports image `i` as unusable (for an ImageError; anything else is rethrown). */
  skip(i: number, e: unknown): void;
}

/** An image loaded and checked, not in the cache: still to be decoded and embedded. */
interface Pending {
  i: number;
  bytes: Uint8Array;
  /** Its decoded size in bytes (RGBA), from its header. */
  decoded: number;
  featurePath?: string;
}

/**
 * Backbone features (and thumbnails) for each image reference, streamed in windows so memory holds
 * a window of image files and one batch of decoded pixels (bounded in bytes), not the catalog's;
 * an image's size is read from its header first, and one claiming too many pixels is never decoded. An image whose bytes were embedded before with the
 * same model comes from the cache, so a re-run only embeds new or changed images. An image that
 * cannot be read is reported (with `placeOf`) and its entry left undefined.
 */
export async function embedImages(refs: readonly string[], placeOf: (i: number) => { file: string; line?: number }, opts: ImageStepOptions): Promise<ImageStepResult> {
  const batch = opts.batchSize ?? 16;
  const window = batch * 4;
  const run = await startRun(refs, placeOf, opts);
  opts.onProgress?.(0, refs.length);
  for (let start = 0; start < refs.length; start += window) {
    const idx = Array.from({ length: Math.min(window, refs.length - start) }, (_, k) => start + k);
    const loaded = await mapLimit(idx, opts.concurrency ?? 8, (i) => loadImage(run, i));
    const todo = loaded.filter((x): x is Pending => !!x);
    run.done += idx.length - todo.length;
    await embedPending(run, todo, batch);
    opts.onProgress?.(run.done, refs.length);
  }
  return { features: run.features, thumbnails: run.thumbnails, embedded: run.embedded, cached: run.cached };
}

/** A run with its cache folders made: features by model and preprocessing, thumbnails by how they are made. */
async function startRun(refs: readonly string[], placeOf: (i: number) => { file: string; line?: number }, opts: ImageStepOptions): Promise<ImageRun> {
  const key = sha256(`${opts.modelKey} ${opts.backbone.spec.size} ${opts.backbone.spec.range.join(',')} v${PREPROCESS_VERSION}`).slice(0, 16);
  const t = opts.thumbnails;
  const featureDir = opts.cacheDir && join(opts.cacheDir, 'features', key);
  const thumbDir = opts.cacheDir && t && join(opts.cacheDir, 'thumbnails', `${t.format}-${t.size}-${t.quality ?? 82}-v${THUMBNAIL_VERSION}`);
  if (featureDir) await mkdir(featureDir, { recursive: true });
  if (thumbDir) await mkdir(thumbDir, { recursive: true });
  const run: ImageRun = {
    refs, opts, featureDir: featureDir || undefined, thumbDir: thumbDir || undefined,
    features: new Array(refs.length), thumbnails: new Array(refs.length), embedded: 0, cached: 0, done: 0,
    skip: (i, e) => {
      if (!(e instanceof ImageError)) throw e;
      opts.problems.skip('products whose image could not be used', placeOf(i), e.message);
      run.thumbnails[i] = undefined;
      run.features[i] = undefined;
    },
  };
  return run;
}

/** Loads image `i`, hashes it, checks its header's size and looks in the cache (thumbnail made if missing); nothing is decoded yet. */
async function loadImage(run: ImageRun, i: number): Promise<Pending | undefined> {
  const { refs, opts } = run;
  const t = opts.thumbnails;
  try {
    const bytes = await loadImageBytes(refs[i]!, opts.imagesDir);
    const { width, height } = await imageSize(bytes, refs[i]!);
    const hash = sha256(bytes);
    const featurePath = run.featureDir && join(run.featureDir, `${hash}.f32`);
    const thumbPath = run.thumbDir && join(run.thumbDir, `${hash}.${t!.format === 'jpeg' ? 'jpg' : 'webp'}`);
    const hit = await readCached(featurePath);
    if (t) {
      let thumb: Uint8Array | undefined = await readCached(thumbPath);
      if (!thumb) await writeCached(thumbPath, (thumb = await makeThumbnail(bytes, t, refs[i]!)));
      run.thumbnails[i] = thumb;
    }
    if (hit) {
      run.features[i] = new Float32Array(hit.buffer.slice(hit.byteOffset, hit.byteOffset + hit.byteLength));
      run.cached++;
      return undefined;
    }
    return { i, bytes, decoded: width * height * 4, featurePath };
  } catch (e) {
    run.skip(i, e);
    return undefined;
  }
}

/**
 * Decodes and embeds `todo` a batch at a time, a batch bounded in images and in decoded bytes, so
 * memory holds one batch of pixels whatever the images' sizes; features are cached as they come.
 */
async function embedPending(run: ImageRun, todo: Pending[], batch: number): Promise<void> {
  const { refs, opts } = run;
  for (let s = 0; s < todo.length; ) {
    let e = s + 1;
    let bytes = todo[s]!.decoded;
    while (e < todo.length && e - s < batch && bytes + todo[e]!.decoded <= MAX_BATCH_PIXEL_BYTES) bytes += todo[e++]!.decoded;
    const part = todo.slice(s, e);
    s = e;
    const decoded = await mapLimit(part, opts.concurrency ?? 8, async (x) => {
      try {
        return { ...x, pixels: await decodeImage(x.bytes, refs[x.i]!) };
      } catch (err) {
        run.skip(x.i, err);
        return undefined;
      }
    });
    const ready = decoded.filter((x): x is NonNullable<typeof x> => !!x);
    if (ready.length) {
      const out = await opts.backbone.features(ready.map((x) => x.pixels));
      const dims = out.length / ready.length;
      await Promise.all(
        ready.map((x, k) => {
          const f = out.slice(k * dims, (k + 1) * dims);
          run.features[x.i] = f;
          return writeCached(x.featurePath, new Uint8Array(f.buffer));
        }),
      );
    }
    run.embedded += ready.length;
    run.done += part.length;
    opts.onProgress?.(run.done, refs.length);
  }
}

/** A one-line progress bar with rate and ETA, redrawn in place on a terminal, every 10% otherwise. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  const t0 = performance.now();
  let lastTenth = -1;
  let lastDraw = 0;
  return (done, total) => {
    const now = performance.now();
    const secs = (now - t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
    const width = 24;
    const fill = total ? Math.round((done / total) * width) : width;
    const line = `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${rate.toFixed(1)}/s ETA ${eta}s`;
    if (stream.isTTY) {
      if (done === total || now - lastDraw > 100) stream.write(`\r${line}${done === total ? '\n' : ''}`);
      lastDraw = now;
    } else {
      const tenth = total ? Math.floor((done / total) * 10) : 10;
      if (tenth !== lastTenth) stream.write(line + '\n');
      lastTenth = tenth;
    }
  };
}
