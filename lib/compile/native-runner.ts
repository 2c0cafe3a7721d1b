// Runs a plan in the addon (native/src/plan.cpp): the whole forward pass is one native call,
// synchronous or on the libuv pool. The async call runs on memory its worker holds, as the
// other async kernels do (lib/backend/async-staging.ts).
import { runStaged } from '../backend/async-staging.js';
import type { CachedHostMemory } from '../backend/host-memory.js';
import type { Plan, PlanStep } from './plan.js';
import type { StepWeights } from './weights.js';

/** The addon's handle to a compiled plan (opaque, type-tagged). */
export type PlanHandle = { readonly __planHandle: unique symbol };

export interface PlanAddon {
  planCreate(layers: object[], inSize: number): PlanHandle;
  planSetWeights(plan: PlanHandle, layer: number, weight: Float32Array, bias: Float32Array | null): void;
  planFlopsPerImage(plan: PlanHandle): number;
  planRun(plan: PlanHandle, x: Float32Array, n: number, y: Float32Array): void;
  planRunAsync(plan: PlanHandle, x: Float32Array, n: number, y: Float32Array): Promise<void>;
}

/** A step as the addon reads it (geometry objects carry their packed Int32Array). */
function describeStep(step: PlanStep): object {
  switch (step.op) {
    case 'conv': return { op: 'conv', geometry: step.geometry, relu: step.relu };
    case 'linear': return { op: 'linear', inFeatures: step.inFeatures, outFeatures: step.outFeatures, relu: step.relu };
    case 'channelAffine': return { op: 'channelAffine', channels: step.channels, plane: step.plane, relu: step.relu };
    case 'maxPool': case 'avgPool': return { op: step.op, geometry: step.geometry };
    case 'leakyRelu': return { op: 'leakyRelu', slope: step.slope };
    case 'softmax': return { op: 'softmax', dim: step.dim, inner: step.inner };
    default: return { op: step.op };
  }
}

/**
 * Below this much work a runAsync call runs on the calling thread: the hop to a libuv worker and
 * back costs about 50 us here, more than the call (LeNet at batch 1 is 0.8 MFLOP, about 14 us),
 * and holding the event loop for 40 us is less than the hop would delay the answer.
 */
const INLINE_FLOPS = 2e6;

export class NativeRunner {
  private readonly handle: PlanHandle;
  private readonly flopsPerImage: number;

  constructor(private readonly addon: PlanAddon, private readonly memory: CachedHostMemory, plan: Plan) {
    const inSize = plan.inputShape.reduce((a, b) => a * b, 1);
    this.handle = addon.planCreate(plan.steps.map(describeStep), inSize);
    this.flopsPerImage = addon.planFlopsPerImage(this.handle);
  }

  setWeights(step: number, w: StepWeights): void {
    this.addon.planSetWeights(this.handle, step, w.weight, w.bias);
  }

  /** y [n, output size] in the cpu backend's memory; the kernel overwrites all of it. */
  run(x: Float32Array, n: number, y: Float32Array): void {
    this.addon.planRun(this.handle, x, n, y);
  }

  async runAsync(x: Float32Array, n: number, y: Float32Array): Promise<void> {
    if (n * this.flopsPerImage < INLINE_FLOPS) return this.run(x, n, y);
    await runStaged(this.memory, 'runAsync', [x, y], [false, true],
      ([hx, hy]) => this.addon.planRunAsync(this.handle, hx as Float32Array, n, hy as Float32Array),
      () => this.addon.planRun(this.handle, x, n, y));
  }
}
