// Kernel timings per backend on the shapes: conv2d forward/backward, max pooling,
// GEMM through the TypeScript API, and the optimizer updates. Kernels are called through the Backend contract so the
// js and cpu columns see identical inputs.
import { backendByName, availableBackends } from '../lib/backend/registry.js';
import { BinaryOpCode, type Backend, type ConvGeometry } from '../lib/backend/types.js';
import { broadcastGeometry, reduceGeometry } from '../lib/ops/broadcast.js';
import { convGeometry, poolGeometry } from '../lib/geometry.js';
import { contiguousStrides, stridedCopyPlan } from '../lib/ops/strided-copy.js';
import { measure } from './measure.js';
import type { Row } from './table.js';
import { randomArray } from './fill.js';

const volume = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const convFlops = (g: ConvGeometry) => 2 * g.n * g.o * (g.c / g.groups) * g.kh * g.kw * g.oh * g.ow;

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  padding: number;
  /** The js backend is too slow for the big shapes; run it only where it finishes. */
  js: boolean;
}

const convCases: ConvCase[] = [
  { name: 'N64 3->32 32x32 3x3 p1', x: [64, 3, 32, 32], w: [32, 3, 3, 3], padding: 1, js: false },
  { name: 'N64 64->64 56x56 3x3 p1', x: [64, 64, 56, 56], w: [64, 64, 3, 3], padding: 1, js: false },
  { name: 'LeNet conv1 N1 1->6 32x32 5x5', x: [1, 1, 32, 32], w: [6, 1, 5, 5], padding: 0, js: true },
  { name: 'LeNet conv1 N64 1->6 32x32 5x5', x: [64, 1, 32, 32], w: [6, 1, 5, 5], padding: 0, js: true },
  { name: 'LeNet conv2 N1 6->16 14x14 5x5', x: [1, 6, 14, 14], w: [16, 6, 5, 5], padding: 0, js: true },
  { name: 'LeNet conv2 N64 6->16 14x14 5x5', x: [64, 6, 14, 14], w: [16, 6, 5, 5], padding: 0, js: true },
];

function backendsFor(runJs: boolean): Backend[] {
  // Host backends only: these rows time kernels on host arrays (bench/native/bench_cuda.cpp times the GPU).
  const names = availableBackends().filter((n): n is 'js' | 'cpu' => n !== 'cuda' && (runJs || n !== 'js'));
  return names.map(backendByName);
}

export function convRows(): Row[] {
  const rows: Row[] = [];
  for (const c of convCases) {
    const g = convGeometry('bench', c.x, c.w, { padding: c.padding });
    const x = randomArray(volume(c.x), 1), w = randomArray(volume(c.w), 2), bias = randomArray(g.o, 3);
    const y = new Float32Array(g.n * g.o * g.oh * g.ow), dy = randomArray(y.length, 4);
    const dx = new Float32Array(x.length), dw = new Float32Array(w.length), db = new Float32Array(g.o);
    const flops = convFlops(g);
    for (const backend of backendsFor(c.js)) {
      const fwd = measure(`${c.name} fwd ${backend.name}`, () => backend.conv2dForward(g, x, w, bias, y));
      rows.push({ op: 'conv2d fwd', shape: c.name, backend: backend.name, medianMs: fwd.medianMs, rate: flops / fwd.medianMs / 1e6, unit: 'GFLOP/s' });
      const bwd = measure(`${c.name} bwd ${backend.name}`, () => backend.conv2dBackward(g, x, w, dy, dx, dw, db));
      // dX and dW are each one forward's worth of multiply-adds.
      rows.push({ op: 'conv2d bwd', shape: c.name, backend: backend.name, medianMs: bwd.medianMs, rate: (2 * flops) / bwd.medianMs / 1e6, unit: 'GFLOP/s', note: 'dx+dw+db' });
    }
  }
  return rows;
}

