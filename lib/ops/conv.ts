// conv2d: NCHW input, OIHW weight, optional bias [O]; PyTorch options plus 'same'/'valid'.
import type { AnyBackend, ConvGeometry } from '../backend/types.js';
import { needsGrad, record } from '../autograd.js';
import { backendFor, emptyResult, checkOptionalTensor, checkTensorRank } from '../check.js';
import { convGeometry, type Conv2dOptions } from '../geometry.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

export interface Conv2dPlan {
  x: Tensor; w: Tensor; b: Tensor | null;
  g: ConvGeometry;
  out: Tensor;
  track: boolean;
  backend: AnyBackend;
}

export function planConv2d(op: string, xArg: unknown, wArg: unknown, bArg: unknown, options: unknown): Conv2dPlan {
  const x = checkTensorRank(op, 'input', xArg, 4, 'NCHW');
  const w = checkTensorRank(op, 'weight', wArg, 4, 'OIHW');
  const b = checkOptionalTensor(op, 'bias', bArg);
  const g = convGeometry(op, x.shape, w.shape, options);
  if (b && (b.ndim !== 1 || b.shape[0] !== g.o)) {
    throw new RangeError(`${op}: bias must have shape [${g.o}], got ${formatShape(b.shape)} (weight ${formatShape(w.shape)})`);
  }
  const backend = backendFor(op, { input: x, weight: w, bias: b });
  const out = emptyResult(op, [g.n, g.o, g.oh, g.ow], backend);
  return { x, w, b, g, out, track: needsGrad(x, w, b), backend };
}

export function finishConv2d(p: Conv2dPlan): Tensor {
  const { x, w, b, g, backend } = p;
  return p.track ? record(p.out, 'conv2d', [x, w, b], (dy) => {
    // The kernel overwrites the gradients; with no output there is no kernel, and they are zero.
    const grad = (size: number) => (dy.length > 0 ? backend.empty(size) : backend.alloc(size));
    const dx = x.requiresGrad ? grad(x.size) : null;
    const dw = w.requiresGrad ? grad(w.size) : null;
    const db = b?.requiresGrad ? grad(b.size) : null;
    if (dy.length > 0) backend.conv2dBackward(g, x.storage, w.storage, dy, dx, dw, db);
    return [dx, dw, db];
  }) : p.out;
}

/** 2-D convolution (cross-correlation, as in PyTorch) of x [N,C,H,W] with w [O,C/groups,kH,kW]. */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, options?: Conv2dOptions): Tensor {
  const p = planConv2d('conv2d', x, w, b, options);
  if (p.out.size > 0) p.backend.conv2dForward(p.g, p.x.storage, p.w.storage, p.b?.storage ?? null, p.out.storage);
  return finishConv2d(p);
}
