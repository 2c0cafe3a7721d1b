// Tensor: a shape plus float32 storage on a device, and the autograd fields. Storage is a
// Float32Array on the host or a DeviceArray on the GPU; ops reach it through the backend of
// the tensor's device and never copy it across devices behind the user's back.
import { needsGrad, record, runBackward, type GradNode } from './autograd.js';
import { backendForDevice, getDefaultDevice } from './backend/registry.js';
import type { AnyBackend, DeviceName, Storage } from './backend/types.js';
import { checkedNumel, describe, formatShape, numel, parseShape } from './shape.js';

/** Options of tensor(): whether the tensor records a gradient, and on which device it lives. */
export interface TensorOptions {
  requiresGrad?: boolean;
  /** Where to store the data: 'cpu' or 'cuda'; default: the default device (see setBackend). */
  device?: DeviceName;
}

const DEVICES: readonly DeviceName[] = ['cpu', 'cuda'];

export function checkDevice(op: string, device: unknown): DeviceName {
  if (typeof device !== 'string' || !(DEVICES as readonly string[]).includes(device)) {
    throw new TypeError(`${op}: device must be 'cpu' or 'cuda', got ${describe(device)}`);
  }
  return device as DeviceName;
}

/** Where a storage lives. */
export function deviceOf(storage: Storage): DeviceName {
  return storage instanceof Float32Array ? 'cpu' : 'cuda';
}

// Host tensors that share one array (reshape, detach) are counted here, so that dispose()
// gives the memory back only when the last of them goes (a device view holds its own handle).
const hostSharers = new WeakMap<ArrayBufferLike, number>();

/** Another handle to the same memory: the array itself on the host, a view on a device (so disposing one handle keeps the other). */
export function shareStorage(storage: Storage): Storage {
  if (!(storage instanceof Float32Array)) return storage.view(0, storage.length);
  hostSharers.set(storage.buffer, (hostSharers.get(storage.buffer) ?? 1) + 1);
  return storage;
}

/** Drops one handle to storage; the memory returns to its backend's cache with the last (see Backend.release for detach). */
function releaseStorage(storage: Storage, detach: boolean): void {
  if (!(storage instanceof Float32Array)) {
    storage.dispose();
    return;
  }
  const sharers = (hostSharers.get(storage.buffer) ?? 1) - 1;
  if (sharers > 0) {
    hostSharers.set(storage.buffer, sharers);
    return;
  }
  hostSharers.delete(storage.buffer);
  backendForDevice('cpu').release(storage, detach);
}

/**
 * A copy of storage on another device. One of the two backends is a device backend, whose
 * fromHost uploads (the source may be reused at once) and whose toHost downloads into new
 * memory, so the result never shares memory with the source and needs no extra host copy.
 */
function moveStorage(storage: Storage, from: AnyBackend, into: AnyBackend): Storage {
  return into.fromHost(from.toHost(storage));
}

/**
 * @internal Memory made on first use, for the parameters of a module built under
 * withDeferredInit (lib/nn/deferred.ts): materialize() gives every tensor of the group its
 * storage at once, so a layer's weight and bias are drawn together and in order.
 */
export interface DeferredStorage {
  readonly deferred: true;
  materialize(): void;
}

/**
 * An n-dimensional float32 array (row-major, NCHW for images) on the host (`cpu`) or on a GPU
 * (`cuda`), with an optional gradient: create one with tensor(); ops return new tensors and record
 * themselves for backward() when an input requires a gradient.
 */
