// fit's compiled training step: forward, cross-entropy, backward and the SGD update of a whole
// batch as one call into the addon (native/src/train_plan.cpp). The plan works on the model's
// own memory, passed on every call, so parameters, gradients, running statistics and the
// optimizer's momentum buffers stay those of the modules and the optimizer: checkpoints,
// callbacks, evaluation and eager steps see them as they would after an eager step.
import { backendForDevice, nativePlanSupport } from '../backend/registry.js';
import { drawDropoutMask } from '../ops/dropout.js';
import { crossEntropy, parseLabels } from '../ops/loss.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { SGD } from '../optim/sgd.js';
import { Tensor } from '../tensor.js';
import { buildTrainPlan, type TrainPlan } from './train-plan.js';

/** The addon's handle to a training plan (opaque, type-tagged). */
export type TrainPlanHandle = { readonly __trainPlanHandle: unique symbol };

export interface TrainPlanAddon {
  planTrainCreate(layers: object[], inSize: number): TrainPlanHandle;
  /** Returns the mean loss. tensors: [param, grad, momentum | null] per slot; stats: [mean, var] per BatchNorm. */
  planTrainStep(plan: TrainPlanHandle, x: Float32Array, labels: Int32Array, n: number, tensors: Array<Float32Array | null>,
    stats: Array<Float32Array | null>, masks: Uint8Array[], sgd: Float64Array | null, first: Uint8Array | null,
    logits: Float32Array | null): number;
}

/** What a batch gives back: the mean loss (a 0-d tensor) and the model's output [n, classes]. */
export interface TrainStepResult {
  loss: Tensor;
  output: Tensor;
}

export class NativeTrainer {
  private readonly handle: TrainPlanHandle;
  private readonly grads: Array<Tensor | null>;
  private readonly tensors: Array<Float32Array | null>;
  private readonly first: Uint8Array;
  /** Per slot, its index in optimizer.params. */
  private readonly optimizerIndex: number[];
  private readonly fusedSgd: SGD | null;
  private readonly sgdArgs = new Float64Array(5);

  private constructor(private readonly addon: TrainPlanAddon, private readonly plan: TrainPlan, private readonly optimizer: Optimizer) {
    const inSize = plan.inputShape.reduce((a, b) => a * b, 1);
    this.handle = addon.planTrainCreate(plan.steps, inSize); // geometry objects carry their packed Int32Array
    this.grads = plan.params.map(() => null);
    this.tensors = new Array<Float32Array | null>(3 * plan.params.length).fill(null);
    this.first = new Uint8Array(plan.params.length);
    this.optimizerIndex = plan.params.map((p) => optimizer.params.indexOf(p));
    // Exactly SGD: a subclass may change the update.
    this.fusedSgd = optimizer.constructor === SGD ? optimizer as SGD : null;
  }

  /**
   * A trainer for model, or why there is none: it needs the native cpu backend, a model on the
   * cpu whose layers the plan supports (all in training mode), the crossEntropy loss, and an
   * optimizer over exactly the model's parameters, all of which require gradients.
   */
  static create(model: Module, optimizer: Optimizer, loss: unknown, inputShape: readonly number[]): NativeTrainer | { reason: string } {
    const native = nativePlanSupport();
    if (!native) return { reason: 'the native cpu backend is not loaded' };
    if (model.device !== 'cpu') return { reason: `the model is on ${model.device}` };
    if (loss !== crossEntropy) return { reason: 'the loss is not crossEntropy' };
    let plan: TrainPlan | { reason: string };
    try {
      plan = buildTrainPlan(model, inputShape);
    } catch (e) {
      return { reason: (e as Error).message }; // eager ops raise it again at the forward
    }
    if ('reason' in plan) return plan;
    const params = new Set(plan.params);
    if (params.size !== plan.params.length) return { reason: 'a parameter is shared between layers (its gradients would have to be summed)' };
    const all = model.parameters();
    if (all.length !== params.size || all.some((p) => !params.has(p))) return { reason: 'the model has parameters outside the planned layers' };
    if (optimizer.params.length !== params.size || optimizer.params.some((p) => !params.has(p))) {
      return { reason: 'the optimizer does not update exactly the model\'s parameters' };
    }
    if (plan.params.some((p) => !p.requiresGrad)) return { reason: 'a parameter does not require grad' };
    return new NativeTrainer(native.addon, plan, optimizer);
  }

