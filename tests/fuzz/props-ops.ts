// Properties of the ops: cpu equals js, bad input throws TypeError/RangeError on every backend,
// and the async ops equal the sync ones.
import fc from 'fast-check';
import { Tensor } from '../../lib/index.js';
import { backends, expectClose, forwardBackward, randData, rng, withBackend, withBackendAsync, type PassResult } from '../helpers.js';
import { convCase, gemmCase, matmulCase, opCase, poolCase, type OpCase } from './arbitraries.js';
import { badCall, runBadCall, type BadCall } from './bad-calls.js';
import { opCall, type Call } from './calls.js';
import { attempt, attemptAsync, errorText, expectTypeOrRangeError, type FuzzProperty } from './property.js';

/** The tolerance tests/op-cases.ts uses for a reduction of this length (caseTolerance). */
const tolerance = (reduction: number) => 1e-4 * Math.max(1, Math.sqrt(reduction) / 16);

const isLoss = (c: OpCase) => ['crossEntropy', 'crossEntropyProbs', 'nllLoss', 'mseLoss', 'bceWithLogits'].includes(c.op);

/**
 * expectClose, where an infinite expected value (a max-pool window wholly in the padding gives
 * -Infinity) must be matched exactly and the rest are compared as usual.
 */
function expectCloseOrSameInfinity(actual: Float32Array, expected: Float32Array, label: string, tol: number): void {
  const finite: number[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (Number.isFinite(expected[i])) finite.push(i);
    else if (!Object.is(actual[i], expected[i]) && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) {
      throw new Error(`${label}: mismatch at [${i}]: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
  if (actual.length !== expected.length) throw new Error(`${label}: ${actual.length} values, expected ${expected.length}`);
  expectClose(finite.map((i) => actual[i]), finite.map((i) => expected[i]), label, tol);
}

function comparePasses(actual: PassResult, expected: PassResult, label: string, tol: number): void {
  if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) {
    throw new Error(`${label}: shape ${JSON.stringify(actual.shape)}, expected ${JSON.stringify(expected.shape)}`);
  }
  expectCloseOrSameInfinity(actual.out, expected.out, `${label} forward`, tol);
  if (actual.grads.length !== expected.grads.length) throw new Error(`${label}: ${actual.grads.length} gradients, expected ${expected.grads.length}`);
  actual.grads.forEach((g, i) => expectCloseOrSameInfinity(g, expected.grads[i], `${label} grad of input ${i}`, tol));
}

export const cpuEqualsJs: FuzzProperty<OpCase> = {
  name: 'ops.cpu-equals-js',
  arbitrary: opCase,
  needsCpu: true,
  ciRuns: 2000,
  check: (c) => {
    const call = opCall(c);
    const seed = 'data' in c ? c.data.seed : 0;
    const js = withBackend('js', () => attempt(() => forwardBackward(call.inputs, call.forward, seed)));
    const cpu = withBackend('cpu', () => attempt(() => forwardBackward(call.inputs, call.forward, seed)));
    if (!js.ok) expectTypeOrRangeError(js.error, 'js');
    if (!cpu.ok) expectTypeOrRangeError(cpu.error, 'cpu');
    if (!js.ok || !cpu.ok) {
      const [a, b] = [js.ok ? 'returned a result' : errorText(js.error), cpu.ok ? 'returned a result' : errorText(cpu.error)];
      if (a !== b) throw new Error(`the backends disagree: js ${a}, cpu ${b}`);
      return 'both threw';
    }
    // The loss tests compare at 1e-5 (their sums are accumulated in double on both backends).
    comparePasses(cpu.value, js.value, c.op, isLoss(c) ? 1e-5 : tolerance(call.reduction));
    return 'compared';
  },
};

/** The bad call on one backend: it must throw (or reject with) a TypeError or RangeError. */
async function badOutcome(backend: (typeof backends)[number], c: BadCall): Promise<string> {
  const o = await withBackendAsync(backend, () => attemptAsync(() => runBadCall(c)));
  if (o.ok) throw new Error(`${backend}: returned ${o.value instanceof Tensor ? o.value.toString() : String(o.value)} instead of throwing`);
  expectTypeOrRangeError(o.error, backend);
  return errorText(o.error);
}

export const badInputThrows: FuzzProperty<BadCall> = {
  name: 'ops.bad-input-throws',
  arbitrary: badCall,
  ciRuns: 2000,
  check: async (c) => {
    const errors = new Map<string, string>();
    for (const backend of backends) errors.set(backend, await badOutcome(backend, c));
    // The checks run before any kernel, so every backend must give the same error.
    const distinct = new Set(errors.values());
    if (distinct.size > 1) throw new Error(`the backends throw different errors: ${[...errors].map(([b, e]) => `${b}: ${e}`).join('; ')}`);
  },
};

const asyncCase: fc.Arbitrary<OpCase> = fc.oneof(convCase, poolCase.filter((c) => c.op === 'maxPool2d'), gemmCase, matmulCase);

/** forward with the async op, then backward with the same upstream gradient as forwardBackward. */
async function forwardBackwardAsync(call: Call, seed: number): Promise<PassResult> {
  const inputs = call.inputs();
  const y = await call.forwardAsync!(inputs);
  y.backward(new Tensor(randData(rng(seed ^ 0x5eed), y.size), y.shape));
  return { out: y.toArray(), shape: y.shape, grads: inputs.filter((t) => t.requiresGrad).map((t) => t.grad?.toArray() ?? new Float32Array(0)) };
}

export const asyncEqualsSync: FuzzProperty<OpCase> = {
  name: 'ops.async-equals-sync',
  arbitrary: asyncCase,
  ciRuns: 1000,
  check: async (c) => {
    const call = opCall(c);
    const seed = 'data' in c ? c.data.seed : 0;
    let tag = 'both threw';
    for (const backend of backends) {
      const sync = withBackend(backend, () => attempt(() => forwardBackward(call.inputs, call.forward, seed)));
      const async = await withBackendAsync(backend, () => attemptAsync(() => forwardBackwardAsync(call, seed)));
      if (!sync.ok || !async.ok) {
        const [a, b] = [sync.ok ? 'returned a result' : errorText(sync.error), async.ok ? 'returned a result' : errorText(async.error)];
        // The async op names itself in its errors (conv2dAsync: ...); the rest must match.
        if (a.replace(/^(\w+: \w+)Async:/, '$1:') !== b.replace(/^(\w+: \w+)Async:/, '$1:')) throw new Error(`${backend}: sync ${a}, async ${b}`);
        if (!async.ok) expectTypeOrRangeError(async.error, `${backend} async`);
        continue;
      }
      comparePasses(async.value, sync.value, `${backend} ${c.op}`, 1e-6); // tests/async.test.ts's tolerance
      tag = 'compared';
    }
    return tag;
  },
};

export const opsProperties: FuzzProperty[] = [cpuEqualsJs, badInputThrows, asyncEqualsSync];
