// Pure shape arithmetic and shape validation, shared by tensor() and every op. No Tensor here,
// so tensor.ts can use it without an import cycle.

/** The most elements one tensor may hold: Float32Array lengths and int32 indices stop here. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** 1e15, 2.15e9: short enough for an error message. */
function formatCount(n: number): string {
  if (n < 1e9) return String(n);
  const exp = Math.floor(Math.log10(n));
  return `${Number((n / 10 ** exp).toPrecision(3))}e${exp}`;
}

/** Short description of a value for "got ..." in error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array [${value.slice(0, 6).map(describe).join(',')}${value.length > 6 ? ',...' : ''}]`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `string '${value.length > 20 ? value.slice(0, 20) + '...' : value}'`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** numel(shape), or a RangeError when it is beyond MAX_ELEMENTS (checked before allocating). */
export function checkedNumel(op: string, what: string, shape: readonly number[]): number {
  const n = numel(shape);
  if (n > MAX_ELEMENTS) {
    throw new RangeError(`${op}: ${what} ${formatShape(shape)} has ${formatCount(n)} elements, more than the limit 2^31-1`);
  }
  return n;
}

/** Validates a user-given shape: an array of non-negative integers. Returns a frozen copy. */
export function parseShape(op: string, shape: unknown, name = 'shape'): readonly number[] {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${op}: ${name} must be an array of non-negative integers, got ${describe(shape)}`);
  }
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number') throw new TypeError(`${op}: ${name}[${i}] must be a number, got ${describe(d)}`);
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: ${name}[${i}] must be a non-negative integer, got ${d}`);
    }
  }
  return Object.freeze(shape.slice() as number[]);
}

/** Resolves a possibly negative axis against ndim (numpy style), or throws a RangeError. */
export function normalizeAxis(op: string, name: string, axis: unknown, shape: readonly number[]): number {
  if (typeof axis !== 'number') throw new TypeError(`${op}: ${name} must be an integer, got ${describe(axis)}`);
  // A 0-d tensor behaves like one element along axis 0 / -1, as in PyTorch.
  const ndim = Math.max(shape.length, 1);
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new RangeError(`${op}: ${name} ${axis} is out of range for a ${shape.length}-d tensor ${formatShape(shape)} (expected an integer in [${-ndim}, ${ndim - 1}])`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Whether two shapes are the same, dimension by dimension. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Numpy broadcasting of two shapes, or null when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out[i] = da === 1 ? db : da;
  }
  return out;
}
