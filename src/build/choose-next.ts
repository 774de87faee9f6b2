/**
 * The builder's "Next for you" step: picks the scorer for this store on its own held-back sessions,
 * then builds what the bundle ships with it from all sessions.
 *
 * 1. The latest 15% of sessions (by start) are held back; every view in them of a product not yet
 *    viewed in the session is a validation query, scored by MRR@20 of the products the row can
 *    show (the session's own left out: `MRR@20:new`).
 * 2. Candidates, each scored on the same queries: session-kNN from V-SKNN's defaults, its settings
 *    moved one at a time where that is clearly better; sequential rules; and the GRU where the
 *    store's sessions can feed one (enough views per product), trained with early stopping.
 * 3. The best single component is kept unless a blend of them beats it beyond noise (the paired
 *    bootstrap's 95% interval of the gain is above zero). Where the GRU is chosen, a session of one
 *    view gets the best choice without it, so a shopper's first page never needs TF.js.
 * 4. The chosen scorer's data are rebuilt from all sessions (the GRU retrained for the epochs
 *    validation chose) — nothing the bundle ships saw only part of the data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { encodeSessions } from '../bundle/session-file.js';
import { encodeNextView, nextViewLogits, NextViewModel, type NextViewParams } from '../model/next-view.js';
import type { TensorHeader } from '../bundle/tensor-file.js';
import {
  blend, denseScores, indexSessions, modelProbabilities, ruleScores, sampleSessions, sknnScores, VSKNN,
  type NextViewConfig, type Part, type RuleParams, type SessionIndex, type SknnParams, type Sparse,
} from '../recommend/next-view.js';
import { sessionLists, type SessionLists } from '../recommend/sessions.js';
import { NEXT_VIEW_MAX_LENGTH, trainNextView } from './train-next.js';
import { bootstrapInterval, clearlyBetter, evenly, pairedDifference, rankOf, reciprocalRank } from './validation.js';

/** The metric every next-view candidate is chosen by. */
export const NEXT_METRIC = 'MRR@20:new';
const CUTOFF = 20;
/** The latest views of a session the scorer reads. */
export const NEXT_VIEW_READ = 20;
/** Views kept of a session in the sample (its latest). */
export const SAMPLE_SESSION_LENGTH = 200;
/** Share of sessions held back for validation (the latest by start). */
export const VALIDATION_SHARE = 0.15;
/** Fewer validation queries than this: no choice is made, V-SKNN's defaults ship. */
const MIN_QUERIES = 30;
/** The GRU is trained only when there are at least this many training views per product that occurs. */
export const MODEL_MIN_VIEWS_PER_ITEM = 5;
const MODEL_MIN_VIEWS = 5000;
/** Rules settings: V-SKNN's sample, and the windows and depths tried. */
const RULES: RuleParams = { window: 10, depth: 3, sample: 500 };

export interface NextViewOptions {
  seed: number;
  /** `auto`: the GRU is a candidate where the data feed it; `off`: never. */
  model?: 'auto' | 'off';
  /** Validation queries at most (taken evenly). Default 2000. */
  maxQueries?: number;
  /** Unit-length visual embeddings (items × dims) the GRU's item table starts from. */
  init?: Float32Array;
  dims?: number;
  /** GRU epochs at most (early stopping usually ends sooner). Default 20. */
  maxEpochs?: number;
  log?: (line: string) => void;
}

/** One candidate's row of the validation table. */
export interface CandidateRow {
  name: string;
  score: number;
  lo: number;
  hi: number;
  chosen?: boolean;
  note?: string;
}

export interface NextViewChoice {
  config: NextViewConfig;
  metric: typeof NEXT_METRIC;
  /** The chosen scorer's validation score with its 95% interval; absent when there was too little to validate on. */
  validation?: { score: number; lo: number; hi: number; queries: number; sessions: number };
  table: CandidateRow[];
  /** Why this one, in a sentence. */
  reason: string;
  /** GRU epochs chosen by early stopping, when the GRU is part of the choice. */
  modelEpochs?: number;
}

/** What the bundle ships for the row. */
export interface NextViewPart {
  choice: NextViewChoice;
  sessions: Uint8Array;
  /** The GRU's tensors, when the choice blends it in. */
  model?: { header: TensorHeader; data: Uint8Array; params: number };
  /** Sessions and views in the sample. */
  sample: { sessions: number; views: number };
}

