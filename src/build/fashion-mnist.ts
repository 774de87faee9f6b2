import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';

/** Where Debian's `dataset-fashion-mnist` package puts the IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Zalando's class names, in label order. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export interface FashionMnistSplit {
  /** 28×28 grayscale images, row-major, one byte per pixel (0 = background). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  size: 28;
}

export class DatasetMissingError extends Error {
  override name = 'DatasetMissingError';
}

function readIdx(path: string, magic: number): { dims: number[]; data: Uint8Array } {
  const raw = gunzipSync(readFileSync(path));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${path}: not an IDX file (magic ${view.getUint32(0)})`);
  const ndim = magic & 0xff;
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: raw.subarray(4 + 4 * ndim) };
}

/** Reads one split ("train" or "t10k") of Fashion-MNIST from the Debian package. */
export function loadFashionMnist(split: 'train' | 't10k', dir = FASHION_MNIST_DIR): FashionMnistSplit {
  const imagesPath = join(dir, `${split}-images-idx3-ubyte.gz`);
  if (!existsSync(imagesPath)) {
    throw new DatasetMissingError(
      `Fashion-MNIST not found at ${dir}: install it with \`apt-get install dataset-fashion-mnist\``,
    );
  }
  const images = readIdx(imagesPath, 0x803);
  const labels = readIdx(join(dir, `${split}-labels-idx1-ubyte.gz`), 0x801);
  const count = images.dims[0]!;
  if (labels.dims[0] !== count) throw new Error(`${split}: ${count} images but ${labels.dims[0]} labels`);
  return { images: images.data, labels: labels.data, count, size: 28 };
}

/** The pixels of image `i` (a view, not a copy). */
export function imageAt(split: FashionMnistSplit, i: number): Uint8Array {
  const n = split.size * split.size;
  return split.images.subarray(i * n, (i + 1) * n);
}

/** A 28×28 grayscale image as PNG bytes: how the demo store and the evaluation hand images to the builder. */
export function pngOf(pixels: Uint8Array): Promise<Buffer> {
  return sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
}