  /**
   * One training step on x [n, ...inputShape] with class labels; null when this batch must
   * run eagerly instead (another sample shape, a module switched to eval mode, a batch the
   * plan cannot normalise). Bad labels are the eager loss's RangeError.
   */
  step(x: Tensor, labels: Int32Array): TrainStepResult | null {
    const { plan } = this;
    const shape = plan.inputShape;
    if (x.device !== 'cpu' || x.ndim !== shape.length + 1 || shape.some((d, i) => x.shape[i + 1] !== d)) return null;
    const n = x.shape[0];
    if (n < 1 || !plan.leaves.every((m) => m.training)) return null;
    if (plan.steps.some((s) => s.op === 'batchNorm' && n * s.plane < 2)) return null; // eager raises the error
    const classes = plan.classes;
    const target = parseLabels('crossEntropy', labels, n, classes, [n, classes]);
    x.checkLive('fit');

    const sgd = this.fusedSgd;
    plan.params.forEach((p, i) => {
      p.checkLive('fit');
      this.tensors[3 * i] = p.storage as Float32Array;
      this.tensors[3 * i + 1] = this.gradOf(i).storage as Float32Array;
      if (sgd) {
        const state = this.optimizer.beginUpdate(this.optimizerIndex[i]);
        this.first[i] = state.step === 1 ? 1 : 0;
        this.tensors[3 * i + 2] = sgd.momentum !== 0 ? state.buffers.momentumBuffer as Float32Array : null;
      }
    });
    const stats = plan.batchNorms.flatMap((bn) => [bn.runningMean?.storage ?? null, bn.runningVar?.storage ?? null]) as Array<Float32Array | null>;
    // Drawn in layer order from the global generator, as the eager forward draws them.
    const masks = plan.dropouts.map(({ layer, size }) => drawDropoutMask(n * size, layer.p));
    if (sgd) this.sgdArgs.set([sgd.lr, sgd.momentum, sgd.dampening, sgd.weightDecay, sgd.nesterov ? 1 : 0]);
    const logits = backendForDevice('cpu').empty(n * classes) as Float32Array;
    const loss = this.addon.planTrainStep(this.handle, x.storage as Float32Array, target, n, this.tensors, stats, masks,
      sgd ? this.sgdArgs : null, sgd ? this.first : null, logits);

    for (const bn of plan.batchNorms) {
      if (bn.runningMean && bn.runningVar) { // moved in place, as the eager batchNorm2d does
        bn.runningMean.version += 1;
        bn.runningVar.version += 1;
      }
      if (bn.numBatchesTracked) (bn.numBatchesTracked.storage as Float32Array)[0] += 1;
    }
    if (sgd) for (const p of plan.params) p.version += 1;
    else this.optimizer.step();
    return { loss: new Tensor(Float32Array.of(loss), []), output: new Tensor(logits, [n, classes]) };
  }

  /**
   * params[i]'s gradient tensor, overwritten by every step: made once, and again when someone
   * replaced or dropped it (zeroGrad).
   */
  private gradOf(i: number): Tensor {
    const p = this.plan.params[i];
    const g = this.grads[i];
    if (g !== null && p.grad === g) return g;
    const fresh = new Tensor(backendForDevice('cpu').empty(p.size) as Float32Array, p.shape);
    this.grads[i] = fresh;
    p.grad = fresh;
    return fresh;
  }
}
