// What importOnnx refuses, and how: an unsupported node is a TypeError naming the node, its
// index, op type and opset; a malformed or hostile file (truncated, random bytes, a length that
// claims gigabytes, sizes that do not match the data) is a TypeError or RangeError, raised at
// import with no huge allocation; fuzzed fixtures either import or fail that way.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../lib/index.js';
import { encodeModelProto } from '../lib/onnx/schema.js';
import { rng } from './helpers.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'onnx');

type Obj = Record<string, unknown>;

const valueInfo = (name: string, dims: Array<number | string>, elemType = 1): Obj => ({
  name, type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
});
const floats = (name: string, dims: number[], values: number[]): Obj => ({ name, dims, data_type: 1, float_data: values });
const ints = (name: string, values: number[]): Obj => ({ name, dims: [values.length], data_type: 7, int64_data: values });
const node = (opType: string, name: string, input: string[], output: string[], attribute: Obj[] = []): Obj => ({ op_type: opType, name, input, output, attribute });
const intsAttr = (name: string, values: number[]): Obj => ({ name, type: 7, ints: values });
const stringAttr = (name: string, value: string): Obj => ({ name, type: 3, s: new TextEncoder().encode(value) });

function model(nodes: Obj[], options: { initializer?: Obj[]; input?: Obj[]; output?: string[]; opset?: number } = {}): Uint8Array {
  return encodeModelProto({
    ir_version: 7,
    opset_import: [{ domain: '', version: options.opset ?? 13 }],
    graph: {
      name: 'test', node: nodes, initializer: options.initializer ?? [],
      input: options.input ?? [valueInfo('x', ['N', 2, 4, 4])],
      output: (options.output ?? ['y']).map((o) => valueInfo(o, [])),
    },
  });
}

const relu = model([node('Relu', 'act', ['x'], ['y'])]);

