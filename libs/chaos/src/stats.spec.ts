import { describe, expect, it } from 'vitest';
import { clopperPearsonUpper, incompleteBeta, logGamma, percentile } from './stats.js';

/** |actual / expected − 1| ≤ tolerance. */
function expectRelative(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual / expected - 1)).toBeLessThanOrEqual(tolerance);
}

describe('logGamma', () => {
  it('matches known values', () => {
    expectRelative(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
    expect(Math.abs(logGamma(1))).toBeLessThan(1e-15);
    expect(Math.abs(logGamma(2))).toBeLessThan(1e-15);
    expectRelative(logGamma(10), Math.log(362880), 1e-14);
    // math.lgamma(1e7) in Python.
    expectRelative(logGamma(1e7), 151180949.3694739, 1e-14);
  });
});

describe('incompleteBeta', () => {
  it('matches closed forms', () => {
    for (const x of [1e-6, 0.01, 0.3, 0.5, 0.9, 0.999]) {
      expectRelative(incompleteBeta(x, 1, 7), -Math.expm1(7 * Math.log1p(-x)), 1e-13);
      expectRelative(incompleteBeta(x, 3, 1), x ** 3, 1e-13);
    }
    expect(incompleteBeta(0.5, 12.5, 12.5)).toBeCloseTo(0.5, 14);
    expect(incompleteBeta(0, 2, 3)).toBe(0);
    expect(incompleteBeta(1, 2, 3)).toBe(1);
  });

  it('is symmetric: I_x(a, b) = 1 − I_{1−x}(b, a)', () => {
    for (const [x, a, b] of [
      [0.2, 3.5, 9],
      [0.7, 40, 12],
      [0.0012, 11, 9_999_990],
    ] as const) {
      expect(incompleteBeta(x, a, b)).toBeCloseTo(1 - incompleteBeta(1 - x, b, a), 13);
    }
  });
});

describe('clopperPearsonUpper', () => {
  it('equals 1 − (1 − confidence)^(1/n) for k = 0 (the rule-of-three region)', () => {
    const upper = clopperPearsonUpper(0, 3000);
    expect(upper).toBeCloseTo(0.000998, 6);
    expectRelative(upper, -Math.expm1(Math.log(0.05) / 3000), 1e-12);
    for (const n of [1, 10, 12_345, 10_000_000]) {
      for (const confidence of [0.8, 0.95, 0.99]) {
        expectRelative(clopperPearsonUpper(0, n, confidence), -Math.expm1(Math.log(1 - confidence) / n), 1e-12);
      }
    }
  });

  it('is 1 when k = n and when n = 0', () => {
    expect(clopperPearsonUpper(0, 0)).toBe(1);
    expect(clopperPearsonUpper(7, 7)).toBe(1);
    expect(clopperPearsonUpper(10_000_000, 10_000_000)).toBe(1);
  });

  it('matches independently computed bounds', () => {
    // k = 5, n = 100, 95 %: the root of Σ_{j ≤ 5} C(100, j) p^j (1 − p)^(100 − j) = 0.05 found by bisection with
    // Python's exact integers and 60-digit decimals (0.10225337764327450886…).
    expectRelative(clopperPearsonUpper(5, 100), 0.1022533776432745, 1e-12);
    expect(clopperPearsonUpper(5, 100)).toBeCloseTo(0.1023, 4);
    // The rest: bisection on the binomial CDF summed in mpmath at 40 digits.
    const cases: [number, number, number, number][] = [
      [5, 100, 0.99, 0.12585173069767863],
      [5, 100, 0.8, 0.07791107495026071],
      [1, 10, 0.95, 0.3941633024365047],
      [3, 3000, 0.95, 0.002582505138293655],
      [100, 1000, 0.95, 0.11699153209636792],
      [999, 1000, 0.95, 0.9999487080210909],
      [10, 10_000_000, 0.95, 1.6962213330987483e-6],
      [10, 10_000_000, 0.8, 1.3650724524115897e-6],
      [12_345, 10_000_000, 0.95, 0.0012529215124283213],
      [5_000_000, 10_000_000, 0.95, 0.5002601241698342],
      [9_999_990, 10_000_000, 0.95, 0.9999994574593333],
    ];
    for (const [k, n, confidence, expected] of cases) expectRelative(clopperPearsonUpper(k, n, confidence), expected, 1e-12);
  });

  it('grows with k and the confidence, shrinks with n, and is never below k/n', () => {
    expect(clopperPearsonUpper(3, 100)).toBeGreaterThan(clopperPearsonUpper(2, 100));
    expect(clopperPearsonUpper(3, 100, 0.99)).toBeGreaterThan(clopperPearsonUpper(3, 100, 0.95));
    expect(clopperPearsonUpper(3, 1000)).toBeLessThan(clopperPearsonUpper(3, 100));
    for (const [k, n] of [
      [1, 2],
      [50, 100],
      [999_999, 1_000_000],
    ]) {
      expect(clopperPearsonUpper(k!, n!)).toBeGreaterThan(k! / n!);
    }
  });

  it('is fast at n = 10^7', () => {
    const start = performance.now();
    for (const k of [0, 1, 10, 1000, 100_000, 3_000_000, 5_000_000, 9_000_000, 9_999_999]) clopperPearsonUpper(k, 10_000_000);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('rejects impossible counts and confidences', () => {
    expect(() => clopperPearsonUpper(5, 4)).toThrow(RangeError);
    expect(() => clopperPearsonUpper(-1, 4)).toThrow(RangeError);
    expect(() => clopperPearsonUpper(1.5, 4)).toThrow(RangeError);
    expect(() => clopperPearsonUpper(1, 4, 1)).toThrow(RangeError);
    expect(() => clopperPearsonUpper(1, 4, 0)).toThrow(RangeError);
  });
});

describe('percentile', () => {
  it('is NaN for no values', () => {
    expect(percentile([], 50)).toBeNaN();
  });

  it('takes the nearest rank without reordering its input', () => {
    const values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 51)).toBe(6);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 100)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([42], 99)).toBe(42);
    expect(values[0]).toBe(10);
  });
});
