// safetensors in every dtype PyTorch writes: files written by torch (tests/fixtures/torch, made by
// make_torch_fixtures.py) read to the values PyTorch's .float() gives, integer tensors are kept
// exactly and written back byte for byte, and broken files are rejected per dtype.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../lib/nn/index.js';
import { IntegerTensor, load, loadStateDictFile, readSafetensors, tensor, Tensor, writeSafetensors } from '../lib/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'torch');
const fixture = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)));
const dir = mkdtempSync(join(tmpdir(), 'convkit-dtypes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const any = (v: unknown) => v as never;

interface Expected { dtype: string; shape: number[]; values: Array<number | string> }
const expectations = JSON.parse(readFileSync(join(fixtures, 'dtypes.json'), 'utf8')) as Record<string, Record<string, Expected>>;
const FLOAT_DTYPES = ['F64', 'F32', 'F16', 'BF16'];
const INTEGER_DTYPES = ['I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'];
const ITEM_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Element by element with Object.is: -0 is not 0, NaN is NaN. */
function expectSameFloats(got: Float32Array, want: Array<number | string>, label: string): void {
  expect(got.length, label).toBe(want.length);
  // 'NaN', 'Infinity' and '-Infinity' are strings in the JSON; Number() reads them back.
  const bad = want.findIndex((w, i) => !Object.is(got[i], Number(w)));
  expect(bad, `${label}: element ${bad} is ${got[bad]}, PyTorch's .float() gives ${want[bad]}`).toBe(-1);
}

function expectContents(file: string, contents: ReturnType<typeof readSafetensors>): void {
  for (const [name, want] of Object.entries(expectations[file])) {
    const label = `${file} ${name} (${want.dtype})`;
    if (FLOAT_DTYPES.includes(want.dtype)) {
      const t = contents.tensors[name];
      expect(t, label).toBeInstanceOf(Tensor);
      expect(t.shape, label).toEqual(want.shape);
      expectSameFloats(t.data, want.values, label);
    } else {
      const t = contents.integers[name];
      expect(t, label).toBeInstanceOf(IntegerTensor);
      expect(t.dtype, label).toBe(want.dtype);
      expect(t.shape, label).toEqual(want.shape);
      expect(Array.from(t.data, String), label).toEqual(want.values);
    }
  }
}

/** safetensors bytes with one tensor 't' of the given entry and data section. */
function build(entry: { dtype: string; shape: number[]; data_offsets: number[] }, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ t: entry }));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('reading every dtype PyTorch writes', () => {
  it.each([...FLOAT_DTYPES, ...INTEGER_DTYPES])('%s: the values torch wrote, floats as PyTorch\'s .float()', (dtype) => {
    const file = `dtype-${dtype}.safetensors`;
    const contents = readSafetensors(fixture(file), file);
    expectContents(file, contents);
    const floats = FLOAT_DTYPES.includes(dtype);
    expect(Object.keys(contents.tensors)).toEqual(floats ? ['t'] : []);
    expect(Object.keys(contents.integers)).toEqual(floats ? [] : ['t']);
  });

  it('F16 subnormals, infinities and NaN, F64 rounding to nearest even, I64 beyond 2^53 (spot checks)', () => {
    const f16 = readSafetensors(fixture('dtype-F16.safetensors')).tensors.t.data;
    expect([f16[7], f16[8], f16[9]]).toEqual([2 ** -24, 3 * 2 ** -24, 2 ** -14 - 2 ** -24]);
    expect([f16[10], f16[11], Number.isNaN(f16[12]), Object.is(f16[1], -0)]).toEqual([Infinity, -Infinity, true, true]);
    const f64 = readSafetensors(fixture('dtype-F64.safetensors')).tensors.t.data;
    expect([f64[0], f64[1], f64[2]]).toEqual([1, 1 + 2 ** -22, 1 + 2 ** -23]); // ties to even; above a tie, up
    expect([f64[5], f64[6], f64[10], f64[11]]).toEqual([Infinity, 3.4028234663852886e38, 0, 2 ** -149]);
    const i64 = readSafetensors(fixture('dtype-I64.safetensors')).integers.t.data;
    expect([i64[0], i64[1], i64[7]]).toEqual([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n]);
  });

  it('a file with every dtype, an empty tensor and a 0-d int64, through a path too', async () => {
    const file = 'mixed.safetensors';
    expectContents(file, readSafetensors(fixture(file), file));
    const fromDisk = await loadStateDictFile(join(fixtures, file));
    expectContents(file, fromDisk);
    expect(fromDisk.metadata).toEqual({ source: 'make_torch_fixtures.py' });
    expect(fromDisk.integers.count.data).toEqual(new BigInt64Array([7n]));
  });

  it('reads U16, U32 and U64 (written by PyTorch 2.3 and later)', () => {
    const cases: Array<[string, ArrayBufferView, bigint[] | number[]]> = [
      ['U16', new Uint16Array([0, 65535, 7]), [0, 65535, 7]],
      ['U32', new Uint32Array([0, 2 ** 32 - 1, 7]), [0, 2 ** 32 - 1, 7]],
      ['U64', new BigUint64Array([0n, 2n ** 64n - 1n, 7n]), [0n, 2n ** 64n - 1n, 7n]],
    ];
    for (const [dtype, data, values] of cases) {
      const bytes = build({ dtype, shape: [3], data_offsets: [0, data.byteLength] }, new Uint8Array(data.buffer));
      const t = readSafetensors(bytes).integers.t;
      expect(t.dtype).toBe(dtype);
      expect(Array.from(t.data as ArrayLike<number | bigint>)).toEqual(values);
    }
  });

  it('reads from a Node Buffer that is a view into a larger one, at an odd offset', () => {
    // Buffer.prototype.slice returns a view, not a copy: decoding must copy another way.
    for (const dtype of [...FLOAT_DTYPES, ...INTEGER_DTYPES]) {
      const file = `dtype-${dtype}.safetensors`;
      const bytes = fixture(file);
      const pool = Buffer.alloc(bytes.length + 13, 0xab);
      pool.set(bytes, 5);
      expectContents(file, readSafetensors(pool.subarray(5, 5 + bytes.length), file));
    }
  });

  it('copies values out of the file bytes', () => {
    const bytes = fixture('dtype-I32.safetensors');
    const { integers } = readSafetensors(bytes);
    bytes.fill(0);
    expect(integers.t.data[0]).toBe(-(2 ** 31));
  });
});

