import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** A TF.js layers model as the bundle stores it: `model.json` and one weights file. */
export interface LayersArtifacts {
  /** Parsed model.json (`modelTopology` + `weightsManifest`). */
  modelJson: {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    [key: string]: unknown;
  };
  weights: ArrayBuffer;
}

/**
 * Loads a layers model from bytes the caller has already fetched and verified — never by URL,
 * so nothing unchecked reaches TF.js.
 */
export function loadLayers(artifacts: LayersArtifacts): Promise<tfl.LayersModel> {
  const weightSpecs = artifacts.modelJson.weightsManifest.flatMap((g) => g.weights);
  return tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: artifacts.modelJson.modelTopology, weightSpecs, weightData: artifacts.weights }),
  );
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
