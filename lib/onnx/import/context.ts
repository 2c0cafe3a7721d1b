// What a node handler sees: its inputs as Values, its attributes, and the ways to add work for
// run time. A step whose inputs are all constants runs at once, at import, and its outputs
// become constants: that is the constant folding, for every op alike.
import type { Module } from '../../nn/module.js';
import { noGrad } from '../../autograd.js';
import { Tensor } from '../../tensor.js';
import { backendForDevice } from '../../backend/registry.js';
import type { Attributes } from './attributes.js';
import type { Dim, ShapeTable } from './dims.js';
import type { ConstValue, IntsValue, Step, TensorValue, Value } from './values.js';

/** Slots, constants and steps of the graph being built (builder.ts owns them). */
export interface GraphState {
  slotCount: number;
  readonly constants: Map<number, ConstValue>;
  readonly constSlots: Map<ConstValue, number>;
  readonly steps: Step[];
}

export type ErrorKind = 'type' | 'range';

/** The error for a node: TypeError for what convkit does not support, RangeError for bad values. */
export function nodeError(label: string, message: string, kind: ErrorKind = 'type'): Error {
  const text = `importOnnx: ${label}: ${message}`;
  return kind === 'type' ? new TypeError(text) : new RangeError(text);
}

/** A float tensor on the host for a constant (folding runs on the default host backend). */
export function constTensor(c: ConstValue): Tensor {
  const storage = backendForDevice('cpu').empty(c.values.length) as Float32Array;
  storage.set(c.values);
  return new Tensor(storage, c.dims);
}

/** A constant's values as a tensor without a copy, for loadStateDict (which copies them in). */
export function constView(c: ConstValue): Tensor {
  return new Tensor(c.values, c.dims);
}

export interface StepOptions {
  /** The convkit layer the step runs (the importer returns an nn.Sequential of these when it can). */
  layer?: Module;
  /** False when an output may be a view of an input that holds no share of its memory. */
  ownsOutputs?: boolean;
  /** The step evaluates sizes known only at run time, so it cannot be folded at import. */
  readsShapes?: boolean;
  /** An Add of two run-time tensors (see Step.joinsBranches). */
  joinsBranches?: boolean;
}

export class NodeContext {
  constructor(
    /** "Conv node '/conv1/Conv' (#0, opset 13)" */
    readonly label: string,
    /** A name for a layer made from this node (letters, digits, _). */
    readonly layerName: string,
    readonly opType: string,
    readonly opset: number,
    readonly attrs: Attributes,
    /** The inputs; null for an optional input left out (an empty name). */
    readonly inputs: ReadonlyArray<Value | null>,
    /** Which outputs the graph uses (a node may list outputs nobody reads, like Dropout's mask). */
    readonly outputsUsed: readonly boolean[],
    private readonly state: GraphState,
  ) {}

  fail(message: string, kind: ErrorKind = 'type'): never {
    throw nodeError(this.label, message, kind);
  }

  /** Input i, which the op requires. */
  input(i: number): Value {
    const v = this.inputs[i];
    if (!v) this.fail(`input ${i} is required`);
    return v;
  }

  /** Input i as a float tensor or constant (integers where floats are wanted are an error). */
  floatInput(i: number): TensorValue | ConstValue {
    const v = this.input(i);
    if (v.kind === 'ints') {
      if (v.elems.every((e) => typeof e === 'number')) return this.constant(v.dims, Float32Array.from(v.elems as number[]));
      this.fail(`input ${i} is an integer tensor computed from run-time shapes, used as floats, which is not supported`);
    }
    return v;
  }

  /** Input i as integers known at import (axes, pads, split sizes); undefined when left out. */
  numbers(i: number, what: string): number[] | undefined {
    const v = this.inputs[i];
    if (!v) return undefined;
    if (v.kind !== 'ints') this.fail(`${what} (input ${i}) must be an integer constant, got ${v.kind === 'tensor' ? 'a tensor computed at run time' : 'floats'}`);
    if (!v.elems.every((e) => typeof e === 'number')) this.fail(`${what} (input ${i}) must be known at import, but depends on run-time shapes`);
    return v.elems as number[];
  }

  /** Input i as integers up to symbolic sizes (a shape for Reshape, bounds for Slice). */
  ints(i: number, what: string): IntsValue | undefined {
    const v = this.inputs[i];
    if (!v) return undefined;
    if (v.kind !== 'ints') this.fail(`${what} (input ${i}) must be integers computed from shapes or constants, got ${v.kind === 'tensor' ? 'a tensor computed at run time' : 'floats'}`);
    return v;
  }

  /** Whether output i is read by anything. */
  used(i: number): boolean {
    return this.outputsUsed[i] ?? false;
  }

  /** Fails when an output the op cannot produce is read (MaxPool's Indices, Dropout's mask). */
  onlyFirstOutput(what: string): void {
    for (let i = 1; i < this.outputsUsed.length; i++) if (this.outputsUsed[i]) this.fail(`output ${i} (${what}) is used, which is not supported`);
  }

  constant(dims: readonly number[], values: Float32Array, name = `${this.layerName}_const`): ConstValue {
    return { kind: 'const', dims: [...dims], values, name };
  }

  private slotOf(v: TensorValue | ConstValue): number {
    if (v.kind === 'tensor') return v.slot;
    let slot = this.state.constSlots.get(v);
    if (slot === undefined) {
      slot = this.state.slotCount++;
      this.state.constSlots.set(v, slot);
      this.state.constants.set(slot, v);
    }
    return slot;
  }

  /**
   * Adds work for run time: run gets the inputs' tensors (and the run's shapes, for symbolic
   * sizes) and returns one tensor per entry of shapes, the outputs' shapes as far as known (null
   * for a size known only at run time). With only constants in, it runs now instead.
   */
  step(inputs: ReadonlyArray<TensorValue | ConstValue>, shapes: ReadonlyArray<ReadonlyArray<Dim | null>>,
    run: (inputs: Tensor[], shapes: ShapeTable) => Tensor[], options: StepOptions = {}): Array<TensorValue | ConstValue> {
    if (inputs.every((v) => v.kind === 'const') && !options.readsShapes) {
      const outs = noGrad(() => run(inputs.map((v) => constTensor(v as ConstValue)), []));
      return outs.map((t, i) => this.constant(t.shape, t.toArray(), `${this.layerName}_${i}`));
    }
    const outSlots = shapes.map(() => this.state.slotCount++);
    this.state.steps.push({
      label: this.label,
      inputs: inputs.map((v) => this.slotOf(v)),
      outputs: outSlots,
      layer: options.layer ?? null,
      ownsOutputs: options.ownsOutputs ?? true,
      joinsBranches: options.joinsBranches ?? false,
      run,
    });
    return shapes.map((shape, o) => ({
      kind: 'tensor' as const,
      slot: outSlots[o],
      shape: shape.map((d, axis) => d ?? { slot: outSlots[o], axis }),
    }));
  }

  /** One output computed by run. */
  step1(inputs: ReadonlyArray<TensorValue | ConstValue>, shape: ReadonlyArray<Dim | null>,
    run: (inputs: Tensor[], shapes: ShapeTable) => Tensor, options: StepOptions = {}): TensorValue | ConstValue {
    return this.step(inputs, [shape], (ts, shapes) => [run(ts, shapes)], options)[0];
  }

  /** The node as one of convkit's layers, on input x. */
  layer(module: Module, x: TensorValue | ConstValue, shape: ReadonlyArray<Dim | null>): TensorValue | ConstValue {
    return this.step1([x], shape, ([t]) => module.forward(t), { layer: module });
  }
}
