// The IDX reader: round trips through buffers built here, and every corrupt file it must
// reject with a RangeError (quickly, and before allocating for the data).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readIdx, readIdxFile, readIdxHeader } from '../lib/data/index.js';

const TYPES = {
  uint8: { code: 0x08, bytes: 1, write: (v: DataView, o: number, x: number) => v.setUint8(o, x) },
  int8: { code: 0x09, bytes: 1, write: (v: DataView, o: number, x: number) => v.setInt8(o, x) },
  int16: { code: 0x0b, bytes: 2, write: (v: DataView, o: number, x: number) => v.setInt16(o, x, false) },
  int32: { code: 0x0c, bytes: 4, write: (v: DataView, o: number, x: number) => v.setInt32(o, x, false) },
  float32: { code: 0x0d, bytes: 4, write: (v: DataView, o: number, x: number) => v.setFloat32(o, x, false) },
  float64: { code: 0x0e, bytes: 8, write: (v: DataView, o: number, x: number) => v.setFloat64(o, x, false) },
} as const;

/** An IDX file's bytes: big-endian dims and values, as the format says. */
function idx(type: keyof typeof TYPES, shape: number[], values: number[]): Uint8Array {
  const t = TYPES[type];
  const header = 4 + 4 * shape.length;
  const bytes = new Uint8Array(header + values.length * t.bytes);
  const view = new DataView(bytes.buffer);
  bytes.set([0, 0, t.code, shape.length]);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  values.forEach((x, i) => t.write(view, header + i * t.bytes, x));
  return bytes;
}

/** Just a header: 4 + 4 * dims.length bytes, with dims as uint32. */
function header(code: number, dims: number[]): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length);
  bytes.set([0, 0, code, dims.length]);
  dims.forEach((d, i) => new DataView(bytes.buffer).setUint32(4 + 4 * i, d, false));
  return bytes;
}

