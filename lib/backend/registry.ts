// Which backend runs the ops. `cpu` (the native addon) is the default when it loads; `js` is
// always there. backendInfo() explains a missing backend instead of failing at import.
import type { Backend, BackendName } from './types.js';
import { jsBackend } from './js/index.js';
import { loadNativeAddon } from '../native.js';
import { createCpuBackend } from './cpu.js';

export interface BackendInfo {
  backend: BackendName;
  available: BackendName[];
  native: {
    loaded: boolean;
    path: string | null;
    /** Why the addon is missing, when it is. */
    error: string | null;
    isa: string | null;
    /** Why the ISA is not the best the CPU has (CONVKIT_ISA), when it is not. */
    isaNote: string | null;
    supportedIsas: string[];
    numThreads: number | null;
  };
  cuda: { available: false; reason: string };
}

const native = loadNativeAddon();
const cpuBackend: Backend | null = native.addon ? createCpuBackend(native.addon) : null;
let current: Backend = cpuBackend ?? jsBackend;

export function currentBackend(): Backend {
  return current;
}

export function backendByName(name: BackendName): Backend {
  if (name === 'js') return jsBackend;
  if (name === 'cpu') {
    if (!cpuBackend) throw new RangeError(`setBackend: the 'cpu' backend is not available (${native.error}); available: ${availableBackends().join(', ')}`);
    return cpuBackend;
  }
  throw new RangeError(`setBackend: unknown backend '${String(name)}'; expected one of ${availableBackends().join(', ')}`);
}

export function availableBackends(): BackendName[] {
  return cpuBackend ? ['js', 'cpu'] : ['js'];
}

export function setBackend(name: BackendName): void {
  if (typeof name !== 'string') throw new TypeError(`setBackend: name must be a string, got ${typeof name}`);
  current = backendByName(name);
}

export function getBackend(): BackendName {
  return current.name;
}

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`setNumThreads: n must be an integer in [1, 1024], got ${n}`);
  }
  native.addon?.setNumThreads(n);
}

export function backendInfo(): BackendInfo {
  const addon = native.addon;
  return {
    backend: current.name,
    available: availableBackends(),
    native: {
      loaded: addon !== null,
      path: native.path,
      error: native.error,
      isa: addon ? addon.isa() : null,
      isaNote: addon ? addon.isaNote() || null : null,
      supportedIsas: addon ? addon.supportedIsas() : [],
      numThreads: addon ? addon.numThreads() : null,
    },
    cuda: { available: false, reason: 'this build has no CUDA backend yet' },
  };
}

/** For tests and benchmarks: force the native ISA ('scalar' | 'avx2' | 'avx512'). */
export function setNativeIsa(isa: string): void {
  if (!native.addon) throw new Error(`setNativeIsa: the native addon is not loaded: ${native.error}`);
  native.addon.setIsa(isa);
}
