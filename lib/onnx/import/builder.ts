// Walks a decoded graph in topological order and runs each node's handler, which yields the
// steps a run executes, the constants it reads, and the graph's inputs and outputs. Everything
// that can be checked is checked here, so a model that imports does not fail mid-run for a
// reason the file already showed.
import { Attributes } from './attributes.js';
import { NodeContext, nodeError, type GraphState } from './context.js';
import type { Dim } from './dims.js';
import { HANDLERS, MAX_IMPORT_OPSET, MIN_IMPORT_OPSET } from './ops.js';
import { dataTypeName, hostTensor } from './tensors.js';
import type { ConstValue, Step, Value } from './values.js';

type Proto = Record<string, unknown>;

export interface GraphInput { readonly name: string; readonly slot: number; readonly dims: readonly Dim[] }
export interface GraphOutput { readonly name: string; readonly value: Value }

export interface BuiltGraph {
  readonly opset: number;
  readonly slotCount: number;
  readonly steps: readonly Step[];
  /** The name for a layer made from each step (after its node). */
  readonly layerNames: ReadonlyMap<Step, string>;
  readonly constants: ReadonlyMap<number, ConstValue>;
  readonly inputs: readonly GraphInput[];
  readonly outputs: readonly GraphOutput[];
}

const fail = (message: string, kind: 'type' | 'range' = 'range'): never => {
  const text = `importOnnx: ${message}`;
  throw kind === 'type' ? new TypeError(text) : new RangeError(text);
};

/** The default-domain opset the model imports. */
function opsetOf(model: Proto): number {
  const imports = (model.opset_import as Proto[]) ?? [];
  const main = imports.find((o) => o.domain === '' || o.domain === 'ai.onnx' || o.domain == null);
  if (!main) fail('the model imports no opset of the default ONNX domain (opset_import)');
  const version = (main as Proto).version as number;
  if (!Number.isSafeInteger(version) || version < MIN_IMPORT_OPSET || version > MAX_IMPORT_OPSET) {
    fail(`opset ${version} is not supported (importOnnx reads opsets ${MIN_IMPORT_OPSET} to ${MAX_IMPORT_OPSET}; torch.onnx.export writes 11 to 17)`, 'type');
  }
  return version;
}

/** A layer name from a node name ('/conv1/Conv' -> 'conv1_Conv'), unique in the graph. */
function layerNameFor(node: Proto, index: number, taken: Set<string>): string {
  const base = String(node.name ?? '').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || `${String(node.op_type)}_${index}`;
  let name = base, k = 1;
  while (taken.has(name)) name = `${base}_${k++}`;
  taken.add(name);
  return name;
}

function nodeLabel(node: Proto, index: number, opset: number): string {
  const name = String(node.name ?? '');
  return `${String(node.op_type)} node ${name ? `'${name}' ` : ''}(#${index}, opset ${opset})`;
}

/** The order to run nodes in (Kahn's algorithm); a cycle or an undefined input is an error. */
function topologicalOrder(nodes: readonly Proto[], known: ReadonlySet<string>, opset: number): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => {
    for (const out of node.output as string[]) {
      if (out === '') continue;
      if (known.has(out) || producer.has(out)) throw nodeError(nodeLabel(node, i, opset), `output '${out}' is already defined`, 'range');
      producer.set(out, i);
    }
  });
  const waiting = nodes.map(() => 0);
  const consumers: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    for (const name of node.input as string[]) {
      if (name === '' || known.has(name)) continue;
      const p = producer.get(name);
      if (p === undefined) throw nodeError(nodeLabel(node, i, opset), `input '${name}' is not defined by any node, initializer or graph input`, 'range');
      waiting[i]++;
      consumers[p].push(i);
    }
  });
  const order: number[] = [];
  const ready = waiting.flatMap((w, i) => (w === 0 ? [i] : []));
  while (ready.length > 0) {
    const i = ready.shift() as number;
    order.push(i);
    for (const c of consumers[i]) if (--waiting[c] === 0) ready.push(c);
  }
  if (order.length < nodes.length) {
    const stuck = waiting.findIndex((w) => w > 0);
    throw nodeError(nodeLabel(nodes[stuck], stuck, opset), 'the graph has a cycle through this node', 'range');
  }
  return order;
}

