import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tfl from '@tensorflow/tfjs-layers';
import { Backbone, DEFAULT_INPUT, type ImageInputSpec } from '../model/image-embedder.js';
import { loadLayers, saveLayers, type ModelArtifacts } from '../model/model-io.js';
import { sha256 } from './embed-images.js';
import { UserError } from './problems.js';

/** The image model shipped with the package: MobileNetV2 (from nsfwjs, MIT), cut at its pooled output. */
export const DEFAULT_IMAGE_MODEL = resolve(dirname(fileURLToPath(import.meta.url)), '../../models/mobilenet_v2/model.json');

export interface ImageModelOptions {
  /** Pixel range the model expects (default [0, 1]). */
  range?: readonly [number, number];
  /** Input side, for models whose input shape is not fixed (default: from the model, else 224). */
  size?: number;
  /** Layers models: use this layer's output as the features (a classifier's pooled layer, say). */
  layer?: string;
}

export interface ImageModel {
  backbone: Backbone;
  format: 'layers' | 'graph';
  spec: ImageInputSpec;
  /** The model as the bundle stores it: one model.json naming one `weights.bin`. */
  files: { json: string; weights: Uint8Array };
  /** A hash of those files: cached features are keyed by it. */
  key: string;
}

type ModelJson = ModelArtifacts['modelJson'];

function inputSizeOf(json: ModelJson, format: 'layers' | 'graph'): number | undefined {
  const find = (o: unknown): number[] | undefined => {
    if (!o || typeof o !== 'object') return undefined;
    const rec = o as Record<string, unknown>;
    if (Array.isArray(rec.batch_input_shape)) return rec.batch_input_shape as number[];
    for (const v of Object.values(rec)) {
      const found = find(v);
      if (found) return found;
    }
    return undefined;
  };
  if (format === 'layers') {
    const shape = find(json.modelTopology);
    return shape && typeof shape[1] === 'number' && shape[1] === shape[2] ? shape[1] : undefined;
  }
  return undefined;
}

/**
 * Loads an image model from a TF.js `model.json` on disk (layers or graph format), joining its
 * weight shards into one file as the bundle will hold it. A broken or missing model is a UserError.
 */
export async function loadImageModel(path: string, opts: ImageModelOptions = {}): Promise<ImageModel> {
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `--image-model ${path}: no such file` : `--image-model ${path}: not a TF.js model.json (${(e as Error).message})`);
  }
  if (!json?.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new UserError(`--image-model ${path}: not a TF.js model.json (modelTopology and weightsManifest expected)`);
  }
  const topo = json.modelTopology as Record<string, unknown>;
  const format: 'layers' | 'graph' = json.format === 'graph-model' || Array.isArray(topo.node) ? 'graph' : 'layers';
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      try {
        shards.push(await readFile(join(dirname(path), p)));
      } catch {
        throw new UserError(`--image-model ${path}: its weights file ${p} is missing`);
      }
    }
  }
  const weights = Buffer.concat(shards);
  const single = (j: ModelJson): string =>
    JSON.stringify({ ...j, weightsManifest: [{ paths: ['weights.bin'], weights: j.weightsManifest.flatMap((g) => g.weights) }] });
  let files: { json: string; weights: Uint8Array } = { json: single(json), weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength) };
  let artifacts: ModelArtifacts = { modelJson: JSON.parse(files.json), weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) };

  if (opts.layer) {
    if (format !== 'layers') throw new UserError(`--image-model-layer works with layers models; ${path} is a graph model`);
    const full = await loadLayers(artifacts);
    let layer: tfl.layers.Layer;
    try {
      layer = full.getLayer(opts.layer);
    } catch {
      throw new UserError(`--image-model-layer: ${path} has no layer "${opts.layer}"`);
    }
    const cut = tfl.model({ inputs: full.inputs, outputs: layer.output as tfl.SymbolicTensor });
    files = await saveLayers(cut, 'weights.bin');
    artifacts = { modelJson: JSON.parse(files.json), weights: files.weights.slice().buffer };
  }
  const spec: ImageInputSpec = {
    size: opts.size ?? inputSizeOf(json, format) ?? DEFAULT_INPUT.size,
    range: opts.range ?? DEFAULT_INPUT.range,
  };
  let backbone: Backbone;
  try {
    backbone = await Backbone.load(artifacts, format, spec);
  } catch (e) {
    throw new UserError(`--image-model ${path}: TF.js cannot load it (${(e as Error).message})`);
  }
  return { backbone, format, spec, files, key: sha256(files.json + sha256(files.weights)) };
}
