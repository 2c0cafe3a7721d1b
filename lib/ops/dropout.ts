// Inverted dropout: kept values are scaled by 1/(1-p) so the expected output equals x. The
// mask is drawn here from the seeded generator (so every backend gives the same result for
// the same seed) and applied by the backend's kernel, forward and backward.
import { needsGrad, record } from '../autograd.js';
import { backendFor, checkBoolean, checkTensor, emptyResult } from '../check.js';
import { defaultGenerator } from '../random.js';
import { describe } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** A drop probability in [0, 1) (p = 1 would divide by zero in the scale). */
export function checkDropoutProbability(op: string, p: unknown): number {
  if (typeof p !== 'number') throw new TypeError(`${op}: p must be a number, got ${describe(p)}`);
  if (!(p >= 0 && p < 1)) throw new RangeError(`${op}: p must be in [0, 1), got ${p}`);
  return p;
}

/** @internal Keep flags for size elements, each kept with probability 1 - p, from the global generator (the compiled training step draws the same). */
export function drawDropoutMask(size: number, p: number): Uint8Array {
  const mask = new Uint8Array(size);
  const generator = defaultGenerator();
  for (let i = 0; i < mask.length; i++) mask[i] = generator.random() >= p ? 1 : 0;
  return mask;
}

/** Zeroes each element with probability p while training; identity (x itself) otherwise or when p = 0. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  const op = 'dropout';
  const input = checkTensor(op, 'x', x);
  input.checkLive(op);
  checkDropoutProbability(op, p);
  if (!checkBoolean(op, 'training', training, true) || p === 0) return input;
  const mask = drawDropoutMask(input.size, p);
  const scale = 1 / (1 - p);
  const backend = backendFor(op, { x: input });
  const deviceMask = backend.uint8FromHost(mask);
  const out = emptyResult(op, input.shape, backend);
  if (out.size > 0) backend.dropout(input.storage, deviceMask, scale, out.storage);
  return needsGrad(input) ? record(out, op, [input], (dy) => {
    const dx = backend.empty(input.size);
    if (dx.length > 0) backend.dropout(dy, deviceMask, scale, dx);
    return [dx];
  }) : out;
}
