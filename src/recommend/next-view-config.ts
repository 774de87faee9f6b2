/**
 * What the bundle records of the "Next for you" row's method: its components' settings and
 * weights (recommend/next-view.ts scores with them), and the check a reader runs on them. Small
 * and separate, so the worker validates a manifest without loading the scorer itself.
 */

/** Session-kNN settings (V-SKNN's are `{k: 100, sample: 500, decay: 0, proximity: 0, before: 1, recency: 0}`). */
export interface SknnParams {
  /** Neighbouring sessions whose products are scored. */
  k: number;
  /** The most recent sessions sharing a product with this one, among which the neighbours are chosen. */
  sample: number;
  /** Weight of the p-th of L views: `p / L` when 0 (linear), else `exp((p − L) / decay)`. */
  decay: number;
  /** A neighbour's products weighted `exp(−distance / proximity)` from its view of the shared product; 0: off. */
  proximity: number;
  /** Weight of a neighbour's products viewed before the shared one (1: as after). */
  before: number;
  /** Neighbours weighted `exp(−age / recency)`, age in sessions of the sample; 0: off. */
  recency: number;
}

/** Sequential-rule settings. */
export interface RuleParams {
  /** Views after a product that count as "viewed after it", weighted 1 / steps. */
  window: number;
  /** How many of the session's latest views the rules start from, the latest weighing most. */
  depth: number;
  /** The most recent sessions of a product that are read. */
  sample: number;
}

/** A component's weight in the blend; absent or 0: not used. */
export interface NextViewConfig {
  /** The latest views of the session that are read. */
  maxLength: number;
  sknn?: SknnParams & { weight: number };
  rules?: RuleParams & { weight: number };
  /** The sequence model's weight: the caller passes the model's probabilities to the scorer. */
  model?: { weight: number };
  /**
   * With a model: the components a session of one view is scored with instead, so a shopper's
   * first product page needs no TF.js (the builder chooses them on the same held-back sessions).
   */
  oneView?: Pick<NextViewConfig, 'sknn' | 'rules'>;
}

/** Whether `session` needs the sequence model under `config` (a one-view session does not, where `oneView` is given). */
export function needsModel(session: ArrayLike<number>, config: NextViewConfig): boolean {
  return !!config.model?.weight && !(config.oneView && latestViews(session, config.maxLength).length === 1);
}

export const VSKNN: SknnParams = { k: 100, sample: 500, decay: 0, proximity: 0, before: 1, recency: 0 };

/** The session's latest `maxLength` views (oldest first). */
export const latestViews = (session: ArrayLike<number>, maxLength: number): ArrayLike<number> =>
  session.length > maxLength ? Array.prototype.slice.call(session, session.length - maxLength) : session;

/** Checks a config read from a bundle: every number a number in its range. Returns a reason, or '' when valid. */
export function checkNextViewConfig(c: unknown): string {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(c)) return 'is not an object';
  const num = (o: Record<string, unknown>, k: string, lo: number, hi: number, field: string) =>
    typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= lo && (o[k] as number) <= hi ? '' : `${field}.${k} must be a number from ${lo} to ${hi}`;
  const part = (name: string, ranges: Record<string, [number, number]>) => {
    const o = c[name];
    if (o === undefined) return '';
    if (!isObj(o)) return `${name} is not an object`;
    for (const [k, [lo, hi]] of Object.entries({ weight: [0, 1000] as [number, number], ...ranges })) {
      const why = num(o, k, lo, hi, name);
      if (why) return why;
    }
    return '';
  };
  const sknn = { k: [1, 100_000], sample: [1, 1_000_000], decay: [0, 1000], proximity: [0, 1000], before: [0, 1], recency: [0, 1e9] } as Record<string, [number, number]>;
  const rules = { window: [1, 100], depth: [1, 100], sample: [1, 1_000_000] } as Record<string, [number, number]>;
  const one = c.oneView;
  if (one !== undefined && !isObj(one)) return 'oneView is not an object';
  if (one !== undefined && !c.model) return 'oneView is given without a model';
  if (one !== undefined && Object.keys(one).some((k) => k !== 'sknn' && k !== 'rules')) return 'oneView may only hold sknn and rules';
  return (
    num(c, 'maxLength', 1, 1000, 'config') ||
    part('sknn', sknn) ||
    part('rules', rules) ||
    part('model', {}) ||
    (one ? checkNextViewConfig({ maxLength: c.maxLength, ...one }).replace(/^(sknn|rules)/, 'oneView.$1') : '')
  );
}