/** Sessions as flat lists, the latest SAMPLE_SESSION_LENGTH views of each: what the sample keeps. */
const flatSessions = (sessions: Iterable<ArrayLike<number>>): SessionLists => sessionLists(sessions, SAMPLE_SESSION_LENGTH);

interface Query {
  prefix: Int32Array;
  target: number;
}

/** Every view of a product new to its session, in the held-back sessions (at most `max`, evenly). */
function validationQueries(sessions: Int32Array[], known: (i: number) => boolean, max: number): Query[] {
  const all: Query[] = [];
  for (const raw of sessions) {
    const s = Int32Array.from(Array.from(raw).filter(known).filter((it, k, a) => k === 0 || a[k - 1] !== it));
    for (let p = 1; p < s.length; p++) if (!s.subarray(0, p).includes(s[p]!)) all.push({ prefix: s.subarray(0, p), target: s[p]! });
  }
  return evenly(all.length, max).map((k) => all[k]!);
}

/** Reciprocal ranks of each query's target, the session's products left out. */
function reciprocalRanks(queries: readonly Query[], scores: (q: Query, k: number) => Float64Array): Float64Array {
  return Float64Array.from(queries, (q, k) => reciprocalRank(rankOf(scores(q, k), q.target, new Set(q.prefix)), CUTOFF));
}

const describeSknn = (p: SknnParams) => {
  const moved = (Object.keys(VSKNN) as (keyof SknnParams)[]).filter((k) => p[k] !== VSKNN[k]);
  return moved.length ? `session-kNN (${moved.map((k) => `${k} ${+p[k].toFixed(3)}`).join(', ')})` : 'session-kNN (V-SKNN defaults)';
};

/** The settings tried for session-kNN, one at a time, in this order. */
function sknnMoves(sessions: number): [keyof SknnParams, number[]][] {
  return [
    ['proximity', [1, 2, 4]],
    ['before', [0.5]],
    ['decay', [1, 3]],
    ['k', [50, 200]],
    ['sample', [250, 1000]],
    ['recency', [Math.max(1, Math.round(sessions / 10)), Math.max(1, Math.round(sessions / 2))]],
  ];
}

type Key = 'sknn' | 'rules' | 'model';

/** A scored candidate: its sparse scores per validation query, their reciprocal ranks, its table row. */
interface Component {
  name: string;
  key: Key;
  parts: Sparse[];
  rr: Float64Array;
  row: CandidateRow;
}

/** What every candidate is scored with: the training sessions' index and the validation queries. */
class Bench {
  readonly rows: CandidateRow[] = [];
  constructor(
    readonly ix: SessionIndex,
    readonly queries: readonly Query[],
    private readonly seed: number,
    private readonly log: (line: string) => void,
  ) {}

  /** The query's latest views, as the scorer reads them. */
  recent = (q: Query) => q.prefix.subarray(Math.max(0, q.prefix.length - NEXT_VIEW_READ));

  /** A table row, logged. */
  row(name: string, rr: Float64Array, note?: string): CandidateRow {
    const ci = bootstrapInterval(rr, this.seed);
    const r: CandidateRow = { name, score: ci.mean, lo: ci.lo, hi: ci.hi, ...(note ? { note } : {}) };
    this.rows.push(r);
    this.log(`  ${name.padEnd(58)} ${NEXT_METRIC} ${ci.mean.toFixed(4)} [${ci.lo.toFixed(4)}, ${ci.hi.toFixed(4)}]${note ? `  ${note}` : ''}`);
    return r;
  }

  /** Reciprocal ranks of components blended with `weights` (one part per query each). */
  blended(parts: readonly (readonly Sparse[])[], weights: readonly number[]): Float64Array {
    return reciprocalRanks(this.queries, (q, k) => blend(this.ix, parts.map((p, n): Part => ({ scores: p[k]!, weight: weights[n]! })), new Set(q.prefix)));
  }

  seedOf(): number {
    return this.seed;
  }
}

const total = (rr: Float64Array) => rr.reduce((a, b) => a + b, 0);

