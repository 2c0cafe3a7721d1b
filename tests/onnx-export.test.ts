// exportOnnx / encodeOnnx structure, decoded with the same protobufjs schema: opset and IR
// version, the dynamic batch dim, initializers named and shaped as the state dict, node types
// for each layer form, and bad arguments. Runs everywhere (no onnxruntime, no Python).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../lib/nn/index.js';
import { encodeOnnx, exportOnnx, tensor } from '../lib/index.js';
import { decodeModelProto } from '../lib/onnx/schema.js';
import { exportCases } from './onnx-models.js';
import { leNet5 } from './models.js';

const any = (v: unknown) => v as never;
const dir = mkdtempSync(join(tmpdir(), 'convkit-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Decoded {
  ir_version: number;
  opset_import: Array<{ domain: string; version: number }>;
  graph: {
    node: Array<{ op_type: string; name: string; input: string[]; output: string[]; attribute: Array<{ name: string; type: string; i?: number; f?: number; ints: number[] }> }>;
    initializer: Array<{ name: string; dims: number[]; data_type: number; raw_data: Uint8Array; int64_data: number[] }>;
    input: Array<{ name: string; type: { tensor_type: { elem_type: number; shape: { dim: Array<{ dim_param?: string; dim_value?: number }> } } } }>;
    output: Decoded['graph']['input'];
  };
}

const decode = (bytes: Uint8Array) => decodeModelProto(bytes) as unknown as Decoded;
const opTypes = (m: Decoded) => m.graph.node.map((n) => n.op_type);
const nodeNamed = (m: Decoded, name: string) => m.graph.node.find((n) => n.name === name)!;
const attr = (m: Decoded, node: string, name: string) => nodeNamed(m, node).attribute.find((a) => a.name === name);
const dims = (v: Decoded['graph']['input'][number]) => v.type.tensor_type.shape.dim.map((d) => d.dim_param || d.dim_value);

function floatsOf(raw: Uint8Array): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Float32Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

describe('exportOnnx file structure', () => {
  it('LeNet: opset, IR version, input and output with the dynamic batch dim N, node types', async () => {
    const path = join(dir, 'lenet.onnx');
    const model = leNet5();
    await exportOnnx(model, path, { inputShape: [1, 32, 32] });
    const m = decode(readFileSync(path));
    expect(m.opset_import).toEqual([{ domain: '', version: 13 }]);
    expect(m.ir_version).toBe(7);
    expect(m.graph.input.map((v) => v.name)).toEqual(['input']);
    expect(dims(m.graph.input[0])).toEqual(['N', 1, 32, 32]);
    expect(m.graph.input[0].type.tensor_type.elem_type).toBe(1);
    expect(m.graph.output.map((v) => v.name)).toEqual(['output']);
    expect(dims(m.graph.output[0])).toEqual(['N', 10]);
    expect(opTypes(m)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    expect(m.graph.node.map((n) => n.name)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(m.graph.node[0].input).toEqual(['input', '0.weight', '0.bias']);
    expect(m.graph.node.at(-1)!.output).toEqual(['output']);
    expect(attr(m, '7', 'transB')?.i).toBe(1);
    // The same bytes as encodeOnnx.
    expect(readFileSync(path).equals(encodeOnnx(model, { inputShape: [1, 32, 32] }))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('initializers are the state dict: names, shapes and little-endian float32 values', () => {
    const model = leNet5();
    const m = decode(encodeOnnx(model, { inputShape: [1, 32, 32] }));
    const state = model.stateDict();
    expect(m.graph.initializer.map((t) => t.name)).toEqual(Object.keys(state));
    for (const t of m.graph.initializer) {
      expect(t.data_type, t.name).toBe(1);
      expect(t.dims, t.name).toEqual(state[t.name].shape);
      expect(floatsOf(t.raw_data), t.name).toEqual(state[t.name].toArray());
    }
  });

  it('BatchNorm2d: its running statistics, and identity scale and shift without affine', () => {
    const model = new nn.Sequential(new nn.Conv2d(2, 3, 1), new nn.BatchNorm2d(3, { eps: 1e-3 }), new nn.BatchNorm2d(3, { affine: false }));
    const m = decode(encodeOnnx(model, { inputShape: [2, 4, 4] }));
    expect(opTypes(m)).toEqual(['Conv', 'BatchNormalization', 'BatchNormalization']);
    expect(nodeNamed(m, '1').input).toEqual(['0.output', '1.weight', '1.bias', '1.running_mean', '1.running_var']);
    expect(attr(m, '1', 'epsilon')?.f).toBeCloseTo(1e-3, 9);
    expect(nodeNamed(m, '2').input).toEqual(['1.output', '2.unit_scale', '2.zero_shift', '2.running_mean', '2.running_var']);
    const values = Object.fromEntries(m.graph.initializer.map((t) => [t.name, Array.from(floatsOf(t.raw_data))]));
    expect(values['2.unit_scale']).toEqual([1, 1, 1]);
    expect(values['2.zero_shift']).toEqual([0, 0, 0]);
    expect(m.graph.initializer.map((t) => t.name)).not.toContain('1.num_batches_tracked');
  });

  it('Conv2d and Conv1d: resolved pads, strides, dilations, groups, no bias input without bias', () => {
    const model = new nn.Sequential(
      new nn.Conv2d(4, 6, 3, { stride: 2, padding: 'same', dilation: 2, groups: 2, bias: false }),
      new nn.Conv2d(6, 2, [3, 2], { padding: [1, 0, 2, 1] }),
    );
    const m = decode(encodeOnnx(model, { inputShape: [4, 9, 8] }));
    expect(nodeNamed(m, '0').input).toEqual(['input', '0.weight']);
    expect(attr(m, '0', 'pads')?.ints).toEqual([2, 1, 2, 2]); // 'same' on 9x8, stride 2, dilated 5x5 kernel: the odd column after
    expect(attr(m, '0', 'strides')?.ints).toEqual([2, 2]);
    expect(attr(m, '0', 'dilations')?.ints).toEqual([2, 2]);
    expect(attr(m, '0', 'group')?.i).toBe(2);
    expect(attr(m, '1', 'pads')?.ints).toEqual([1, 0, 2, 1]);
    expect(attr(m, '1', 'kernel_shape')?.ints).toEqual([3, 2]);

    const conv1d = decode(encodeOnnx(new nn.Sequential(new nn.Conv1d(2, 4, 3, { stride: 2, padding: [1, 2], dilation: 2, groups: 2 })), { inputShape: [2, 10] }));
    expect(opTypes(conv1d)).toEqual(['Conv']);
    expect(attr(conv1d, '0', 'kernel_shape')?.ints).toEqual([3]);
    expect(attr(conv1d, '0', 'pads')?.ints).toEqual([1, 2]);
    expect(attr(conv1d, '0', 'strides')?.ints).toEqual([2]);
    expect(attr(conv1d, '0', 'dilations')?.ints).toEqual([2]);
    expect(conv1d.graph.initializer[0].dims).toEqual([4, 1, 3]);
    expect(dims(conv1d.graph.output[0])).toEqual(['N', 4, 5]);
  });

  it('pooling in ceil mode is floor mode with extra end padding (a Pad node when AvgPool2d counts padding)', () => {
    const model = new nn.Sequential(
      new nn.MaxPool2d(2, { ceilMode: true }),                                    // 7x7 -> 4x4: one extra row and column
      new nn.AvgPool2d(3, { padding: 1, stride: 2, ceilMode: true }),             // 4x4 -> 3x3, counted padding: Pad first
      new nn.AvgPool2d(2, { ceilMode: true }),                                    // 3x3 -> 2x2, no padding to count
      new nn.AvgPool2d(2, { padding: 1, ceilMode: true, countIncludePad: false }), // 2x2 -> 2x2: no extra needed
      new nn.GlobalAvgPool2d(),
    );
    const m = decode(encodeOnnx(model, { inputShape: [1, 7, 7] }));
    expect(opTypes(m)).toEqual(['MaxPool', 'Pad', 'AveragePool', 'AveragePool', 'AveragePool', 'GlobalAveragePool']);
    expect(m.graph.node.some((n) => n.attribute.some((a) => a.name === 'ceil_mode' && a.i === 1))).toBe(false);
    expect(attr(m, '0', 'pads')?.ints).toEqual([0, 0, 1, 1]);
    expect(nodeNamed(m, '1.pad').input).toEqual(['0.output', '1.pads']);
    expect(m.graph.initializer.find((t) => t.name === '1.pads')?.int64_data).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect(attr(m, '1', 'pads')?.ints).toEqual([0, 0, 1, 1]);
    expect(attr(m, '2', 'pads')?.ints).toEqual([0, 0, 1, 1]);
    expect(attr(m, '3', 'pads')?.ints).toEqual([1, 1, 1, 1]);
    expect(attr(m, '3', 'count_include_pad')?.i).toBe(0);
    expect(dims(m.graph.output[0])).toEqual(['N', 1, 1, 1]);
  });

  it('Flatten from dim 1 is ONNX Flatten; from another dim a Reshape keeping the dims before it', () => {
    const m = decode(encodeOnnx(new nn.Sequential(new nn.Flatten(2), new nn.Flatten()), { inputShape: [3, 4, 5] }));
    expect(opTypes(m)).toEqual(['Reshape', 'Flatten']);
    expect(m.graph.initializer.find((t) => t.name === '0.shape')?.int64_data).toEqual([0, 0, -1]);
    expect(attr(m, '1', 'axis')?.i).toBe(1);
    expect(dims(m.graph.output[0])).toEqual(['N', 60]);
  });

  it('Softmax on a non-last axis before opset 13 is moved last and back; from 13 it is one node', () => {
    const model = new nn.Sequential(new nn.Softmax(1), new nn.Softmax(-1));
    const old = decode(encodeOnnx(model, { inputShape: [3, 4], opset: 12 }));
    expect(opTypes(old)).toEqual(['Transpose', 'Softmax', 'Transpose', 'Softmax']);
    expect(attr(old, '0.move_axis_last', 'perm')?.ints).toEqual([0, 2, 1]);
    expect(attr(old, '0.softmax', 'axis')?.i).toBe(2);
    expect(attr(old, '1', 'axis')?.i).toBe(2);
    const current = decode(encodeOnnx(model, { inputShape: [3, 4], opset: 13 }));
    expect(opTypes(current)).toEqual(['Softmax', 'Softmax']);
    expect(attr(current, '0', 'axis')?.i).toBe(1);
  });

  it('activations, Dropout (no node) and nested Sequential paths', () => {
    const model = new nn.Sequential(new nn.Linear(4, 3), new nn.Sequential(new nn.Dropout(), new nn.LeakyReLU(0.25), new nn.Sequential(new nn.Tanh())), new nn.Sigmoid());
    const m = decode(encodeOnnx(model, { inputShape: [4] }));
    expect(opTypes(m)).toEqual(['Gemm', 'LeakyRelu', 'Tanh', 'Sigmoid']);
    expect(m.graph.node.map((n) => n.name)).toEqual(['0', '1.1', '1.2.0', '2']);
    expect(nodeNamed(m, '1.1').input).toEqual(['0.output']);
    expect(attr(m, '1.1', 'alpha')?.f).toBe(0.25);
  });

  it('a model with no node (only Dropout) is an Identity; a bare layer is named by its type', () => {
    expect(opTypes(decode(encodeOnnx(new nn.Sequential(new nn.Dropout()), { inputShape: [3] })))).toEqual(['Identity']);
    expect(opTypes(decode(encodeOnnx(new nn.Sequential(), { inputShape: [3] })))).toEqual(['Identity']);
    const bare = decode(encodeOnnx(new nn.Linear(3, 2), { inputShape: [3] }));
    expect(bare.graph.node.map((n) => [n.name, n.input, n.output])).toEqual([['Linear', ['input', 'weight', 'bias'], ['output']]]);
  });

  it('every opset 11-17 is written with its IR version; the model keeps its training mode', () => {
    const irVersions: number[] = [];
    for (const { model, inputShape } of exportCases()) {
      model.train();
      for (let opset = 11; opset <= 17; opset++) {
        const m = decode(encodeOnnx(model, { inputShape, opset }));
        expect(m.opset_import).toEqual([{ domain: '', version: opset }]);
        irVersions[opset] = m.ir_version;
      }
      expect(model.training).toBe(true);
    }
    expect(irVersions.slice(11)).toEqual([6, 7, 7, 7, 8, 8, 8]);
  });
});

describe('exportOnnx bad arguments', () => {
  const lenet = leNet5();
  const ok = { inputShape: [1, 32, 32] };
  class SkipBlock extends nn.Module {
    forward(x: ReturnType<typeof tensor>) { return x; }
    toConfig() { return { type: 'SkipBlock', args: [] }; }
  }
  class MyConv extends nn.Conv2d {}

  it('model, path and options are checked, naming the argument', async () => {
    expect(() => encodeOnnx(any({}), ok)).toThrow(/encodeOnnx: model must be an nn.Module/);
    expect(() => encodeOnnx(lenet, any(undefined))).toThrow(TypeError);
    expect(() => encodeOnnx(lenet, any({ ...ok, batch: 2 }))).toThrow(/unknown option 'batch'/);
    await expect(exportOnnx(lenet, any(''), ok)).rejects.toThrow(/exportOnnx: path must be a non-empty string/);
    await expect(exportOnnx(lenet, any(3), ok)).rejects.toThrow(TypeError);
    await expect(exportOnnx(lenet, join(dir, 'missing-dir', 'x.onnx'), ok)).rejects.toThrow(/exportOnnx: could not write/);
  });

  it('inputShape: TypeError when not a non-empty array, RangeError for a bad dim, RangeError when the model does not take it', () => {
    expect(() => encodeOnnx(lenet, any({}))).toThrow(/options.inputShape must be a non-empty array/);
    expect(() => encodeOnnx(lenet, any({ inputShape: [] }))).toThrow(TypeError);
    expect(() => encodeOnnx(lenet, any({ inputShape: '1,32,32' }))).toThrow(TypeError);
    expect(() => encodeOnnx(lenet, { inputShape: [1, 0, 32] })).toThrow(RangeError);
    expect(() => encodeOnnx(lenet, { inputShape: [1, 0, 32] })).toThrow(/options.inputShape\[1\]/);
    expect(() => encodeOnnx(lenet, { inputShape: [1, 32.5, 32] })).toThrow(RangeError);
    expect(() => encodeOnnx(lenet, any({ inputShape: [1, '32', 32] }))).toThrow(TypeError);
    expect(() => encodeOnnx(lenet, { inputShape: [1, 28, 28] })).toThrow(/encodeOnnx: layer 7 \(Linear 400->120\) gets input \[256\]/);
    expect(() => encodeOnnx(lenet, { inputShape: [3, 32, 32] })).toThrow(RangeError);
  });

  it('opset: an integer 11 to 17', () => {
    for (const opset of [10, 18, 0, -13]) expect(() => encodeOnnx(lenet, { ...ok, opset })).toThrow(RangeError);
    expect(() => encodeOnnx(lenet, { ...ok, opset: 13.5 })).toThrow(/options.opset/);
    expect(() => encodeOnnx(lenet, any({ ...ok, opset: '13' }))).toThrow(TypeError);
  });

  it("a user's own module, or a subclass of a layer, is a TypeError naming its path and type", () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.Sequential(new nn.ReLU(), new SkipBlock()));
    expect(() => encodeOnnx(model, { inputShape: [1, 8, 8] })).toThrow(TypeError);
    expect(() => encodeOnnx(model, { inputShape: [1, 8, 8] })).toThrow(/layer 1\.1 is a SkipBlock, which has no ONNX form/);
    expect(() => encodeOnnx(new nn.Sequential(new MyConv(1, 2, 3)), { inputShape: [1, 8, 8] })).toThrow(/layer 0 is a MyConv/);
    expect(() => encodeOnnx(new SkipBlock(), { inputShape: [1] })).toThrow(/layer \(model\) is a SkipBlock/);
  });

  it('BatchNorm2d without running statistics, and Linear on more than [features], are RangeErrors naming the layer', () => {
    const bn = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2, { trackRunningStats: false }));
    expect(() => encodeOnnx(bn, { inputShape: [1, 8, 8] })).toThrow(RangeError);
    expect(() => encodeOnnx(bn, { inputShape: [1, 8, 8] })).toThrow(/layer 1 \(BatchNorm2d 2\) has trackRunningStats false/);
    const linear = new nn.Sequential(new nn.Flatten(2), new nn.Linear(16, 2));
    expect(() => encodeOnnx(linear, { inputShape: [3, 4, 4] })).toThrow(/layer 1 \(Linear 16->2\) gets input \[3, 16\] but takes only \[features\]/);
  });
});
