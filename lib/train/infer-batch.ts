// The one place a batch is run for inference. Eval mode is a property of the call: the modes
// are saved, set to eval, the forward runs under noGrad and the modes are put back, all in one
// synchronous section with no await inside, so no other call (a concurrent predict, a fit on
// the same model) can ever observe or change the modes in between.
//
// predict, evaluate, the batcher and the worker pool all go through here. Where the model
// compiles on the native cpu backend (lib/compile), a batch is one native call off the event
// loop with eval semantics baked into the plan, so no mode is touched at all.
import { noGrad } from '../autograd.js';
import { nativePlanSupport } from '../backend/registry.js';
import { compile, type CompiledModel } from '../compile/compiled-model.js';
import { planLeaves } from '../compile/plan.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';
import { onModelDevice, restoreModes, saveModes } from './common.js';

interface CachedSession {
  /** The model's layers when it was compiled: a Sequential that changed since compiles again. */
  layers: Module[];
  /** Null where the model does not compile: its batches run eagerly. */
  session: CompiledModel | null;
}

const sessions = new WeakMap<Module, Map<string, CachedSession>>();

/** The compiled session for model and x's sample shape on the native cpu backend, else null. */
function sessionFor(model: Module, x: Tensor): CompiledModel | null {
  if (x.device !== 'cpu' || !nativePlanSupport()) return null;
  const layers = planLeaves(model).map(([, layer]) => layer);
  let byShape = sessions.get(model);
  if (!byShape) sessions.set(model, (byShape = new Map()));
  const key = x.shape.slice(1).join('x');
  const cached = byShape.get(key);
  if (cached && cached.layers.length === layers.length && cached.layers.every((m, i) => m === layers[i])) return cached.session;
  let session: CompiledModel | null = null;
  try {
    session = compile(model, { inputShape: x.shape.slice(1) });
  } catch (err) {
    // A layer the plan lacks, or a shape it rejects: the eager ops run it (and report a bad input).
    if (!(err instanceof TypeError) && !(err instanceof RangeError)) throw err;
  }
  byShape.set(key, { layers, session });
  return session;
}

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

/** evalForward, as one native call off the event loop where the model compiles (on the model's device). */
export async function evalForwardAsync(model: Module, x: Tensor): Promise<Tensor> {
  const input = onModelDevice(model, x);
  const session = sessionFor(model, input);
  return session ? session.runAsync(input) : evalForward(model, input);
}

/**
 * inferBatch on the calling thread, for a worker thread that exists to block: there the hop to
 * the libuv pool that runAsync makes costs two thread wake-ups per batch and buys nothing.
 */
export function inferBatchSync(model: Module, x: Tensor): Tensor {
  const input = onModelDevice(model, x);
  const session = sessionFor(model, input);
  const y = session ? session.run(input) : evalForward(model, input);
  if (y.device === 'cpu') return y;
  const data = y.toArray();
  y.dispose();
  return new Tensor(data, y.shape);
}

/** The model's raw outputs for one batch x [N, ...], in eval mode, on the host. */
export async function inferBatch(model: Module, x: Tensor): Promise<Tensor> {
  const y = await evalForwardAsync(model, x);
  if (y.device === 'cpu') return y;
  // The copy back waits off the event loop; the modes were restored before it.
  const data = await y.toArrayAsync();
  y.dispose();
  return new Tensor(data, y.shape);
}