/** Session-kNN: V-SKNN's defaults, then one setting at a time, each kept when clearly better. */
function tuneSknn(b: Bench, sessions: number): Component & { params: SknnParams } {
  const score = (p: SknnParams) => {
    const parts = b.queries.map((q) => sknnScores(b.ix, b.recent(q), p));
    return { p, parts, rr: b.blended([parts], [1]) };
  };
  let best = score({ ...VSKNN });
  let row = b.row(describeSknn(best.p), best.rr);
  for (const [key, values] of sknnMoves(sessions)) {
    let moved: typeof best | undefined;
    for (const v of values) {
      const tried = score({ ...best.p, [key]: v });
      if (clearlyBetter((moved ?? best).rr, tried.rr)) moved = tried;
    }
    if (moved) (best = moved), (row = b.row(describeSknn(best.p), best.rr, `${key} moved`));
  }
  return { name: describeSknn(best.p), key: 'sknn', parts: best.parts, rr: best.rr, row, params: best.p };
}

/** Sequential rules: the window and depth that score best. */
function tuneRules(b: Bench): Component & { params: RuleParams } {
  let best: { p: RuleParams; parts: Sparse[]; rr: Float64Array } | undefined;
  for (const window of [1, 3, 10]) {
    for (const depth of [1, 3]) {
      const p = { ...RULES, window, depth };
      const parts = b.queries.map((q) => ruleScores(b.ix, b.recent(q), p));
      const rr = b.blended([parts], [1]);
      if (!best || total(rr) > total(best.rr)) best = { p, parts, rr };
    }
  }
  const name = `sequential rules (window ${best!.p.window}, depth ${best!.p.depth})`;
  return { name, key: 'rules', parts: best!.parts, rr: best!.rr, row: b.row(name, best!.rr), params: best!.p };
}

/**
 * The best single component, unless the best blend of two or more (weights 0, ¼, ½, 1) beats it
 * beyond noise: the paired bootstrap's 95% interval of the gain above zero.
 */
function pick(b: Bench, from: readonly Component[], label = ''): { weights: Map<Key, number>; rr: Float64Array; row: CandidateRow; reason: string } {
  const best = from.reduce((x, y) => (total(y.rr) > total(x.rr) ? y : x));
  const single = { weights: new Map([[best.key, 1]]), rr: best.rr, row: best.row };
  const steps = [0, 0.25, 0.5, 1];
  const grid = (prefix: number[]): number[][] => (prefix.length === from.length ? [prefix] : steps.flatMap((w) => grid([...prefix, w])));
  let top: { w: number[]; rr: Float64Array } | undefined;
  for (const w of grid([])) {
    if (w.filter((x) => x > 0).length < 2 || Math.max(...w) !== 1) continue;
    const rr = b.blended(from.map((c) => c.parts), w);
    if (!top || total(rr) > total(top.rr)) top = { w, rr };
  }
  if (!top) return { ...single, reason: `${best.name} is the best component${label}` };
  const gain = pairedDifference(best.rr, top.rr, b.seedOf());
  const name = `blend${label}: ${from.flatMap((c, n) => (top!.w[n] ? [`${top!.w[n]} × ${c.key}`] : [])).join(' + ')}`;
  const span = `${gain.mean.toFixed(4)} [${gain.lo.toFixed(4)}, ${gain.hi.toFixed(4)}]`;
  if (gain.lo <= 0) {
    b.row(name, top.rr, `gain over ${best.name} ${span}: within noise`);
    return { ...single, reason: `${best.name} is the best single component; the best blend's gain, ${span}, is within noise` };
  }
  const weights = new Map(from.flatMap((c, n): [Key, number][] => (top!.w[n] ? [[c.key, top!.w[n]!]] : [])));
  return { weights, rr: top.rr, row: b.row(name, top.rr, `beats ${best.name} by ${span}`), reason: `the blend beats the best single component, ${best.name}, by ${span}` };
}

/**
 * Chooses the next-view scorer on held-back sessions (see the file's comment) and returns the
 * choice; `sessions` are in time order (oldest first) as item indices in [0, itemCount).
 */
