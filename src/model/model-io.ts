import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** A TF.js model as a bundle stores it: `model.json` and one weights file. */
export interface ModelArtifacts {
  /** Parsed model.json (`modelTopology` + `weightsManifest`). */
  modelJson: {
    format?: string;
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    [key: string]: unknown;
  };
  weights: ArrayBuffer;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1 };

/**
 * The artifacts for TF.js, once the weights file is checked to hold exactly the bytes the model's
 * weight specs call for: TF.js builds a model's variables before it reads the weights, so a short
 * or long file would fail half-way with tensors nobody can dispose.
 */
function handler(a: ModelArtifacts) {
  const weightSpecs = a.modelJson.weightsManifest.flatMap((g) => g.weights);
  let expected = 0;
  for (const w of weightSpecs) {
    const dtype = w.quantization?.dtype ?? w.dtype;
    const size = BYTES[dtype];
    if (size === undefined) throw new Error(`weight ${w.name} has dtype ${dtype}, which this loader does not read`);
    expected += w.shape.reduce((x, y) => x * y, 1) * size;
  }
  if (a.weights.byteLength !== expected) throw new Error(`the weights file has ${a.weights.byteLength} bytes, the model's weights need ${expected}`);
  return tf.io.fromMemory({ modelTopology: a.modelJson.modelTopology, weightSpecs, weightData: a.weights });
}

/**
 * Loads a layers model from bytes the caller has already fetched and verified — never by URL,
 * so nothing unchecked reaches TF.js.
 */
export function loadLayers(artifacts: ModelArtifacts): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(handler(artifacts));
}

/** A graph model (TensorFlow SavedModel converted for TF.js), also from verified bytes. */
export interface GraphModelLike {
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
  dispose(): void;
}

/** Loads a graph model; tfjs-converter is imported only here, so bundles with layers models never fetch it. */
export async function loadGraph(artifacts: ModelArtifacts): Promise<GraphModelLike> {
  const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
  return loadGraphModel(handler(artifacts));
}

/** Serialises a layers model to the bundle's two files (`model.json` naming `weightsFile`). */
export async function saveLayers(model: tfl.LayersModel, weightsFile: string): Promise<{ json: string; weights: Uint8Array }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.weightSpecs || !saved.weightData) throw new Error('model.save() produced no weights');
  const data = saved.weightData instanceof ArrayBuffer ? saved.weightData : tf.io.concatenateArrayBuffers(saved.weightData);
  const json = JSON.stringify({
    format: 'layers-model',
    modelTopology: saved.modelTopology,
    weightsManifest: [{ paths: [weightsFile], weights: saved.weightSpecs }],
  });
  return { json, weights: new Uint8Array(data) };
}
