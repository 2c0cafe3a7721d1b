// Max and average pooling (PyTorch semantics, ceil mode, 'same'/'valid'), and the global
// pools, which are the same kernels with the window set to the whole plane.
import type { AnyBackend, IntStorage, PoolGeometry } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { backendFor, checkTensorRank, emptyResult } from '../check.js';
import { checkInputNotEmpty, poolGeometry, type AvgPool2dOptions, type MaxPool2dOptions, type Pair, type PoolKind } from '../geometry.js';
import type { Tensor } from '../tensor.js';

export interface PoolPlan {
  x: Tensor;
  g: PoolGeometry;
  out: Tensor;
  /** Where each max came from; only when a backward pass may follow. */
  argmax: IntStorage | null;
  track: boolean;
  backend: AnyBackend;
}

export function planPool(op: string, kind: PoolKind, xArg: unknown, kernel: unknown, options: unknown): PoolPlan {
  const x = checkTensorRank(op, 'input', xArg, 4, 'NCHW');
  const g = poolGeometry(op, x.shape, kernel, options, kind);
  const backend = backendFor(op, { input: x });
  const out = emptyResult(op, [g.n, g.c, g.oh, g.ow], backend);
  const track = needsGrad(x);
  const argmax = kind === 'max' && track ? backend.allocInt32(out.size) : null;
  return { x, g, out, argmax, track, backend };
}

export function finishMaxPool2d(p: PoolPlan): Tensor {
  const { x, g, argmax, backend } = p;
  return p.track ? record(p.out, 'maxPool2d', [x], (dy) => {
    const dx = dy.length > 0 ? backend.empty(x.size) : backend.alloc(x.size); // the kernel overwrites it
    if (dy.length > 0) backend.maxPool2dBackward(g, dy, argmax!, dx);
    return [dx];
  }) : p.out;
}

function finishAvgPool2d(p: PoolPlan): Tensor {
  const { x, g, backend } = p;
  return p.track ? record(p.out, 'avgPool2d', [x], (dy) => {
    const dx = dy.length > 0 ? backend.empty(x.size) : backend.alloc(x.size); // the kernel overwrites it
    if (dy.length > 0) backend.avgPool2dBackward(g, dy, dx);
    return [dx];
  }) : p.out;
}

function runMaxPool(p: PoolPlan): Tensor {
  if (p.out.size > 0) p.backend.maxPool2dForward(p.g, p.x.storage, p.out.storage, p.argmax);
  return finishMaxPool2d(p);
}

function runAvgPool(p: PoolPlan): Tensor {
  if (p.out.size > 0) p.backend.avgPool2dForward(p.g, p.x.storage, p.out.storage);
  return finishAvgPool2d(p);
}

/** Max pooling of x [N,C,H,W]; stride defaults to the kernel. */
export function maxPool2d(x: Tensor, kernel: Pair, options?: MaxPool2dOptions): Tensor {
  return runMaxPool(planPool('maxPool2d', 'max', x, kernel, options));
}

/** Average pooling of x [N,C,H,W]; stride defaults to the kernel, countIncludePad to true. */
export function avgPool2d(x: Tensor, kernel: Pair, options?: AvgPool2dOptions): Tensor {
  return runAvgPool(planPool('avgPool2d', 'avg', x, kernel, options));
}

function planeKernel(op: string, x: unknown): [number, number] {
  const t = checkTensorRank(op, 'input', x, 4, 'NCHW');
  checkInputNotEmpty(op, t.shape);
  return [t.shape[2], t.shape[3]];
}

/** Mean over each plane: [N,C,H,W] -> [N,C,1,1]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  const op = 'globalAvgPool2d';
  return runAvgPool(planPool(op, 'avg', x, planeKernel(op, x), {}));
}

/** Max over each plane: [N,C,H,W] -> [N,C,1,1]. */
export function globalMaxPool2d(x: Tensor): Tensor {
  const op = 'globalMaxPool2d';
  return runMaxPool(planPool(op, 'max', x, planeKernel(op, x), {}));
}