describe('importOnnx refuses what it does not support, naming the node', () => {
  it('an op type, with the node name, index, op type and opset', async () => {
    const bytes = model([node('Relu', 'first', ['x'], ['h']), node('Resize', 'up', ['h'], ['y'])]);
    await expect(importOnnx(bytes)).rejects.toThrow(TypeError);
    await expect(importOnnx(bytes)).rejects.toThrow(/Resize node 'up' \(#1, opset 13\): op type Resize is not supported \(importOnnx supports Conv, /);
  });

  it('an attribute, naming it', async () => {
    const bytes = model([node('Conv', 'conv', ['x', 'w'], ['y'], [stringAttr('auto_pad', 'SAME_UPPER'), intsAttr('foo', [1])])],
      { initializer: [floats('w', [3, 2, 1, 1], [1, 2, 3, 4, 5, 6])] });
    await expect(importOnnx(bytes)).rejects.toThrow(/Conv node 'conv' \(#0, opset 13\): attribute 'foo' is not supported/);
  });

  it('an opset outside 7-18, and other domains', async () => {
    await expect(importOnnx(model([node('Relu', 'a', ['x'], ['y'])], { opset: 21 }))).rejects.toThrow(/opset 21 is not supported/);
    const custom = model([{ ...node('Relu', 'a', ['x'], ['y']), domain: 'com.microsoft' }]);
    await expect(importOnnx(custom)).rejects.toThrow(/Relu node 'a' \(#0, opset 13\): domain 'com.microsoft' is not supported/);
  });

  it('a conv weight computed at run time, and a Reshape whose shape is a run-time tensor', async () => {
    const conv = model([node('Conv', 'conv', ['x', 'w'], ['y'])], { input: [valueInfo('x', [1, 2, 4, 4]), valueInfo('w', [3, 2, 1, 1])] });
    await expect(importOnnx(conv)).rejects.toThrow(/Conv node 'conv' \(#0, opset 13\): the weight and bias must be initializers or constants/);
    const reshape = model([node('Reshape', 'r', ['x', 's'], ['y'])], { input: [valueInfo('x', [1, 2, 4, 4]), valueInfo('s', [2])] });
    await expect(importOnnx(reshape)).rejects.toThrow(/Reshape node 'r' \(#0, opset 13\): shape \(input 1\) must be integers/);
  });

  it('a Squeeze without axes of a size known only at run time (the output\'s rank would depend on it)', async () => {
    const bytes = model([node('Squeeze', 'sq', ['x'], ['y'])], { input: [valueInfo('x', ['N', 1, 3])] });
    await expect(importOnnx(bytes)).rejects.toThrow(/Squeeze node 'sq' \(#0, opset 13\): Squeeze without axes needs every size known at import/);
  });

  it('a geometry that does not fit, at import', async () => {
    const bytes = model([node('MaxPool', 'pool', ['x'], ['y'], [intsAttr('kernel_shape', [9, 9])])]);
    await expect(importOnnx(bytes)).rejects.toThrow(RangeError);
    await expect(importOnnx(bytes)).rejects.toThrow(/MaxPool node 'pool' \(#0, opset 13\): .*larger than the padded input/);
  });

  it('a non-float input, a cycle, an undefined input, a missing output', async () => {
    await expect(importOnnx(model([node('Relu', 'a', ['x'], ['y'])], { input: [valueInfo('x', [1, 2], 7)] }))).rejects.toThrow(/graph input 'x' is INT64/);
    const cycle = model([node('Relu', 'a', ['b'], ['a']), node('Relu', 'b', ['a'], ['b'])], { output: ['a'] });
    await expect(importOnnx(cycle)).rejects.toThrow(/Relu node 'a' \(#0, opset 13\): the graph has a cycle/);
    await expect(importOnnx(model([node('Relu', 'a', ['nowhere'], ['y'])]))).rejects.toThrow(/Relu node 'a' \(#0, opset 13\): input 'nowhere' is not defined/);
    await expect(importOnnx(model([node('Relu', 'a', ['x'], ['h'])]))).rejects.toThrow(/graph output 'y' is not produced/);
  });
});

describe('importOnnx on malformed and hostile files', () => {
  it('initializers whose sizes do not match their data, or overflow', async () => {
    const conv = (w: Obj) => model([node('Conv', 'conv', ['x', 'w'], ['y'])], { initializer: [w] });
    await expect(importOnnx(conv(floats('w', [3, 2, 1, 1], [1, 2, 3])))).rejects.toThrow(/initializer 'w': float_data holds 3 values but dims \[3,2,1,1\] need 6/);
    await expect(importOnnx(conv({ name: 'w', dims: [3, 2, 1, 1], data_type: 1, raw_data: new Uint8Array(5) }))).rejects.toThrow(/raw_data holds 5 bytes but dims \[3,2,1,1\] of FLOAT need 24/);
    await expect(importOnnx(conv(floats('w', [2 ** 40, 2 ** 40, 2 ** 40], [])))).rejects.toThrow(RangeError);
    await expect(importOnnx(conv(floats('w', [2 ** 40, 2 ** 40, 2 ** 40], [])))).rejects.toThrow(/more than 2\^31-1 elements/);
    await expect(importOnnx(conv(floats('w', [-3, 2], [])))).rejects.toThrow(/non-negative/);
  });

  it('external data, strings and unknown data types', async () => {
    const external = { name: 'w', dims: [1], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'weights.bin' }] };
    await expect(importOnnx(model([node('Add', 'a', ['x', 'w'], ['y'])], { initializer: [external] }))).rejects.toThrow(/initializer 'w': its data is stored in an external file/);
    const text = { name: 'w', dims: [1], data_type: 8, string_data: [new Uint8Array([65])] };
    await expect(importOnnx(model([node('Add', 'a', ['x', 'w'], ['y'])], { initializer: [text] }))).rejects.toThrow(/data type STRING is not supported/);
    const odd = { name: 'w', dims: [1], data_type: 99, raw_data: new Uint8Array(4) };
    await expect(importOnnx(model([node('Add', 'a', ['x', 'w'], ['y'])], { initializer: [odd] }))).rejects.toThrow(/data type 99 is not supported/);
  });

  it('empty, random and truncated bytes, and a length field claiming 4 GB', async () => {
    await expect(importOnnx(new Uint8Array(0))).rejects.toThrow(/the file is empty/);
    const r = rng(5);
    for (let i = 0; i < 20; i++) {
      const bytes = Uint8Array.from({ length: 64 + i * 37 }, () => Math.floor(r() * 256));
      await expect(importOnnx(bytes)).rejects.toThrow(/importOnnx: /);
    }
    // Field 7 (graph), length-delimited, length 0xFFFFFFFF: checked against the 8 bytes there.
    const claim = Uint8Array.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a, 0x00]);
    await expect(importOnnx(claim)).rejects.toThrow(RangeError);
    await expect(importOnnx(claim)).rejects.toThrow(/not a valid ONNX model/);
    await expect(importOnnx(relu.subarray(0, relu.length - 3))).rejects.toThrow(/importOnnx: /);
  });

  it('a bad argument', async () => {
    await expect(importOnnx(42 as unknown as string)).rejects.toThrow(TypeError);
    await expect(importOnnx(relu, { device: 'cpu' } as never)).rejects.toThrow(/options must be an empty object/);
    await expect(importOnnx(join(dir, 'no-such-file.onnx'))).rejects.toThrow(/ENOENT/);
  });
});

describe('fuzzed fixtures import or fail with a TypeError or RangeError', () => {
  /** Imports bytes; an error other than a convkit TypeError/RangeError fails the test. */
  async function cleanly(bytes: Uint8Array, what: string): Promise<'ok' | 'error'> {
    try {
      await importOnnx(bytes);
      return 'ok';
    } catch (err) {
      if (!((err instanceof TypeError || err instanceof RangeError) && /^importOnnx: /.test(err.message))) {
        throw new Error(`${what}: ${err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)}`);
      }
      return 'error';
    }
  }

  it.each(['shuffle-unit-opset13.onnx', 'ops-mix-opset11.onnx', 'lenet-opset17.onnx'])('%s truncated at 150 offsets', async (file) => {
    const bytes = new Uint8Array(readFileSync(join(dir, file)));
    const results = new Set<string>();
    for (let i = 0; i < 150; i++) {
      const end = Math.floor((i / 150) * bytes.length);
      results.add(await cleanly(bytes.subarray(0, end), `${file} cut at ${end}`));
    }
    expect(results.has('error')).toBe(true);
  }, 60_000);

  it.each(['shuffle-unit-opset17.onnx', 'ops-mix-opset13.onnx', 'two-inputs-opset13.onnx'])('%s with bytes flipped, 300 times', async (file) => {
    const original = new Uint8Array(readFileSync(join(dir, file)));
    const r = rng(file.length);
    const results = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const bytes = original.slice();
      for (let k = 0; k < 1 + (i % 4); k++) bytes[Math.floor(r() * bytes.length)] ^= 1 << Math.floor(r() * 8);
      results.add(await cleanly(bytes, `${file} flip round ${i}`));
    }
    expect([...results].sort()).toEqual(['error', 'ok']);
  }, 60_000);
});
