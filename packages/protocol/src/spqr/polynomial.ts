/**
 * Lagrange interpolation over GF(2^16) in barycentric form, the arithmetic behind SPQR's erasure
 * code (shared/specs/signal-wire.md §3.4 "Erasure code"; spqr `encoding/polynomial.rs`).
 *
 * For distinct nodes x_0..x_{n−1} the unique polynomial P of degree < n through (x_j, y_j) is
 * P(x) = Σ_j y_j · L_j(x) with L_j(x) = ℓ(x) / ((x − x_j) · Π_{m≠j}(x_j − x_m)) and
 * ℓ(x) = Π_m (x − x_m). The denominators depend only on the nodes ({@link lagrangeBasis},
 * O(n²) once); the weights L_j(x) depend only on the nodes and x ({@link lagrangeLogWeightsAt},
 * O(n)), so one set of weights serves all 16 polynomials of a chunk. Weights are kept as
 * discrete logarithms: a weighted sum then costs one table look-up per term.
 *
 * Left out on purpose: coefficient-form polynomials (spqr converts to coefficients before
 * evaluating); evaluating the same interpolant in barycentric form gives the same values.
 */
import { GF16_EXP, GF16_GROUP_ORDER, GF16_LOG } from './gf16.js';

/** Distinct interpolation nodes with the logs of the inverted barycentric denominators. */
export interface LagrangeBasis {
  /** The nodes x_j (distinct). */
  readonly xs: Uint16Array;
  /** log(1 / Π_{m≠j}(x_j − x_m)), each in [0, 65535). */
  readonly logInverseDenominators: Int32Array;
}

function reduceLog(v: number): number {
  let r = v % GF16_GROUP_ORDER;
  if (r < 0) r += GF16_GROUP_ORDER;
  return r;
}

/** Prepares the barycentric denominators for the given distinct nodes. */
export function lagrangeBasis(xs: ArrayLike<number>): LagrangeBasis {
  const n = xs.length;
  const nodes = Uint16Array.from(xs);
  const logInv = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let logDen = 0;
    const xj = nodes[j]!;
    for (let m = 0; m < n; m++) {
      if (m === j) continue;
      const d = xj ^ nodes[m]!;
      if (d === 0) throw new RangeError('lagrangeBasis: nodes must be distinct');
      logDen += GF16_LOG[d]!;
    }
    logInv[j] = reduceLog(-logDen);
  }
  return { xs: nodes, logInverseDenominators: logInv };
}

const contiguousCache = new Map<number, LagrangeBasis>();

/** The basis for nodes 0, 1, …, n−1 (the systematic positions), cached per n. */
export function contiguousBasis(n: number): LagrangeBasis {
  let basis = contiguousCache.get(n);
  if (basis === undefined) {
    basis = lagrangeBasis(Array.from({ length: n }, (_, i) => i));
    contiguousCache.set(n, basis);
  }
  return basis;
}

/**
 * Writes log L_j(x) for every node into `logWeights` (length ≥ n) and returns −1, or, if x is a
 * node, returns its position j without writing (then P(x) = y_j). All weights are non-zero when
 * x is not a node, so their logarithms exist.
 */
export function lagrangeLogWeightsAt(
  basis: LagrangeBasis,
  x: number,
  logWeights: Int32Array,
): number {
  const { xs, logInverseDenominators } = basis;
  const n = xs.length;
  let logEll = 0;
  for (let m = 0; m < n; m++) {
    const d = x ^ xs[m]!;
    if (d === 0) return m;
    logEll += GF16_LOG[d]!;
  }
  logEll %= GF16_GROUP_ORDER;
  for (let j = 0; j < n; j++) {
    // log ℓ(x) + log(1/den_j) − log(x − x_j), reduced into [0, 65535).
    let w = logEll + logInverseDenominators[j]! + GF16_GROUP_ORDER - GF16_LOG[x ^ xs[j]!]!;
    while (w >= GF16_GROUP_ORDER) w -= GF16_GROUP_ORDER;
    logWeights[j] = w;
  }
  return -1;
}

/**
 * Σ_j y_j · L_j for n terms with y_j = ys[offset + j·stride] and weights given as logs.
 */
export function weightedSum(
  logWeights: Int32Array,
  n: number,
  ys: ArrayLike<number>,
  offset: number,
  stride: number,
): number {
  let acc = 0;
  for (let j = 0, p = offset; j < n; j++, p += stride) {
    const y = ys[p]!;
    if (y !== 0) acc ^= GF16_EXP[logWeights[j]! + GF16_LOG[y]!]!;
  }
  return acc;
}