export async function chooseNextView(sessions: readonly ArrayLike<number>[], itemCount: number, opts: NextViewOptions): Promise<NextViewChoice> {
  const log = opts.log ?? (() => {});
  const cut = Math.round(sessions.length * (1 - VALIDATION_SHARE));
  const train = sessions.slice(0, cut);
  const seenInTrain = new Uint8Array(itemCount);
  for (const s of train) for (let i = 0; i < s.length; i++) seenInTrain[s[i]!] = 1;
  const queries = validationQueries(sessions.slice(cut).map((s) => Int32Array.from(s)), (i) => seenInTrain[i] === 1, opts.maxQueries ?? 2000);
  if (queries.length < MIN_QUERIES) {
    const reason = `V-SKNN's defaults, unvalidated: ${queries.length} held-back views to validate on (fewer than ${MIN_QUERIES})`;
    log(`next view: ${reason}`);
    return { config: { maxLength: NEXT_VIEW_READ, sknn: { ...VSKNN, weight: 1 } }, metric: NEXT_METRIC, table: [], reason };
  }
  log(`next view: choosing on ${queries.length} views of the latest ${sessions.length - cut} sessions (${NEXT_METRIC}, 95% bootstrap intervals)`);
  const b = new Bench(indexSessions(flatSessions(train), itemCount), queries, opts.seed, log);
  const sknn = tuneSknn(b, train.length);
  const rules = tuneRules(b);
  const components: Component[] = [sknn, rules];
  // The GRU, where the data feed it.
  let modelEpochs: number | undefined;
  const views = train.reduce((a, s) => a + Math.max(0, s.length - 1), 0);
  const products = seenInTrain.reduce((a, x) => a + x, 0);
  if (opts.model === 'off') log('  GRU: off');
  else if (views < MODEL_MIN_VIEWS || views < MODEL_MIN_VIEWS_PER_ITEM * products) {
    log(`  GRU: not trained — ${views} training views for ${products} products (it needs ${MODEL_MIN_VIEWS_PER_ITEM} per product and ${MODEL_MIN_VIEWS} in all)`);
  } else {
    const trained = await trainModel(train, itemCount, queries, opts);
    modelEpochs = trained.epochs;
    const rr = b.blended([trained.parts], [1]);
    components.push({ name: 'the GRU', key: 'model', parts: trained.parts, rr, row: b.row(`GRU (${trained.epochs} epochs by early stopping)`, rr) });
  }
  const main = pick(b, components);
  main.row.chosen = true;
  const config: NextViewConfig = { maxLength: NEXT_VIEW_READ, ...partsOf(main.weights, sknn.params, rules.params) };
  let reason = main.reason;
  let shipped = main.rr;
  if (main.weights.has('model')) {
    // A session of one view is scored without the GRU: a first visit's rows never need TF.js.
    const free = pick(b, [sknn, rules], ' without the GRU');
    config.oneView = partsOf(free.weights, sknn.params, rules.params);
    reason += `; a session of one view: ${free.reason.replace(/ without the GRU/, '')} (no TF.js on a first visit)`;
    shipped = Float64Array.from(main.rr, (r, k) => (b.recent(queries[k]!).length === 1 ? free.rr[k]! : r));
  }
  log(`  chosen: ${reason}`);
  const ci = bootstrapInterval(shipped, opts.seed);
  return {
    config, metric: NEXT_METRIC, table: b.rows, reason,
    validation: { score: ci.mean, lo: ci.lo, hi: ci.hi, queries: queries.length, sessions: sessions.length - cut },
    ...(config.model ? { modelEpochs } : {}),
  };
}

/** A choice's weights as config parts. */
function partsOf(weights: Map<Key, number>, sknn: SknnParams, rules: RuleParams): Omit<NextViewConfig, 'maxLength'> {
  const w = (k: Key) => weights.get(k);
  return {
    ...(w('sknn') ? { sknn: { ...sknn, weight: w('sknn')! } } : {}),
    ...(w('rules') ? { rules: { ...rules, weight: w('rules')! } } : {}),
    ...(w('model') ? { model: { weight: w('model')! } } : {}),
  };
}

/**
 * Trains the GRU on the training sessions with early stopping on (a part of) the validation
 * queries, and returns each query's probabilities as a component (its top products, sparse).
 */