export class Tensor {
  readonly shape: readonly number[];
  /** The number of elements. */
  readonly size: number;
  private storageRef: Storage | null;
  /** Set while the storage is deferred; the device it will be made on (moveTo changes it). */
  private pending: { storage: DeferredStorage; device: DeviceName } | null = null;
  /** True for parameters (set by the user) and for op results that depend on them. */
  requiresGrad: boolean;
  /**
   * Counts the times the values may have changed in place: an optimizer step, loadStateDict,
   * a move, or handing out `data` (which the caller may write). A compiled model compares it
   * to the version its weights were copied at.
   */
  version = 0;
  /** The summed gradient, on leaves only (tensors not produced by a recorded op). */
  grad: Tensor | null = null;
  /** @internal The tape entry of the op that produced this tensor, when it was recorded. */
  gradFn: GradNode | null = null;
  private released = false;

  /**
   * Wraps storage without copying it; shape must be valid and match its length. Prefer the
   * tensor() factory, which validates and copies.
   */
  constructor(storage: Storage, shape: readonly number[], requiresGrad = false) {
    if (!(storage instanceof Float32Array) && !isDeviceArray(storage)) {
      throw new TypeError(`Tensor: storage must be a Float32Array (or a cuda DeviceArray), got ${describe(storage)}`);
    }
    if (!validShape(shape)) throw new RangeError(`Tensor: shape must be an array of non-negative integers, got ${describe(shape)}`);
    if (storage.length !== numel(shape)) {
      throw new RangeError(`Tensor: data has ${storage.length} elements but shape ${formatShape(shape)} needs ${numel(shape)}`);
    }
    this.storageRef = storage;
    this.size = storage.length;
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze(shape.slice());
    this.requiresGrad = requiresGrad;
  }

  /** @internal A tensor of shape whose memory `storage` makes on first use (see DeferredStorage). */
  static deferred(storage: DeferredStorage, shape: readonly number[], device: DeviceName): Tensor {
    // Built through the one constructor (so every field exists in the same order), then given
    // its real shape: the constructor checks storage against shape, and there is no storage yet.
    const t = new Tensor(EMPTY, [0]);
    Object.assign(t, { shape: Object.freeze(shape.slice()), size: numel(shape) });
    t.storageRef = null;
    t.pending = { storage, device };
    return t;
  }

  /** @internal The values: a Float32Array on the host, a DeviceArray on cuda. */
  get storage(): Storage {
    return this.storageRef ?? this.materialize();
  }

  set storage(storage: Storage) {
    this.storageRef = storage;
  }

  /** True when the ArrayBuffer behind the data was transferred away (postMessage, structuredClone). */
  get isDetached(): boolean {
    return this.storageRef !== null && this.storageRef.length !== this.size;
  }

  /** @internal Whether the memory is still deferred (made on first use). */
  get isDeferred(): boolean {
    return this.pending !== null;
  }

  /** @internal Gives a deferred tensor its memory, made on the cpu, and moves it to its device. */
  adopt(storage: Float32Array): void {
    if (this.pending === null) throw new TypeError(`adopt: the tensor ${formatShape(this.shape)} already has its memory`);
    if (storage.length !== this.size) throw new RangeError(`adopt: ${storage.length} values for a tensor ${formatShape(this.shape)}`);
    const { device } = this.pending;
    this.pending = null;
    this.storageRef = storage;
    this.version += 1;
    this.moveTo(device);
  }

  private materialize(): Storage {
    if (this.pending === null) throw new TypeError('Tensor: no storage'); // unreachable: storageRef is set whenever pending is null
    this.pending.storage.materialize();
    return this.storageRef as Storage;
  }

  /** 'cpu' or 'cuda'. */
  get device(): DeviceName {
    return this.storageRef ? deviceOf(this.storageRef) : (this.pending as { device: DeviceName }).device;
  }

