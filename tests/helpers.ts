// Shared by the op tests: seeded random data, backend switching, tolerant comparison and a
// float64 finite-difference gradient check.
import { expect } from 'vitest';
import { availableBackends, getBackend, noGrad, setBackend, tensor, Tensor } from '../lib/index.js';
import type { BackendName } from '../lib/index.js';

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = ReturnType<typeof rng>;

export function randInt(r: Rand, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function pick<T>(r: Rand, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

export function randn(r: Rand): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export function randData(r: Rand, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = randn(r) * scale;
  return out;
}

export function randTensor(r: Rand, shape: number[], requiresGrad = false, scale = 1): Tensor {
  return tensor(randData(r, shape.reduce((a, b) => a * b, 1), scale), shape, { requiresGrad });
}

/** Distinct values at least `gap` apart, shuffled: max pool and relu stay differentiable under small nudges. */
export function distinctData(r: Rand, n: number, gap = 0.05, awayFromZero = false): Float32Array {
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * gap + (awayFromZero && i >= n / 2 ? gap / 2 : 0) - (awayFromZero && i < n / 2 ? gap / 2 : 0));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return Float32Array.from(values);
}

export const hasCpu = availableBackends().includes('cpu');
export const requireNative = process.env.CONVKIT_REQUIRE_NATIVE === '1';
export const backends: BackendName[] = availableBackends();

export function withBackend<T>(name: BackendName, fn: () => T): T {
  const previous = getBackend();
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend(previous);
  }
}

export async function withBackendAsync<T>(name: BackendName, fn: () => Promise<T>): Promise<T> {
  const previous = getBackend();
  setBackend(name);
  try {
    return await fn();
  } finally {
    setBackend(previous);
  }
}

/** Over the finite values: an infinity (a max-pool window wholly in the padding) is compared exactly. */
function rms(a: ArrayLike<number>): number {
  let s = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isFinite(a[i])) {
      s += a[i] * a[i];
      n++;
    }
  }
  return n ? Math.sqrt(s / n) : 0;
}

/**
 * Fails unless |actual - expected| <= rtol * (|expected| + rms(expected)) + atol everywhere.
 * The rms term is the scale of a sum's rounding error, so cancellation near zero is not
 * mistaken for a wrong result; a misplaced or missing term is off by O(rms).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, rtol = 1e-4, atol = 1e-6): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const scale = rms(expected);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if ((Number.isNaN(e) && Number.isNaN(a)) || a === e) continue;
    const excess = Math.abs(a - e) - (rtol * (Math.abs(e) + scale) + atol);
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(`${label}: mismatch at [${worst}]: got ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol}, rms ${scale.toPrecision(3)}, ${expected.length} values)`);
  }
}

/** Result and gradients of one forward/backward pass with upstream gradient r. */
export interface PassResult {
  out: Float32Array;
  shape: readonly number[];
  grads: Float32Array[];
}

/** Runs forward on fresh inputs, then backward with a seeded random upstream gradient. */
export function forwardBackward(makeInputs: () => Tensor[], forward: (inputs: Tensor[]) => Tensor, seed: number): PassResult {
  const inputs = makeInputs();
  const y = forward(inputs);
  const r = randData(rng(seed ^ 0x5eed), y.size);
  y.backward(new Tensor(r, y.shape));
  return {
    out: y.toArray(),
    shape: y.shape,
    grads: inputs.filter((t) => t.requiresGrad).map((t) => t.grad?.toArray() ?? new Float32Array(0)),
  };
}

/**
 * Checks the tape's gradients of loss = sum(f(inputs) * r) against central differences,
 * evaluated in float64 from float32 forward passes.
 */
export function gradcheck(label: string, inputs: Tensor[], f: (inputs: Tensor[]) => Tensor, opts: { eps?: number; rtol?: number; atol?: number; seed?: number } = {}): void {
  const { eps = 1e-2, rtol = 1e-2, atol = 2e-3, seed = 1 } = opts;
  const y = f(inputs);
  const r = randData(rng(seed), y.size);
  for (const t of inputs) t.grad = null;
  y.backward(new Tensor(r, y.shape));
  const loss = (): number => {
    const out = noGrad(() => f(inputs)).data;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * r[i];
    return s;
  };
  let checked = 0;
  inputs.forEach((t, which) => {
    if (!t.requiresGrad) return;
    expect(t.grad, `${label}: input ${which} got no gradient`).not.toBeNull();
    const analytic = t.grad!.data;
    const numeric = new Float64Array(t.size);
    for (let i = 0; i < t.size; i++) {
      const orig = t.data[i];
      t.data[i] = orig + eps;
      const up = t.data[i];
      const lossUp = loss();
      t.data[i] = orig - eps;
      const down = t.data[i];
      const lossDown = loss();
      t.data[i] = orig;
      numeric[i] = (lossUp - lossDown) / (up - down); // the float32 step actually taken
    }
    expectClose(analytic, numeric, `${label}: d/d input ${which}`, rtol, atol);
    checked++;
  });
  expect(checked, `${label}: no input requires grad`).toBeGreaterThan(0);
}