async function trainModel(train: readonly ArrayLike<number>[], itemCount: number, queries: readonly Query[], opts: NextViewOptions): Promise<{ epochs: number; parts: Sparse[] }> {
  const stopOn = evenly(queries.length, 500).map((k) => queries[k]!);
  const validate = async (p: NextViewParams) => {
    let rr = 0;
    for (const q of stopOn) {
      const logits = nextViewLogits(p, q.prefix, NEXT_VIEW_MAX_LENGTH);
      const s = (await logits.data()) as Float32Array;
      logits.dispose();
      rr += reciprocalRank(rankOf(s, q.target, new Set(q.prefix)), CUTOFF);
    }
    return rr / stopOn.length;
  };
  const t = performance.now();
  const trained = await trainNextView(train.filter((s) => s.length > 1), itemCount, {
    maxLength: NEXT_VIEW_MAX_LENGTH, seed: opts.seed, dims: opts.dims ?? 64, init: opts.init, epochs: opts.maxEpochs ?? 20, validate,
    onEpoch: (e, loss, score) => opts.log?.(`    GRU epoch ${e + 1}: loss ${loss.toFixed(3)}, ${NEXT_METRIC} on ${stopOn.length} held-back views ${score?.toFixed(4)}`),
  });
  // Scored as the bundle stores it (int8 item table, float16 rest).
  const { header, data } = await encodeNextView(trained.params, NEXT_VIEW_MAX_LENGTH);
  Object.values(trained.params).forEach((x) => (x as tf.Tensor).dispose());
  const model = NextViewModel.load(header, data.slice().buffer, itemCount);
  try {
    const parts: Sparse[] = [];
    for (const q of queries) parts.push(topOf(modelProbabilities(await model.scores(q.prefix)), 1000, q.target));
    opts.log?.(`    GRU: ${trained.epochs} epochs, ${((performance.now() - t) / 1000).toFixed(0)} s`);
    return { epochs: trained.epochs, parts };
  } finally {
    model.dispose();
  }
}

/** A dense score array's `n` best entries and `keep`'s, sparse (enough to rank a target in a top 20). */
function topOf(scores: Float64Array, n: number, keep: number): Sparse {
  if (scores.length <= n) return denseScores(scores);
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!).slice(0, n);
  if (!order.includes(keep)) order.push(keep);
  return { index: Int32Array.from(order), score: Float64Array.from(order, (i) => scores[i]!) };
}

/**
 * The row's bundle part: chooses on held-back sessions, then builds the session sample (and
 * retrains the GRU, when chosen) from all `sessions`.
 */
export async function buildNextView(sessions: readonly ArrayLike<number>[], itemCount: number, opts: NextViewOptions): Promise<NextViewPart> {
  return shipNextView(sessions, itemCount, await chooseNextView(sessions, itemCount, opts), opts);
}

/** The bundle part for a choice, built from all `sessions` (the GRU retrained for `choice.modelEpochs`). */
export async function shipNextView(sessions: readonly ArrayLike<number>[], itemCount: number, choice: NextViewChoice, opts: NextViewOptions): Promise<NextViewPart> {
  const c = choice.config;
  const perItem = Math.max(c.sknn?.sample ?? 0, c.rules?.sample ?? 0, c.oneView?.sknn?.sample ?? 0, c.oneView?.rules?.sample ?? 0, 1);
  const sample = sampleSessions(flatSessions(sessions), itemCount, perItem);
  let model: NextViewPart['model'];
  if (choice.config.model) {
    const trained = await trainNextView(sessions.filter((s) => s.length > 1), itemCount, {
      maxLength: NEXT_VIEW_MAX_LENGTH, seed: opts.seed, dims: opts.dims ?? 64, init: opts.init, epochs: choice.modelEpochs,
      onEpoch: (e, loss) => opts.log?.(`    GRU on all sessions, epoch ${e + 1} of ${choice.modelEpochs}: loss ${loss.toFixed(3)}`),
    });
    const params = Object.values(trained.params).reduce((a, x) => a + (x as tf.Tensor).size, 0);
    const enc = await encodeNextView(trained.params, NEXT_VIEW_MAX_LENGTH);
    Object.values(trained.params).forEach((x) => (x as tf.Tensor).dispose());
    model = { ...enc, params };
  }
  return { choice, sessions: encodeSessions(sample, itemCount), model, sample: { sessions: sample.offsets.length - 1, views: sample.items.length } };
}

