// Argument checks shared by every op: tensors, ranks, options objects and option values.
// Messages start with the op name and name the argument, so every op reports errors the
// same way (TypeError for a wrong type, RangeError for a wrong value).
import { Tensor } from './tensor.js';
import { backendForDevice } from './backend/registry.js';
import type { AnyBackend, DeviceName } from './backend/types.js';
import { checkedNumel, describe, formatShape, numel } from './shape.js';

export function checkTensor(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor, got ${describe(x)}`);
  return x;
}

/** A tensor of exactly one of the given ranks. */
export function checkTensorRank(op: string, name: string, x: unknown, ranks: number | readonly number[], layout = ''): Tensor {
  const t = checkTensor(op, name, x);
  const allowed = typeof ranks === 'number' ? [ranks] : ranks;
  if (!allowed.includes(t.ndim)) {
    const want = allowed.map((r) => `${r}-d`).join(' or ');
    throw new RangeError(`${op}: ${name} must be ${want}${layout ? ` (${layout})` : ''}, got shape ${formatShape(t.shape)}`);
  }
  return t;
}

/** null for null/undefined, else a Tensor. */
export function checkOptionalTensor(op: string, name: string, x: unknown): Tensor | null {
  return x === undefined || x === null ? null : checkTensor(op, name, x);
}

/** The options object (or {}), rejecting keys the op does not know (typos would be silent). */
export function checkOptions<T extends object>(op: string, opts: unknown, known: readonly (keyof T & string)[]): Partial<T> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts) || opts instanceof Tensor) {
    throw new TypeError(`${op}: options must be an object like { ${known.join(', ')} }, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!(known as readonly string[]).includes(key)) {
      throw new TypeError(`${op}: unknown option '${key}' (expected ${known.join(', ')})`);
    }
  }
  return opts as Partial<T>;
}

/** An integer >= min; 'positive' / 'non-negative' in messages for min 1 / 0. */
export function checkInt(op: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min) {
    const kind = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new RangeError(`${op}: ${name} must be ${kind}, got ${value}`);
  }
  return value;
}

export function checkFiniteNumber(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${op}: ${name} must be finite, got ${value}`);
  return value;
}

export function checkBoolean(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${op}: ${name} must be a boolean, got ${describe(value)}`);
  return value;
}

/**
 * The backend for an op's tensors (null ones are skipped): all must be live and on one device,
 * else a TypeError names them. Ops never move data between devices on their own.
 */
export function backendFor(op: string, tensors: Record<string, Tensor | null | undefined>): AnyBackend {
  let device: DeviceName | null = null;
  let first = '';
  for (const name in tensors) { // for-in: no entries array on this per-op path
    const t = tensors[name];
    if (!t) continue;
    if (t.isDisposed) throw new TypeError(`${op}: ${name} ${formatShape(t.shape)} was disposed`);
    // A transferred (detached) buffer reads as length 0: the kernels would compute on nothing.
    if (t.size !== numel(t.shape)) {
      throw new TypeError(`${op}: ${name} ${formatShape(t.shape)} lost its data: its ArrayBuffer was detached (transferred with postMessage or structuredClone)`);
    }
    if (device === null) {
      device = t.device;
      first = name;
    } else if (t.device !== device) {
      throw new TypeError(`${op}: ${name} is on ${t.device} but ${first} is on ${device}; move them to one device with .to('${device}')`);
    }
  }
  return backendForDevice(device ?? 'cpu');
}

/** A zero-filled tensor on the backend's device, checking its size before allocating. */
export function allocResult(op: string, shape: readonly number[], backend: AnyBackend): Tensor {
  return new Tensor(backend.alloc(checkedNumel(op, 'output shape', shape)), Object.freeze(shape.slice()));
}

/** An op's result that its kernel overwrites completely: not zero-filled (see Backend.empty). */
export function emptyResult(op: string, shape: readonly number[], backend: AnyBackend): Tensor {
  return new Tensor(backend.empty(checkedNumel(op, 'output shape', shape)), Object.freeze(shape.slice()));
}
