// summary(model, inputShape): a per-layer table of output shapes, parameters, MACs/FLOPs and
// receptive fields, computed from the layers' configs with lib/geometry.ts, without running
// any op (so it is instant even for large inputs and allocates no activations).
//
// Conventions (one sample, no batch dim in the shapes):
// - macs: multiply-accumulates. Conv2d/Conv1d: outC * outH * outW * (inC/groups) * kH * kW
//   (bias adds are not counted). Linear: in * out (times any leading dims). BatchNorm2d:
//   one per element (scale and shift folded into one multiply-add). Everything else
//   (activations, pooling, dropout, flatten, softmax) counts 0: they do no multiply-adds.
//   flops = 2 * macs.
// - params: the layer's own parameters (weights = everything but the 'bias' tensors; for
//   BatchNorm2d, weights = gamma and biases = beta). totalParams counts a tensor shared by two
//   layers once; trainableParams counts those with requiresGrad.
// - receptiveField / jump, along H (along L for Conv1d): jump_out = jump_in * stride and
//   rf_out = rf_in + (k_eff - 1) * jump_in with k_eff = D(k-1)+1, for convolutions and pooling.
//   Flatten and GlobalAvgPool2d see the whole input (k = stride = H); Linear on a flat input
//   keeps it; elementwise layers keep both. The input starts at rf 1, jump 1.
import { convGeometry, poolGeometry, type Padding } from '../geometry.js';
import { broadcastShapes, formatShape, normalizeAxis, numel } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { Module } from '../nn/module.js';
import { Conv1d, Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from '../nn/pool.js';
import { Flatten } from '../nn/shape.js';
import { Dropout } from '../nn/dropout.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from '../nn/activation.js';
import { Sequential } from '../nn/sequential.js';
import { Residual } from '../nn/residual.js';

/**
 * One layer's row of a summary: its output shape, parameters, multiply-adds and receptive field.
 */
export interface LayerRow {
  /** The layer's path in the model: '0', '3', or '2.1' inside a nested Sequential. */
  name: string;
  /** The class name: 'Conv2d', 'ReLU', ... */
  type: string;
  /** A short description: 'Conv2d 6->16, 5x5', 'MaxPool2d 2x2, s2'. */
  description: string;
  /** Without the batch dim. */
  inputShape: number[];
  /** Without the batch dim. */
  outputShape: number[];
  weights: number;
  biases: number;
  /** weights + biases. */
  params: number;
  /** Multiply-accumulates for one sample (see the file header for what counts). */
  macs: number;
  /** 2 * macs. */
  flops: number;
  /** Receptive field along H, in input pixels. */
  receptiveField: number;
  /** Distance in input pixels between neighbouring outputs along H. */
  jump: number;
}

/** What summary() returns: one row per layer, the totals, and toString() for the printed table. */
export interface Summary {
  /** Without the batch dim. */
  inputShape: number[];
  rows: LayerRow[];
  totalParams: number;
  trainableParams: number;
  totalMacs: number;
  totalFlops: number;
  /** The last layer's output shape (the input shape for an empty model). */
  outputShape: number[];
  /** An aligned table with a totals line. */
  toString(): string;
}

/** @internal Receptive-field state along H. */
export interface FieldState {
  rf: number;
  jump: number;
}

/** @internal What one leaf layer does to a shape. */
export interface LayerInfo {
  type: string;
  description: string;
  outputShape: number[];
  macs: number;
  field: FieldState;
}

function sizes(pair: number | readonly number[]): [number, number] {
  return typeof pair === 'number' ? [pair, pair] : [pair[0], pair[1]];
}

function formatPair(pair: number | readonly number[]): string {
  const [a, b] = sizes(pair);
  return a === b ? String(a) : `${a}x${b}`;
}

function formatPadding(p: unknown): string {
  if (typeof p === 'string') return p;
  if (typeof p === 'number') return String(p);
  if (Array.isArray(p)) return p.every((v) => v === p[0]) ? String(p[0]) : `[${p.join(',')}]`;
  return String(p);
}

interface WindowOptions { stride?: unknown; padding?: unknown; dilation?: unknown; groups?: unknown; ceilMode?: unknown }

function windowDetails(opts: WindowOptions, defaultStride: unknown): string {
  const parts: string[] = [];
  if (opts.stride !== undefined && formatPair(opts.stride as number) !== formatPair(defaultStride as number)) parts.push(`s${formatPair(opts.stride as number)}`);
  if (opts.padding !== undefined && opts.padding !== 0 && opts.padding !== 'valid') parts.push(`p${formatPadding(opts.padding)}`);
  if (opts.dilation !== undefined && formatPair(opts.dilation as number) !== '1') parts.push(`d${formatPair(opts.dilation as number)}`);
  if (opts.groups !== undefined && opts.groups !== 1) parts.push(`g${opts.groups as number}`);
  if (opts.ceilMode) parts.push('ceil');
  return parts.length ? `, ${parts.join(', ')}` : '';
}

/** 'Conv2d 6->16, 5x5', 'MaxPool2d 2x2', 'Linear 400->120', ... */
export function describeLayer(layer: Module): string {
  const type = layer.constructor.name;
  if (layer instanceof Conv2d || layer instanceof Conv1d) {
    const [, , kernel, opts] = layer.toConfig().args as [number, number, number | number[], WindowOptions];
    const k = layer instanceof Conv1d ? String(kernel) : sizes(kernel as number).join('x');
    return `${type} ${layer.inChannels}->${layer.outChannels}, ${k}${windowDetails(opts, 1)}`;
  }
  if (layer instanceof MaxPool2d || layer instanceof AvgPool2d) {
    const [kernel, opts] = layer.toConfig().args as [number | number[], WindowOptions];
    return `${type} ${sizes(kernel).join('x')}${windowDetails(opts, kernel)}`;
  }
  if (layer instanceof Linear) return `${type} ${layer.inFeatures}->${layer.outFeatures}`;
  if (layer instanceof BatchNorm2d) return `${type} ${layer.numFeatures}`;
  if (layer instanceof LeakyReLU) return `${type} ${layer.negativeSlope}`;
  if (layer instanceof Dropout) return `${type} ${layer.p}`;
  if (layer instanceof Flatten && layer.startDim !== 1) return `${type} from ${layer.startDim}`;
  if (layer instanceof Softmax && layer.axis !== -1) return `${type} axis ${layer.axis}`;
  return type;
}

function window(field: FieldState, kernel: number, stride: number, dilation: number): FieldState {
  const effective = dilation * (kernel - 1) + 1;
  return { rf: field.rf + (effective - 1) * field.jump, jump: field.jump * stride };
}

/** The whole of a spatial size h: a window of h with stride h. */
function whole(field: FieldState, h: number): FieldState {
  return window(field, h, h, 1);
}

class ShapeError extends RangeError {}

function needRank(x: readonly number[], rank: number, layout: string): void {
  if (x.length !== rank) throw new ShapeError(`expects a ${rank}-d input ${layout} (without batch)`);
}

/** Conv1d padding as conv2d padding of a height-1 plane (as Conv1d itself does). */
function planePadding(padding: unknown): Padding {
  if (padding === undefined) return 0;
  if (padding === 'same' || padding === 'valid') return padding;
  if (Array.isArray(padding)) return [0, padding[0] as number, 0, padding[1] as number];
  return [0, padding as number];
}

/**
 * @internal The output shape, MACs and receptive field of one leaf layer on input x (no
 * batch). Throws a ShapeError (a RangeError) saying what does not fit.
 */
export function inferLayer(layer: Module, x: readonly number[], field: FieldState): LayerInfo {
  const type = layer.constructor.name;
  const description = describeLayer(layer);
  const same = (): LayerInfo => ({ type, description, outputShape: x.slice(), macs: 0, field });
  const batched = [1, ...x];
  if (layer instanceof Conv2d) {
    needRank(x, 3, '[C, H, W]');
    const [inC, outC, kernel, opts] = layer.toConfig().args as [number, number, number | number[], WindowOptions & { bias?: boolean }];
    const { bias: _bias, ...convOptions } = opts;
    const groups = (convOptions.groups as number | undefined) ?? 1;
    const [kh, kw] = sizes(kernel);
    const g = convGeometry(type, batched, [outC, inC / groups, kh, kw], convOptions);
    return {
      type, description, outputShape: [outC, g.oh, g.ow],
      macs: outC * g.oh * g.ow * (inC / groups) * kh * kw,
      field: window(field, kh, g.strideH, g.dilationH),
    };
  }
  if (layer instanceof Conv1d) {
    needRank(x, 2, '[C, L]');
    const [inC, outC, kernel, opts] = layer.toConfig().args as [number, number, number, WindowOptions];
    const groups = (opts.groups as number | undefined) ?? 1;
    const g = convGeometry(type, [1, x[0], 1, x[1]], [outC, inC / groups, 1, kernel], {
      stride: [1, (opts.stride as number | undefined) ?? 1],
      dilation: [1, (opts.dilation as number | undefined) ?? 1],
      padding: planePadding(opts.padding),
      groups,
    });
    return {
      type, description, outputShape: [outC, g.ow],
      macs: outC * g.ow * (inC / groups) * kernel,
      field: window(field, kernel, g.strideW, g.dilationW),
    };
  }
  if (layer instanceof MaxPool2d || layer instanceof AvgPool2d) {
    needRank(x, 3, '[C, H, W]');
    const [kernel, opts] = layer.toConfig().args as [number | number[], object];
    const g = poolGeometry(type, batched, kernel, opts, layer instanceof MaxPool2d ? 'max' : 'avg');
    return { type, description, outputShape: [x[0], g.oh, g.ow], macs: 0, field: window(field, g.kh, g.strideH, g.dilationH) };
  }
  if (layer instanceof GlobalAvgPool2d) {
    needRank(x, 3, '[C, H, W]');
    return { type, description, outputShape: [x[0], 1, 1], macs: 0, field: whole(field, x[1]) };
  }
  if (layer instanceof Flatten) {
    const start = normalizeAxis(type, 'startDim', layer.startDim, batched);
    if (start === 0) throw new ShapeError(`would flatten the batch dim (startDim ${layer.startDim})`);
    const outputShape = [...x.slice(0, start - 1), numel(x.slice(start - 1))];
    // The H dim (x[1]) is merged when the flattening starts at or before it.
    const mergesH = x.length >= 2 && start - 1 <= 1 && x.length - (start - 1) >= 2;
    return { type, description, outputShape, macs: 0, field: mergesH ? whole(field, x[1]) : field };
  }
  if (layer instanceof Linear) {
    if (x.length < 1) throw new ShapeError(`expects an input with at least 1 dim`);
    const last = x[x.length - 1];
    if (last !== layer.inFeatures) {
      const hint = x.length > 1 ? ` (flatten ${formatShape(x)} to ${numel(x)} features first?)` : '';
      throw new ShapeError(`expects ${layer.inFeatures} features in its last dim but gets ${last}${hint}`);
    }
    const lead = numel(x.slice(0, -1));
    return { type, description, outputShape: [...x.slice(0, -1), layer.outFeatures], macs: lead * layer.inFeatures * layer.outFeatures, field };
  }
  if (layer instanceof BatchNorm2d) {
    needRank(x, 3, '[C, H, W]');
    if (x[0] !== layer.numFeatures) throw new ShapeError(`expects ${layer.numFeatures} channels but gets ${x[0]}`);
    return { type, description, outputShape: x.slice(), macs: numel(x), field };
  }
  if (layer instanceof Softmax) {
    normalizeAxis(type, 'axis', layer.axis, batched);
    return same();
  }
  if (layer instanceof ReLU || layer instanceof LeakyReLU || layer instanceof Tanh || layer instanceof Sigmoid || layer instanceof Dropout) {
    return same();
  }
  throw new ShapeError(`is not a layer type summary() knows (it knows Conv2d, Conv1d, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Linear, Flatten, Dropout, BatchNorm2d, ReLU, LeakyReLU, Tanh, Sigmoid, Softmax and Sequential)`);
}

/** @internal inferLayer with the error naming the layer: "summary: layer 3 (Conv2d 6->16, 5x5) gets input [6, 3, 3]: ...". */
export function inferNamedLayer(op: string, name: string, layer: Module, x: readonly number[], field: FieldState): LayerInfo {
  try {
    return inferLayer(layer, x, field);
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) {
      // Geometry messages start with the op name ("Conv2d: kernel 5x5 is larger ..."): drop it.
      const reason = e.message.replace(/^[A-Za-z0-9]+: /, '');
      const shape = `[${x.join(', ')}]`;
      const message = e instanceof ShapeError
        ? `${op}: layer ${name} (${describeLayer(layer)}) gets input ${shape} but ${reason}`
        : `${op}: layer ${name} (${describeLayer(layer)}) gets input ${shape}: ${reason}`;
      throw e instanceof TypeError ? new TypeError(message) : new RangeError(message);
    }
    throw e;
  }
}

