/**
 * The image step of a build, and the whole of `vitrine embed`: load the image model, then embed
 * (and thumbnail) catalog images through the content-addressed cache. Because the cache is keyed by
 * image bytes and model, the work splits and resumes freely: `vitrine embed --shard I/N` fills one
 * cache per machine with a slice of the catalog, `vitrine merge-cache` joins the caches, and a
 * bundle built on the merged cache embeds nothing.
 */
import { copyFile, mkdir, readdir, rename, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { readCatalogFor, type CatalogItem } from './catalog.js';
import { embedImages, progressBar, type ImageStepResult } from './embed-images.js';
import { DEFAULT_IMAGE_MODEL, loadImageModel, type ImageModel } from './image-model.js';
import type { ThumbnailOptions } from './images.js';
import { initNodeTf } from './node-tf.js';
import { Problems, UserError } from './problems.js';

export interface ImageOptions {
  /** Folder that catalog image paths are relative to. */
  images?: string;
  /** A TF.js model.json (layers or graph); default: the package's MobileNetV2. */
  imageModel?: string;
  imageModelRange?: readonly [number, number];
  imageModelLayer?: string;
  imageSize?: number;
  /** Thumbnails: `auto` (for images given as local files), `all`, or `none`. */
  thumbnails?: 'auto' | 'all' | 'none';
  thumbnailSize?: number;
  thumbnailFormat?: 'webp' | 'jpeg';
  cacheDir?: string;
  /** Progress bars (default: on a terminal). */
  progress?: boolean;
}

export interface EmbeddedCatalog {
  model: ImageModel;
  step: ImageStepResult;
  /** How thumbnails were made, when they were. */
  thumbnails?: ThumbnailOptions;
}

/** Loads the image model and embeds `catalog`'s images (read from `file`, for messages). */
export async function embedCatalog(catalog: readonly CatalogItem[], file: string, opts: ImageOptions, problems: Problems, log: (line: string) => void): Promise<EmbeddedCatalog> {
  const backend = await initNodeTf();
  const model = await loadImageModel(opts.imageModel ?? DEFAULT_IMAGE_MODEL, { range: opts.imageModelRange, layer: opts.imageModelLayer, size: opts.imageSize });
  log(`image model: ${opts.imageModel ?? 'MobileNetV2 (nsfwjs)'}, ${model.format}, input ${model.spec.size}×${model.spec.size} in [${model.spec.range.join(', ')}], TF.js ${backend} backend`);
  const thumbnails = opts.thumbnails === 'none' ? undefined : { size: opts.thumbnailSize ?? 256, format: opts.thumbnailFormat ?? 'webp' } satisfies ThumbnailOptions;
  const step = await embedImages(
    catalog.map((it) => it.image),
    (i) => ({ file, line: catalog[i]!.line }),
    {
      imagesDir: opts.images,
      backbone: model.backbone,
      modelKey: model.key,
      cacheDir: opts.cacheDir,
      thumbnails,
      problems,
      onProgress: opts.progress ?? process.stderr.isTTY ? progressBar('embedding images') : undefined,
    },
  );
  return { model, step, thumbnails };
}

export interface EmbedOptions extends ImageOptions {
  catalog: string;
  /** This machine's slice: `index` of `count` (0-based), contiguous runs of catalog rows. */
  shard?: { index: number; count: number };
  urlTemplate?: string;
  /** As for a build (give both the same): broken catalog rows left out and written to this report. */
  skipInvalid?: string;
  log?: (line: string) => void;
}

export interface EmbedReport {
  /** Catalog rows in this slice, and the rows `[from, to)` they are. */
  rows: number;
  from: number;
  to: number;
  embedded: number;
  cached: number;
  unusable: number;
  seconds: number;
  /** Images embedded per second (cache hits excluded). */
  perSecond: number;
}

/** `vitrine embed`: fills the cache with one slice of the catalog's images. */
export async function embedSlice(opts: EmbedOptions): Promise<EmbedReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  if (!opts.cacheDir) throw new UserError('vitrine embed needs --cache: the folder its work goes to');
  const catalog = await readCatalogFor(opts, log);
  const { index, count } = opts.shard ?? { index: 0, count: 1 };
  const from = Math.floor((index * catalog.length) / count);
  const to = Math.floor(((index + 1) * catalog.length) / count);
  const slice = catalog.slice(from, to);
  log(`catalog: ${catalog.length} products; shard ${index + 1} of ${count}: rows ${from + 1}–${to} (${slice.length} products)`);
  const problems = new Problems();
  const t = performance.now();
  const { step } = await embedCatalog(slice, opts.catalog, opts, problems, log);
  const seconds = (performance.now() - t) / 1000;
  const unusable = step.features.filter((f) => !f).length;
  for (const line of problems.warnings()) log(`warning: ${line}`);
  const perSecond = step.embedded / Math.max(seconds, 1e-3);
  log(`images: ${step.embedded} embedded (${perSecond.toFixed(1)} images/s), ${step.cached} from the cache, ${unusable} unusable → ${opts.cacheDir}`);
  return { rows: slice.length, from, to, embedded: step.embedded, cached: step.cached, unusable, seconds, perSecond };
}

/**
 * `vitrine merge-cache`: copies into `dest` every cache entry of `sources` it lacks (via a temporary
 * name, so an interrupted merge leaves no half file). Entries are content-addressed, so two
 * caches never disagree about a name. Returns how many files were copied and how many were there.
 */
export async function mergeCaches(dest: string, sources: readonly string[]): Promise<{ copied: number; present: number }> {
  let copied = 0;
  let present = 0;
  for (const source of sources) {
    if (!(await stat(source).then((s) => s.isDirectory(), () => false))) throw new UserError(`merge-cache: ${source} is not a folder`);
    for (const file of await walk(source)) {
      const to = join(dest, relative(source, file));
      if (await stat(to).then(() => true, () => false)) {
        present++;
        continue;
      }
      await mkdir(dirname(to), { recursive: true });
      const tmp = `${to}.${process.pid}.merge.tmp`;
      await copyFile(file, tmp);
      await rename(tmp, to);
      copied++;
    }
  }
  return { copied, present };
}

/** Every cache entry under `dir` (files; temporaries of interrupted writes left out). */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else if (e.isFile() && !e.name.endsWith('.tmp')) out.push(path);
  }
  return out.sort();
}