/** A graph input's declared shape: known sizes as numbers, the others (dim_param) read at run time. */
function inputDims(input: Proto, slot: number): Dim[] {
  const name = String(input.name);
  const tensorType = (input.type as Proto | undefined)?.tensor_type as Proto | undefined;
  if (!tensorType) fail(`graph input '${name}' is not a tensor`, 'type');
  const elem = (tensorType as Proto).elem_type as number;
  if (elem !== 1) fail(`graph input '${name}' is ${dataTypeName(elem)}; convkit takes float32 inputs`, 'type');
  const shape = (tensorType as Proto).shape as Proto | undefined;
  if (!shape) fail(`graph input '${name}' has no declared shape (its rank is needed)`);
  return ((shape as Proto).dim as Proto[]).map((d, axis) => {
    const v = d.dim_value as number | undefined;
    if (typeof v === 'number' && v !== 0) {
      if (!Number.isSafeInteger(v) || v < 1) fail(`graph input '${name}' declares size ${v} for axis ${axis}`);
      return v;
    }
    return { slot, axis };
  });
}

export function buildGraph(model: Proto): BuiltGraph {
  const graph = model.graph as Proto | undefined;
  if (!graph) fail('the model has no graph');
  const g = graph as Proto;
  const opset = opsetOf(model);
  if (((g.sparse_initializer as unknown[]) ?? []).length > 0) fail('sparse initializers are not supported', 'type');
  const values = new Map<string, Value>();
  for (const init of (g.initializer as Proto[]) ?? []) {
    const name = String(init.name ?? '');
    if (name === '' || values.has(name)) fail(`initializer '${name}' is unnamed or defined twice`);
    const t = hostTensor(`importOnnx: initializer '${name}'`, init);
    values.set(name, t.kind === 'float' ? { kind: 'const', dims: t.dims, values: t.values, name } : { kind: 'ints', dims: t.dims, elems: t.values });
  }
  const state: GraphState = { slotCount: 0, constants: new Map(), constSlots: new Map(), steps: [] };
  const inputs: GraphInput[] = [];
  for (const input of (g.input as Proto[]) ?? []) {
    const name = String(input.name ?? '');
    if (values.has(name)) continue; // an initializer listed as an input (older exporters): a constant
    if (name === '') fail('a graph input has no name');
    const slot = state.slotCount++;
    const dims = inputDims(input, slot);
    inputs.push({ name, slot, dims });
    values.set(name, { kind: 'tensor', slot, shape: dims });
  }
  if (inputs.length === 0) fail('the graph has no inputs besides its initializers');
  const nodes = (g.node as Proto[]) ?? [];
  const outputNames = ((g.output as Proto[]) ?? []).map((o) => String(o.name ?? ''));
  if (outputNames.length === 0) fail('the graph has no outputs');
  const read = new Set<string>([...outputNames, ...nodes.flatMap((n) => n.input as string[])]);
  const taken = new Set<string>();
  const layerNames = new Map<Step, string>();
  for (const index of topologicalOrder(nodes, new Set(values.keys()), opset)) {
    const node = nodes[index];
    const label = nodeLabel(node, index, opset);
    const domain = String(node.domain ?? '');
    if (domain !== '' && domain !== 'ai.onnx') throw nodeError(label, `domain '${domain}' is not supported (only the default ONNX domain is)`);
    const handler = HANDLERS.get(String(node.op_type));
    if (!handler) throw nodeError(label, `op type ${String(node.op_type)} is not supported (importOnnx supports ${[...HANDLERS.keys()].join(', ')})`);
    const name = layerNameFor(node, index, taken);
    const outputs = node.output as string[];
    const stepsBefore = state.steps.length;
    let results: ReadonlyArray<Value | null>;
    try {
      const attrs = new Attributes((node.attribute as Proto[]) ?? [], (message, kind) => { throw nodeError(label, message, kind); });
      const ins = (node.input as string[]).map((n) => (n === '' ? null : (values.get(n) as Value)));
      results = handler(new NodeContext(label, name, String(node.op_type), opset, attrs, ins, outputs.map((o) => o !== '' && read.has(o)), state));
    } catch (err) {
      if (!(err instanceof Error) || err.message.startsWith('importOnnx: ')) throw err;
      // An error of convkit's own checks (a geometry that does not fit): the same kind, naming the node.
      throw nodeError(label, err.message, err instanceof TypeError ? 'type' : 'range');
    }
    for (const step of state.steps.slice(stepsBefore)) layerNames.set(step, name);
    outputs.forEach((out, i) => {
      if (out === '') return;
      const v = results[i];
      if (!v && read.has(out)) throw nodeError(label, `output ${i} ('${out}') is not produced`);
      if (v) values.set(out, v);
    });
  }
  const outputs = outputNames.map((name) => {
    const value = values.get(name);
    if (!value) fail(`graph output '${name}' is not produced by any node`);
    if ((value as Value).kind === 'ints') fail(`graph output '${name}' is an integer tensor, which convkit cannot return`, 'type');
    return { name, value: value as Value };
  });
  return { opset, slotCount: state.slotCount, steps: state.steps, layerNames, constants: state.constants, inputs, outputs };
}
