// The safetensors format, as pure functions on bytes: an 8-byte little-endian u64 header
// length N, N bytes of UTF-8 JSON header, then the tensors' raw little-endian data. Reading
// validates the header the way the reference implementation (huggingface/safetensors) does,
// and checks every size against the bytes actually present before allocating anything.
// Float dtypes read as float32 Tensors; integer and boolean dtypes as IntegerTensors, unchanged.
import { Tensor } from '../tensor.js';
import { IntegerTensor } from '../integer-tensor.js';
import { describe, formatShape, MAX_ELEMENTS } from '../shape.js';
import { decodeFloat, decodeInteger, DTYPES, encodeLittleEndian, isDtype, isFloatDtype, itemBytes, type Dtype } from './safetensors-dtypes.js';

/** The reference implementation refuses headers above this size; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

/** One tensor's header entry, validated; begin/end are offsets into the data section. */
export interface TensorEntry {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Sorted by begin, which is the order the tensors lie in the file. */
  entries: TensorEntry[];
  metadata: Record<string, string>;
}

/**
 * A safetensors file's tensors and its __metadata__, as readSafetensors() returns them and
 * writeSafetensors() takes them.
 */
export interface SafetensorsContents {
  /** name -> tensor for every float tensor (F64, F32, F16, BF16, as float32), in file order. */
  tensors: Record<string, Tensor>;
  /**
   * name -> tensor for every integer or boolean tensor (I64, I32, ..., U8, BOOL), values as
   * they are in the file, in file order. loadStateDict takes them: `{ ...tensors, ...integers }`.
   */
  integers: Record<string, IntegerTensor>;
  metadata: Record<string, string>;
}

/** Plain assignment would let a tensor named '__proto__' replace the object's prototype. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Reads the header length from a file's first 8 bytes and checks it against the file size
 * (all of it, header and data): the header must fit and stay under MAX_HEADER_BYTES.
 */
export function readHeaderLength(name: string, first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first8.length < 8) {
    throw new RangeError(`safetensors: '${name}' is ${fileSize} bytes, too short for the 8-byte header length (truncated or not a safetensors file)`);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new RangeError(`safetensors: '${name}' declares a header of ${n} bytes, more than the limit ${MAX_HEADER_BYTES} (corrupt or not a safetensors file)`);
  }
  const headerLength = Number(n);
  if (headerLength > fileSize - 8) {
    throw new RangeError(`safetensors: '${name}' declares a header of ${headerLength} bytes but only ${fileSize - 8} bytes follow the length (truncated file)`);
  }
  return headerLength;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseMetadata(name: string, value: unknown): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (value === null || value === undefined) return metadata; // the reference allows null
  if (!isPlainObject(value)) throw new TypeError(`safetensors: '${name}': __metadata__ must be an object of strings, got ${describe(value)}`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new TypeError(`safetensors: '${name}': __metadata__ value '${key}' must be a string, got ${describe(v)}`);
    setOwn(metadata, key, v);
  }
  return metadata;
}

