// The IDX format of MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
// 0x00 0x00 <type code> <number of dims>, one big-endian uint32 per dim, then the values,
// big-endian, row-major. The header is checked completely against the file's length before
// anything is allocated, so a corrupt or hostile file costs a RangeError, never memory.
import { readFileSync } from 'node:fs';
import { describe } from '../shape.js';

/** The typed array that holds an IDX file's values, by its element type. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
/** An IDX file's element type. */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** An IDX file's shape and values. */
export interface IdxArray {
  shape: number[];
  data: IdxData;
}

/** An IDX file's element type and shape, read from its header alone. */
export interface IdxHeader {
  type: IdxType;
  shape: number[];
  /** Where the values start: 4 + 4 * shape.length. */
  dataOffset: number;
}

interface TypeInfo {
  type: IdxType;
  bytes: number;
}

const TYPE_CODES: ReadonlyMap<number, TypeInfo> = new Map([
  [0x08, { type: 'uint8', bytes: 1 }],
  [0x09, { type: 'int8', bytes: 1 }],
  [0x0b, { type: 'int16', bytes: 2 }],
  [0x0c, { type: 'int32', bytes: 4 }],
  [0x0d, { type: 'float32', bytes: 4 }],
  [0x0e, { type: 'float64', bytes: 8 }],
]);

const KNOWN_TYPES = '0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32 or 0x0E float64';

function hex(value: number, digits: number): string {
  return '0x' + value.toString(16).toUpperCase().padStart(digits, '0');
}

/** Byte counts for messages: exact below 1e15, then short ("1.84e19"), then "over 1e308". */
function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return 'more than 1e308';
  if (n < 1e15) return String(n);
  const exp = Math.floor(Math.log10(n));
  return `${Number((n / 10 ** exp).toPrecision(3))}e${exp}`;
}

function checkBuffer(op: string, buffer: unknown, name: unknown): string {
  if (typeof name !== 'string') throw new TypeError(`${op}: name must be a string, got ${describe(name)}`);
  if (!(buffer instanceof Uint8Array)) {
    throw new TypeError(`${op}: buffer must be a Uint8Array or Buffer, got ${describe(buffer)}`);
  }
  return name;
}

/**
 * Parses and validates an IDX header against the buffer's length: the magic, the type code,
 * at least one dim, and exactly as many data bytes as the dims ask for. Throws a RangeError
 * that starts with `name` otherwise.
 */
export function readIdxHeader(buffer: Uint8Array, name = 'IDX data'): IdxHeader {
  checkBuffer('readIdxHeader', buffer, name);
  const size = buffer.length;
  if (size < 4) {
    throw new RangeError(`${name}: the file has ${size} bytes, too short for the 4-byte IDX magic (truncated or not an IDX file)`);
  }
  if (buffer[0] !== 0 || buffer[1] !== 0) {
    const magic = ((buffer[0] << 24) | (buffer[1] << 16) | (buffer[2] << 8) | buffer[3]) >>> 0;
    throw new RangeError(`${name}: wrong magic ${hex(magic, 8)}, expected 0x0000 followed by a type code and the number of dimensions (not an IDX file, or a compressed one: gunzip it first)`);
  }
  const info = TYPE_CODES.get(buffer[2]);
  if (info === undefined) {
    throw new RangeError(`${name}: unknown type code ${hex(buffer[2], 2)} in the magic (expected ${KNOWN_TYPES})`);
  }
  const ndims = buffer[3];
  if (ndims === 0) throw new RangeError(`${name}: the header declares 0 dimensions; an IDX file needs at least 1`);
  const dataOffset = 4 + 4 * ndims;
  if (size < dataOffset) {
    throw new RangeError(`${name}: the header declares ${ndims} dimensions, which need ${dataOffset} header bytes, but the file has ${size} (truncated header)`);
  }

  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const shape: number[] = [];
  let count = 1; // float64: an absurd product becomes large or Infinity, never wraps
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const expected = count * info.bytes;
  const actual = size - dataOffset;
  if (expected !== actual) {
    const what = info.bytes === 1 ? `${formatBytes(expected)} bytes` : `${formatBytes(count)} ${info.type} values (${formatBytes(expected)} bytes)`;
    const problem = expected > actual ? 'truncated data' : `${actual - expected} trailing bytes`;
    throw new RangeError(`${name}: header says ${shape.join('x')} = ${what} of data but the file has ${actual} after its ${dataOffset}-byte header (${problem})`);
  }
  return { type: info.type, shape, dataOffset };
}

/** Decodes big-endian values into a new native-endian typed array. */
function decode(buffer: Uint8Array, header: IdxHeader): IdxData {
  const start = header.dataOffset;
  const n = header.shape.reduce((a, b) => a * b, 1);
  // One-byte types need no byte swapping, only a copy, so the result never aliases the input
  // (not buffer.slice(): on a Node Buffer that is a view) and is a plain typed array.
  if (header.type === 'uint8' || header.type === 'int8') {
    const out = new Uint8Array(n);
    out.set(buffer.subarray(start, start + n));
    return header.type === 'uint8' ? out : new Int8Array(out.buffer);
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset + start, buffer.length - start);
  switch (header.type) {
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, false);
      return out;
    }
  }
}

/**
 * Reads an IDX array from bytes. The typed array matches the file's type code and is a fresh
 * copy (it never aliases `buffer`). `name` starts every error message.
 */
export function readIdx(buffer: Uint8Array, name = 'IDX data'): IdxArray {
  checkBuffer('readIdx', buffer, name);
  const header = readIdxHeader(buffer, name);
  return { shape: header.shape, data: decode(buffer, header) };
}

/** Reads an IDX file (uncompressed); errors name the path. */
export function readIdxFile(path: string): IdxArray {
  if (typeof path !== 'string') throw new TypeError(`readIdxFile: path must be a string, got ${describe(path)}`);
  return readIdx(readFileSync(path), path);
}
