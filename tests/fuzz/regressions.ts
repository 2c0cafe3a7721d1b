// Cases the fuzzer found, replayed on every vitest run (tests/fuzz/regressions.test.ts) in a
// child process like the fuzz itself. To add one: copy the property name and the
// counterexample that `npm run fuzz` printed, with a line on what it found and what fixed it.
// A case for a defect still open goes in with `open: '<why>'`: it is reported as a todo until fixed.

export interface Regression {
  property: string;
  /** The counterexample, as printed (fc.stringify gives valid JS for it). */
  example: unknown;
  /** What it found, and the fix. */
  note: string;
  /** Set while the defect is open: the case is listed as todo instead of run. */
  open?: string;
}

export const regressions: Regression[] = [
  {
    property: 'ops.bad-input-throws',
    example: { base: { op: 'gemm', a: [1, 1], b: [1, 1], c: null, opts: {}, data: { seed: 0, scale: 0.1 } }, arg: 2, key: undefined, value: { badTensor: 'detached', shape: [1] }, async: false },
    note: 'a detached c was read as empty (js gave NaN); backendFor in lib/check.ts now rejects detached tensors',
  },
  {
    property: 'ops.bad-input-throws',
    example: { base: { op: 'conv2d', x: [1, 1, 3, 3], w: [1, 1, 1, 1], bias: false, opts: {}, data: { seed: 1, scale: 1 } }, arg: 0, key: undefined, value: { badTensor: 'detached', shape: [1, 1, 3, 3] }, async: true },
    note: 'conv2dAsync on a detached input computed on an empty buffer; fixed with the backendFor check',
  },
  {
    property: 'ops.bad-input-throws',
    example: { arg: 2, value: [], base: { op: 'tensor', args: [[1, 2, 3, 4], [2, 2], {}] }, async: false },
    note: 'tensor(data, shape, []) ignored the array; lib/tensor.ts now rejects it with a TypeError',
  },
];