/**
 * @internal Where a Residual's two branches meet: the shape of body + shortcut (one rank, each
 * dim equal or 1, so the batch dims line up) and the wider receptive field. A RangeError names
 * the layer and both shapes when they do not add.
 */
export function joinResidual(op: string, name: string, body: readonly number[], skip: readonly number[], bodyField: FieldState, skipField: FieldState): { outputShape: number[]; field: FieldState } {
  const joined = body.length === skip.length ? broadcastShapes(body, skip) : null;
  if (!joined) {
    throw new RangeError(`${op}: layer ${name} (Residual) adds its body's output ${formatShape(body)} to its shortcut's ${formatShape(skip)}, which do not broadcast (give it a shortcut that matches the body's shape)`);
  }
  return { outputShape: joined, field: bodyField.rf >= skipField.rf ? bodyField : skipField };
}

function ownParameters(layer: Module): Array<[string, Tensor]> {
  return layer.namedParameters();
}

/** @internal One row for a leaf layer. */
export function makeRow(name: string, layer: Module, x: readonly number[], info: LayerInfo): LayerRow {
  let weights = 0;
  let biases = 0;
  for (const [pname, t] of ownParameters(layer)) {
    if (pname === 'bias' || pname.endsWith('.bias')) biases += t.size;
    else weights += t.size;
  }
  return {
    name, type: info.type, description: info.description,
    inputShape: x.slice(), outputShape: info.outputShape.slice(),
    weights, biases, params: weights + biases,
    macs: info.macs, flops: 2 * info.macs,
    receptiveField: info.field.rf, jump: info.field.jump,
  };
}

