// cpu tensor storage, cached so that the same memory serves step after step. Three size
// ranges, because their costs cross (measured on the 2-core VM, where a page fault costs ~15 us):
// - From 1 MiB: blocks of the addon's caching allocator (native/src/host_memory.cpp), 2 MiB
//   aligned with MADV_HUGEPAGE, reused by size class. A block comes back on dispose(), when
//   autograd is done with a gradient, or when V8 collects the array (Node runs that finalizer
//   once the event loop turns, so a synchronous loop that drops its results holds blocks until
//   it yields; past the cache's limit it gets V8 arrays).
// - 4 KiB to 1 MiB: V8 ArrayBuffers, pooled here when released explicitly. An external array
//   costs 20-45 us of finalizer work when collected, more than a V8 array costs to make, so
//   arrays nobody releases are left to V8's GC. The addon makes glibc keep freed heap memory
//   (host_memory.h, tune_system_allocator), so a new V8 array reuses it without page faults.
// - Below 4 KiB: plain typed arrays; making one costs less than pooling it.
// Outputs that a kernel overwrites completely are never zero-filled. An array that dispose()
// releases is detached, so a stale view reads as empty instead of another tensor's data. The js backend
// keeps plain V8 arrays: it is the reference.

/** The allocator's counters, in bytes and calls, as cuda.memoryStats(). */
export interface HostMemoryStats {
  /** In large blocks held by tensors or running async ops (rounded to the size classes). */
  allocatedBytes: number;
  /** The most allocatedBytes has been. */
  peakAllocatedBytes: number;
  /** In free large blocks kept for reuse. */
  cachedBytes: number;
  /** Held plus cached large blocks never exceed this (CONVKIT_HOST_CACHE_LIMIT, default 512 MiB); past it, tensors get V8 arrays. */
  limitBytes: number;
  /** Large blocks handed out. */
  allocations: number;
  /** Of those, served from the cache. */
  cacheHits: number;
  /** Large blocks taken from the system. */
  systemAllocations: number;
  /** In released mid-size arrays kept for reuse (at most 64 MiB, within limitBytes). */
  pooledBytes: number;
  /** Mid-size arrays served from that pool. */
  poolHits: number;
}

type NativeStats = Omit<HostMemoryStats, 'pooledBytes' | 'poolHits'>;

/** The addon's host-memory exports (native/binding/host_memory.cpp). */
export interface HostMemoryAddon {
  /** An ArrayBuffer over a cached block, or null when the limit leaves no room. */
  hostAlloc(bytes: number, zero: boolean): ArrayBuffer | null;
  /** Returns the block now and detaches buffer; false for a buffer the allocator does not own. */
  hostFree(buffer: ArrayBuffer): boolean;
  hostMemoryStats(): NativeStats;
  hostEmptyCache(): void;
  hostSetCacheLimit(bytes: number): void;
  hostSetPoison(on: boolean): void;
}

const POOL_FROM_BYTES = 4 * 1024;
const NATIVE_FROM_BYTES = 1024 * 1024;
const POOL_CAP_BYTES = 64 * 1024 * 1024;

export interface HostArrays {
  float32(n: number, zero: boolean): Float32Array;
  int32(n: number, zero: boolean): Int32Array;
  release(x: Float32Array | Int32Array, detach: boolean): void;
}

/** Plain V8 arrays (always zero-filled): the js backend's storage. */
export const v8Arrays: HostArrays = {
  float32: (n) => new Float32Array(n),
  int32: (n) => new Int32Array(n),
  release: () => {},
};

/**
 * Released mid-size ArrayBuffers by exact size. Exact, so that an array spans its whole buffer
 * just when it is one the pool can take: a subarray of a larger array (a batch of rows) never
 * qualifies, and costs no per-array bookkeeping (a WeakMap entry per array made GC several
 * times slower).
 */
class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  bytes = 0;
  hits = 0;
  cap = POOL_CAP_BYTES;

  /** A released buffer of exactly bytes, or null. */
  take(bytes: number): ArrayBuffer | null {
    const buffer = this.free.get(bytes)?.pop();
    if (!buffer) return null;
    this.bytes -= buffer.byteLength;
    this.hits++;
    return buffer;
  }

  /** Takes x's buffer back when x spans all of it, detaching x on request. */
  give(x: Float32Array | Int32Array, detach: boolean): void {
    const buffer = x.buffer as ArrayBuffer;
    if (x.byteOffset !== 0 || buffer.byteLength !== x.byteLength) return;
    // A transfer moves the memory to a new ArrayBuffer without copying and detaches the old one.
    const moved = detach ? structuredClone(buffer, { transfer: [buffer] }) : buffer;
    if (this.bytes + moved.byteLength > this.cap) return;
    let list = this.free.get(moved.byteLength);
    if (!list) this.free.set(moved.byteLength, (list = []));
    list.push(moved);
    this.bytes += moved.byteLength;
  }

  clear(): void {
    this.free.clear();
    this.bytes = 0;
  }
}

