// Finds and loads the N-API addon (build/Release/convkit.node under the package root). A
// failure is recorded, not thrown: convkit then runs on the js backend and says why.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostKernels } from './backend/host.js';
import type { Backend } from './backend/types.js';
import type { HostMemoryAddon } from './backend/host-memory.js';
import type { CudaAddon, CudaProbe } from './backend/cuda.js';
import type { PlanAddon } from './compile/native-runner.js';

/** The addon's exports: the host kernels, its controls, and the cuda object (probe() alone in a build without nvcc). */
/** The elementwise helpers the cpu backend takes from the addon instead of host.ts's loops. */
export type NativeElementwise = Pick<Backend, 'axpy' | 'scale' | 'broadcast2d' | 'reduce2d'>;

export interface NativeAddon extends HostKernels, HostMemoryAddon, NativeElementwise, PlanAddon {
  isa(): string;
  isaNote(): string;
  supportedIsas(): string[];
  setIsa(name: string): void;
  numThreads(): number;
  setNumThreads(n: number): void;
  cuda: Partial<CudaAddon> & { probe(): CudaProbe };
}

export interface NativeLoadResult {
  addon: NativeAddon | null;
  path: string | null;
  error: string | null;
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

export function loadNativeAddon(): NativeLoadResult {
  if (process.env.CONVKIT_DISABLE_NATIVE === '1') {
    return { addon: null, path: null, error: 'disabled by CONVKIT_DISABLE_NATIVE=1' };
  }
  let path: string | null = null;
  try {
    path = join(packageRoot(), 'build', 'Release', 'convkit.node');
    if (!existsSync(path)) {
      return { addon: null, path, error: `${path} does not exist (the native build failed or was skipped; run npm run build:native)` };
    }
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    return { addon, path, error: null };
  } catch (err) {
    return { addon: null, path, error: err instanceof Error ? err.message : String(err) };
  }
}
