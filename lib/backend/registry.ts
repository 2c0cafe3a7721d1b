// Which backend runs the ops. A tensor's device picks the backend: host tensors run on the
// current host backend (`cpu`, the native addon, when it loads; `js` always), cuda tensors on
// `cuda`. setBackend('cuda') makes cuda the default device for new tensors and parameters,
// as PyTorch's set_default_device. backendInfo() explains a missing backend instead of
// failing at import.
import type { AnyBackend, Backend, BackendName, DeviceArray, DeviceName } from './types.js';
import { jsBackend, jsKernels } from './js/index.js';
import type { HostKernels } from './host.js';
import { CachedHostMemory } from './host-memory.js';
import { loadNativeAddon, type NativeSource } from '../native.js';
import { reportNativeFallback } from '../native-fallback.js';
import { createCpuBackend } from './cpu.js';
import { createCudaBackend, type CudaAddon, type CudaProbe } from './cuda.js';
import type { PlanAddon } from '../compile/native-runner.js';
import type { TrainPlanAddon } from '../compile/native-trainer.js';

/** What backendInfo() returns. */
export interface BackendInfo {
  backend: BackendName;
  available: BackendName[];
  native: {
    loaded: boolean;
    /** The addon file that loaded: in the prebuilt platform package, or the local build. */
    path: string | null;
    /** 'prebuilt' (the platform package) or 'build' (compiled from source at install). */
    source: NativeSource | null;
    /** Why the addon is missing, when it is. */
    error: string | null;
    isa: string | null;
    /** Why the ISA is not the best the CPU has (CONVKIT_ISA), when it is not. */
    isaNote: string | null;
    supportedIsas: string[];
    numThreads: number | null;
  };
  cuda: CudaProbe;
}

const native = loadNativeAddon();
reportNativeFallback(native);
const hostMemory = native.addon ? new CachedHostMemory(native.addon) : null;
const cpuBackend: Backend | null = native.addon ? createCpuBackend(native.addon, hostMemory!) : null;
let cudaProbe: CudaProbe = native.addon
  ? native.addon.cuda.probe()
  : { built: false, available: false, reason: `the native addon is not loaded (${native.error})` };
let cudaAddon: CudaAddon | null = cudaProbe.available ? (native.addon!.cuda as CudaAddon) : null;
let cudaBackend: Backend<DeviceArray, DeviceArray, DeviceArray> | null = cudaAddon ? createCudaBackend(cudaAddon) : null;
let hostBackend: Backend = cpuBackend ?? jsBackend;
let defaultDevice: DeviceName = 'cpu';

/** The backend that runs ops on tensors stored on `device`. */
export function backendForDevice(device: DeviceName): AnyBackend {
  if (device === 'cpu') return hostBackend;
  if (!cudaBackend) throw new RangeError(`cuda is not available: ${cudaProbe.reason}`);
  return cudaBackend;
}

/** A host backend by name, for tests and benchmarks that compare them side by side. */
export function backendByName(name: 'js' | 'cpu'): Backend {
  if (name === 'js') return jsBackend;
  if (name === 'cpu' && cpuBackend) return cpuBackend;
  throw new RangeError(`the '${String(name)}' backend is not available (${native.error})`);
}

/** For tests: a host backend's own kernels, before the adapters of host.ts (losses return their sums). */
export function hostKernels(name: 'js' | 'cpu'): HostKernels {
  if (name === 'js') return jsKernels;
  if (name === 'cpu' && native.addon) return native.addon;
  throw new RangeError(`the '${String(name)}' backend is not available (${native.error})`);
}

/** Where tensor() and new parameters are created: 'cuda' after setBackend('cuda'), else 'cpu'. */
export function getDefaultDevice(): DeviceName {
  return defaultDevice;
}

/** @internal The addon and its host memory while the cpu backend is the native one (compiled plans); null on js. */
export function nativePlanSupport(): { addon: PlanAddon & TrainPlanAddon; memory: CachedHostMemory } | null {
  return hostBackend === cpuBackend && native.addon ? { addon: native.addon, memory: hostMemory! } : null;
}

/** The cpu backend's storage caches, for convkit.cpu; throws when the addon is not loaded. */
export function hostMemoryControls(op: string): CachedHostMemory {
  if (!hostMemory) throw new RangeError(`${op}: the native cpu backend is not loaded (${native.error}); the js backend uses plain arrays`);
  return hostMemory;
}