/** The cpu backend's storage and the convkit.cpu controls over it. */
export class CachedHostMemory implements HostArrays {
  private readonly pool = new BufferPool();
  /** The ArrayBuffers over the addon's blocks: memory an async worker can hold. */
  private readonly blocks = new WeakSet<ArrayBufferLike>();
  private poison = false;

  constructor(private readonly addon: HostMemoryAddon) {
    this.pool.cap = Math.min(POOL_CAP_BYTES, addon.hostMemoryStats().limitBytes);
  }

  float32(n: number, zero: boolean): Float32Array {
    return this.array(Float32Array, n, zero);
  }

  int32(n: number, zero: boolean): Int32Array {
    return this.array(Int32Array, n, zero);
  }

  release(x: Float32Array | Int32Array, detach: boolean): void {
    if (x.byteLength >= NATIVE_FROM_BYTES) {
      // Always detached: a stale view of a block the cache gives back to the system would crash.
      if (x.byteOffset === 0 && x.byteLength === x.buffer.byteLength) this.addon.hostFree(x.buffer as ArrayBuffer);
    } else if (x.byteLength >= POOL_FROM_BYTES) {
      this.pool.give(x, detach);
    }
  }

  /** Whether x (or the array it views) is a block of the addon's cache, which an async worker holds while it runs. */
  holds(x: Float32Array | Int32Array): boolean {
    return this.blocks.has(x.buffer);
  }

  /** A copy of x in a block of the addon's cache (any size), or null when the limit leaves no room. */
  stage<T extends Float32Array | Int32Array>(x: T): T | null {
    const block = this.addon.hostAlloc(Math.max(x.byteLength, 4), false);
    if (!block) return null;
    this.blocks.add(block);
    const copy = (x instanceof Float32Array ? new Float32Array(block, 0, x.length) : new Int32Array(block, 0, x.length)) as T;
    copy.set(x);
    return copy;
  }

  /** Gives a staged copy's block back. */
  unstage(copy: Float32Array | Int32Array): void {
    this.addon.hostFree(copy.buffer as ArrayBuffer);
  }

  stats(): HostMemoryStats {
    return { ...this.addon.hostMemoryStats(), pooledBytes: this.pool.bytes, poolHits: this.pool.hits };
  }

  emptyCache(): void {
    this.addon.hostEmptyCache();
    this.pool.clear();
  }

  setLimit(bytes: number): void {
    this.addon.hostSetCacheLimit(bytes);
    this.pool.cap = Math.min(POOL_CAP_BYTES, bytes);
    if (this.pool.bytes > this.pool.cap) this.pool.clear();
  }

  /**
   * Test mode: every array handed out without zero-fill is NaN-filled, however small, so a
   * kernel that leaves part of its output unwritten shows up in any test.
   */
  setPoison(on: boolean): void {
    this.addon.hostSetPoison(on);
    this.poison = on;
  }

  private array<T extends Float32Array | Int32Array>(Type: { new (n: number): T; new (b: ArrayBuffer, offset: number, n: number): T }, n: number, zero: boolean): T {
    const bytes = n * 4;
    if (bytes >= NATIVE_FROM_BYTES) {
      const block = this.addon.hostAlloc(bytes, zero); // zeroed or poisoned natively
      if (block) {
        this.blocks.add(block);
        return new Type(block, 0, n);
      }
    }
    let x: T;
    if (bytes < POOL_FROM_BYTES) {
      x = new Type(n);
    } else if (bytes < NATIVE_FROM_BYTES) {
      const reused = this.pool.take(bytes);
      x = new Type(reused ?? freshBuffer(bytes, zero), 0, n);
      if (reused && zero) x.fill(0);
    } else {
      x = new Type(freshBuffer(bytes, zero), 0, n); // past the native cache's limit
    }
    if (!zero && this.poison) x.fill(x instanceof Float32Array ? NaN : 0x7fc0dead);
    return x;
  }
}

/**
 * A new V8 ArrayBuffer; without zero-fill when the kernel overwrites it (Node's allocUnsafeSlow
 * mallocs instead of callocs, and never hands out a slice of a shared pool).
 */
function freshBuffer(bytes: number, zero: boolean): ArrayBuffer {
  return zero ? new ArrayBuffer(bytes) : (Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer);
}
