// The cpu backend's async kernels run on memory that their libuv worker holds. A block of the
// addon's cache is held by the worker itself (native/binding/call.cpp), so disposing its tensor
// or transferring its ArrayBuffer during the op cannot free or reuse it. Any other array (a V8
// array, the user's own) is copied into a block first, and outputs are copied back after: a
// transfer (postMessage, structuredClone) would otherwise free memory the kernel still reads or
// writes. The copies cost a memcpy of the arrays that were not in the cache; tensors made by
// convkit from 1 MiB up already are. Where the cache's limit leaves no room for a copy, the
// kernel runs synchronously instead.
import type { Backend, ConvGeometry, GemmArgs, PoolGeometry } from './types.js';
import type { NativeAddon } from '../native.js';
import type { CachedHostMemory } from './host-memory.js';

export type HostArray = Float32Array | Int32Array;
type AsyncKernels = Pick<Backend, 'gemmAsync' | 'conv2dForwardAsync' | 'maxPool2dForwardAsync'>;

/**
 * Runs `run` on held copies of `arrays` (the arrays themselves where the cache holds them),
 * copying back those marked as outputs; runs `sync` instead when the cache has no room for a copy.
 */
export async function runStaged(memory: CachedHostMemory, fn: string, arrays: Array<HostArray | null>, outputs: boolean[],
  run: (held: Array<HostArray | null>) => Promise<void>, sync: () => void): Promise<void> {
  const held: Array<HostArray | null> = [];
  const copies: HostArray[] = [];
  for (const x of arrays) {
    const copy = x === null || memory.holds(x) ? x : memory.stage(x);
    if (copy === null && x !== null) {
      copies.forEach((c) => memory.unstage(c));
      sync();
      return;
    }
    if (copy !== x) copies.push(copy!);
    held.push(copy);
  }
  try {
    await run(held);
    arrays.forEach((x, i) => {
      if (!outputs[i] || x === null || held[i] === x) return;
      if (x.length !== held[i]!.length) throw new RangeError(`${fn}: an output array was detached (transferred) while the kernel ran`);
      x.set(held[i]!);
    });
  } finally {
    copies.forEach((c) => memory.unstage(c));
  }
}

export function stagedAsyncKernels(addon: NativeAddon, memory: CachedHostMemory): AsyncKernels {
  const staged = (fn: string, arrays: Array<HostArray | null>, outputs: boolean[],
    run: (held: Array<HostArray | null>) => Promise<void>, sync: () => void) => runStaged(memory, fn, arrays, outputs, run, sync);

  return {
    gemmAsync: (args: GemmArgs) => staged('gemmAsync', [args.a, args.b, args.c], [false, false, true],
      ([a, b, c]) => addon.gemmAsync({ ...args, a: a as Float32Array, b: b as Float32Array, c: c as Float32Array }),
      () => addon.gemm(args)),
    conv2dForwardAsync: (g: ConvGeometry, x, w, bias, y) => staged('conv2dForwardAsync', [x, w, bias, y], [false, false, false, true],
      ([sx, sw, sb, sy]) => addon.conv2dForwardAsync(g, sx as Float32Array, sw as Float32Array, sb as Float32Array | null, sy as Float32Array),
      () => addon.conv2dForward(g, x, w, bias, y)),
    maxPool2dForwardAsync: (g: PoolGeometry, x, y, argmax) => staged('maxPool2dForwardAsync', [x, y, argmax], [false, true, true],
      ([sx, sy, sa]) => addon.maxPool2dForwardAsync(g, sx as Float32Array, sy as Float32Array, sa as Int32Array | null),
      () => addon.maxPool2dForward(g, x, y, argmax)),
  };
}