  /** The host values themselves (not a copy); only for tensors on the cpu. */
  get data(): Float32Array {
    this.checkLive('data');
    this.version += 1;
    if (!(this.storage instanceof Float32Array)) {
      throw new TypeError(`data: this tensor ${formatShape(this.shape)} is on ${this.device}; read it with toArray() or toArrayAsync(), or move it with to('cpu')`);
    }
    return this.storage;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** True after dispose(). */
  get isDisposed(): boolean {
    return this.released;
  }

  /** The value of a 1-element tensor (waits for the device). */
  item(): number {
    if (this.size !== 1) {
      throw new RangeError(`item: only a 1-element tensor has an item, but this tensor has shape ${formatShape(this.shape)}`);
    }
    return this.toArray()[0];
  }

  /** A host copy of the data, row-major (waits for the device). */
  toArray(): Float32Array {
    this.checkLive('toArray');
    if (this.storage instanceof Float32Array) return this.storage.slice();
    return backendForDevice(this.device).toHost(this.storage);
  }

  /** A host copy of the data; on cuda the wait for the GPU happens off the event loop. */
  async toArrayAsync(): Promise<Float32Array> {
    this.checkLive('toArrayAsync');
    if (this.storage instanceof Float32Array) return this.storage.slice();
    return backendForDevice(this.device).toHostAsync(this.storage);
  }

  /**
   * This tensor on `device`: itself when it is already there, else a copy, recorded on the tape
   * so gradients flow back to the source device.
   */
  to(device: DeviceName): Tensor {
    const target = checkDevice('to', device);
    this.checkLive('to');
    if (target === this.device) return this;
    const from = backendForDevice(this.device);
    const into = backendForDevice(target);
    const out = new Tensor(moveStorage(this.storage, from, into), this.shape);
    return needsGrad(this) ? record(out, 'to', [this], (g) => [moveStorage(g, into, from)]) : out;
  }

  /** The same data, cut from the tape. */
  detach(): Tensor {
    this.checkLive('detach');
    return new Tensor(shareStorage(this.storage), this.shape);
  }

  /**
   * Releases the storage now instead of at garbage collection (device memory returns to the
   * cache). Safe to call twice; the tensor cannot be used afterwards. Other tensors that share
   * the data (reshape, detach) keep it.
   */
  dispose(): void {
    this.free(true);
  }

  /** @internal dispose() for a tensor the user never saw: its memory is reused without detaching stale views. */
  free(detach: boolean): void {
    if (this.released) return;
    this.released = true;
    if (this.storageRef) releaseStorage(this.storageRef, detach);
    this.pending = null;
    this.grad?.dispose();
    this.grad = null;
    this.gradFn = null;
  }

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad,
   * adding it to leaf.grad. Without an argument the tensor must hold one element (a loss).
   */
  backward(grad?: Tensor): void {
    if (!this.requiresGrad) {
      throw new Error(`backward: this tensor ${formatShape(this.shape)} does not require grad (no input of the ops that made it had requiresGrad, or it was made under noGrad)`);
    }
    this.checkLive('backward');
    const be = backendForDevice(this.device);
    const seed = be.empty(this.size); // the walk accumulates in place, so it owns a fresh buffer; filled below
    if (grad === undefined) {
      if (this.size !== 1) {
        throw new RangeError(`backward: a gradient can be implied only for a 1-element (scalar) tensor, but this one has shape ${formatShape(this.shape)}; pass backward(grad) with a gradient of that shape`);
      }
      be.fill(seed, 1);
    } else {
      if (!(grad instanceof Tensor)) throw new TypeError(`backward: grad must be a Tensor, got ${describe(grad)}`);
      if (grad.shape.length !== this.shape.length || grad.shape.some((d, i) => d !== this.shape[i])) {
        throw new RangeError(`backward: grad has shape ${formatShape(grad.shape)} but the tensor has shape ${formatShape(this.shape)}`);
      }
      if (grad.device !== this.device) throw new TypeError(`backward: grad is on ${grad.device} but the tensor is on ${this.device}`);
      be.copy(grad.storage, seed);
    }
    runBackward(this, seed);
  }

  /** @internal Adds g to this leaf's gradient; true when the gradient keeps g itself (the first one). */
  accumulateGrad(g: Storage): boolean {
    if (this.grad === null) {
      this.grad = new Tensor(g, this.shape);
      return true;
    }
    backendForDevice(this.device).axpy(1, g, this.grad.storage);
    return false;
  }

  /** @internal Moves the values to `device` in place (Module.to): every holder of this tensor sees the move. */
  moveTo(device: DeviceName): void {
    this.checkLive('to');
    if (device === this.device) return;
    if (this.pending) {
      this.pending.device = device;
      return;
    }
    const moved = moveStorage(this.storage, backendForDevice(this.device), backendForDevice(device));
    if (!(this.storage instanceof Float32Array)) this.storage.dispose();
    this.storage = moved;
    this.version += 1;
    if (this.grad) this.grad.moveTo(device);
  }

  /** @internal Throws a TypeError naming op when the tensor was disposed or its buffer detached. */
  checkLive(op: string): void {
    if (this.released) throw new TypeError(`${op}: the tensor ${formatShape(this.shape)} was disposed`);
    if (this.isDetached) {
      throw new TypeError(`${op}: the tensor ${formatShape(this.shape)} lost its data: its ArrayBuffer was detached (transferred with postMessage or structuredClone)`);
    }
  }

  /** `Tensor(shape=[...], device=..., requiresGrad)`: the shape and flags, never the values. */
  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}${this.device === 'cpu' ? '' : `, device=${this.device}`}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

const EMPTY = new Float32Array(0);

/** An array of non-negative integers (a plain loop: every op's result passes here). */
function validShape(shape: readonly number[]): boolean {
  if (!Array.isArray(shape)) return false;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d < 0) return false;
  }
  return true;
}

