// The one place a batch is run for inference. Eval mode is a property of the call: the modes
// are saved, set to eval, the forward runs under noGrad and the modes are put back, all in one
// synchronous section with no await inside, so no other call (a concurrent predict, a fit on
// the same model) can ever observe or change the modes in between.
//
// predict, the batcher and the worker pool all go through inferBatch; a compiled whole-model
// forward (runAsync) replaces its body without changing any caller.
import { noGrad } from '../autograd.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';
import { onModelDevice, restoreModes, saveModes } from './common.js';

/** model.forward(x) in eval mode without a tape, leaving every module's mode as it was. Synchronous. */
export function evalForward(model: Module, x: Tensor): Tensor {
  const modes = saveModes(model);
  model.eval();
  try {
    return noGrad(() => model.forward(onModelDevice(model, x)));
  } finally {
    restoreModes(modes);
  }
}

/** The model's raw outputs for one batch x [N, ...], in eval mode, on the host. */
export async function inferBatch(model: Module, x: Tensor): Promise<Tensor> {
  const y = evalForward(model, x);
  if (y.device === 'cpu') return y;
  // The copy back waits off the event loop; the modes were restored before it.
  const data = await y.toArrayAsync();
  y.dispose();
  return new Tensor(data, y.shape);
}