function checkInputShape(op: string, inputShape: unknown): number[] {
  if (!Array.isArray(inputShape) || inputShape.length === 0) {
    throw new TypeError(`${op}: inputShape must be a non-empty array of positive integers without the batch dim, like [1, 32, 32], got ${Array.isArray(inputShape) ? '[]' : typeof inputShape}`);
  }
  inputShape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new RangeError(`${op}: inputShape[${i}] must be a positive integer, got ${String(d)} (inputShape is without the batch dim, like [1, 32, 32])`);
    }
  });
  return inputShape.slice() as number[];
}

const count = (n: number): string => n.toLocaleString('en-US');
const shapeText = (s: readonly number[]): string => s.join('x');

function render(s: Omit<Summary, 'toString'>): string {
  const header = ['Layer', 'Type', 'Output shape', 'Weights', 'Biases', 'Params', 'MACs', 'RF', 'Jump'];
  const right = [false, false, false, true, true, true, true, true, true];
  const body = s.rows.map((r) => [r.name, r.description, shapeText(r.outputShape), count(r.weights), count(r.biases), count(r.params),
    count(r.macs), String(r.receptiveField), String(r.jump)]);
  const all = [['input', '', shapeText(s.inputShape), '', '', '', '', '1', '1'], ...body];
  const widths = header.map((h, i) => Math.max(h.length, ...all.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  const nonTrainable = s.totalParams - s.trainableParams;
  return [
    line(header), rule, ...all.map(line), rule,
    `Total params: ${count(s.totalParams)} (trainable ${count(s.trainableParams)}${nonTrainable ? `, frozen ${count(nonTrainable)}` : ''})`
      + `   MACs: ${count(s.totalMacs)}   FLOPs: ${count(s.totalFlops)}   Output: ${shapeText(s.outputShape)}`,
  ].join('\n');
}

/**
 * Per-layer output shapes, parameters, MACs/FLOPs and receptive fields of model on one
 * sample of inputShape (without the batch dim, e.g. [1, 32, 32]), computed from the layer
 * configs without running anything. Nested Sequentials are walked, their rows named by path
 * ('2.0'); a Residual's body and shortcut rows come first ('1.body.0', '1.shortcut.0'), then
 * one row for the addition. A layer that does not fit its input is a RangeError naming the layer.
 */
export function summary(model: Module, inputShape: readonly number[]): Summary {
  const op = 'summary';
  if (typeof model !== 'object' || model === null || typeof (model as Module).namedChildren !== 'function') {
    throw new TypeError(`${op}: model must be a Module (e.g. a Sequential), got ${model === null ? 'null' : typeof model}`);
  }
  const input = checkInputShape(op, inputShape);
  const rows: LayerRow[] = [];
  let shape = input;
  let field: FieldState = { rf: 1, jump: 1 };
  const visit = (layer: Module, name: string): void => {
    if (layer instanceof Sequential) {
      for (const [child, m] of layer.namedChildren()) visit(m, name ? `${name}.${child}` : child);
      return;
    }
    if (layer instanceof Residual && layer.constructor === Residual) { // exactly: a subclass may combine its branches otherwise
      const { body, shortcut } = layer;
      const [input, inputField] = [shape, field];
      visit(body, name ? `${name}.body` : 'body');
      const [bodyShape, bodyField] = [shape, field];
      [shape, field] = [input, inputField];
      if (shortcut) visit(shortcut, name ? `${name}.shortcut` : 'shortcut');
      const joined = joinResidual(op, name || '(model)', bodyShape, shape, bodyField, field);
      rows.push({
        name: name || '(model)', type: 'Residual', description: shortcut ? 'Residual add' : 'Residual add (identity)',
        inputShape: bodyShape.slice(), outputShape: joined.outputShape.slice(),
        weights: 0, biases: 0, params: 0, macs: 0, flops: 0,
        receptiveField: joined.field.rf, jump: joined.field.jump,
      });
      [shape, field] = [joined.outputShape, joined.field];
      return;
    }
    if (layer.namedChildren().length > 0) {
      throw new RangeError(`${op}: layer ${name || '(model)'} (${layer.constructor.name}) has child modules but is not a Sequential or a Residual, so the order its children run in is unknown`);
    }
    const info = inferNamedLayer(op, name || '0', layer, shape, field);
    rows.push(makeRow(name || '0', layer, shape, info));
    shape = info.outputShape;
    field = info.field;
  };
  visit(model, '');
  const params = model.parameters();
  const result = {
    inputShape: input,
    rows,
    totalParams: params.reduce((a, t) => a + t.size, 0),
    trainableParams: params.filter((t) => t.requiresGrad).reduce((a, t) => a + t.size, 0),
    totalMacs: rows.reduce((a, r) => a + r.macs, 0),
    totalFlops: rows.reduce((a, r) => a + r.flops, 0),
    outputShape: shape.slice(),
  };
  return { ...result, toString: () => render(result) };
}