/** A cuda DeviceArray handle (made by the addon; see lib/backend/types.ts). */
function isDeviceArray(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<Record<'dtype' | 'view' | 'dispose', unknown>>;
  return v.dtype === 'float32' && typeof v.view === 'function' && typeof v.dispose === 'function';
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const length = (value as { length?: unknown }).length;
  return typeof length === 'number' && Number.isInteger(length) && length >= 0;
}

/** A new tensor holding a float32 copy of data, laid out row-major in shape. */
export function tensor(data: ArrayLike<number>, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  if (!isArrayLike(data)) {
    throw new TypeError(`tensor: data must be an array-like of numbers (Array, Float32Array, ...), got ${describe(data)}`);
  }
  const dims = parseShape('tensor', shape);
  const n = checkedNumel('tensor', 'shape', dims);
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new TypeError(`tensor: opts must be an object, got ${describe(opts)}`);
  for (const key of Object.keys(opts)) {
    if (key !== 'requiresGrad' && key !== 'device') throw new TypeError(`tensor: unknown option '${key}' (expected requiresGrad, device)`);
  }
  const requiresGrad = opts.requiresGrad ?? false;
  const device = opts.device === undefined ? getDefaultDevice() : checkDevice('tensor', opts.device);
  if (typeof requiresGrad !== 'boolean') {
    throw new TypeError(`tensor: opts.requiresGrad must be a boolean, got ${describe(requiresGrad)}`);
  }
  if (!ArrayBuffer.isView(data)) {
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number') {
        throw new TypeError(`tensor: data[${i}] must be a number, got ${describe(data[i])}${Array.isArray(data[i]) ? ' (flatten nested arrays first)' : ''}`);
      }
    }
  }
  if (data.length !== n) {
    throw new RangeError(`tensor: data has ${data.length} elements but shape ${formatShape(dims)} needs ${n}`);
  }
  if (device === 'cpu') {
    // The cpu backend's storage: a large tensor lives in the host cache like any op result.
    const values = backendForDevice('cpu').empty(n) as Float32Array;
    values.set(data);
    return new Tensor(values, dims, requiresGrad);
  }
  return new Tensor(backendForDevice(device).fromHost(Float32Array.from(data)), dims, requiresGrad);
}
