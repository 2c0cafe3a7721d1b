// The Module an imported graph becomes when it is not a plain chain of layers: it runs the steps
// in topological order and gives each intermediate's memory back after its last use (at once
// when nothing was recorded for a backward pass; otherwise once that pass has run, as
// nn.Sequential does). Layers are children and constants buffers, so stateDict, to('cuda'),
// train() and optimizers see them as in any model.
import { Tensor } from '../../tensor.js';
import { Module, type ModuleConfig } from '../../nn/module.js';
import { describe, formatShape } from '../../shape.js';
import { constTensor } from './context.js';
import type { BuiltGraph } from './builder.js';
import type { Dim } from './dims.js';
import type { Step } from './values.js';

const NAME = /[^A-Za-z0-9_]+/g;

/** An intermediate whose consumers recorded tape entries: freed once none needs it. */
interface Pending { tensor: Tensor; consumers: Tensor[] }

/** A model imported by importOnnx: forward(x) for one input, run({ name: x }) for any number. */
export class OnnxModel extends Module {
  /** The graph inputs' names, in the order forward/run take them. */
  readonly inputNames: readonly string[];
  /** The graph outputs' names, in the order run returns them. */
  readonly outputNames: readonly string[];
  private readonly steps: readonly Step[];
  private readonly slotCount: number;
  private readonly inputs: ReadonlyArray<{ name: string; slot: number; dims: readonly Dim[] }>;
  private readonly constantSlots: ReadonlyArray<[slot: number, buffer: Tensor]>;
  private readonly outputSlots: readonly number[];
  /** The index of the last step that reads each slot (-1: none). */
  private readonly lastUse: Int32Array;
  /** Per slot, the steps that read it, and whether its memory may be given back early. */
  private readonly consumers: number[][];
  private readonly releasable: boolean[];
  private pending: Pending[] = [];

  /** @internal Made by importOnnx. */
  constructor(graph: BuiltGraph) {
    super();
    this.steps = graph.steps;
    this.inputs = graph.inputs;
    this.inputNames = graph.inputs.map((i) => i.name);
    this.outputNames = graph.outputs.map((o) => o.name);
    let slotCount = graph.slotCount;
    const taken = new Set<string>();
    const unique = (base: string) => {
      let name = base.replace(NAME, '_').replace(/^_+|_+$/g, '') || 'const', k = 1;
      const root = name;
      while (taken.has(name)) name = `${root}_${k++}`;
      taken.add(name);
      return name;
    };
    for (const step of graph.steps) {
      const name = graph.layerNames.get(step);
      if (step.layer && name) this.registerModule(unique(name), step.layer);
    }
    const constants = new Map(graph.constants);
    const outputSlots = graph.outputs.map(({ value }) => {
      if (value.kind === 'tensor') return value.slot;
      const slot = slotCount++; // a constant output (a graph that folded away): served from a buffer
      if (value.kind === 'const') constants.set(slot, value);
      return slot;
    });
    this.slotCount = slotCount;
    this.outputSlots = outputSlots;
    this.constantSlots = [...constants].map(([slot, c]) => {
      // to('cuda') moves a buffer in place, so the same tensor serves every run.
      return [slot, this.registerBuffer(unique(c.name), constTensor(c))] as [number, Tensor];
    });
    this.lastUse = new Int32Array(slotCount).fill(-1);
    this.consumers = Array.from({ length: slotCount }, () => []);
    const owned = new Array<boolean>(slotCount).fill(false);
    graph.steps.forEach((step, i) => {
      for (const s of step.inputs) {
        this.lastUse[s] = i;
        this.consumers[s].push(i);
      }
      for (const s of step.outputs) {
        owned[s] = step.ownsOutputs;
        if (this.lastUse[s] < i) this.lastUse[s] = i; // an output nobody reads dies where it is made
      }
    });
    const kept = new Set([...outputSlots, ...graph.inputs.map((i) => i.slot), ...constants.keys()]);
    // Given back only when made by a step that owns its memory, read only by steps whose outputs
    // own theirs (a view that held no share of the memory would see it reused), and not kept.
    this.releasable = owned.map((own, s) => own && !kept.has(s) && this.consumers[s].every((c) => graph.steps[c].ownsOutputs));
    this.eval();
  }

