// Principal component analysis for the demo's style map (style-map.js): the directions along which a
// set of vectors varies most. Plain JS, no dependencies: a catalog of 1,000 × 64 takes milliseconds.

/** Power iterations per component at most; two close variances converge slowly (hundreds here). */
const MAX_ITERATIONS = 10_000;
/** A component has converged when no coordinate moves by more than this in one iteration. */
const TOLERANCE = 1e-12;

/**
 * The first `k` principal components of `n` rows of `d` numbers, by power iteration on the `d × d`
 * covariance, each component kept orthogonal to the ones before it (deflation).
 *
 * - Deterministic: a fixed start vector, and each component's sign chosen so that its largest
 *   coordinate is positive — the same rows always give the same components, the same map.
 * - `variances[c]` is the variance of the rows along component `c`; `total` is the variance of the
 *   rows summed over all `d` dimensions, so `variances[c] / total` is the share it explains.
 * - `scores` are the centred rows projected on the components, `n × k`, row-major.
 *
 * @param {ArrayLike<number>} rows `n × d`, row-major
 * @param {number} d numbers per row
 * @param {number} [k] how many components
 * @returns {{ components: Float64Array[], variances: number[], total: number, scores: Float64Array }}
 * @example
 *   const { scores, variances, total } = pca(rows, 64, 2);
 *   // product i sits at (scores[2 * i], scores[2 * i + 1]); the x axis explains variances[0] / total
 */
export function pca(rows, d, k = 2) {
  const n = Math.floor(rows.length / d);
  if (n < 2 || k < 1 || k > d) throw new RangeError(`pca: needs at least 2 rows and 1 ≤ k ≤ d (got ${n} rows, d = ${d}, k = ${k})`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += rows[i * d + j] / n;
  const centred = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) centred[i * d + j] = rows[i * d + j] - mean[j];

  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let a = 0; a < d; a++) {
      const xa = centred[row + a];
      if (xa === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += xa * centred[row + b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) cov[b * d + a] = cov[a * d + b] /= n - 1;
  }
  let total = 0;
  for (let a = 0; a < d; a++) total += cov[a * d + a];

  const components = [];
  const variances = [];
  for (let c = 0; c < k; c++) {
    // A fixed start, not a uniform one: a uniform start would miss any component whose coordinates sum to 0.
    let v = unit(Float64Array.from({ length: d }, (_, j) => 1 + j / d), components);
    for (let it = 0; it < MAX_ITERATIONS && v; it++) {
      const next = unit(times(cov, v, d), components);
      if (!next) break;
      let moved = 0;
      for (let j = 0; j < d; j++) moved = Math.max(moved, Math.abs(next[j] - v[j]));
      v = next;
      if (moved < TOLERANCE) break;
    }
    // No variance left (fewer independent directions than k): a zero component, zero scores.
    v ??= new Float64Array(d);
    let largest = 0;
    for (let j = 1; j < d; j++) if (Math.abs(v[j]) > Math.abs(v[largest])) largest = j;
    if (v[largest] < 0) for (let j = 0; j < d; j++) v[j] = -v[j];
    components.push(v);
    variances.push(dot(v, times(cov, v, d)));
  }

  const scores = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += centred[i * d + j] * components[c][j];
      scores[i * k + c] = s;
    }
  }
  return { components, variances, total, scores };
}

function times(m, v, d) {
  const out = new Float64Array(d);
  for (let a = 0; a < d; a++) {
    let s = 0;
    for (let b = 0; b < d; b++) s += m[a * d + b] * v[b];
    out[a] = s;
  }
  return out;
}

function dot(a, b) {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j] * b[j];
  return s;
}

/** `v` with its parts along `basis` (unit vectors) taken out, scaled to length 1; undefined if nothing is left. */
function unit(v, basis) {
  for (const u of basis) {
    const along = dot(v, u);
    for (let j = 0; j < v.length; j++) v[j] -= along * u[j];
  }
  const length = Math.sqrt(dot(v, v));
  if (!(length > 1e-150)) return undefined;
  for (let j = 0; j < v.length; j++) v[j] /= length;
  return v;
}
