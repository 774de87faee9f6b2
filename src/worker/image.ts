import type { Pixels } from '../model/image-embedder.js';

/** The largest side a product image is decoded at; bigger photos are scaled down first. */
const MAX_SIDE = 512;

/**
 * Fetches and decodes an image in the worker (no DOM): `createImageBitmap` + `OffscreenCanvas`.
 * Colour-space conversion is off so the pixels are the file's own, as the builder reads them in Node.
 * The model resizes to its input itself, so small images are not scaled here at all.
 */
export async function fetchPixels(url: string): Promise<Pixels> {
  const res = await fetch(url, { credentials: 'omit' });
  if (!res.ok) throw new Error(`image ${url}: HTTP ${res.status}`);
  const blob = await res.blob();
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas context in this worker');
    ctx.drawImage(bitmap, 0, 0, width, height);
    const { data } = ctx.getImageData(0, 0, width, height);
    return { data, width, height, channels: 4 };
  } finally {
    bitmap.close();
  }
}