  /** Runs the graph on its one input; a graph with more inputs takes run({ name: tensor }). */
  forward(x: Tensor): Tensor {
    if (this.inputNames.length !== 1) {
      throw new TypeError(`OnnxModel.forward: the graph has ${this.inputNames.length} inputs (${this.inputNames.join(', ')}); call run({ ${this.inputNames.join(', ')} })`);
    }
    return this.execute([x])[0];
  }

  /** Runs the graph on named inputs; returns every output by name. */
  run(inputs: Record<string, Tensor>): Record<string, Tensor> {
    const op = 'OnnxModel.run';
    if (inputs === null || typeof inputs !== 'object' || inputs instanceof Tensor) {
      throw new TypeError(`${op}: inputs must be an object of name -> Tensor (${this.inputNames.join(', ')}), got ${describe(inputs)}`);
    }
    for (const key of Object.keys(inputs)) {
      if (!this.inputNames.includes(key)) throw new TypeError(`${op}: unknown input '${key}' (the graph takes ${this.inputNames.join(', ')})`);
    }
    const outs = this.execute(this.inputNames.map((name) => {
      if (!Object.hasOwn(inputs, name)) throw new TypeError(`${op}: input '${name}' is missing`);
      return inputs[name];
    }));
    return Object.fromEntries(this.outputNames.map((name, i) => [name, outs[i]]));
  }

  /** The architecture cannot be rebuilt from JSON: keep the .onnx file and import it again. */
  toConfig(): ModuleConfig {
    throw new TypeError('OnnxModel.toConfig: an imported ONNX graph has no JSON config; keep the .onnx file and call importOnnx again (stateDict() saves its weights)');
  }

  private checkInput(name: string, dims: readonly Dim[], x: unknown): Tensor {
    const op = this.inputNames.length === 1 ? 'OnnxModel.forward' : 'OnnxModel.run';
    if (!(x instanceof Tensor)) throw new TypeError(`${op}: input '${name}' must be a Tensor, got ${describe(x)}`);
    const bad = x.ndim !== dims.length || dims.some((d, i) => typeof d === 'number' && d !== x.shape[i]);
    if (bad) {
      const want = `[${dims.map((d) => (typeof d === 'number' ? d : '?')).join(', ')}]`;
      throw new RangeError(`${op}: input '${name}' must have shape ${want} (? any size), got ${formatShape(x.shape)}`);
    }
    return x;
  }

  private releasePending(): void {
    this.pending = this.pending.filter((p) => {
      const done = p.consumers.every((c) => c.gradFn === null || c.gradFn.backward === null);
      if (done) p.tensor.free(false);
      return !done;
    });
  }

  private execute(inputs: unknown[]): Tensor[] {
    this.releasePending();
    const checked = inputs.map((x, i) => this.checkInput(this.inputs[i].name, this.inputs[i].dims, x));
    const slots = new Array<Tensor | undefined>(this.slotCount);
    const shapes = new Array<readonly number[] | undefined>(this.slotCount);
    for (const [slot, buffer] of this.constantSlots) {
      slots[slot] = buffer;
      shapes[slot] = buffer.shape;
    }
    this.inputs.forEach(({ slot }, i) => {
      slots[slot] = checked[i];
      shapes[slot] = checked[i].shape;
    });
    this.steps.forEach((step, i) => {
      const outs = step.run(step.inputs.map((s) => slots[s] as Tensor), shapes);
      step.outputs.forEach((s, k) => {
        slots[s] = outs[k];
        shapes[s] = outs[k].shape;
      });
      for (const s of [...step.inputs, ...step.outputs]) {
        if (this.lastUse[s] !== i || !this.releasable[s] || !slots[s]) continue;
        // Consumers' outputs already given back recorded nothing that a backward pass reaches.
        const consumers = this.consumers[s].flatMap((c) => this.steps[c].outputs.map((o) => slots[o])).filter((t): t is Tensor => t !== undefined);
        const tensor = slots[s] as Tensor;
        slots[s] = undefined;
        if (consumers.every((c) => c.gradFn === null)) tensor.free(false);
        else this.pending.push({ tensor, consumers });
      }
    });
    return this.outputSlots.map((s) => slots[s] as Tensor);
  }
}
