// Tests of the js reference backend against independently known values: hand-computed small
// cases, the X/O walkthrough, PyTorch's pooling rules worked by hand, and gradients checked by
// central finite differences in float64 (the kernels accept Float64Array for exactly this).
import { describe, expect, it } from 'vitest';
import type { ConvGeometry, PoolGeometry } from '../lib/backend/types.js';
import { packConvGeometry, packPoolGeometry } from '../lib/geometry.js';
import { jsBackend, jsKernels } from '../lib/backend/js/index.js';
import type { Floats } from '../lib/backend/js/floats.js';
import { gemm } from '../lib/backend/js/gemm.js';
import { conv2dForward, conv2dBackward } from '../lib/backend/js/conv.js';
import { maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward } from '../lib/backend/js/pool.js';
import {
  relu, reluBackward, leakyRelu, leakyReluBackward, sigmoid, sigmoidBackward, tanh, tanhBackward,
  softmax, softmaxBackward, logSoftmax, logSoftmaxBackward,
} from '../lib/backend/js/activation.js';
import { crossEntropy, crossEntropyBackward } from '../lib/backend/js/loss.js';
import { rng } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** Uniform values in [-1, 1), in float64, from a fixed seed. */
function randomArray(size: number, seed: number): Float64Array {
  const next = rng(seed);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = next() * 2 - 1;
  return out;
}

/** Output length along one axis, PyTorch's formula. In ceil mode a window that would start
 *  at or past the end of the input (i.e. inside the far padding) is dropped. */
function outputSize(input: number, kernel: number, stride: number, padBefore: number, padAfter: number,
  dilation: number, ceilMode = false): number {
  const span = input + padBefore + padAfter - dilation * (kernel - 1) - 1;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= input + padBefore) out--;
  return out;
}

interface ConvOptions {
  n: number; c: number; h: number; w: number; o: number; kh: number; kw: number;
  strideH?: number; strideW?: number;
  padTop?: number; padLeft?: number; padBottom?: number; padRight?: number;
  dilationH?: number; dilationW?: number; groups?: number;
}

function convGeometry(opts: ConvOptions): ConvGeometry {
  const g = {
    strideH: 1, strideW: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0,
    dilationH: 1, dilationW: 1, groups: 1, ...opts,
  };
  const resolved = {
    ...g,
    oh: outputSize(g.h, g.kh, g.strideH, g.padTop, g.padBottom, g.dilationH),
    ow: outputSize(g.w, g.kw, g.strideW, g.padLeft, g.padRight, g.dilationW),
  };
  return { ...resolved, packed: packConvGeometry('test', resolved) };
}

interface PoolOptions {
  n: number; c: number; h: number; w: number; kh: number; kw: number;
  strideH?: number; strideW?: number;
  padTop?: number; padLeft?: number; padBottom?: number; padRight?: number;
  dilationH?: number; dilationW?: number; ceilMode?: boolean; countIncludePad?: boolean;
}

function poolGeometry(opts: PoolOptions): PoolGeometry {
  const g = {
    strideH: opts.kh, strideW: opts.kw, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0,
    dilationH: 1, dilationW: 1, ceilMode: false, countIncludePad: true, ...opts,
  };
  const resolved = {
    ...g,
    oh: outputSize(g.h, g.kh, g.strideH, g.padTop, g.padBottom, g.dilationH, g.ceilMode),
    ow: outputSize(g.w, g.kw, g.strideW, g.padLeft, g.padRight, g.dilationW, g.ceilMode),
  };
  return { ...resolved, packed: packPoolGeometry('test', resolved) };
}

/** sum(y * r) in float64: the scalar loss whose gradient with respect to y is r. */
function dot(y: Floats, r: Floats): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * r[i];
  return s;
}

/**
 * Checks an analytic gradient of loss() with respect to `param` against central differences,
 * perturbing param in place (float64) and restoring it.
 */
function expectGradient(param: Float64Array, analytic: Floats, loss: () => number, eps = 1e-6, tol = 1e-6): void {
  expect(analytic.length).toBe(param.length);
  for (let i = 0; i < param.length; i++) {
    const saved = param[i];
    param[i] = saved + eps;
    const plus = loss();
    param[i] = saved - eps;
    const minus = loss();
    param[i] = saved;
    const numeric = (plus - minus) / (2 * eps);
    const error = Math.abs(analytic[i] - numeric);
    if (!(error <= tol * Math.max(1, Math.abs(numeric)))) {   // written so that NaN fails
      throw new Error(`gradient mismatch at ${i}: analytic ${analytic[i]}, numeric ${numeric}`);
    }
  }
}