/** The addon's cuda object, for the cuda controls; throws when cuda is not available. */
export function cudaControls(op: string): CudaAddon {
  if (!cudaAddon) throw new RangeError(`${op}: cuda is not available: ${cudaProbe.reason}`);
  return cudaAddon;
}

export function cudaInfo(): CudaProbe {
  return cudaProbe;
}

/**
 * The backends this process can run: always `js`, `cpu` when the native addon loaded, `cuda` when
 * a GPU is usable.
 */
export function availableBackends(): BackendName[] {
  const names: BackendName[] = ['js'];
  if (cpuBackend) names.push('cpu');
  if (cudaBackend) names.push('cuda');
  return names;
}

/** 'js' or 'cpu' run host tensors on that backend (the default device is then cpu); 'cuda' makes cuda the default device. */
export function setBackend(name: BackendName): void {
  if (typeof name !== 'string') throw new TypeError(`setBackend: name must be a string, got ${typeof name}`);
  if (name === 'js') hostBackend = jsBackend;
  else if (name === 'cpu') {
    if (!cpuBackend) throw new RangeError(`setBackend: the 'cpu' backend is not available (${native.error}); available: ${availableBackends().join(', ')}`);
    hostBackend = cpuBackend;
  } else if (name === 'cuda') {
    if (!cudaBackend) throw new RangeError(`setBackend: the 'cuda' backend is not available (${cudaProbe.reason}); available: ${availableBackends().join(', ')}`);
  } else {
    throw new RangeError(`setBackend: unknown backend '${String(name)}'; expected one of ${availableBackends().join(', ')}`);
  }
  defaultDevice = name === 'cuda' ? 'cuda' : 'cpu';
}

/** The backend new host work runs on (`js` or `cpu`), or `cuda` after setBackend('cuda'). */
export function getBackend(): BackendName {
  return defaultDevice === 'cuda' ? 'cuda' : hostBackend.name;
}

/**
 * How many threads the native kernels use (an integer in [1, 1024]); no effect on the js backend.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new RangeError(`setNumThreads: n must be an integer in [1, 1024], got ${n}`);
  }
  native.addon?.setNumThreads(n);
}

/**
 * Puts the calling thread under SCHED_BATCH (its wake-ups do not preempt the event loop) or
 * SCHED_IDLE (it runs only on CPU time nobody else wants) where the addon can, on Linux: for a
 * thread that exists to compute (native/include/convkit/scheduling.h). Its policy afterwards,
 * or null without the addon.
 */
export function scheduleThisThread(policy: 'batch' | 'idle'): string | null {
  return native.addon?.scheduleThisThread(policy) ?? null;
}

/**
 * What runs and why: the current and available backends, which native addon loaded (prebuilt or
 * built, its path, ISA, threads) or why none did, and the GPU or why there is none.
 */
export function backendInfo(): BackendInfo {
  const addon = native.addon;
  return {
    backend: getBackend(),
    available: availableBackends(),
    native: {
      loaded: addon !== null,
      path: native.path,
      source: native.source,
      error: native.error,
      isa: addon ? addon.isa() : null,
      isaNote: addon ? addon.isaNote() || null : null,
      supportedIsas: addon ? addon.supportedIsas() : [],
      numThreads: addon ? addon.numThreads() : null,
    },
    cuda: { ...cudaProbe },
  };
}

/** For tests and benchmarks: force the native ISA ('scalar' | 'avx2' | 'avx512'). */
export function setNativeIsa(isa: string): void {
  if (!native.addon) throw new Error(`setNativeIsa: the native addon is not loaded: ${native.error}`);
  native.addon.setIsa(isa);
}

/**
 * @internal For tests only: installs a cuda addon (a fake one on machines without a GPU, so the
 * device code paths of the ops, autograd and optimizers run everywhere); null restores the real one.
 */
export function installCudaAddonForTesting(addon: CudaAddon | null): void {
  const real = native.addon?.cuda;
  cudaProbe = addon ? addon.probe() : real ? real.probe() : { built: false, available: false, reason: `the native addon is not loaded (${native.error})` };
  cudaAddon = addon ?? (cudaProbe.available ? (real as CudaAddon) : null);
  cudaBackend = cudaAddon ? createCudaBackend(cudaAddon) : null;
  if (!cudaBackend && defaultDevice === 'cuda') defaultDevice = 'cpu';
}
