// compile(model, { inputShape }): a model resolved once into a plan (lib/compile/plan.ts) and
// run many times, in eval mode and without the tape. On the native cpu backend the whole
// forward pass is one call into the addon (runAsync: one call off the event loop); on js and
// cuda, and for a model with a Residual, the same plan runs with the eager ops. Weights are copied into the plan (BatchNorm
// folded in) and copied again when a parameter's version says it changed.
import { backendForDevice, nativePlanSupport } from '../backend/registry.js';
import type { DeviceName } from '../backend/types.js';
import { checkOptions, checkTensor } from '../check.js';
import { Module } from '../nn/module.js';
import { describe, formatShape, parseShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { EagerRunner } from './eager-runner.js';
import { NativeRunner } from './native-runner.js';
import { buildPlan, nativeRunnable, type Plan } from './plan.js';
import { sourceTensors, stepWeights } from './weights.js';

/** compile()'s options. */
export interface CompileOptions {
  /** One sample's shape, without the batch dim: [1, 32, 32] for LeNet. Any batch size runs. */
  inputShape: readonly number[];
}

type Runner = { kind: 'native'; runner: NativeRunner } | { kind: 'eager'; runner: EagerRunner; device: DeviceName };

/**
 * A model resolved once by compile(): run(x) and runAsync(x) give model.forward's eval-mode
 * output for any batch of the compiled sample shape, without the tape.
 */
export class CompiledModel {
  /** One sample's input shape, without the batch dim. */
  readonly inputShape: readonly number[];
  /** One sample's output shape, without the batch dim. */
  readonly outputShape: readonly number[];
  private readonly outputSize: number;
  private readonly plan: Plan;
  private readonly sources: Tensor[][];
  private runner: Runner | null = null;
  /** Per step, the versions of its source tensors when the runner got its weights. */
  private versions: number[][] = [];

  /** @internal Use compile(). */
  constructor(plan: Plan) {
    this.plan = plan;
    this.inputShape = Object.freeze(plan.inputShape.slice());
    this.outputShape = Object.freeze(plan.outputShape.slice());
    this.outputSize = plan.outputShape.reduce((a, b) => a * b, 1);
    this.sources = plan.steps.map((s) => ('sources' in s ? sourceTensors(s.sources) : []));
  }

  /** The model's output for x [N, ...inputShape], in eval mode, without gradients. */
  run(x: Tensor): Tensor {
    const input = this.checkInput('run', x);
    const runner = this.prepare(input);
    if (runner.kind === 'eager') return runner.runner.run(input);
    const y = this.emptyOutput(input);
    runner.runner.run(input.storage as Float32Array, input.shape[0], y);
    return new Tensor(y, [input.shape[0], ...this.outputShape]);
  }

  /** run(), with the whole forward pass as one call off the event loop on the native backend. */
  async runAsync(x: Tensor): Promise<Tensor> {
    const input = this.checkInput('runAsync', x);
    const runner = this.prepare(input);
    if (runner.kind === 'eager') return runner.runner.run(input);
    const y = this.emptyOutput(input);
    await runner.runner.runAsync(input.storage as Float32Array, input.shape[0], y);
    return new Tensor(y, [input.shape[0], ...this.outputShape]);
  }

  /** @internal Which runner the last call used: the native plan (one call into the addon) or eager ops. */
  get runnerKind(): 'native' | 'eager' | null {
    return this.runner?.kind ?? null;
  }

  /** The native plan's output memory for input's batch: the cpu backend's, not zero-filled (the plan writes all of it). */
  private emptyOutput(input: Tensor): Float32Array {
    return backendForDevice('cpu').empty(input.shape[0] * this.outputSize) as Float32Array;
  }

  private checkInput(op: string, x: unknown): Tensor {
    const t = checkTensor(op, 'x', x);
    t.checkLive(op);
    const want = `[N, ${this.inputShape.join(', ')}]`;
    if (t.ndim !== this.inputShape.length + 1 || t.shape.slice(1).some((d, i) => d !== this.inputShape[i])) {
      throw new RangeError(`${op}: x must have shape ${want} (the compiled input shape), got ${formatShape(t.shape)}`);
    }
    if (t.shape[0] < 1) throw new RangeError(`${op}: x must hold at least one sample ${want}, got ${formatShape(t.shape)}`);
    return t;
  }

  /** The runner for x's device and the current backend, with fresh weights. */
  private prepare(x: Tensor): Runner {
    const device = x.device;
    const native = device === 'cpu' && nativeRunnable(this.plan) ? nativePlanSupport() : null;
    const current = this.runner;
    const same = current && (native ? current.kind === 'native' : current.kind === 'eager' && current.device === device);
    if (!same) {
      this.runner = native ? { kind: 'native', runner: new NativeRunner(native.addon, native.memory, this.plan) }
        : { kind: 'eager', runner: new EagerRunner(this.plan, device), device };
      this.versions = this.plan.steps.map(() => []);
    }
    this.refreshWeights(device);
    return this.runner!;
  }

  private refreshWeights(device: DeviceName): void {
    this.plan.steps.forEach((step, i) => {
      const sources = this.sources[i];
      if (sources.length === 0) return;
      const seen = this.versions[i];
      if (seen.length === sources.length && sources.every((t, j) => t.version === seen[j])) return;
      for (const t of sources) {
        if (t.device !== device) throw new TypeError(`compile: the input is on ${device} but layer ${step.names[0]}'s parameters are on ${t.device}; move one with .to()`);
      }
      this.runner!.runner.setWeights(i, stepWeights(step)!);
      this.versions[i] = sources.map((t) => t.version);
    });
  }
}

/**
 * Resolves model once for samples of inputShape (without the batch dim) into a compiled
 * model whose run(x) / runAsync(x) give model.forward's eval-mode output for any batch. A
 * layer the plan cannot express is a TypeError naming it: run such a model eagerly.
 */
export function compile(model: Module, options: CompileOptions): CompiledModel {
  const op = 'compile';
  if (!(model instanceof Module)) throw new TypeError(`${op}: model must be an nn.Module, got ${describe(model)}`);
  const opts = checkOptions<CompileOptions>(op, options, ['inputShape']);
  if (opts.inputShape === undefined) throw new TypeError(`${op}: options.inputShape is required: one sample's shape without the batch dim, e.g. [1, 32, 32]`);
  const inputShape = parseShape(op, opts.inputShape, 'inputShape');
  if (inputShape.length === 0 || inputShape.some((d) => d < 1)) {
    throw new RangeError(`${op}: inputShape must be one sample's shape of sizes >= 1 without the batch dim, got ${formatShape(inputShape)}`);
  }
  return new CompiledModel(buildPlan(model, inputShape));
}
