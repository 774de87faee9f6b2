import type { Pixels } from '../model/image-embedder.js';

/** Larger images than this (a side, in pixels) are refused rather than decoded. */
const MAX_SIDE = 8192;

/**
 * Fetches and decodes an image in the worker (no DOM): `createImageBitmap` + `OffscreenCanvas`, at
 * full size — the shared `boxDownscale` then shrinks it exactly as the builder does in Node. Colour
 * conversion is off so the pixels are the file's own (the builder ignores ICC profiles too); EXIF
 * orientation is applied on both sides.
 */
export async function fetchPixels(url: string): Promise<Pixels> {
  const res = await fetch(url, { credentials: 'omit' });
  if (!res.ok) throw new Error(`image ${url}: HTTP ${res.status}`);
  const blob = await res.blob();
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    const { width, height } = bitmap;
    if (Math.max(width, height) > MAX_SIDE) throw new Error(`image ${url}: ${width}×${height} is larger than ${MAX_SIDE} pixels a side`);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas context in this worker');
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, width, height);
    return { data, width, height, channels: 4 };
  } finally {
    bitmap.close();
  }
}