function parseEntry(name: string, key: string, value: unknown, dataLength: number): TensorEntry {
  const where = `safetensors: '${name}': tensor '${key}'`;
  if (!isPlainObject(value)) throw new TypeError(`${where} must be an object { dtype, shape, data_offsets }, got ${describe(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (dtype === undefined || shape === undefined || offsets === undefined) {
    const missing = ['dtype', 'shape', 'data_offsets'].filter((f) => value[f] === undefined);
    throw new TypeError(`${where} is missing ${missing.join(', ')}`);
  }
  if (typeof dtype !== 'string') throw new TypeError(`${where}: dtype must be a string, got ${describe(dtype)}`);
  if (!isDtype(dtype)) {
    throw new RangeError(`${where} has dtype ${dtype}, which convkit does not read (it reads ${DTYPES.join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isOffset)) {
    throw new RangeError(`${where}: shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isOffset)) {
    throw new RangeError(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${describe(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end || end > dataLength) {
    throw new RangeError(`${where}: data_offsets [${begin},${end}] are outside the data section of ${dataLength} bytes`);
  }
  // Multiply in floats: a huge product overflows to a huge number, never wraps like u64 can.
  let elements = 1;
  for (const d of shape as number[]) elements *= d;
  if (elements > MAX_ELEMENTS) {
    throw new RangeError(`${where}: shape ${formatShape(shape)} has more elements than the limit 2^31-1`);
  }
  const bytes = elements * itemBytes(dtype);
  if (bytes !== end - begin) {
    throw new RangeError(`${where}: shape ${formatShape(shape)} needs ${bytes} bytes of ${dtype} but data_offsets [${begin},${end}] hold ${end - begin}`);
  }
  return { name: key, dtype, shape: Object.freeze((shape as number[]).slice()), begin, end };
}

/**
 * Parses and validates the JSON header against the size of the data section that follows it:
 * the tensors must tile the data section exactly, with no gaps or overlaps.
 */
export function parseHeader(name: string, headerBytes: Uint8Array, dataLength: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new RangeError(`safetensors: '${name}': the header is not valid UTF-8 (corrupt or not a safetensors file)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RangeError(`safetensors: '${name}': the header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(json)) throw new RangeError(`safetensors: '${name}': the header must be a JSON object, got ${describe(json)}`);
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === METADATA_KEY) metadata = parseMetadata(name, value);
    else entries.push(parseEntry(name, key, value, dataLength));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of entries) {
    if (e.begin !== covered) {
      const problem = e.begin < covered ? 'overlaps the tensor before it' : `leaves a gap of ${e.begin - covered} bytes before it`;
      throw new RangeError(`safetensors: '${name}': tensor '${e.name}' at data_offsets [${e.begin},${e.end}] ${problem} (tensors must tile the data section exactly)`);
    }
    covered = e.end;
  }
  if (covered !== dataLength) {
    throw new RangeError(`safetensors: '${name}': the tensors cover ${covered} bytes but the data section has ${dataLength} (trailing bytes or truncated header)`);
  }
  return { entries, metadata };
}

/** The bytes of a BOOL tensor must be 0 or 1; anything else is not a bool PyTorch wrote. */
function checkBool(name: string, e: TensorEntry, bytes: Uint8Array): void {
  const bad = bytes.findIndex((b) => b > 1);
  if (bad >= 0) throw new RangeError(`safetensors: '${name}': tensor '${e.name}' is BOOL but holds byte ${bytes[bad]} at element ${bad} (must be 0 or 1)`);
}

/** Copies each entry's bytes out of the data section into a tensor of its own. */
export function decodeTensors(name: string, entries: readonly TensorEntry[], data: Uint8Array): Pick<SafetensorsContents, 'tensors' | 'integers'> {
  const tensors: Record<string, Tensor> = {};
  const integers: Record<string, IntegerTensor> = {};
  for (const e of entries) {
    const bytes = data.subarray(e.begin, e.end);
    if (isFloatDtype(e.dtype)) {
      setOwn(tensors, e.name, new Tensor(decodeFloat(e.dtype, bytes), e.shape));
    } else {
      if (e.dtype === 'BOOL') checkBool(name, e, bytes);
      setOwn(integers, e.name, new IntegerTensor(e.dtype, decodeInteger(e.dtype, bytes), e.shape));
    }
  }
  return { tensors, integers };
}

/** Parses a whole safetensors file held in memory; name labels errors (a path, usually). */
export function readSafetensors(bytes: Uint8Array, name = 'safetensors'): SafetensorsContents {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`readSafetensors: bytes must be a Uint8Array, got ${describe(bytes)}`);
  const headerLength = readHeaderLength(name, bytes.subarray(0, 8), bytes.length);
  const dataStart = 8 + headerLength;
  const header = parseHeader(name, bytes.subarray(8, dataStart), bytes.length - dataStart);
  return { ...decodeTensors(name, header.entries, bytes.subarray(dataStart)), metadata: header.metadata };
}

function checkTensors(op: string, tensors: unknown): Array<[string, Tensor | IntegerTensor]> {
  if (!isPlainObject(tensors) || tensors instanceof Tensor || tensors instanceof IntegerTensor) {
    throw new TypeError(`${op}: tensors must be an object of name -> Tensor or IntegerTensor, got ${describe(tensors)}`);
  }
  const list = Object.entries(tensors);
  for (const [key, t] of list) {
    if (key === '' || key === METADATA_KEY) throw new RangeError(`${op}: '${key}' cannot be a tensor name`);
    if (!(t instanceof Tensor) && !(t instanceof IntegerTensor)) throw new TypeError(`${op}: tensor '${key}' must be a Tensor or IntegerTensor, got ${describe(t)}`);
    if (t instanceof IntegerTensor) t.checkAttached(`${op}: '${key}'`); // a Tensor's data getter checks itself
  }
  return list as Array<[string, Tensor | IntegerTensor]>;
}

/** Checks that metadata is an object of string -> string (the format allows nothing else). */
export function checkMetadata(op: string, metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {};
  if (!isPlainObject(metadata)) throw new TypeError(`${op}: metadata must be an object of string -> string, got ${describe(metadata)}`);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new TypeError(`${op}: metadata value '${key}' must be a string, got ${describe(value)}`);
  }
  return metadata as Record<string, string>;
}

/**
 * Serialises tensors (in their object order, contiguous) and metadata as safetensors bytes:
 * a Tensor as F32, an IntegerTensor in its own dtype. The header lists __metadata__ first and
 * is padded with spaces to a multiple of 8 bytes, as the reference implementation writes it, so
 * the data section starts 8-byte aligned.
 */
export function writeSafetensors(tensors: Record<string, Tensor | IntegerTensor>, metadata?: Record<string, string>): Uint8Array {
  const op = 'writeSafetensors';
  const list = checkTensors(op, tensors);
  const meta = checkMetadata(op, metadata);
  // Built by hand rather than JSON.stringify(object): an object would move integer-like names first.
  const fields: string[] = [];
  if (Object.keys(meta).length > 0) fields.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(meta)}`);
  let offset = 0;
  for (const [key, t] of list) {
    const dtype = t instanceof IntegerTensor ? t.dtype : 'F32';
    const end = offset + t.size * itemBytes(dtype);
    fields.push(`${JSON.stringify(key)}:${JSON.stringify({ dtype, shape: t.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of list) {
    // A GPU tensor is copied to the host once.
    const data = t instanceof IntegerTensor ? t.data : t.device === 'cpu' ? t.data : t.toArray();
    out.set(encodeLittleEndian(data), at);
    at += data.byteLength;
  }
  return out;
}
