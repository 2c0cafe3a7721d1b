// convkit.cuda: the GPU's state and the caching allocator, as torch.cuda. Each function
// throws a RangeError saying why when cuda is not available (isAvailable() never throws).
import { cudaControls, cudaInfo } from './backend/registry.js';
import type { CudaMemoryStats, CudaProbe } from './backend/cuda.js';

export type { CudaMemoryStats, CudaProbe };

/** Whether the cuda backend can run here; never throws (backendInfo().cuda.reason says why not). */
export function isAvailable(): boolean {
  return cudaInfo().available;
}

/** The device convkit uses (name, compute capability, memory, driver), or why there is none. */
export function deviceInfo(): CudaProbe {
  return { ...cudaInfo() };
}

/** The caching allocator's counters (bytes in live tensors, bytes held from the driver, ...). */
export function memoryStats(): CudaMemoryStats {
  return cudaControls('cuda.memoryStats').memoryStats();
}

/** Returns cached, unused device memory to the driver (live tensors keep theirs). */
export function emptyCache(): void {
  cudaControls('cuda.emptyCache').emptyCache();
}

/** Waits until the GPU has finished all queued work (blocks the event loop: prefer synchronizeAsync). */
export function synchronize(): void {
  cudaControls('cuda.synchronize').synchronize();
}

/** Resolves when the GPU has finished all work queued so far; the wait happens off the event loop. */
export function synchronizeAsync(): Promise<void> {
  return cudaControls('cuda.synchronizeAsync').synchronizeAsync();
}

/**
 * Lets matrix products and convolutions use TF32 tensor cores (sm_80 and newer): faster, with
 * 10-bit mantissa inputs. Off by default, as in PyTorch, because the precision differs.
 */
export function setTf32(enabled: boolean): void {
  if (typeof enabled !== 'boolean') throw new TypeError(`cuda.setTf32: enabled must be a boolean, got ${typeof enabled}`);
  cudaControls('cuda.setTf32').setTf32(enabled);
}
