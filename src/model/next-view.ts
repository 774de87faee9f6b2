import * as tf from '@tensorflow/tfjs-core';
import { decodeTensors, encodeTensors, type NamedTensor, type TensorHeader } from '../bundle/tensor-file.js';

export const NEXT_VIEW_KIND = 'gru-tied';

/**
 * The next-view model's parameters: an item table shared by input and output (seed §1's lesson —
 * a few dozen numbers per product, not a one-hot of the catalog), a GRU over the session, and a
 * projection of its state into item space. Gates have separate matrices: in TF.js's wasm backend
 * three small matMuls cost less than one matMul and a split.
 */
export interface NextViewParams {
  /** (items + 1) × dims; row 0 is padding (item i is row i + 1). */
  items: tf.Tensor2D;
  /** items: a popularity prior per item. */
  itemBias: tf.Tensor1D;
  /** dims × hidden: input weights of the update, reset and candidate gates. */
  Wz: tf.Tensor2D;
  Wr: tf.Tensor2D;
  Wn: tf.Tensor2D;
  /** hidden × hidden: recurrent weights. */
  Uz: tf.Tensor2D;
  Ur: tf.Tensor2D;
  Un: tf.Tensor2D;
  bz: tf.Tensor1D;
  br: tf.Tensor1D;
  bn: tf.Tensor1D;
  /** hidden × dims: a state into item space. */
  out: tf.Tensor2D;
  outBias: tf.Tensor1D;
}

/**
 * matMul whose gradient transposes its operands explicitly. TF.js's own gradient multiplies with
 * `transposeA`/`transposeB`, which the wasm backend runs 7× slower than a transpose and a plain
 * matMul (measured): it made training's backward pass 8× its forward.
 */
export const matMul = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, [sa, sb]: tf.Tensor2D[]) => [tf.matMul(dy, tf.transpose(sb!)), tf.matMul(tf.transpose(sa!), dy)],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

export const PARAM_NAMES = ['items', 'itemBias', 'Wz', 'Wr', 'Wn', 'Uz', 'Ur', 'Un', 'bz', 'br', 'bn', 'out', 'outBias'] as const;

/**
 * GRU states after each step, for a batch of sequences ([batch, length] int32, item i as i + 1).
 * Sequences start at the zero state, so a session read from its start in training and its last
 * items read at a query follow the same dynamics. Padding (0) at the end of a sequence is harmless:
 * callers ignore the states it produces.
 */
export function gruStates(p: NextViewParams, sequences: tf.Tensor2D): tf.Tensor2D[] {
  const [batch, length] = sequences.shape;
  const hidden = p.Uz.shape[0];
  // One gather for all steps, time-major: [length, batch, dims].
  const steps = tf.unstack(tf.gather(p.items, tf.transpose(sequences))) as tf.Tensor2D[];
  let h = tf.zeros([batch, hidden]) as tf.Tensor2D;
  const states: tf.Tensor2D[] = [];
  for (let t = 0; t < length; t++) {
    const x = steps[t]!;
    const z = tf.sigmoid(tf.add(tf.add(matMul(x, p.Wz), matMul(h, p.Uz)), p.bz));
    const r = tf.sigmoid(tf.add(tf.add(matMul(x, p.Wr), matMul(h, p.Ur)), p.br));
    const n = tf.tanh(tf.add(tf.add(matMul(x, p.Wn), tf.mul(r, matMul(h, p.Un))), p.bn));
    h = tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D; // (1 − z)·n + z·h
    states.push(h);
  }
  return states;
}

/**
 * Scores of every item for a batch of states ([rows, hidden] → [rows, items] logits). The table is
 * transposed explicitly: matMul with `transposeB` was 7× slower in the wasm backend, measured.
 */
export function itemLogits(p: NextViewParams, states: tf.Tensor2D, table = itemTable(p)): tf.Tensor2D {
  const query = tf.add(matMul(states, p.out), p.outBias) as tf.Tensor2D;
  return tf.add(matMul(query, table), p.itemBias) as tf.Tensor2D;
}

/** The item table transposed for scoring (dims × items), padding row left out. */
export const itemTable = (p: NextViewParams): tf.Tensor2D => tf.transpose(tf.slice(p.items, [1, 0], [-1, -1])) as tf.Tensor2D;