describe('writing integer tensors back', () => {
  it.each([...INTEGER_DTYPES, 'F32'])('%s: read then written gives the bytes torch wrote', (dtype) => {
    const bytes = fixture(`dtype-${dtype}.safetensors`);
    const { tensors, integers, metadata } = readSafetensors(bytes);
    expect(Buffer.from(writeSafetensors({ ...tensors, ...integers }, metadata)).equals(bytes)).toBe(true);
  });

  it('a mixed file round-trips: floats as F32 with the same values, integers unchanged', () => {
    const first = readSafetensors(fixture('mixed.safetensors'));
    const again = readSafetensors(writeSafetensors({ ...first.tensors, ...first.integers }, first.metadata));
    expectContents('mixed.safetensors', again);
    expect(again.metadata).toEqual(first.metadata);
  });

  it('writes an IntegerTensor with its dtype in the header', () => {
    const bytes = writeSafetensors({ n: new IntegerTensor('I64', new BigInt64Array([5n]), []), w: tensor([1], [1]) });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd())
      .toBe('{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}');
    expect([...bytes.subarray(8 + n, 8 + n + 8)]).toEqual([5, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('broken files, per dtype', () => {
  const read = (bytes: Uint8Array) => () => readSafetensors(bytes, 'bad.safetensors');

  it.each(Object.keys(ITEM_BYTES))('%s: a byte range that does not fit the shape is a RangeError naming file and tensor', (dtype) => {
    const size = ITEM_BYTES[dtype];
    for (const length of [3 * size - 1, 3 * size + 1, 4 * size, 0]) {
      const bytes = build({ dtype, shape: [3], data_offsets: [0, length] }, new Uint8Array(length));
      expect(read(bytes), `${dtype} ${length} bytes`).toThrow(RangeError);
      expect(read(bytes)).toThrow(new RegExp(`'bad\\.safetensors': tensor 't': shape \\[3\\] needs ${3 * size} bytes of ${dtype} but data_offsets \\[0,${length}\\] hold ${length}`));
    }
  });

  it.each([...FLOAT_DTYPES, ...INTEGER_DTYPES])('%s: the fixture cut at every byte is a RangeError naming the file', async (dtype) => {
    const bytes = fixture(`dtype-${dtype}.safetensors`);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(read(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(/bad\.safetensors/);
      expect(read(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(RangeError);
    }
    const path = join(dir, `cut-${dtype}.safetensors`);
    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    await expect(loadStateDictFile(path)).rejects.toThrow(new RegExp(`cut-${dtype}\\.safetensors.*outside the data section`));
  });

  it('a huge shape of a small dtype is refused before any allocation', () => {
    expect(read(build({ dtype: 'I8', shape: [2 ** 31], data_offsets: [0, 2 ** 31] }, new Uint8Array(8)))).toThrow(/outside the data section of 8 bytes/);
    expect(read(build({ dtype: 'BOOL', shape: [2 ** 16, 2 ** 16], data_offsets: [0, 8] }, new Uint8Array(8)))).toThrow(/more elements than the limit/);
  });

  it('dtypes convkit does not read are a RangeError naming the dtype and the tensor', () => {
    for (const dtype of ['F8_E4M3', 'F8_E5M2', 'C64', 'I128', 'f16', 'F32 ', '']) {
      const bytes = build({ dtype, shape: [2], data_offsets: [0, 2] }, new Uint8Array(2));
      expect(read(bytes), dtype).toThrow(RangeError);
      expect(read(bytes), dtype).toThrow(`'bad.safetensors': tensor 't' has dtype ${dtype}, which convkit does not read (it reads F64, F32, F16, BF16, I64, U64, I32, U32, I16, U16, I8, U8, BOOL)`);
    }
  });

  it('a BOOL tensor holding a byte other than 0 or 1 is a RangeError naming file, tensor and element', () => {
    expect(read(build({ dtype: 'BOOL', shape: [3], data_offsets: [0, 3] }, new Uint8Array([1, 0, 2]))))
      .toThrow(/'bad\.safetensors': tensor 't' is BOOL but holds byte 2 at element 2/);
  });
});

describe('IntegerTensor', () => {
  it('checks dtype, array type, shape and BOOL values', () => {
    expect(new IntegerTensor('I16', new Int16Array([1, 2, 3, 4]), [2, 2]).size).toBe(4);
    expect(() => new IntegerTensor(any('I128'), new Int32Array(1), [1])).toThrow(/dtype must be one of I64, U64/);
    expect(() => new IntegerTensor('I64', any(new Int32Array(1)), [1])).toThrow(/I64 data must be a BigInt64Array, got Int32Array/);
    expect(() => new IntegerTensor('U8', any(new Int8Array(1)), [1])).toThrow(TypeError);
    expect(() => new IntegerTensor('I32', new Int32Array(3), [2, 2])).toThrow(/data has 3 elements but shape \[2,2\] needs 4/);
    expect(() => new IntegerTensor('I32', new Int32Array(1), any([-1]))).toThrow(RangeError);
    expect(() => new IntegerTensor('BOOL', new Uint8Array([0, 1, 255]), [3])).toThrow(/BOOL data must be 0 or 1, got 255 at index 2/);
  });

  it('toFloat32 is exact or a RangeError, never a rounded value', () => {
    expect(new IntegerTensor('I64', new BigInt64Array([-(2n ** 24n), 2n ** 24n, 2n ** 40n]), [3]).toFloat32()).toEqual(new Float32Array([-(2 ** 24), 2 ** 24, 2 ** 40]));
    expect(new IntegerTensor('I8', new Int8Array([-128, 127]), [2]).toFloat32()).toEqual(new Float32Array([-128, 127]));
    expect(() => new IntegerTensor('I32', new Int32Array([1, 2 ** 24 + 1]), [2]).toFloat32('x')).toThrow(/x: the I32 value 16777217 at index 1 has no exact float32/);
    // 2^53 + 1 becomes the double 2^53, which float32 holds: only comparing as bigints sees the loss.
    expect(() => new IntegerTensor('I64', new BigInt64Array([2n ** 53n + 1n]), [1]).toFloat32()).toThrow(/I64 value 9007199254740993/);
    expect(() => new IntegerTensor('U64', new BigUint64Array([2n ** 64n - 1n]), [1]).toFloat32()).toThrow(RangeError);
  });
});

describe('loadStateDict with integer tensors', () => {
  const counter = (n: bigint) => new IntegerTensor('I64', new BigInt64Array([n]), []);
  const statsOf = (bn: nn.BatchNorm2d) => [...bn.runningMean!.data, ...bn.runningVar!.data, bn.numBatchesTracked!.item()];

  it('an int64 num_batches_tracked becomes the float32 counter', () => {
    const bn = new nn.BatchNorm2d(2);
    const dict = { ...bn.stateDict(), num_batches_tracked: counter(5n) };
    bn.loadStateDict(dict);
    expect(bn.numBatchesTracked!.item()).toBe(5);
    expect(bn.stateDict().num_batches_tracked).toBeInstanceOf(Tensor);
  });

  it('an integer that float32 cannot hold exactly is a RangeError naming the key, and nothing is loaded', () => {
    const bn = new nn.BatchNorm2d(2);
    const before = statsOf(bn);
    const dict = { ...bn.stateDict(), running_mean: tensor([3, 4], [2]), num_batches_tracked: counter(2n ** 24n + 1n) };
    expect(() => bn.loadStateDict(dict)).toThrow(/BatchNorm2d\.loadStateDict: 'num_batches_tracked': the I64 value 16777217 at index 0 has no exact float32/);
    expect(() => bn.loadStateDict({ ...dict, num_batches_tracked: counter(2n ** 53n + 1n) })).toThrow(RangeError);
    expect(statsOf(bn)).toEqual(before);
  });

  it('checks an integer tensor\'s shape, and loads one into a parameter when exact', () => {
    const linear = new nn.Linear(2, 1);
    const weight = new IntegerTensor('I32', new Int32Array([3, -4]), [1, 2]);
    expect(() => linear.loadStateDict({ weight: new IntegerTensor('I32', new Int32Array(2), [2]), bias: tensor([0], [1]) }))
      .toThrow(/'weight' has shape \[2\] but the module expects \[1,2\]/);
    expect(() => linear.loadStateDict(any({ weight: new Int32Array(2), bias: tensor([0], [1]) }))).toThrow(/'weight' must be a Tensor or IntegerTensor, got Int32Array/);
    linear.loadStateDict({ weight, bias: tensor([0.5], [1]) });
    expect([...linear.forward(tensor([1, 1], [1, 2])).data]).toEqual([-0.5]);
  });

  it('load() reads a convkit model file whose counter was written as I64', async () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2));
    const path = join(dir, 'counter.safetensors');
    const config = JSON.stringify(model.toConfig());
    writeFileSync(path, writeSafetensors({ ...model.stateDict(), '1.num_batches_tracked': counter(7n) }, { format: 'convkit', 'convkit.config': config }));
    const loaded = await load(path);
    expect((loaded as nn.Sequential)[1].stateDict().num_batches_tracked.item()).toBe(7);
    writeFileSync(path, writeSafetensors({ ...model.stateDict(), '1.num_batches_tracked': counter(2n ** 63n - 1n) }, { format: 'convkit', 'convkit.config': config }));
    await expect(load(path)).rejects.toThrow(/counter\.safetensors': Sequential\.loadStateDict: '1\.num_batches_tracked': the I64 value 9223372036854775807/);
  });
});

describe('an IntegerTensor whose buffer was transferred away', () => {
  const detached = () => {
    const t = new IntegerTensor('I64', new BigInt64Array([5n]), []);
    structuredClone(t.data.buffer, { transfer: [t.data.buffer] });
    return t;
  };

  it('is a TypeError naming it when written or loaded, not an empty or unchanged value', () => {
    expect(detached().isDetached).toBe(true);
    expect(() => writeSafetensors({ n: detached() })).toThrow(/writeSafetensors: 'n': the I64 tensor \[\] lost its data: its ArrayBuffer was detached/);
    const bn = new nn.BatchNorm2d(1);
    expect(() => bn.loadStateDict({ ...bn.stateDict(), num_batches_tracked: detached() }))
      .toThrow(/BatchNorm2d\.loadStateDict: 'num_batches_tracked': the I64 tensor \[\] lost its data/);
    expect(() => detached().toFloat32()).toThrow(TypeError);
  });
});
