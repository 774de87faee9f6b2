import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadLayers, type LayersArtifacts } from './layers-io.js';

/** The backbone's input side: MobileNetV2 from the nsfwjs package takes 224×224 RGB in [0, 1]. */
export const IMAGE_INPUT_SIZE = 224;

/** Decoded pixels: 1 (gray), 3 (RGB) or 4 (RGBA) bytes per pixel, row-major. */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/**
 * Turns decoded pixels into the backbone's input: RGB, scaled to [0, 1], resized bilinearly to
 * 224×224 by TF.js itself — so the builder (Node) and the browser (worker) feed the model the
 * same numbers for the same image, whatever canvas scaling the browser would have used.
 */
export function toModelInput(images: readonly Pixels[]): tf.Tensor4D {
  return tf.tidy(() => {
    const batch = images.map((p) => {
      const bytes = p.data instanceof Uint8Array ? p.data : new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength);
      const t = tf.div(tf.cast(tf.tensor3d(bytes, [p.height, p.width, p.channels], 'int32'), 'float32'), 255) as tf.Tensor3D;
      let rgb: tf.Tensor3D;
      if (p.channels === 1) rgb = tf.tile(t, [1, 1, 3]);
      else if (p.channels === 3) rgb = t;
      else {
        // Composite over white, as a product photo is shown: a canvas stores transparent pixels as
        // black while a PNG decoder keeps their colour, so compositing makes browser and Node agree.
        const alpha = tf.slice(t, [0, 0, 3], [-1, -1, 1]);
        rgb = tf.add(tf.mul(tf.slice(t, [0, 0, 0], [-1, -1, 3]), alpha), tf.sub(1, alpha));
      }
      return tf.image.resizeBilinear(rgb, [IMAGE_INPUT_SIZE, IMAGE_INPUT_SIZE]);
    });
    return tf.stack(batch) as tf.Tensor4D;
  });
}

/** Backbone features (1280-d for MobileNetV2) for a batch of images. */
export async function backboneFeatures(backbone: tfl.LayersModel, images: readonly Pixels[]): Promise<Float32Array> {
  const out = tf.tidy(() => backbone.predict(toModelInput(images)) as tf.Tensor2D);
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

/** L2-normalises each row of a row-major matrix in place; returns it. */
export function normalizeRows(m: Float32Array, dims: number): Float32Array {
  for (let o = 0; o < m.length; o += dims) {
    let s = 0;
    for (let d = 0; d < dims; d++) s += m[o + d]! * m[o + d]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dims; d++) m[o + d]! *= inv;
  }
  return m;
}

/**
 * The bundle's image embedder: the shared CNN backbone, then the catalog-adapted projection head
 * the builder trained, then L2 normalisation. Exactly what the builder ran over the catalog.
 */
export class ImageEmbedder {
  private constructor(
    private readonly backbone: tfl.LayersModel,
    private readonly head: tfl.LayersModel,
    readonly dims: number,
  ) {}

  static async load(backbone: LayersArtifacts, head: LayersArtifacts): Promise<ImageEmbedder> {
    const [b, h] = await Promise.all([loadLayers(backbone), loadLayers(head)]);
    const dims = h.outputs[0]!.shape[1] as number;
    const e = new ImageEmbedder(b, h, dims);
    // Warm up: the first predict compiles kernels (seconds on WebGPU); pay it at load, not on a query.
    tf.tidy(() => {
      h.predict(b.predict(tf.zeros([1, IMAGE_INPUT_SIZE, IMAGE_INPUT_SIZE, 3])) as tf.Tensor);
    });
    return e;
  }

  /** Unit-length embeddings, row-major `images.length × dims`. */
  async embed(images: readonly Pixels[]): Promise<Float32Array> {
    const out = tf.tidy(() => this.head.predict(this.backbone.predict(toModelInput(images)) as tf.Tensor) as tf.Tensor2D);
    try {
      return normalizeRows((await out.data()) as Float32Array, this.dims);
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.backbone.dispose();
    this.head.dispose();
  }
}