/**
 * Logits of the item viewed next after `session` (item indices, oldest first; the last `maxLength`
 * are read). `table`: {@link itemTable}, when the caller keeps it between queries.
 */
export function nextViewLogits(p: NextViewParams, session: ArrayLike<number>, maxLength: number, table?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const n = Math.min(session.length, maxLength);
    const seq = new Int32Array(Math.max(1, n));
    for (let i = 0; i < n; i++) seq[i] = session[session.length - n + i]! + 1;
    const states = gruStates(p, tf.tensor2d(seq, [1, seq.length], 'int32'));
    return itemLogits(p, states[states.length - 1]!, table);
  });
}

/** Packs trained parameters for the bundle: the item table as int8 rows, the rest as float16. */
export async function encodeNextView(p: NextViewParams, maxLength: number): Promise<{ header: TensorHeader; data: Uint8Array }> {
  const tensors: NamedTensor[] = [];
  for (const name of PARAM_NAMES) {
    const t = p[name];
    tensors.push({ name, shape: t.shape.slice(), data: (await t.data()) as Float32Array, storage: name === 'items' ? 'int8' : 'float16' });
  }
  const [rows, dims] = p.items.shape;
  return encodeTensors(tensors, { kind: NEXT_VIEW_KIND, items: rows - 1, dims, hidden: p.Uz.shape[0], maxLength });
}

/** The next-view model in the browser: the shopper's current session (item indices) in, a score per item out. */
export class NextViewModel {
  /** The item table transposed once at load: transposing it per query cost most of the query (measured at 24k items, wasm: 27 ms → 1.8 ms). */
  private readonly table: tf.Tensor2D;
  private constructor(
    private readonly params: NextViewParams,
    readonly maxLength: number,
    readonly itemCount: number,
  ) {
    this.table = tf.tidy(() => itemTable(params));
  }

  /** Loads from the bundle's header and weights (already verified by the reader); checks every shape. */
  static load(header: TensorHeader, weights: ArrayBuffer, itemCount: number, file = 'next-view'): NextViewModel {
    const c = header.config ?? {};
    if (c.kind !== NEXT_VIEW_KIND) throw new Error(`${file}: model kind ${JSON.stringify(c.kind)} is not ${NEXT_VIEW_KIND}`);
    const { items, dims, hidden, maxLength } = c as Record<string, number>;
    if (items !== itemCount) throw new Error(`${file}: the model knows ${items} items, the bundle has ${itemCount}`);
    if (!(maxLength! >= 1 && maxLength! <= 256)) throw new Error(`${file}: maxLength ${maxLength} is not from 1 to 256`);
    const h = hidden!;
    const d = dims!;
    const expected: Record<string, number[]> = {
      items: [items + 1, d], itemBias: [items], Wz: [d, h], Wr: [d, h], Wn: [d, h], Uz: [h, h], Ur: [h, h], Un: [h, h], bz: [h], br: [h], bn: [h], out: [h, d], outBias: [d],
    };
    const decoded = decodeTensors(header, weights, file);
    const params = {} as Record<string, tf.Tensor>;
    for (const name of PARAM_NAMES) {
      const t = decoded.get(name);
      if (!t || t.shape.join('×') !== expected[name]!.join('×')) {
        Object.values(params).forEach((x) => x.dispose());
        throw new Error(`${file}: ${name} should be ${expected[name]!.join('×')}, is ${t ? t.shape.join('×') : 'missing'}`);
      }
      params[name] = tf.tensor(t.data, t.shape);
    }
    const model = new NextViewModel(params as unknown as NextViewParams, maxLength!, items);
    // Warm up: the first run compiles kernels; pay it at load, not on a shopper's query.
    tf.tidy(() => nextViewLogits(model.params, [0], maxLength!, model.table));
    return model;
  }

  /** Score of each catalog item being viewed next after `session` (higher is likelier). */
  async scores(session: ArrayLike<number>): Promise<Float32Array> {
    const logits = nextViewLogits(this.params, session, this.maxLength, this.table);
    try {
      return (await logits.data()) as Float32Array;
    } finally {
      logits.dispose();
    }
  }

  dispose(): void {
    for (const name of PARAM_NAMES) this.params[name].dispose();
    this.table.dispose();
  }
}