export function maxPoolRows(): Row[] {
  const shape = [64, 32, 112, 112];
  const g = poolGeometry('bench', shape, 2, { stride: 2 }, 'max');
  const x = randomArray(volume(shape), 5), y = new Float32Array(g.n * g.c * g.oh * g.ow);
  const argmax = new Int32Array(y.length);
  const rows: Row[] = [];
  for (const backend of backendsFor(false)) {
    const infer = measure(`maxpool ${backend.name}`, () => backend.maxPool2dForward(g, x, y, null));
    const inferBytes = (x.length + y.length) * 4;
    rows.push({ op: 'maxPool2d 2x2/2', shape: '64x32x112x112', backend: backend.name, medianMs: infer.medianMs, rate: inferBytes / infer.medianMs / 1e6, unit: 'GB/s', note: 'inference (no argmax)' });
    const train = measure(`maxpool argmax ${backend.name}`, () => backend.maxPool2dForward(g, x, y, argmax));
    const trainBytes = (x.length + 2 * y.length) * 4;
    rows.push({ op: 'maxPool2d 2x2/2', shape: '64x32x112x112', backend: backend.name, medianMs: train.medianMs, rate: trainBytes / train.medianMs / 1e6, unit: 'GB/s', note: 'with argmax' });
  }
  return rows;
}

export function gemmRows(): Row[] {
  const rows: Row[] = [];
  for (const size of [256, 512, 1024]) {
    const a = randomArray(size * size, 6), b = randomArray(size * size, 7), c = new Float32Array(size * size);
    for (const backend of backendsFor(size <= 256)) {
      const t = measure(`gemm ${size} ${backend.name}`, () => backend.gemm({ transA: false, transB: false, m: size, n: size, k: size, alpha: 1, beta: 0, a, b, c }));
      rows.push({ op: 'gemm (via N-API)', shape: `${size}^3`, backend: backend.name, medianMs: t.medianMs, rate: (2 * size ** 3) / t.medianMs / 1e6, unit: 'GFLOP/s' });
    }
  }
  return rows;
}

export function optimRows(): Row[] {
  const n = 4 << 20; // 4M parameters, about a small ResNet's
  const p = randomArray(n, 8), g = randomArray(n, 9), s1 = new Float32Array(n), s2 = new Float32Array(n);
  const shape = '4M params';
  const rows: Row[] = [];
  for (const backend of backendsFor(true)) {
    const sgd = measure(`sgd ${backend.name}`, () => backend.sgdStep(p, g, s1, { lr: 1e-3, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: false, first: false }));
    // Each element reads p, g, buf and writes p, buf: 5 floats.
    rows.push({ op: 'sgdStep momentum', shape, backend: backend.name, medianMs: sgd.medianMs, rate: (20 * n) / sgd.medianMs / 1e6, unit: 'GB/s' });
    const adam = measure(`adam ${backend.name}`, () => backend.adamStep(p, g, s1, s2, null, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, step: 10 }));
    // Reads p, g, m, v and writes p, m, v: 7 floats.
    rows.push({ op: 'adamStep', shape, backend: backend.name, medianMs: adam.medianMs, rate: (28 * n) / adam.medianMs / 1e6, unit: 'GB/s' });
  }
  return rows;
}

