// Symbolic sizes. A dim that is not known at import (a dynamic batch) is an expression over the
// shapes that tensors have at run time: "dim 0 of value 3", or arithmetic on such dims. Shape
// subgraphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) are computed on these at import:
// where every size is known they fold to numbers, and otherwise the consumer (Reshape, Slice)
// evaluates its few expressions on the host at run time, from the shapes it has seen.

/** A size of slot's tensor along axis, read at run time. */
export interface DimOf { readonly slot: number; readonly axis: number }
/** Integer arithmetic on sizes (ONNX Div on integers truncates, as C does). */
export interface DimOp { readonly op: '+' | '-' | '*' | '/'; readonly a: Dim; readonly b: Dim }
export type Dim = number | DimOf | DimOp;

/** The shapes of the tensors seen so far in a run, by slot. */
export type ShapeTable = ReadonlyArray<readonly number[] | undefined>;

const key = new WeakMap<object, string>();

/** A string equal for structurally equal dims, so that two reads of one size compare equal. */
export function dimKey(d: Dim): string {
  if (typeof d === 'number') return String(d);
  let k = key.get(d);
  if (k === undefined) {
    k = 'slot' in d ? `s${d.slot}.${d.axis}` : `(${dimKey(d.a)}${d.op}${dimKey(d.b)})`;
    key.set(d, k);
  }
  return k;
}

export const sameDim = (a: Dim, b: Dim): boolean => a === b || dimKey(a) === dimKey(b);

function apply(op: DimOp['op'], a: number, b: number): number {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    default:
      if (b === 0) throw new RangeError('importOnnx: a shape computation divides by zero');
      return Math.trunc(a / b);
  }
}

/** a op b, folded to a number when both are known. */
export function dimOp(op: DimOp['op'], a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return apply(op, a, b);
  if (op === '*' && (a === 1 || b === 1)) return a === 1 ? b : a;
  if ((op === '/' || op === '-' || op === '+') && b === (op === '/' ? 1 : 0)) return a;
  return { op, a, b };
}

/** The product of dims (1 for none). */
export function dimProduct(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((p, d) => dimOp('*', p, d), 1);
}

/** The value of d in a run. */
export function evalDim(d: Dim, shapes: ShapeTable): number {
  if (typeof d === 'number') return d;
  if ('slot' in d) return (shapes[d.slot] as readonly number[])[d.axis];
  return apply(d.op, evalDim(d.a, shapes), evalDim(d.b, shapes));
}

export function evalDims(dims: readonly Dim[], shapes: ShapeTable): number[] {
  return dims.map((d) => evalDim(d, shapes));
}

export const isKnown = (dims: readonly Dim[]): dims is number[] => dims.every((d) => typeof d === 'number');

/** For messages: [N?, 3, 32, 32] with unknown sizes as '?'. */
export function formatDims(dims: readonly Dim[]): string {
  return `[${dims.map((d) => (typeof d === 'number' ? String(d) : '?')).join(', ')}]`;
}