describe('readIdx round trips', () => {
  const cases: [keyof typeof TYPES, number[], number[], Function][] = [
    ['uint8', [5], [0, 1, 127, 200, 255], Uint8Array],
    ['uint8', [2, 3], [1, 2, 3, 4, 5, 6], Uint8Array],
    ['uint8', [2, 2, 3], Array.from({ length: 12 }, (_, i) => i * 20), Uint8Array],
    ['int8', [4], [-128, -1, 0, 127], Int8Array],
    ['int16', [2, 2], [-32768, -2, 300, 32767], Int16Array],
    ['int32', [3], [-(2 ** 31), 65536 + 7, 2 ** 31 - 1], Int32Array],
    ['float32', [4], [0.5, -1.25, 3e10, -0], Float32Array],
    ['float32', [2, 3], [1.5, 2.5, -3.5, 1 / 3, Math.PI, 1e-20], Float32Array],
    ['float32', [1, 2, 2], [Infinity, -Infinity, 7, 8], Float32Array],
    ['float64', [2], [Math.PI, -1e300], Float64Array],
  ];
  for (const [type, shape, values, Ctor] of cases) {
    it(`${type} ${shape.join('x')}`, () => {
      const out = readIdx(idx(type, shape, values));
      expect(out.shape).toEqual(shape);
      expect(out.data).toBeInstanceOf(Ctor);
      const expected = type === 'float32' ? Array.from(Float32Array.from(values)) : values;
      expect(Array.from(out.data)).toEqual(expected);
    });
  }

  it('handles a Buffer that sits at an offset inside a larger ArrayBuffer', () => {
    const bytes = idx('int16', [3], [1, -2, 3]);
    const big = new Uint8Array(bytes.length + 7);
    big.set(bytes, 3);
    const out = readIdx(Buffer.from(big.buffer, 3, bytes.length));
    expect(Array.from(out.data)).toEqual([1, -2, 3]);
  });

  it('returns a copy that does not alias the input', () => {
    const bytes = idx('uint8', [3], [1, 2, 3]);
    const out = readIdx(bytes);
    bytes[8] = 99;
    expect(Array.from(out.data)).toEqual([1, 2, 3]);
    const buf = Buffer.from(idx('uint8', [3], [1, 2, 3]));
    const fromBuffer = readIdx(buf);
    buf[8] = 99;
    expect(Array.from(fromBuffer.data)).toEqual([1, 2, 3]);
    expect(fromBuffer.data.constructor).toBe(Uint8Array); // not a Buffer
  });

  it('reads an empty array when a dim is 0', () => {
    const out = readIdx(idx('float32', [0, 28], []));
    expect(out.shape).toEqual([0, 28]);
    expect(out.data.length).toBe(0);
  });

  it('readIdxHeader reports type, shape and the data offset', () => {
    expect(readIdxHeader(idx('float64', [1, 2, 1], [1, 2]))).toEqual({ type: 'float64', shape: [1, 2, 1], dataOffset: 16 });
  });

  it('readIdxFile reads a file and names it in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-idx-'));
    try {
      const good = join(dir, 'good-idx2-ubyte');
      writeFileSync(good, idx('uint8', [2, 2], [9, 8, 7, 6]));
      expect(readIdxFile(good)).toEqual({ shape: [2, 2], data: Uint8Array.from([9, 8, 7, 6]) });
      const bad = join(dir, 'bad-idx2-ubyte');
      writeFileSync(bad, idx('uint8', [2, 2], [9, 8, 7]));
      expect(() => readIdxFile(bad)).toThrow(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: header says 2x2`));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('readIdx rejects corrupt data', () => {
  const name = 't10k-images-idx3-ubyte';
  const rejects = (bytes: Uint8Array, message: RegExp) => {
    expect(() => readIdx(bytes, name)).toThrow(RangeError);
    expect(() => readIdx(bytes, name)).toThrow(message);
  };

  it('a file too short for the magic', () => {
    rejects(new Uint8Array(0), /^t10k-images-idx3-ubyte: the file has 0 bytes, too short for the 4-byte IDX magic/);
    rejects(Uint8Array.from([0, 0, 8]), /has 3 bytes, too short/);
  });

  it('a wrong magic, shown in hex', () => {
    rejects(Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0]), /^t10k-images-idx3-ubyte: wrong magic 0x12345678, expected 0x0000 followed by a type code and the number of dimensions/);
    rejects(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0]), /wrong magic 0x1F8B0800.*gunzip/); // a .gz file
  });

  it('an unknown type code', () => {
    rejects(header(0x07, [1]), /unknown type code 0x07/);
    rejects(header(0x0a, [1]), /unknown type code 0x0A .*0x08 uint8/);
  });

  it('zero dimensions', () => {
    rejects(Uint8Array.from([0, 0, 8, 0]), /declares 0 dimensions/);
  });

  it('a truncated header', () => {
    rejects(header(0x08, [10000, 28, 28]).subarray(0, 10), /declares 3 dimensions, which need 16 header bytes, but the file has 10 \(truncated header\)/);
  });

  it('truncated data, with the sizes in the message', () => {
    const bytes = new Uint8Array(16 + 1234);
    bytes.set(header(0x08, [10000, 28, 28]));
    rejects(bytes, /^t10k-images-idx3-ubyte: header says 10000x28x28 = 7840000 bytes of data but the file has 1234 after its 16-byte header \(truncated data\)/);
    rejects(idx('float32', [2, 3], [1, 2, 3, 4, 5]), /header says 2x3 = 6 float32 values \(24 bytes\) of data but the file has 20/);
  });

  it('trailing bytes', () => {
    const bytes = new Uint8Array(8 + 5);
    bytes.set(header(0x08, [3]));
    rejects(bytes, /header says 3 = 3 bytes of data but the file has 5 after its 8-byte header \(2 trailing bytes\)/);
  });

  it('absurd dims, fast and without allocating them', () => {
    const start = performance.now();
    rejects(header(0x08, [0xffffffff, 0xffffffff]), /header says 4294967295x4294967295 = 1\.84e19 bytes of data but the file has 0/);
    rejects(header(0x0e, Array(255).fill(0xffffffff)), /= more than 1e308 float64 values \(more than 1e308 bytes\) of data/);
    rejects(header(0x0c, [0x40000000, 4]), /= 4294967296 int32 values \(17179869184 bytes\)/);
    expect(performance.now() - start).toBeLessThan(200);
  });

  it('a non-buffer argument is a TypeError', () => {
    expect(() => readIdx([0, 0, 8, 1] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => readIdx(new Uint16Array(4) as unknown as Uint8Array)).toThrow(/buffer must be a Uint8Array or Buffer, got Uint16Array/);
    expect(() => readIdxFile(3 as unknown as string)).toThrow(TypeError);
  });

  it('every truncation of a valid file throws a RangeError, never reads out of bounds', () => {
    const bytes = idx('int32', [2, 3], [1, 2, 3, 4, 5, 6]);
    for (let n = 0; n < bytes.length; n++) expect(() => readIdx(bytes.subarray(0, n))).toThrow(RangeError);
  });
});
