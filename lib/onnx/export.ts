// exportOnnx / encodeOnnx: a convkit model as an ONNX file, for onnxruntime and other tools.
// The graph is the model in eval mode, for inputs [N, ...inputShape] with a dynamic batch N.
import { checkInt, checkOptions } from '../check.js';
import { describe } from '../shape.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { Residual } from '../nn/residual.js';
import { inferNamedLayer, joinResidual, type FieldState } from '../summary/summary.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { GraphBuilder } from './graph-builder.js';
import { EXPORTABLE_TYPES, emitterFor } from './layers.js';
import { encodeModelProto } from './schema.js';

/** exportOnnx()'s and encodeOnnx()'s options. */
export interface OnnxExportOptions {
  /** One sample's shape, without the batch dim (as for summary), e.g. [1, 28, 28]. */
  inputShape: readonly number[];
  /** The ONNX opset to write, 11 to 17; default 13. */
  opset?: number;
}

export const MIN_OPSET = 11;
export const MAX_OPSET = 17;

/** The IR version each opset came with (onnx.helper's VERSION_TABLE): the oldest a runtime must read. */
const IR_VERSION: Record<number, number> = { 11: 6, 12: 7, 13: 7, 14: 7, 15: 8, 16: 8, 17: 8 };

const INPUT = 'input';
const OUTPUT = 'output';

/** A value in the graph: its name, its shape without the batch dim, and its receptive field. */
interface Flow { value: string; shape: readonly number[]; field: FieldState }

/**
 * Adds module's nodes reading `input`; a module exportOnnx cannot write is a TypeError naming
 * it, a layer that does not fit its input summary's RangeError.
 */
function emit(op: string, module: Module, path: string, input: Flow, graph: GraphBuilder, opset: number): Flow {
  const child = (name: string) => (path ? `${path}.${name}` : name);
  // Exact classes: a subclass may run its children differently.
  if (module instanceof Sequential && module.constructor === Sequential) {
    return module.namedChildren().reduce((flow, [name, m]) => emit(op, m, child(name), flow, graph, opset), input);
  }
  if (module instanceof Residual && module.constructor === Residual) {
    const { body, shortcut } = module;
    const main = emit(op, body, child('body'), input, graph, opset);
    const skip = shortcut ? emit(op, shortcut, child('shortcut'), input, graph, opset) : input;
    const joined = joinResidual(op, path || '(model)', main.shape, skip.shape, main.field, skip.field);
    const name = path || 'Residual';
    return { value: graph.addNode('Add', name, [main.value, skip.value], `${name}.output`), shape: joined.outputShape, field: joined.field };
  }
  const emitter = emitterFor(module);
  if (!emitter) {
    throw new TypeError(`${op}: layer ${path || '(model)'} is a ${module.constructor.name}, which has no ONNX form (exportOnnx writes Sequential, Residual, ${EXPORTABLE_TYPES.join(', ')})`);
  }
  // summary's shape inference: a layer that does not fit its input is a RangeError naming it.
  const info = inferNamedLayer(op, path || '(model)', module, input.shape, input.field);
  const value = emitter(module, { graph, path, input: input.value, inputShape: input.shape, opset });
  return { value, shape: info.outputShape, field: info.field };
}

function checkInputShape(op: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${op}: options.inputShape must be a non-empty array of positive integers without the batch dim, like [1, 28, 28], got ${describe(value)}`);
  }
  return value.map((d: unknown, i) => checkInt(op, `options.inputShape[${i}]`, d, 1));
}

function checkOpset(op: string, value: unknown): number {
  const opset = checkInt(op, 'options.opset', value ?? 13, -Infinity);
  if (opset < MIN_OPSET || opset > MAX_OPSET) throw new RangeError(`${op}: options.opset must be ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
  return opset;
}

/** A graph input or output of shape [N, ...shape], N the dynamic batch dim. */
function valueInfo(name: string, shape: readonly number[]): Record<string, unknown> {
  const dims = [{ dim_param: 'N' }, ...shape.map((d) => ({ dim_value: d }))];
  return { name, type: { tensor_type: { elem_type: 1 /* FLOAT */, shape: { dim: dims } } } };
}

function encode(op: string, model: unknown, options: unknown): Uint8Array {
  if (!(model instanceof Module)) throw new TypeError(`${op}: model must be an nn.Module, got ${describe(model)}`);
  if (options === undefined) throw new TypeError(`${op}: options { inputShape } is required (the input's shape without the batch dim, like [1, 28, 28])`);
  const opts = checkOptions<OnnxExportOptions>(op, options, ['inputShape', 'opset']);
  const inputShape = checkInputShape(op, opts.inputShape);
  const opset = checkOpset(op, opts.opset);
  const graph = new GraphBuilder(INPUT);
  const { value, shape } = emit(op, model, '', { value: INPUT, shape: inputShape, field: { rf: 1, jump: 1 } }, graph, opset);
  if (value === INPUT) graph.addNode('Identity', 'identity', [INPUT], OUTPUT); // no layer made a node (e.g. only Dropout)
  else graph.renameOutput(value, OUTPUT);
  return encodeModelProto({
    ir_version: IR_VERSION[opset],
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'convkit',
    graph: {
      name: 'convkit',
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(INPUT, inputShape)],
      output: [valueInfo(OUTPUT, shape)],
    },
  });
}

/** The model in eval mode as the bytes of an ONNX file (see exportOnnx). */
export function encodeOnnx(model: Module, options: OnnxExportOptions): Uint8Array {
  return encode('encodeOnnx', model, options);
}

/**
 * Writes the model, in eval mode, as an ONNX file at path (atomically): input 'input' of shape
 * [N, ...inputShape] and output 'output', N a dynamic batch dim. Weights are initializers named
 * as in the state dict ('0.weight'), nodes after the layer paths.
 */
export async function exportOnnx(model: Module, path: string, options: OnnxExportOptions): Promise<void> {
  const op = 'exportOnnx';
  if (typeof path !== 'string' || path === '') throw new TypeError(`${op}: path must be a non-empty string, got ${describe(path)}`);
  await writeFileAtomic(path, encode(op, model, options), op);
}