function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])))) {
      throw new Error(`mismatch at ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

function hasNaN(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------

describe('js backend object', () => {
  it('is named js and has every kernel', () => {
    expect(jsBackend.name).toBe('js');
    for (const value of Object.values(jsBackend)) {
      if (typeof value !== 'string') expect(typeof value).toBe('function');
    }
  });

  it('async variants resolve after writing the same results as the sync kernels', async () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]), b = new Float32Array([7, 8, 9, 10, 11, 12]);
    const c = new Float32Array(4);
    await jsBackend.gemmAsync({ transA: false, transB: false, m: 2, n: 2, k: 3, alpha: 1, beta: 0, a, b, c });
    expect(Array.from(c)).toEqual([58, 64, 139, 154]);

    const g = convGeometry({ n: 1, c: 1, h: 3, w: 3, o: 1, kh: 2, kw: 2 });
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const y = new Float32Array(4);
    await jsBackend.conv2dForwardAsync(g, x, new Float32Array([1, 0, 0, 1]), new Float32Array([10]), y);
    expect(Array.from(y)).toEqual([16, 18, 22, 24]);

    const pg = poolGeometry({ n: 1, c: 1, h: 3, w: 3, kh: 2, kw: 2, strideH: 1, strideW: 1 });
    const pooled = new Float32Array(4), argmax = new Int32Array(4);
    await jsBackend.maxPool2dForwardAsync(pg, x, pooled, argmax);
    expect(Array.from(pooled)).toEqual([5, 6, 8, 9]);
    expect(Array.from(argmax)).toEqual([4, 5, 7, 8]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('gemm', () => {
  it('multiplies a hand-computed 2x3 by 3x2', () => {
    const c = new Float32Array(4);
    jsBackend.gemm({
      transA: false, transB: false, m: 2, n: 2, k: 3, alpha: 1, beta: 0,
      a: new Float32Array([1, 2, 3, 4, 5, 6]), b: new Float32Array([7, 8, 9, 10, 11, 12]), c,
    });
    expect(Array.from(c)).toEqual([58, 64, 139, 154]);
  });

  it('applies alpha and beta: C = 2*A*B + 3*C', () => {
    const c = new Float32Array([1, 1, 1, 1]);
    jsBackend.gemm({
      transA: false, transB: false, m: 2, n: 2, k: 3, alpha: 2, beta: 3,
      a: new Float32Array([1, 2, 3, 4, 5, 6]), b: new Float32Array([7, 8, 9, 10, 11, 12]), c,
    });
    expect(Array.from(c)).toEqual([119, 131, 281, 311]);
  });

  it('never reads C when beta is 0, so NaN there does not leak', () => {
    const c = new Float32Array([NaN, NaN, NaN, NaN]);
    jsBackend.gemm({
      transA: false, transB: false, m: 2, n: 2, k: 1, alpha: 1, beta: 0,
      a: new Float32Array([1, 2]), b: new Float32Array([3, 4]), c,
    });
    expect(Array.from(c)).toEqual([3, 4, 6, 8]);
  });

  it('with k = 0 leaves beta * C', () => {
    const c = new Float32Array([1, 2, 3, 4]);
    gemm({ transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 5, beta: 2, a: new Float32Array(0), b: new Float32Array(0), c });
    expect(Array.from(c)).toEqual([2, 4, 6, 8]);
  });

  // Every transpose combination must give alpha*A*B + beta*C for the same logical A and B;
  // the transposed operands are stored transposed by an explicit copy.
  const m = 3, n = 4, k = 5;
  const A = randomArray(m * k, 1), B = randomArray(k * n, 2), C0 = randomArray(m * n, 3);
  const transpose = (src: Float64Array, rows: number, cols: number) => {
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) out[q * rows + r] = src[r * cols + q];
    return out;
  };
  const expected = (alpha: number, beta: number) => {
    const out = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[i * k + p] * B[p * n + j];
        out[i * n + j] = alpha * s + beta * C0[i * n + j];
      }
    }
    return out;
  };
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const [alpha, beta] of [[1, 0], [0.5, 1], [-2, 0.25]] as const) {
        it(`transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}`, () => {
          const c = C0.slice();
          gemm({
            transA, transB, m, n, k, alpha, beta,
            a: transA ? transpose(A, m, k) : A,
            b: transB ? transpose(B, k, n) : B,
            c,
          });
          expectAllClose(c, expected(alpha, beta), 1e-12);
        });
      }
    }
  }

  // The linear layer's backward passes are gemms with transposes: dA = alpha * R * B^T and
  // dB = alpha * A^T * R for loss = sum(C * R). Check them against finite differences.
  it('transposed gemms give the finite-difference gradients of a product', () => {
    const R = randomArray(m * n, 4), alpha = 1.5;
    const loss = () => {
      const c = new Float64Array(m * n);
      gemm({ transA: false, transB: false, m, n, k, alpha, beta: 0, a: A, b: B, c });
      return dot(c, R);
    };
    const dA = new Float64Array(m * k), dB = new Float64Array(k * n);
    gemm({ transA: false, transB: true, m, n: k, k: n, alpha, beta: 0, a: R, b: B, c: dA });
    gemm({ transA: true, transB: false, m: k, n, k: m, alpha, beta: 0, a: A, b: R, c: dB });
    expectGradient(A, dA, loss);
    expectGradient(B, dB, loss);
  });

  it('propagates NaN from A into its row of C', () => {
    const c = new Float32Array(4);
    jsBackend.gemm({
      transA: false, transB: false, m: 2, n: 2, k: 1, alpha: 1, beta: 0,
      a: new Float32Array([NaN, 2]), b: new Float32Array([3, 4]), c,
    });
    expect(Number.isNaN(c[0]) && Number.isNaN(c[1])).toBe(true);
    expect(Array.from(c.subarray(2))).toEqual([6, 8]);
  });
});

// ---------------------------------------------------------------------------------------------

// The X/O walkthrough: a 9x9 "X" of -1/+1 and the 3x3 backslash filter.
const xRows = [
  [-1, -1, -1, -1, -1, -1, -1, -1, -1],
  [-1, 1, -1, -1, -1, -1, -1, 1, -1],
  [-1, -1, 1, -1, -1, -1, 1, -1, -1],
  [-1, -1, -1, 1, -1, 1, -1, -1, -1],
  [-1, -1, -1, -1, 1, -1, -1, -1, -1],
];
const xImage = new Float32Array([...xRows, xRows[3], xRows[2], xRows[1], xRows[0]].flat());
const backslash = new Float32Array([1, -1, -1, -1, 1, -1, -1, -1, 1]);

/** The walkthrough prints two decimals by dropping the rest (7/9 shows as 0.77). */
const asPrinted = (v: number) => Math.trunc(Math.round(v * 1e4) / 100) / 100;

describe('conv2d forward', () => {
  it('X/O walkthrough: the backslash filter over the X, divided by 9', () => {
    const g = convGeometry({ n: 1, c: 1, h: 9, w: 9, o: 1, kh: 3, kw: 3 });
    expect([g.oh, g.ow]).toEqual([7, 7]);
    const y = new Float32Array(49);
    jsBackend.conv2dForward(g, xImage, backslash, null, y);
    // Matches (in ninths) are the sums of agreeing minus disagreeing pixels.
    const ninths = [
      [7, -1, 1, 3, 5, -1, 3],
      [-1, 9, -1, 3, -1, 1, -1],
      [1, -1, 9, -3, 1, -1, 5],
      [3, 3, -3, 5, -3, 3, 3],
      [5, -1, 1, -3, 9, -1, 1],
      [-1, 1, -1, 3, -1, 9, -1],
      [3, -1, 5, 3, 1, -1, 7],
    ];
    expect(Array.from(y)).toEqual(ninths.flat());
    const map = Array.from(y, (v) => v / 9);
    expect(map.slice(0, 7).map(asPrinted)).toEqual([0.77, -0.11, 0.11, 0.33, 0.55, -0.11, 0.33]);
    // The diagonal is where the filter lines up with the stroke: 1.00 except at the ends and the crossing.
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => asPrinted(map[i * 7 + i]))).toEqual([0.77, 1, 1, 0.55, 1, 1, 0.77]);

    // Then max pooling, 2x2 stride 2, ceil mode: 7x7 -> 4x4.
    const pg = poolGeometry({ n: 1, c: 1, h: 7, w: 7, kh: 2, kw: 2, ceilMode: true });
    expect([pg.oh, pg.ow]).toEqual([4, 4]);
    const pooled = new Float32Array(16);
    jsBackend.maxPool2dForward(pg, new Float32Array(map), pooled, null);
    const printed = Array.from(pooled, asPrinted);
    expect(printed.slice(0, 4)).toEqual([1, 0.33, 0.55, 0.33]);
    expect(printed.slice(4, 8)).toEqual([0.33, 1, 0.33, 0.55]);
    // The last row and column come from 1-wide windows at the edge.
    expect(printed.slice(8, 16)).toEqual([0.55, 0.33, 1, 0.11, 0.33, 0.55, 0.11, 0.77]);
  });

  it('symbolic 3x4 input a..l with a 2x2 kernel w x / y z (distinct primes)', () => {
    const [a, b, c, d, e, f, g_, h, i, j, k, l] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    const [w, x, y, z] = [41, 43, 47, 53];
    const input = new Float32Array([a, b, c, d, e, f, g_, h, i, j, k, l]);
    const weight = new Float32Array([w, x, y, z]);
    const geom = convGeometry({ n: 1, c: 1, h: 3, w: 4, o: 1, kh: 2, kw: 2 });
    expect([geom.oh, geom.ow]).toEqual([2, 3]);
    const out = new Float32Array(6);
    jsBackend.conv2dForward(geom, input, weight, null, out);
    expect(Array.from(out)).toEqual([
      a * w + b * x + e * y + f * z, b * w + c * x + f * y + g_ * z, c * w + d * x + g_ * y + h * z,
      e * w + f * x + i * y + j * z, f * w + g_ * x + j * y + k * z, g_ * w + h * x + k * y + l * z,
    ]);

    // Backward with dy = 1 everywhere: dw sums the inputs each tap saw, dx sums the taps that saw each input.
    const dx = new Float32Array(12), dw = new Float32Array(4), db = new Float32Array(1);
    jsBackend.conv2dBackward(geom, input, weight, new Float32Array(6).fill(1), dx, dw, db);
    expect(Array.from(dw)).toEqual([
      a + b + c + e + f + g_, b + c + d + f + g_ + h, e + f + g_ + i + j + k, f + g_ + h + j + k + l,
    ]);
    expect(Array.from(dx)).toEqual([
      w, w + x, w + x, x,
      w + y, w + x + y + z, w + x + y + z, x + z,
      y, y + z, y + z, z,
    ]);
    expect(Array.from(db)).toEqual([6]);
  });

  it('adds the bias per output channel', () => {
    const g = convGeometry({ n: 1, c: 1, h: 2, w: 2, o: 2, kh: 1, kw: 1 });
    const y = new Float32Array(8);
    jsBackend.conv2dForward(g, new Float32Array([1, 2, 3, 4]), new Float32Array([1, -1]), new Float32Array([10, 100]), y);
    expect(Array.from(y)).toEqual([11, 12, 13, 14, 99, 98, 97, 96]);
  });

  it('groups and dilation: each output channel reads only its own input channel, taps 2 apart', () => {
    // Input 1x2x3x3, weight 2x1x2x2, groups 2, dilation 2 -> output 1x2x1x1 reading the corners.
    const g = convGeometry({ n: 1, c: 2, h: 3, w: 3, o: 2, kh: 2, kw: 2, dilationH: 2, dilationW: 2, groups: 2 });
    expect([g.oh, g.ow]).toEqual([1, 1]);
    const x = new Float32Array([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
      10, 20, 30, 40, 50, 60, 70, 80, 90,
    ]);
    const w = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const y = new Float32Array(2);
    jsBackend.conv2dForward(g, x, w, null, y);
    expect(Array.from(y)).toEqual([1 * 1 + 3 * 2 + 7 * 3 + 9 * 4, 10 * 5 + 30 * 6 + 70 * 7 + 90 * 8]);
  });

  it('groups with several channels per group', () => {
    // c=4, o=2, groups=2: output 0 sums input channels 0,1; output 1 sums channels 2,3 (1x1 kernel of ones).
    const g = convGeometry({ n: 1, c: 4, h: 1, w: 1, o: 2, kh: 1, kw: 1, groups: 2 });
    const y = new Float32Array(2);
    jsBackend.conv2dForward(g, new Float32Array([1, 2, 4, 8]), new Float32Array([1, 1, 1, 1]), null, y);
    expect(Array.from(y)).toEqual([3, 12]);
  });

  it('asymmetric padding: 1x1 kernel with padTop 1 and padRight 2', () => {
    const g = convGeometry({ n: 1, c: 1, h: 2, w: 2, o: 1, kh: 1, kw: 1, padTop: 1, padRight: 2 });
    expect([g.oh, g.ow]).toEqual([3, 4]);
    const y = new Float32Array(12);
    jsBackend.conv2dForward(g, new Float32Array([1, 2, 3, 4]), new Float32Array([1]), null, y);
    expect(Array.from(y)).toEqual([0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0]);
  });

  it('asymmetric padding: 2x2 ones kernel padded only top and left', () => {
    const g = convGeometry({ n: 1, c: 1, h: 2, w: 2, o: 1, kh: 2, kw: 2, padTop: 1, padLeft: 1 });
    expect([g.oh, g.ow]).toEqual([2, 2]);
    const y = new Float32Array(4);
    jsBackend.conv2dForward(g, new Float32Array([1, 2, 3, 4]), new Float32Array([1, 1, 1, 1]), null, y);
    expect(Array.from(y)).toEqual([1, 3, 4, 10]);
  });

  it('stride 2 picks every other window', () => {
    const g = convGeometry({ n: 1, c: 1, h: 4, w: 4, o: 1, kh: 2, kw: 2, strideH: 2, strideW: 2 });
    const x = new Float32Array(16).map((_, i) => i);
    const y = new Float32Array(4);
    jsBackend.conv2dForward(g, x, new Float32Array([1, 1, 1, 1]), null, y);
    expect(Array.from(y)).toEqual([0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15]);
  });

  // A second, independent formulation: materialize the zero-padded input, then sum every tap
  // with no bounds logic at all. Checks the kernel's clipped loops on awkward geometry.
  it('matches an explicitly zero-padded naive convolution on awkward geometry', () => {
    const geometries: ConvOptions[] = [
      { n: 2, c: 4, h: 7, w: 6, o: 6, kh: 3, kw: 2, strideH: 2, strideW: 1,
        padTop: 1, padLeft: 0, padBottom: 2, padRight: 1, dilationH: 1, dilationW: 2, groups: 2 },
      { n: 1, c: 3, h: 8, w: 9, o: 6, kh: 2, kw: 3, strideH: 3, strideW: 2,
        padTop: 3, padLeft: 2, padBottom: 0, padRight: 4, dilationH: 3, dilationW: 2, groups: 3 },
    ];
    for (const opts of geometries) {
      const g = convGeometry(opts);
      const x = randomArray(g.n * g.c * g.h * g.w, 5), w = randomArray(g.o * (g.c / g.groups) * g.kh * g.kw, 6);
      const bias = randomArray(g.o, 7);
      const ph = g.h + g.padTop + g.padBottom, pw = g.w + g.padLeft + g.padRight;
      const padded = new Float64Array(g.n * g.c * ph * pw);
      for (let p = 0; p < g.n * g.c; p++) {
        for (let i = 0; i < g.h; i++) {
          for (let j = 0; j < g.w; j++) padded[(p * ph + i + g.padTop) * pw + j + g.padLeft] = x[(p * g.h + i) * g.w + j];
        }
      }
      const cg = g.c / g.groups, og = g.o / g.groups;
      const expected: number[] = [];
      for (let b = 0; b < g.n; b++) {
        for (let oc = 0; oc < g.o; oc++) {
          for (let oy = 0; oy < g.oh; oy++) {
            for (let ox = 0; ox < g.ow; ox++) {
              let s = bias[oc];
              for (let ic = 0; ic < cg; ic++) {
                const channel = Math.floor(oc / og) * cg + ic;
                for (let ky = 0; ky < g.kh; ky++) {
                  for (let kx = 0; kx < g.kw; kx++) {
                    const py = oy * g.strideH + ky * g.dilationH, px = ox * g.strideW + kx * g.dilationW;
                    s += padded[((b * g.c + channel) * ph + py) * pw + px] * w[((oc * cg + ic) * g.kh + ky) * g.kw + kx];
                  }
                }
              }
              expected.push(s);
            }
          }
        }
      }
      const y = new Float64Array(expected.length);
      conv2dForward(g, x, w, bias, y);
      expectAllClose(y, expected, 1e-12);
    }
  });

  it('propagates NaN to the outputs that read it, without throwing', () => {
    const g = convGeometry({ n: 1, c: 1, h: 3, w: 3, o: 1, kh: 2, kw: 2 });
    const x = new Float32Array([NaN, 1, 1, 1, 1, 1, 1, 1, 1]);
    const y = new Float32Array(4);
    jsBackend.conv2dForward(g, x, new Float32Array([1, 1, 1, 1]), null, y);
    expect(Number.isNaN(y[0])).toBe(true);
    expect(Array.from(y.subarray(1))).toEqual([4, 4, 4]);
    const dx = new Float32Array(9), dw = new Float32Array(4), db = new Float32Array(1);
    jsBackend.conv2dBackward(g, x, new Float32Array([1, 1, 1, 1]), new Float32Array([1, 1, 1, 1]), dx, dw, db);
    expect(Number.isNaN(dw[0])).toBe(true);   // tap (0,0) saw x[0]
    expect(hasNaN(dx)).toBe(false);           // dx does not depend on x
    const dyNaN = new Float32Array([NaN, 0, 0, 0]);
    jsBackend.conv2dBackward(g, x, new Float32Array([1, 1, 1, 1]), dyNaN, dx, null, db);
    expect(Number.isNaN(dx[0]) && Number.isNaN(dx[4]) && Number.isNaN(db[0])).toBe(true);
    expect(dx[8]).toBe(0);
  });
});

describe('conv2d backward (finite differences)', () => {
  const cases: [string, ConvOptions][] = [
    ['plain 3x3', { n: 2, c: 2, h: 5, w: 5, o: 3, kh: 3, kw: 3 }],
    ['groups 2, stride 2x1, dilation 1x2, asymmetric padding', {
      n: 2, c: 4, h: 7, w: 6, o: 6, kh: 3, kw: 2, strideH: 2, strideW: 1,
      padTop: 1, padLeft: 0, padBottom: 2, padRight: 1, dilationH: 1, dilationW: 2, groups: 2,
    }],
    ['depthwise, stride 3, dilation 2, padding 2', {
      n: 1, c: 3, h: 8, w: 9, o: 3, kh: 2, kw: 3, strideH: 3, strideW: 3,
      padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, dilationH: 2, dilationW: 2, groups: 3,
    }],
    ['stride larger than the kernel (inputs no window reads)', {
      n: 1, c: 2, h: 7, w: 7, o: 2, kh: 2, kw: 2, strideH: 3, strideW: 3,
    }],
  ];
  for (const [name, opts] of cases) {
    it(name, () => {
      const g = convGeometry(opts);
      const x = randomArray(g.n * g.c * g.h * g.w, 10);
      const w = randomArray(g.o * (g.c / g.groups) * g.kh * g.kw, 11);
      const bias = randomArray(g.o, 12);
      const r = randomArray(g.n * g.o * g.oh * g.ow, 13);
      const y = new Float64Array(r.length);
      const loss = () => { conv2dForward(g, x, w, bias, y); return dot(y, r); };

      // Fill the outputs with NaN first: backward must overwrite, not accumulate.
      const dx = new Float64Array(x.length).fill(NaN);
      const dw = new Float64Array(w.length).fill(NaN);
      const db = new Float64Array(bias.length).fill(NaN);
      conv2dBackward(g, x, w, r, dx, dw, db);
      expectGradient(x, dx, loss);
      expectGradient(w, dw, loss);
      expectGradient(bias, db, loss);

      // The float32 path runs the same code: it must agree with float64 to float32 precision.
      const dx32 = new Float32Array(x.length), dw32 = new Float32Array(w.length), db32 = new Float32Array(bias.length);
      jsBackend.conv2dBackward(g, new Float32Array(x), new Float32Array(w), new Float32Array(r), dx32, dw32, db32);
      expectAllClose(dx32, dx, 1e-5);
      expectAllClose(dw32, dw, 1e-5);
      expectAllClose(db32, db, 1e-5);
    });
  }

  it('leaves null outputs alone', () => {
    const g = convGeometry({ n: 1, c: 1, h: 3, w: 3, o: 1, kh: 2, kw: 2 });
    const dw = new Float32Array(4);
    expect(() => jsBackend.conv2dBackward(g, new Float32Array(9), new Float32Array(4), new Float32Array(4).fill(1), null, dw, null)).not.toThrow();
    expect(Array.from(dw)).toEqual([0, 0, 0, 0]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('pooling', () => {
  it('ceil mode drops a window that would start in the right padding (5x5, k2 s2 p1 -> 3x3)', () => {
    const opts = { n: 1, c: 1, h: 5, w: 5, kh: 2, kw: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 };
    // ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window would start at 6 - 1 = 5 = past the input.
    expect(Math.ceil((5 + 2 - 2) / 2) + 1).toBe(4);
    const g = poolGeometry({ ...opts, ceilMode: true });
    expect([g.oh, g.ow]).toEqual([3, 3]);
    expect(poolGeometry(opts).oh).toBe(3);   // floor mode agrees here

    // Rows read by each window: {0} (row -1 is padding), {1, 2}, {3, 4}; same for columns.
    const x = new Float32Array(25).map((_, i) => i + 1);   // x[i][j] = 5i + j + 1
    const y = new Float32Array(9), argmax = new Int32Array(9);
    jsBackend.maxPool2dForward(g, x, y, argmax);
    expect(Array.from(y)).toEqual([1, 3, 5, 11, 13, 15, 21, 23, 25]);
    expect(Array.from(argmax)).toEqual([0, 2, 4, 10, 12, 14, 20, 22, 24]);

    // Average: every window spans 2x2 of padded input, so count_include_pad divides by 4.
    const withPad = new Float32Array(9), withoutPad = new Float32Array(9);
    jsBackend.avgPool2dForward({ ...g, countIncludePad: true }, x, withPad);
    jsBackend.avgPool2dForward({ ...g, countIncludePad: false }, x, withoutPad);
    const sums = [1, 5, 9, 17, 40, 48, 37, 80, 88];
    const counts = [1, 2, 2, 2, 4, 4, 2, 4, 4];
    expect(Array.from(withPad)).toEqual(sums.map((s) => s / 4));
    expect(Array.from(withoutPad)).toEqual(sums.map((s, i) => s / counts[i]));
  });

  it('ceil mode keeps a window that runs past the padding, and the divisor stops at the padding', () => {
    // 6x6, k3 s2 p1, ceil -> 4x4. The last window starts at row 5 (inside the input) and covers
    // rows 5, 6 (padding) and 7 (beyond the padding): PyTorch counts 2 rows for it, not 3.
    const g = poolGeometry({ n: 1, c: 1, h: 6, w: 6, kh: 3, kw: 3, strideH: 2, strideW: 2,
      padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, ceilMode: true });
    expect([g.oh, g.ow]).toEqual([4, 4]);
    const ones = new Float32Array(36).fill(1);
    const y = new Float32Array(16);
    jsBackend.avgPool2dForward({ ...g, countIncludePad: true }, ones, y);
    // Per axis: window extents in padded input [3, 3, 3, 2], inside the input [2, 3, 3, 1].
    const padded = [3, 3, 3, 2], inside = [2, 3, 3, 1];
    const expected: number[] = [];
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expected.push((inside[r] * inside[c]) / (padded[r] * padded[c]));
    expectAllClose(y, expected, 1e-7);
    expect(y[15]).toBe(0.25);
    jsBackend.avgPool2dForward({ ...g, countIncludePad: false }, ones, y);
    expect(Array.from(y)).toEqual(new Array(16).fill(1));
  });

  it('max pool ignores padding (all-negative input never yields the padded 0)', () => {
    const g = poolGeometry({ n: 1, c: 1, h: 2, w: 2, kh: 2, kw: 2, strideH: 1, strideW: 1,
      padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 });
    expect([g.oh, g.ow]).toEqual([3, 3]);
    const y = new Float32Array(9), argmax = new Int32Array(9);
    jsBackend.maxPool2dForward(g, new Float32Array([-1, -2, -3, -4]), y, argmax);
    expect(Array.from(y)).toEqual([-1, -1, -2, -1, -1, -2, -3, -3, -4]);
    expect(Array.from(argmax)).toEqual([0, 0, 1, 0, 0, 1, 2, 2, 3]);
  });

  it('max pool with dilation 2 reads taps two apart', () => {
    // 5x5, k2, stride 1, dilation 2 -> 3x3; output (i, j) is the max of x at (i|i+2, j|j+2).
    const g = poolGeometry({ n: 1, c: 1, h: 5, w: 5, kh: 2, kw: 2, strideH: 1, strideW: 1, dilationH: 2, dilationW: 2 });
    expect([g.oh, g.ow]).toEqual([3, 3]);
    const x = new Float32Array(25).map((_, i) => (i * 7) % 11);   // a scrambled pattern
    const y = new Float32Array(9), argmax = new Int32Array(9);
    jsBackend.maxPool2dForward(g, x, y, argmax);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const taps = [i * 5 + j, i * 5 + j + 2, (i + 2) * 5 + j, (i + 2) * 5 + j + 2];
        const best = Math.max(...taps.map((t) => x[t]));
        expect(y[i * 3 + j]).toBe(best);
        expect(argmax[i * 3 + j]).toBe(taps.find((t) => x[t] === best));
      }
    }
    // Two planes: argmax indexes within each plane.
    const g2 = { ...g, c: 2 };
    const x2 = new Float32Array(50);
    x2.set(x, 0); x2.set(x, 25);
    const argmax2 = new Int32Array(18);
    jsBackend.maxPool2dForward(g2, x2, new Float32Array(18), argmax2);
    expect(Array.from(argmax2.subarray(9))).toEqual(Array.from(argmax));
  });

  it('max pool: the first maximum wins a tie, and NaN wins over everything', () => {
    const g = poolGeometry({ n: 1, c: 1, h: 2, w: 4, kh: 2, kw: 2 });
    const x = new Float32Array([3, 3, 1, NaN, 3, 3, 5, 2]);
    const y = new Float32Array(2), argmax = new Int32Array(2);
    jsBackend.maxPool2dForward(g, x, y, argmax);
    expect(y[0]).toBe(3);
    expect(argmax[0]).toBe(0);
    expect(Number.isNaN(y[1])).toBe(true);
    expect(argmax[1]).toBe(3);
    // Backward routes the gradient to the NaN's position.
    const dx = new Float32Array(8);
    jsBackend.maxPool2dBackward(g, new Float32Array([1, 2]), argmax, dx);
    expect(Array.from(dx)).toEqual([1, 0, 0, 2, 0, 0, 0, 0]);
  });

  it('a window entirely inside the padding (only reachable with padding > kernel/2) gives 0 / -Infinity', () => {
    // The ops layer rejects such geometry, as PyTorch does; the kernels still must not produce garbage.
    // Two planes, so that a stray write from the second plane's empty window would land in the first.
    const g = poolGeometry({ n: 1, c: 2, h: 2, w: 2, kh: 1, kw: 1, padTop: 1 });
    expect([g.oh, g.ow]).toEqual([3, 2]);
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), y = new Float32Array(12);
    for (const countIncludePad of [true, false]) {
      jsBackend.avgPool2dForward({ ...g, countIncludePad }, x, y);
      expect(Array.from(y)).toEqual([0, 0, 1, 2, 3, 4, 0, 0, 5, 6, 7, 8]);
    }
    const argmax = new Int32Array(12), dx = new Float32Array(8);
    jsBackend.maxPool2dForward(g, x, y, argmax);
    expect(Array.from(y)).toEqual([-Infinity, -Infinity, 1, 2, 3, 4, -Infinity, -Infinity, 5, 6, 7, 8]);
    expect(Array.from(argmax)).toEqual([-1, -1, 0, 1, 2, 3, -1, -1, 0, 1, 2, 3]);
    jsBackend.maxPool2dBackward(g, new Float32Array(12).fill(1), argmax, dx);
    expect(Array.from(dx)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('avg pool propagates NaN', () => {
    const g = poolGeometry({ n: 1, c: 1, h: 2, w: 4, kh: 2, kw: 2 });
    const y = new Float32Array(2);
    jsBackend.avgPool2dForward(g, new Float32Array([NaN, 1, 1, 1, 1, 1, 1, 1]), y);
    expect(Number.isNaN(y[0])).toBe(true);
    expect(y[1]).toBe(1);
    const dx = new Float32Array(8);
    jsBackend.avgPool2dBackward(g, new Float32Array([NaN, 4]), dx);
    expect(Number.isNaN(dx[0])).toBe(true);
    expect(dx[2]).toBe(1);
  });

  const backwardCases: [string, PoolOptions][] = [
    ['k2 s2', { n: 2, c: 2, h: 6, w: 6, kh: 2, kw: 2 }],
    ['overlapping k3 s2 p1 ceil', { n: 1, c: 2, h: 7, w: 6, kh: 3, kw: 3, strideH: 2, strideW: 2,
      padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, ceilMode: true }],
    ['asymmetric k3x2 s1x2, padding 1/0/0/1', { n: 1, c: 1, h: 5, w: 6, kh: 3, kw: 2, strideH: 1, strideW: 2,
      padTop: 1, padLeft: 0, padBottom: 0, padRight: 1 }],
  ];
  for (const [name, opts] of backwardCases) {
    for (const countIncludePad of [true, false]) {
      it(`avg pool backward, ${name}, countIncludePad=${countIncludePad} (finite differences)`, () => {
        const g = poolGeometry({ ...opts, countIncludePad });
        const x = randomArray(g.n * g.c * g.h * g.w, 20);
        const r = randomArray(g.n * g.c * g.oh * g.ow, 21);
        const y = new Float64Array(r.length);
        const dx = new Float64Array(x.length).fill(NaN);
        avgPool2dBackward(g, r, dx);
        expectGradient(x, dx, () => { avgPool2dForward(g, x, y); return dot(y, r); });
      });
    }
    it(`max pool backward, ${name} (finite differences)`, () => {
      const g = poolGeometry(opts);
      const x = randomArray(g.n * g.c * g.h * g.w, 22);   // distinct values: no ties
      const r = randomArray(g.n * g.c * g.oh * g.ow, 23);
      const y = new Float64Array(r.length), argmax = new Int32Array(r.length);
      maxPool2dForward(g, x, y, argmax);
      const dx = new Float64Array(x.length).fill(NaN);
      maxPool2dBackward(g, r, argmax, dx);
      expectGradient(x, dx, () => { maxPool2dForward(g, x, y, null); return dot(y, r); });
    });
  }

  it('max pool backward with dilation (finite differences)', () => {
    const g = poolGeometry({ n: 1, c: 1, h: 7, w: 7, kh: 3, kw: 2, strideH: 1, strideW: 2, dilationH: 2, dilationW: 3,
      padTop: 1, padLeft: 1, padBottom: 1, padRight: 1 });
    const x = randomArray(49, 24), r = randomArray(g.oh * g.ow, 25);
    const y = new Float64Array(r.length), argmax = new Int32Array(r.length);
    maxPool2dForward(g, x, y, argmax);
    const dx = new Float64Array(49);
    maxPool2dBackward(g, r, argmax, dx);
    expectGradient(x, dx, () => { maxPool2dForward(g, x, y, null); return dot(y, r); });
  });
});

// ---------------------------------------------------------------------------------------------

describe('activations', () => {
  it('relu and leaky relu by hand', () => {
    const x = new Float32Array([-2, -0.5, 0, 0.5, 2]);
    const y = new Float32Array(5), dx = new Float32Array(5), dy = new Float32Array([1, 2, 3, 4, 5]);
    jsBackend.relu(x, y);
    expect(Array.from(y)).toEqual([0, 0, 0, 0.5, 2]);
    jsBackend.reluBackward(x, dy, dx);
    expect(Array.from(dx)).toEqual([0, 0, 0, 4, 5]);   // the gradient at 0 is 0, as in PyTorch
    jsBackend.leakyRelu(x, y, 0.25);
    expect(Array.from(y)).toEqual([-0.5, -0.125, 0, 0.5, 2]);
    jsBackend.leakyReluBackward(x, dy, dx, 0.25);
    expect(Array.from(dx)).toEqual([0.25, 0.5, 0.75, 4, 5]);
  });

  it('sigmoid and tanh by hand, and sigmoid does not overflow at +-1000', () => {
    const x = new Float32Array([-1000, -1, 0, 1, 1000]);
    const y = new Float32Array(5);
    jsBackend.sigmoid(x, y);
    expect(y[0]).toBe(0);
    expect(y[2]).toBe(0.5);
    expect(y[4]).toBe(1);
    expect(y[3]).toBeCloseTo(0.7310585786, 7);
    expect(y[1]).toBeCloseTo(0.2689414214, 7);
    jsBackend.tanh(x, y);
    expect(Array.from(y)).toEqual([-1, Math.fround(Math.tanh(-1)), 0, Math.fround(Math.tanh(1)), 1]);
    expect(y[3]).toBeCloseTo(0.7615941560, 7);
  });

  it('every activation propagates NaN', () => {
    const x = new Float32Array([NaN, 1]), y = new Float32Array(2);
    for (const forward of [jsBackend.relu, jsBackend.sigmoid, jsBackend.tanh]) {
      forward(x, y);
      expect(Number.isNaN(y[0])).toBe(true);
      expect(Number.isNaN(y[1])).toBe(false);
    }
    jsBackend.leakyRelu(x, y, 0.1);
    expect(Number.isNaN(y[0])).toBe(true);
    const dy = new Float32Array([NaN, NaN]), dx = new Float32Array(2);
    const positive = new Float32Array([1, 0.5]);
    jsBackend.reluBackward(positive, dy, dx);
    expect(hasNaN(dx)).toBe(true);
    jsBackend.leakyReluBackward(positive, dy, dx, 0.1);
    expect(Number.isNaN(dx[0])).toBe(true);
    jsBackend.sigmoidBackward(positive, dy, dx);
    expect(Number.isNaN(dx[0])).toBe(true);
    jsBackend.tanhBackward(positive, dy, dx);
    expect(Number.isNaN(dx[0])).toBe(true);
  });

  // Inputs kept away from 0 so relu's kink is not inside the finite-difference step.
  const size = 12;
  const x = randomArray(size, 30).map((v) => (v >= 0 ? v + 0.1 : v - 0.1));
  const r = randomArray(size, 31);
  const y = new Float64Array(size), dx = new Float64Array(size);

  it('relu backward (finite differences)', () => {
    reluBackward(x, r, dx);
    expectGradient(x, dx, () => { relu(x, y); return dot(y, r); });
  });
  it('leaky relu backward (finite differences)', () => {
    leakyReluBackward(x, r, dx, 0.01);
    expectGradient(x, dx, () => { leakyRelu(x, y, 0.01); return dot(y, r); });
  });
  it('sigmoid backward from the output (finite differences)', () => {
    const out = new Float64Array(size);
    sigmoid(x, out);
    sigmoidBackward(out, r, dx);
    expectGradient(x, dx, () => { sigmoid(x, y); return dot(y, r); });
  });
  it('tanh backward from the output (finite differences)', () => {
    const out = new Float64Array(size);
    tanh(x, out);
    tanhBackward(out, r, dx);
    expectGradient(x, dx, () => { tanh(x, y); return dot(y, r); });
  });
});

// ---------------------------------------------------------------------------------------------

describe('softmax and log-softmax', () => {
  it('softmax([1, 2, 3]) and log-softmax by hand', () => {
    const y = new Float32Array(3);
    jsBackend.softmax(new Float32Array([1, 2, 3]), y, 1, 3, 1);
    expectAllClose(y, [0.09003057317, 0.2447284711, 0.6652409558], 1e-7);
    jsBackend.logSoftmax(new Float32Array([1, 2, 3]), y, 1, 3, 1);
    expectAllClose(y, [-2.4076059644, -1.4076059644, -0.4076059644], 1e-7);
  });

  it('runs along the middle axis when inner > 1', () => {
    // Shape [1, 2, 3] along dim 1: each column (x[0][i], x[1][i]) is its own softmax.
    const x = new Float32Array([0, 1, 2, 0, 3, 2]);
    const y = new Float32Array(6);
    jsBackend.softmax(x, y, 1, 2, 3);
    const s = (a: number, b: number) => Math.exp(a) / (Math.exp(a) + Math.exp(b));
    expectAllClose(y, [0.5, s(1, 3), 0.5, 0.5, s(3, 1), 0.5], 1e-7);
  });

  it('is stable for logits of +-1e4', () => {
    const x = new Float32Array([1e4, 0, -1e4]), y = new Float32Array(3);
    jsBackend.softmax(x, y, 1, 3, 1);
    expect(Array.from(y)).toEqual([1, 0, 0]);
    jsBackend.logSoftmax(x, y, 1, 3, 1);
    expect(Array.from(y)).toEqual([0, -1e4, -2e4]);
    jsBackend.softmax(new Float32Array([-1e4, -1e4]), y.subarray(0, 2), 1, 2, 1);
    expect(Array.from(y.subarray(0, 2))).toEqual([0.5, 0.5]);
  });

  it('NaN spreads to its own line only', () => {
    const x = new Float32Array([NaN, 1, 2, 3]), y = new Float32Array(4);
    jsBackend.softmax(x, y, 2, 2, 1);
    expect(Number.isNaN(y[0]) && Number.isNaN(y[1])).toBe(true);
    expect(hasNaN(y.subarray(2))).toBe(false);
    jsBackend.logSoftmax(x, y, 2, 2, 1);
    expect(Number.isNaN(y[0]) && Number.isNaN(y[1])).toBe(true);
    expect(hasNaN(y.subarray(2))).toBe(false);
    const dx = new Float32Array(4);
    jsBackend.softmaxBackward(new Float32Array([0.5, 0.5, 0.5, 0.5]), new Float32Array([NaN, 0, 0, 0]), dx, 2, 2, 1);
    expect(Number.isNaN(dx[1])).toBe(true);
    expect(Array.from(dx.subarray(2))).toEqual([0, 0]);
  });

  const outer = 2, dim = 5, inner = 3, size = outer * dim * inner;
  it('softmax backward along a middle axis (finite differences)', () => {
    const x = randomArray(size, 40).map((v) => v * 3), r = randomArray(size, 41);
    const y = new Float64Array(size), dx = new Float64Array(size);
    softmax(x, y, outer, dim, inner);
    softmaxBackward(y, r, dx, outer, dim, inner);
    expectGradient(x, dx, () => { softmax(x, y, outer, dim, inner); return dot(y, r); });
  });
  it('log-softmax backward along a middle axis (finite differences)', () => {
    const x = randomArray(size, 42).map((v) => v * 3), r = randomArray(size, 43);
    const y = new Float64Array(size), dx = new Float64Array(size);
    logSoftmax(x, y, outer, dim, inner);
    logSoftmaxBackward(y, r, dx, outer, dim, inner);
    expectGradient(x, dx, () => { logSoftmax(x, y, outer, dim, inner); return dot(y, r); });
  });
});

// ---------------------------------------------------------------------------------------------

describe('cross-entropy', () => {
  it('by hand: logits [1, 2, 3], label 2 -> -log softmax = 0.4076', () => {
    const probs = new Float32Array(6);
    const loss = jsKernels.crossEntropy(new Float32Array([1, 2, 3, 1, 2, 3]), new Int32Array([2, 0]), 2, 3, probs);
    // Mean of 0.4076... and 2.4076...
    expect(loss).toBeCloseTo((0.4076059644 + 2.4076059644) / 2, 6);
    expectAllClose(probs, [0.09003057317, 0.2447284711, 0.6652409558, 0.09003057317, 0.2447284711, 0.6652409558], 1e-7);
    const d = new Float32Array(6);
    jsKernels.crossEntropyBackward(probs, new Int32Array([2, 0]), 2, 3, 0.5, d);
    expectAllClose(d, [0.0450152866, 0.1223642356, -0.1673795221, -0.4549847134, 0.1223642356, 0.3326204779], 1e-6);
  });

  it('is stable for logits of 1e4', () => {
    const probs = new Float32Array(2);
    expect(jsKernels.crossEntropy(new Float32Array([1e4, 0]), new Int32Array([0]), 1, 2, probs)).toBe(0);
    expect(jsKernels.crossEntropy(new Float32Array([1e4, 0]), new Int32Array([1]), 1, 2, probs)).toBe(1e4);
    expect(Array.from(probs)).toEqual([1, 0]);
  });

  it('propagates NaN without throwing', () => {
    const probs = new Float32Array(4);
    const loss = jsKernels.crossEntropy(new Float32Array([NaN, 0, 1, 2]), new Int32Array([1, 1]), 2, 2, probs);
    expect(Number.isNaN(loss)).toBe(true);
    expect(hasNaN(probs.subarray(2))).toBe(false);
  });

  it('backward is the gradient of the mean loss, times the upstream gradient (finite differences)', () => {
    const n = 4, c = 5, upstream = 3;
    const logits = randomArray(n * c, 50).map((v) => v * 4);
    const labels = new Int32Array([0, 4, 2, 2]);
    const probs = new Float64Array(n * c), dlogits = new Float64Array(n * c);
    crossEntropy(logits, labels, n, c, probs);
    crossEntropyBackward(probs, labels, n, c, upstream / n, dlogits);
    expectGradient(logits, dlogits, () => upstream * crossEntropy(logits, labels, n, c, probs));
  });
});
