// Residual connections as nn.Residual: an Add of two branches that start from one value, each
// branch a chain of layers whose outputs nothing else reads, becomes one step running
// Residual(body, shortcut). A ResNet is then input -> layers and Residual blocks -> output, an
// nn.Sequential with a JSON config (save/load, exportOnnx, summary), instead of a graph.
import { Residual } from '../../nn/residual.js';
import { Sequential } from '../../nn/sequential.js';
import type { Module } from '../../nn/module.js';
import type { BuiltGraph } from './builder.js';
import type { Step } from './values.js';

/** The branch that ends at slot: layer steps back to where it forks (or starts). */
interface Branch { root: number; steps: Step[] }

function traceBranch(slot: number, producer: ReadonlyMap<number, Step>, readers: ReadonlyMap<number, number>): Branch {
  const steps: Step[] = [];
  let at = slot;
  for (;;) {
    const step = producer.get(at);
    // Stop at a value read elsewhere too (the fork), or made by anything but a one-in, one-out layer.
    if (!step || !step.layer || step.inputs.length !== 1 || step.outputs.length !== 1 || (readers.get(at) ?? 0) !== 1) break;
    steps.unshift(step);
    at = step.inputs[0];
  }
  return { root: at, steps };
}

const chain = (steps: Step[]): Module => (steps.length === 1 ? steps[0].layer as Module : new Sequential(...steps.map((s) => s.layer as Module)));

/** The graph with each residual Add and its branches folded into a Residual layer step. */
export function foldResiduals(graph: BuiltGraph): BuiltGraph {
  let steps = [...graph.steps];
  const layerNames = new Map(graph.layerNames);
  for (let changed = true; changed;) {
    changed = false;
    const producer = new Map<number, Step>();
    const readers = new Map<number, number>();
    for (const step of steps) {
      for (const s of step.outputs) producer.set(s, step);
      for (const s of step.inputs) readers.set(s, (readers.get(s) ?? 0) + 1);
    }
    for (const out of graph.outputs) if (out.value.kind === 'tensor') readers.set(out.value.slot, (readers.get(out.value.slot) ?? 0) + 1);
    for (const add of steps) {
      if (!add.joinsBranches || add.inputs.length !== 2 || add.inputs[0] === add.inputs[1]) continue;
      const [a, b] = add.inputs.map((s) => traceBranch(s, producer, readers));
      if (a.root !== b.root || (a.steps.length === 0 && b.steps.length === 0)) continue;
      const [body, shortcut] = a.steps.length > 0 ? [a, b] : [b, a];
      const layer = new Residual(chain(body.steps), shortcut.steps.length > 0 ? chain(shortcut.steps) : null);
      const step: Step = {
        label: add.label, inputs: [body.root], outputs: add.outputs, layer, ownsOutputs: true,
        run: ([t]) => [layer.forward(t)],
      };
      const gone = new Set([...body.steps, ...shortcut.steps, add]);
      steps = steps.flatMap((s) => (s === add ? [step] : gone.has(s) ? [] : [s]));
      layerNames.set(step, `${layerNames.get(add) ?? 'residual'}`);
      changed = true;
      break;
    }
  }
  return { ...graph, steps, layerNames };
}
