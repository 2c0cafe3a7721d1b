// convkit.cpu: the host caching allocator behind cpu tensors, as convkit.cuda's. Each function
// throws a RangeError saying why when the native addon is not loaded (the js backend keeps
// plain V8 arrays).
import { hostMemoryControls } from './backend/registry.js';
import type { HostMemoryStats } from './backend/host-memory.js';

export type { HostMemoryStats };

/** The caches' counters: bytes held by tensors, bytes cached for reuse, the limit, hits. */
export function memoryStats(): HostMemoryStats {
  return hostMemoryControls('cpu.memoryStats').stats();
}

/** Returns cached, unused blocks to the system (live tensors keep theirs). */
export function emptyCache(): void {
  hostMemoryControls('cpu.emptyCache').emptyCache();
}

/**
 * Caps the bytes of large blocks held by cpu tensors plus those cached (default 512 MiB, or
 * CONVKIT_HOST_CACHE_LIMIT, bytes or with a K/M/G suffix); past it new tensors get plain V8
 * arrays. The pool of mid-size arrays keeps at most min(64 MiB, bytes).
 */
export function setCacheLimit(bytes: number): void {
  if (typeof bytes !== 'number') throw new TypeError(`cpu.setCacheLimit: bytes must be a number, got ${typeof bytes}`);
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`cpu.setCacheLimit: bytes must be a non-negative integer, got ${bytes}`);
  hostMemoryControls('cpu.setCacheLimit').setLimit(bytes);
}

/**
 * @internal For tests: every cpu array comes from the cache, and those handed out without
 * zero-fill are NaN-filled, so an output that a kernel does not completely overwrite shows up.
 */
export function setPoisonForTesting(on: boolean): void {
  hostMemoryControls('cpu.setPoisonForTesting').setPoison(on);
}
