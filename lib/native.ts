// Finds and loads the N-API addon. In order: the prebuilt platform package (convkit-linux-x64-gnu
// and the others in optionalDependencies), the local build (build/Release/convkit.node under the
// package root), else nothing. A failure is recorded, not thrown: convkit then runs on the js
// backend, and registry.ts warns once (or throws under CONVKIT_REQUIRE_NATIVE=1).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostKernels } from './backend/host.js';
import type { Backend } from './backend/types.js';
import type { HostMemoryAddon } from './backend/host-memory.js';
import type { CudaAddon, CudaProbe } from './backend/cuda.js';
import type { PlanAddon } from './compile/native-runner.js';
import type { TrainPlanAddon } from './compile/native-trainer.js';
import { prebuiltPackageName } from './platform.js';

/** The elementwise helpers the cpu backend takes from the addon instead of host.ts's loops. */
export type NativeElementwise = Pick<Backend, 'axpy' | 'scale' | 'broadcast2d' | 'reduce2d'>;

/** The addon's exports: the host kernels, its controls, and the cuda object (probe() alone in a build without nvcc). */
export interface NativeAddon extends HostKernels, HostMemoryAddon, NativeElementwise, PlanAddon, TrainPlanAddon {
  isa(): string;
  isaNote(): string;
  supportedIsas(): string[];
  setIsa(name: string): void;
  numThreads(): number;
  setNumThreads(n: number): void;
  /** SCHED_BATCH or SCHED_IDLE for the calling thread (Linux; native/include/convkit/scheduling.h); its policy afterwards. */
  scheduleThisThread(policy: 'batch' | 'idle'): 'normal' | 'batch' | 'idle' | 'other';
  cuda: Partial<CudaAddon> & { probe(): CudaProbe };
}

/** Where the addon came from: a prebuilt platform package, or a build from source. */
export type NativeSource = 'prebuilt' | 'build';

export interface NativeLoadResult {
  addon: NativeAddon | null;
  path: string | null;
  source: NativeSource | null;
  /** Why no addon loaded: every place tried and what went wrong there. */
  error: string | null;
  /** True when CONVKIT_DISABLE_NATIVE=1 chose the js backend (no warning is due then). */
  disabled: boolean;
}

function packageRoot(): string {
  // Works from lib/ (tsx, vitest) and from dist/ (compiled).
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

const requireHere = createRequire(import.meta.url);

type Attempt = { addon: NativeAddon; path: string } | { failure: string };

function loadPrebuilt(): Attempt {
  const name = prebuiltPackageName();
  let path: string;
  try {
    path = requireHere.resolve(name);
  } catch {
    return { failure: `the prebuilt package ${name} is not installed` };
  }
  try {
    return { addon: requireHere(path) as NativeAddon, path };
  } catch (err) {
    return { failure: `the prebuilt ${path} did not load: ${messageOf(err)}` };
  }
}

function loadLocalBuild(): Attempt {
  let path: string;
  try {
    path = join(packageRoot(), 'build', 'Release', 'convkit.node');
  } catch (err) {
    return { failure: messageOf(err) };
  }
  if (!existsSync(path)) return { failure: `${path} does not exist (the build from source failed or was skipped)` };
  try {
    return { addon: requireHere(path) as NativeAddon, path };
  } catch (err) {
    return { failure: `${path} did not load: ${messageOf(err)}` };
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function loadNativeAddon(): NativeLoadResult {
  if (process.env.CONVKIT_DISABLE_NATIVE === '1') {
    return { addon: null, path: null, source: null, error: 'disabled by CONVKIT_DISABLE_NATIVE=1', disabled: true };
  }
  const failures: string[] = [];
  for (const [source, load] of [['prebuilt', loadPrebuilt], ['build', loadLocalBuild]] as const) {
    const attempt = load();
    if ('addon' in attempt) return { addon: attempt.addon, path: attempt.path, source, error: null, disabled: false };
    failures.push(attempt.failure);
  }
  return { addon: null, path: null, source: null, error: failures.join('; '), disabled: false };
}
