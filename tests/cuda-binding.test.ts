// The cuda half of the addon, checked where it is built but no GPU may be present: every
// kernel of the Backend contract is exported, device arrays come only from the addon, and
// any bad argument (host arrays, junk, missing ones) is a TypeError or RangeError that names
// it: never a crash, and never a kernel launch.
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../lib/native.js';
import { jsBackend } from '../lib/backend/js/index.js';
import { convGeometry } from '../lib/geometry.js';

const addon = loadNativeAddon().addon;
const probe = addon?.cuda.probe();
const cuda = (addon?.cuda ?? {}) as unknown as Record<string, (...args: unknown[]) => unknown>;

// The contract's kernels: the js backend's functions without the storage ones (DeviceArray methods on cuda).
const notKernels = new Set(['alloc', 'empty', 'release', 'fromHost', 'toHost', 'toHostAsync', 'copyFromHost', 'view', 'int32FromHost', 'int32ToHost', 'allocInt32', 'uint8FromHost']);
const kernelNames = Object.entries(jsBackend).filter(([name, v]) => typeof v === 'function' && !notKernels.has(name)).map(([name]) => name);

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return null;
}

describe.skipIf(!probe?.built)('the cuda binding', () => {
  it('exports every kernel of the Backend contract', () => {
    expect(kernelNames.length).toBeGreaterThan(40);
    for (const name of kernelNames) expect(typeof cuda[name], name).toBe('function');
  });

  it('makes device arrays only through empty() and upload()', () => {
    const DeviceArray = cuda.DeviceArray as unknown as new () => unknown;
    expect(() => new DeviceArray()).toThrow(new TypeError('DeviceArray: not constructible from JS; use cuda.empty() or cuda.upload()'));
  });

  it.skipIf(probe?.available)('refuses device memory without a GPU, saying why', () => {
    expect(() => cuda.empty('float32', 4)).toThrow(new RangeError(`CUDA is not available: ${probe!.reason}`));
    expect(() => cuda.upload(new Float32Array(4))).toThrow(RangeError);
    expect(cuda.memoryStats()).toEqual({ allocatedBytes: 0, reservedBytes: 0, peakAllocatedBytes: 0, allocations: 0, cacheHits: 0, deviceAllocations: 0 });
    expect(() => cuda.emptyCache()).not.toThrow();
  });

  it('checks its arguments before anything else', () => {
    expect(() => cuda.empty('float64', 4)).toThrow(new TypeError("empty: dtype must be 'float32', 'int32' or 'uint8'"));
    expect(() => cuda.upload([1, 2])).toThrow(TypeError);
    const g = convGeometry('t', [1, 1, 4, 4], [1, 1, 3, 3], {});
    const f = (n: number) => new Float32Array(n);
    expect(() => cuda.conv2dForward(g, f(16), f(9), null, f(4))).toThrow(new TypeError('conv2dForward: x must be a cuda DeviceArray of float32'));
    expect(() => cuda.relu(f(4), f(4))).toThrow(new TypeError('relu: x must be a cuda DeviceArray of float32'));
    expect(() => cuda.gemm({ transA: false, transB: false, m: 1, n: 1, k: 1, alpha: 1, beta: 0, a: f(1), b: f(1), c: f(1) }))
      .toThrow(new TypeError('gemm: a must be a cuda DeviceArray of float32'));
  });

  it('answers junk in every position of every kernel with a TypeError or RangeError', () => {
    const junk: unknown[] = [undefined, null, 0, -1, 1e300, NaN, 'x', {}, [], new Float32Array(3), new Int32Array(3), new Uint8Array(3)];
    for (const name of kernelNames) {
      for (let position = 0; position < 10; position++) {
        for (const value of junk) {
          const args: unknown[] = Array.from({ length: 10 }, (_, i) => (i === position ? value : new Float32Array(1)));
          const err = errorOf(() => cuda[name](...args));
          expect(err instanceof TypeError || err instanceof RangeError, `${name} with ${String(value)} at ${position}: ${String(err)}`).toBe(true);
        }
      }
    }
  });
});