export function arithRows(): Row[] {
  const rows: Row[] = [];
  // Broadcasting add on the common patterns; each element reads a and b (b's re-reads hit the
  // cache) and writes y: counted as 12 bytes an element for same shapes, 8 otherwise.
  const binaryCases: Array<[string, number[], number[]]> = [
    ['same shape', [64, 64, 32, 32], [64, 64, 32, 32]],
    ['scalar', [64, 64, 32, 32], []],
    ['per-channel bias', [64, 64, 32, 32], [64, 1, 1]],
    ['row (a [1, N] operand)', [4096, 1024], [1024]],
    ['column (a [M, 1] operand)', [4096, 1024], [4096, 1]],
  ];
  for (const [name, aShape, bShape] of binaryCases) {
    const g = broadcastGeometry('bench', aShape, aShape, bShape);
    const a = randomArray(volume(aShape), 10), b = randomArray(volume(bShape), 11), y = new Float32Array(a.length);
    const bytes = (name === 'same shape' ? 12 : 8) * a.length;
    for (const backend of backendsFor(true)) {
      const t = measure(`add ${name} ${backend.name}`, () => backend.binary(BinaryOpCode.add, g, a, b, y));
      rows.push({ op: 'binary add', shape: `${aShape.join('x')} + ${bShape.length ? bShape.join('x') : 'scalar'}`, backend: backend.name, medianMs: t.medianMs, rate: bytes / t.medianMs / 1e6, unit: 'GB/s', note: name });
    }
  }
  // Sums: a per-channel bias gradient, column sums, row sums, and everything.
  const sumCases: Array<[string, number[], boolean[]]> = [
    ['per-channel (bias grad)', [64, 64, 32, 32], [true, false, true, true]],
    ['columns', [4096, 1024], [true, false]],
    ['rows', [4096, 1024], [false, true]],
    ['all', [4 << 20], [true]],
  ];
  for (const [name, shape, reduced] of sumCases) {
    const g = reduceGeometry('bench', shape, reduced);
    const x = randomArray(volume(shape), 12), y = new Float32Array(shape.reduce((p, d, i) => (reduced[i] ? p : p * d), 1));
    for (const backend of backendsFor(true)) {
      const t = measure(`sum ${name} ${backend.name}`, () => backend.sumAxes(g, x, 1, y));
      rows.push({ op: 'sumAxes', shape: `${shape.join('x')} -> ${y.length}`, backend: backend.name, medianMs: t.medianMs, rate: (4 * x.length) / t.medianMs / 1e6, unit: 'GB/s', note: name });
    }
  }
  return rows;
}

/** The plan permute builds for x of shape and dims (lib/ops/layout.ts). */
function permutePlan(shape: number[], dims: number[]) {
  const strides = contiguousStrides(shape);
  const out = dims.map((d) => shape[d]);
  return { out, plan: stridedCopyPlan('bench', out, { offset: 0, strides: dims.map((d) => strides[d]) }, { offset: 0, strides: contiguousStrides(out) }) };
}

/** The layout kernels: a transposing permute (tiles), a channel shuffle (contiguous runs), argmax over rows and columns. */
export function layoutRows(): Row[] {
  const rows: Row[] = [];
  const copies: Array<[string, number[], number[]]> = [
    ['permute NCHW->NHWC', [8, 64, 56, 56], [0, 2, 3, 1]],
    ['channel shuffle g=2', [8, 2, 116, 28, 28], [0, 2, 1, 3, 4]],
  ];
  for (const [op, shape, dims] of copies) {
    const { plan } = permutePlan(shape, dims);
    const x = randomArray(volume(shape), 10), y = new Float32Array(x.length);
    for (const backend of backendsFor(true)) {
      const t = measure(`${op} ${backend.name}`, () => backend.stridedCopy(plan, x, y));
      rows.push({ op, shape: shape.join('x'), backend: backend.name, medianMs: t.medianMs, rate: (8 * x.length) / t.medianMs / 1e6, unit: 'GB/s' });
    }
  }
  const argmaxes: Array<[string, number, number, number]> = [['argmax rows', 4096, 1000, 1], ['argmax axis 1', 8, 64, 3136]];
  for (const [op, outer, dim, inner] of argmaxes) {
    const x = randomArray(outer * dim * inner, 11), out = new Int32Array(outer * inner);
    for (const backend of backendsFor(true)) {
      const t = measure(`${op} ${backend.name}`, () => backend.argmax(x, outer, dim, inner, out));
      rows.push({ op, shape: `${outer}x${dim}x${inner}`, backend: backend.name, medianMs: t.medianMs, rate: (4 * x.length) / t.medianMs / 1e6, unit: 'GB/s' });
    }
  }
  return rows;
}
