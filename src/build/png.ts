import { PNG } from 'pngjs';
import type { Pixels } from '../model/image-embedder.js';

/** Encodes 8-bit grayscale pixels as a PNG (colour type 0: the smallest for Fashion-MNIST). */
export function encodeGrayPng(gray: Uint8Array, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(gray);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** Decodes a PNG to RGBA pixels. */
export function decodePng(bytes: Uint8Array): Pixels {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), width: png.width, height: png.height, channels: 4 };
}
