// importOnnx: an ONNX file as a runnable convkit Module. A plain chain of nodes that are all
// convkit layers (residual connections folded into nn.Residual first) becomes an nn.Sequential,
// so compile() makes it a native plan where it can; any other graph an OnnxModel that runs its
// steps in topological order.
import { Sequential } from '../../nn/sequential.js';
import type { Module } from '../../nn/module.js';
import { buildGraph, type BuiltGraph } from './builder.js';
import { decodeModel, readModelBytes } from './decode.js';
import { OnnxModel } from './graph-module.js';
import { foldResiduals } from './residual.js';

export { OnnxModel } from './graph-module.js';

/** The layers, when the graph is input -> layer -> layer -> ... -> output and nothing else. */
function chainOfLayers(graph: BuiltGraph): Module[] | null {
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1 || graph.steps.length === 0) return null;
  let current = graph.inputs[0].slot;
  const layers: Module[] = [];
  for (const step of graph.steps) {
    if (!step.layer || step.inputs.length !== 1 || step.inputs[0] !== current || step.outputs.length !== 1) return null;
    layers.push(step.layer);
    current = step.outputs[0];
  }
  const out = graph.outputs[0].value;
  return out.kind === 'tensor' && out.slot === current ? layers : null;
}

/** importOnnx()'s options (none yet: the object is checked so that a typo is an error). */
export type ImportOnnxOptions = Record<string, never>;

/**
 * Reads an ONNX model (a path, or the file's bytes) as a convkit Module in eval mode.
 *
 * Nodes that are convkit layers (Conv, BatchNormalization, Gemm as x W^T + b, Relu, pools,
 * Flatten...) become those layers, with the file's weights as ordinary parameters: stateDict,
 * `to('cuda')` and training work as for a model built in convkit. A graph that is a plain chain
 * of such layers, with residual connections (an Add of two branches of layers from one value)
 * as nn.Residual, is returned as an nn.Sequential (which `compile()`, `save` and `exportOnnx`
 * take); any other graph as an {@link OnnxModel}: `forward(x)` for one input, `run({ name: x })`
 * for named inputs and outputs. Shape computations (Shape, Gather, Concat... before a Reshape) are folded
 * at import, or evaluated on the host at run time where they depend on a dynamic size such as
 * the batch.
 *
 * Supported: opsets 7 to 18 (torch.onnx.export writes 11 to 17) of the default domain, with the
 * ops listed in docs/ARCHITECTURE.md. Anything else, and any malformed file, is a TypeError or
 * RangeError raised here, naming the node, its op type and the opset, never during a run.
 */
export async function importOnnx(pathOrBytes: string | Uint8Array, options?: ImportOnnxOptions): Promise<Module> {
  const op = 'importOnnx';
  if (options !== undefined && (options === null || typeof options !== 'object' || Object.keys(options).length > 0)) {
    throw new TypeError(`${op}: options must be an empty object or left out (importOnnx takes no options yet)`);
  }
  const graph = foldResiduals(buildGraph(decodeModel(op, await readModelBytes(op, pathOrBytes))));
  const layers = chainOfLayers(graph);
  return layers ? new Sequential(...layers).eval() : new OnnxModel(graph);
}
