import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadLayers, type LayersArtifacts } from './layers-io.js';

/**
 * Left-pads (with 0) the last `maxLength` items of a session prefix; item i is encoded as i + 1 so
 * that 0 can mean "nothing" (masked by the model's embedding layer). The builder trains on exactly
 * this encoding and the browser queries with it.
 */
export function encodeSequence(items: readonly number[], maxLength: number): Int32Array {
  const out = new Int32Array(maxLength);
  const tail = items.slice(-maxLength);
  for (let i = 0; i < tail.length; i++) out[maxLength - tail.length + i] = tail[i]! + 1;
  return out;
}

/**
 * The bundle's next-view model in the browser: the shopper's current session (item indices,
 * oldest first) in, a probability per catalog item out.
 */
export class NextViewModel {
  private constructor(
    private readonly model: tfl.LayersModel,
    readonly maxLength: number,
    readonly itemCount: number,
  ) {}

  static async load(artifacts: LayersArtifacts, maxLength: number): Promise<NextViewModel> {
    const model = await loadLayers(artifacts);
    const itemCount = model.outputs[0]!.shape[1] as number;
    // Warm up so the first shopper-facing query does not pay for kernel compilation.
    tf.tidy(() => {
      model.predict(tf.zeros([1, maxLength], 'int32'));
    });
    return new NextViewModel(model, maxLength, itemCount);
  }

  /** Probability of each catalog item being viewed next after `session`. */
  async scores(session: readonly number[]): Promise<Float32Array> {
    const out = tf.tidy(() => this.model.predict(tf.tensor2d(encodeSequence(session, this.maxLength), [1, this.maxLength], 'int32')) as tf.Tensor);
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
