import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadGraph, loadLayers, type GraphModelLike, type ModelArtifacts } from './model-io.js';

/** The default backbone's input side: MobileNetV2 from the nsfwjs package takes 224×224 RGB in [0, 1]. */
export const IMAGE_INPUT_SIZE = 224;

/** What the image model takes: a square `size`² RGB image, pixel values scaled to `range`. */
export interface ImageInputSpec {
  size: number;
  range: readonly [number, number];
}

export const DEFAULT_INPUT: ImageInputSpec = { size: IMAGE_INPUT_SIZE, range: [0, 1] };

/** Decoded pixels: 1 (gray), 3 (RGB) or 4 (RGBA) bytes per pixel, row-major. */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/**
 * Shrinks a large image by an integer factor with a box filter (the mean of each f×f block), so the
 * longer side is at most twice the model's input before TF.js's bilinear resize — which samples only
 * four pixels per output pixel and would alias a big photo. Plain arithmetic, so Node and the
 * browser get the same numbers from the same decoded pixels.
 */
export function boxDownscale(p: Pixels, maxSide: number): Pixels {
  const f = Math.floor(Math.max(p.width, p.height) / maxSide);
  if (f < 2) return p;
  const width = Math.floor(p.width / f);
  const height = Math.floor(p.height / f);
  const c = p.channels;
  const out = new Uint8Array(width * height * c);
  const area = f * f;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let dy = 0; dy < f; dy++) {
          let o = ((y * f + dy) * p.width + x * f) * c + k;
          for (let dx = 0; dx < f; dx++, o += c) sum += p.data[o]!;
        }
        out[(y * width + x) * c + k] = Math.round(sum / area);
      }
    }
  }
  return { data: out, width, height, channels: c };
}

/**
 * Turns decoded pixels into the backbone's input: RGB composited over white, box-downscaled, resized
 * bilinearly to `spec.size`² by TF.js itself, scaled to `spec.range` — so the builder (Node) and the
 * browser (worker) feed the model the same numbers for the same image.
 */
export function toModelInput(images: readonly Pixels[], spec: ImageInputSpec = DEFAULT_INPUT): tf.Tensor4D {
  return tf.tidy(() => {
    const batch = images.map((full) => {
      const p = boxDownscale(full, 2 * spec.size);
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
      const [lo, hi] = spec.range;
      const resized = tf.image.resizeBilinear(rgb, [spec.size, spec.size]);
      return lo === 0 && hi === 1 ? resized : tf.add(tf.mul(resized, hi - lo), lo);
    });
    return tf.stack(batch) as tf.Tensor4D;
  });
}

/**
 * The pretrained CNN, a layers or a graph model: images in, one feature vector per image out. A
 * model whose output is still a feature map (rank 4) is average-pooled over space.
 */
export class Backbone {
  private constructor(
    private readonly model: tfl.LayersModel | GraphModelLike,
    readonly spec: ImageInputSpec,
  ) {}

  static async load(artifacts: ModelArtifacts, format: 'layers' | 'graph' = 'layers', spec: ImageInputSpec = DEFAULT_INPUT): Promise<Backbone> {
    return new Backbone(format === 'graph' ? await loadGraph(artifacts) : await loadLayers(artifacts), spec);
  }

  /** Feature tensor for a model-input batch (call inside `tf.tidy`). */
  apply(x: tf.Tensor4D): tf.Tensor2D {
    const raw = this.model.predict(x);
    // A model with several outputs: the first is the feature vector.
    const out = raw instanceof tf.Tensor ? raw : Array.isArray(raw) ? raw[0]! : Object.values(raw)[0]!;
    if (out.rank === 4) return tf.mean(out, [1, 2]) as tf.Tensor2D;
    return (out.rank === 2 ? out : tf.reshape(out, [out.shape[0]!, -1])) as tf.Tensor2D;
  }

  /** Features for a batch of images, row-major `images.length × dims`. */
  async features(images: readonly Pixels[]): Promise<Float32Array> {
    const out = tf.tidy(() => this.apply(toModelInput(images, this.spec)));
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
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
    private readonly backbone: Backbone,
    private readonly head: tfl.LayersModel,
    readonly dims: number,
  ) {}

  /** Takes `backbone` over: if the head cannot load or run on it, both are disposed before the error goes on. */
  static async load(backbone: Backbone, head: ModelArtifacts): Promise<ImageEmbedder> {
    let h: tfl.LayersModel | undefined;
    try {
      h = await loadLayers(head);
      const dims = h.outputs[0]!.shape[1] as number;
      // Warm up: the first predict compiles kernels (seconds on WebGPU); pay it at load, not on a query.
      const { size } = backbone.spec;
      tf.tidy(() => {
        h!.predict(backbone.apply(tf.zeros([1, size, size, 3])));
      });
      return new ImageEmbedder(backbone, h, dims);
    } catch (e) {
      h?.dispose();
      backbone.dispose();
      throw e;
    }
  }

  /** Unit-length embeddings, row-major `images.length × dims`. */
  async embed(images: readonly Pixels[]): Promise<Float32Array> {
    const out = tf.tidy(() => this.head.predict(this.backbone.apply(toModelInput(images, this.backbone.spec))) as tf.Tensor2D);
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
