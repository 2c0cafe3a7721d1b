// The cuda backend: the addon's cuda kernels (their signatures equal the Backend contract on
// DeviceArray storage) behind the storage functions, which move data with DeviceArray
// methods. Only copies to and from the host wait for the GPU; kernels are queued on one stream.
import type { Backend, DeviceArray } from './types.js';

type StorageFunctions = 'name' | 'device' | 'alloc' | 'empty' | 'release' | 'fromHost' | 'toHost' | 'toHostAsync' | 'copyFromHost' | 'view'
  | 'int32FromHost' | 'allocInt32' | 'uint8FromHost' | 'int32ToHost';

/** What the addon's `cuda` object says about the GPU. */
export interface CudaProbe {
  /** False when the addon was compiled without nvcc. */
  built: boolean;
  available: boolean;
  /** Why cuda is not available ('' when it is). */
  reason: string;
  deviceCount?: number;
  device?: number;
  name?: string;
  computeCapability?: string;
  totalMemory?: number;
  multiprocessors?: number;
  runtimeVersion?: number;
  driverVersion?: number;
}

/** The caching allocator's counters, in bytes and calls. */
export interface CudaMemoryStats {
  /** In live device arrays (rounded to the allocator's size classes). */
  allocatedBytes: number;
  /** Live plus cached: what convkit holds from the driver. */
  reservedBytes: number;
  peakAllocatedBytes: number;
  allocations: number;
  /** Allocations served from the cache. */
  cacheHits: number;
  /** cudaMalloc calls. */
  deviceAllocations: number;
}

/** The addon's `cuda` exports in a build with nvcc. */
export interface CudaAddon extends Omit<Backend<DeviceArray, DeviceArray, DeviceArray>, StorageFunctions> {
  probe(): CudaProbe;
  empty(dtype: 'float32' | 'int32' | 'uint8', n: number): DeviceArray;
  upload(values: Float32Array | Int32Array | Uint8Array): DeviceArray;
  emptyCache(): void;
  memoryStats(): CudaMemoryStats;
  synchronize(): void;
  synchronizeAsync(): Promise<void>;
  setTf32(enabled: boolean): void;
  tf32(): boolean;
}

export function createCudaBackend(cuda: CudaAddon): Backend<DeviceArray, DeviceArray, DeviceArray> {
  return {
    ...cuda,
    name: 'cuda',
    device: 'cuda',
    alloc: (n) => cuda.empty('float32', n),
    empty: (n) => cuda.empty('float32', n), // zeroed as well: a memset on the stream is cheap beside a kernel
    release: (x) => x.dispose(),
    fromHost: (values) => cuda.upload(values),
    toHost(x) {
      const out = new Float32Array(x.length);
      x.download(out);
      return out;
    },
    async toHostAsync(x) {
      const out = new Float32Array(x.length);
      await x.downloadAsync(out);
      return out;
    },
    copyFromHost: (values, x) => x.upload(values),
    view: (x, offset, length) => x.view(offset, length),
    int32FromHost: (values) => cuda.upload(values),
    allocInt32: (n) => cuda.empty('int32', n),
    uint8FromHost: (values) => cuda.upload(values),
    int32ToHost(x) {
      const out = new Int32Array(x.length);
      x.download(out);
      return out;
    },
  };
}
