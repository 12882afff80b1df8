// Small, dependency-free statistics for the chaos report.

/** Lanczos coefficients (g = 671/128, 14 terms) of Numerical Recipes 3rd ed., `gammln`: about 1e-15 relative. */
const LANCZOS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202, 3.399464998481189e-5, 4.652362892704858e-5, -9.837447530487956e-5,
  1.580887032249125e-4, -2.1026444172410488e-4, 2.1743961811521265e-4, -1.643181065367639e-4, 8.441822398385275e-5, -2.6190838401581408e-5,
  3.6899182659531625e-6,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (Lanczos). */
export function logGamma(x: number): number {
  let y = x;
  let tmp = x + 5.2421875;
  tmp = (x + 0.5) * Math.log(tmp) - tmp;
  let ser = 0.9999999999999971;
  for (const c of LANCZOS) ser += c / ++y;
  return tmp + Math.log((2.5066282746310007 * ser) / x);
}

/** Stirling's remainder δ(z) = ln Γ(z) − ((z − ½) ln z − z + ½ ln 2π), small and free of cancellation for large z. */
function stirlingRemainder(z: number): number {
  if (z < 10) return logGamma(z) - ((z - 0.5) * Math.log(z) - z + HALF_LOG_2PI);
  const r = 1 / (z * z);
  return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r * (1 / 1680 - r * (1 / 1188 - r * (691 / 360360 - r / 156)))))) / z;
}

/** t − ln(1 + t) for t > −1, given r = 1 + t (as accurate as t: far from 0, 1 + t itself would round). */
function log1pDeficit(t: number, r: number): number {
  if (Math.abs(t) > 0.1) return t - Math.log(r);
  let sum = 0;
  let term = t;
  for (let j = 2; j < 40; j++) {
    term *= -t;
    const next = sum + term / j;
    if (next === sum) break;
    sum = next;
  }
  return -sum;
}

/**
 * ln(x^a y^b / B(a, b)) with y = 1 − x, the front factor of the incomplete beta, written as a deviance from the
 * mean x0 = a/(a+b) (TOMS 708's `brcomp` idea) instead of `lnΓ(a+b) − lnΓ(a) − lnΓ(b) + a ln x + b ln y`: at
 * a + b ≈ 10^7 those terms are ~10^8 each and their sum keeps only ~1e-7 of relative precision.
 */
function logBetaFront(x: number, y: number, a: number, b: number): number {
  const n = a + b;
  const x0 = a / n;
  const y0 = b / n;
  const u = x - x0;
  const deviance = a * log1pDeficit(u / x0, x / x0) + b * log1pDeficit(-u / y0, y / y0);
  return -deviance + 0.5 * Math.log((a * b) / n) - HALF_LOG_2PI + stirlingRemainder(n) - stirlingRemainder(a) - stirlingRemainder(b);
}

/**
 * Continued fraction of I_x(a, b) (Numerical Recipes `betacf`, modified Lentz), given y = 1 − x too. Each Lentz
 * denominator D' = 1 + α/D is kept with δ' = D' − 1 = α/D; where α/D ≈ −1 (large a, small b, x just past the mean:
 * the mirrored call for k ≪ n ≈ 10^7) D' is formed as (δ + (1 + α))/D with 1 + α from exact parts instead, as
 * 1 + α/D there cancels and cost the bound up to 1e-10 of its relative accuracy.
 */
function betaContinuedFraction(x: number, y: number, a: number, b: number): number {
  const tiny = 1e-300;
  const maxIterations = 1000 + Math.ceil(20 * Math.sqrt(Math.max(a, b)));
  /** One Lentz step of C or D: [its next value, that value − 1]. */
  const step = (value: number, delta: number, alpha: number, onePlusAlpha: number): [number, number] => {
    const nextDelta = alpha / value;
    const next = Math.abs(nextDelta) < 0.5 ? 1 + nextDelta : (delta + onePlusAlpha) / value;
    return [Math.abs(next) < tiny ? tiny : next, nextDelta];
  };
  let [c, cDelta] = [1, 0];
  let [d, dDelta] = step(1, 0, (-(a + b) * x) / (a + 1), (a * y - b * x + 1) / (a + 1));
  let h = 1 / d;
  for (let m = 1; m <= maxIterations; m++) {
    const odd = (m * (b - m) * x) / ((a - 1 + 2 * m) * (a + 2 * m)); // never near −1
    [c, cDelta] = step(c, cDelta, odd, 1 + odd);
    [d, dDelta] = step(d, dDelta, odd, 1 + odd);
    h *= c / d;
    const evenDen = (a + 2 * m) * (a + 1 + 2 * m);
    const even = (-(a + m) * (a + b + m) * x) / evenDen;
    // evenDen · (1 + even) = p0 + p1 + p2 exactly; use that sum where it cancels less than 1 + even does.
    const [p0, p1, p2] = [a * (1 + 2 * m - b), m * (2 + 3 * m - b), (a + m) * (a + b + m) * y];
    const sum = p0 + p1 + p2;
    const sumLoss = (Math.abs(p0) + Math.abs(p1) + Math.abs(p2)) / Math.abs(sum);
    const evenPlus1 = sumLoss < (1 + Math.abs(even)) / Math.abs(1 + even) ? sum / evenDen : 1 + even;
    [c, cDelta] = step(c, cDelta, even, evenPlus1);
    [d, dDelta] = step(d, dDelta, even, evenPlus1);
    const del = c / d;
    h *= del;
    if (Math.abs(del - 1) <= 3e-16) return h;
  }
  throw new Error(`incomplete beta: continued fraction did not converge (a=${a}, b=${b}, x=${x})`);
}

/** Regularized incomplete beta I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const y = 1 - x;
  const front = Math.exp(logBetaFront(x, y, a, b));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, y, a, b)) / a : 1 - (front * betaContinuedFraction(y, x, b, a)) / b;
}

/**
 * One-sided upper confidence bound (exact Clopper–Pearson) of a binomial proportion after `k` successes in
 * `n` trials: the p at which P(X ≤ k; n, p) = 1 − confidence. 1 when k = n or n = 0; for k = 0 it equals
 * 1 − (1 − confidence)^(1/n). Solved by bisection on I_p(k + 1, n − k) = confidence to ~1e-14 relative.
 */
export function clopperPearsonUpper(k: number, n: number, confidence = 0.95): number {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || k > n) throw new RangeError(`clopperPearsonUpper: need integers 0 ≤ k ≤ n, got k=${k}, n=${n}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`clopperPearsonUpper: confidence must lie in (0, 1), got ${confidence}`);
  if (k === n) return 1;
  // The bound is at least the point estimate; I_p(k + 1, n − k) rises with p.
  let lo = k / n;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (incompleteBeta(mid, k + 1, n - k) < confidence) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Nearest-rank percentile (`p` in 0–100) of `values`; NaN when empty. Same semantics as scripts/bench/report.ts. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
