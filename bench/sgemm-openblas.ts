// SGEMM against OpenBLAS in one process: runs the C++ bench (built when libopenblas-dev is
// installed) and turns its JSON lines into rows.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from './table.js';

interface SgemmResult {
  shape: string; trans_a: boolean; trans_b: boolean;
  m: number; n: number; k: number; threads: number; isa: string;
  convkit_gflops: number; openblas_gflops?: number | null; ratio?: number | null;
}

export function findSgemmBench(root: string): string | null {
  for (const path of [join(root, 'build', 'bench_sgemm'), join(root, 'build', 'Release', 'bench_sgemm')]) {
    if (existsSync(path)) return path;
  }
  return null;
}

export function sgemmVsOpenblas(root: string): { rows: Row[]; note: string } {
  const exe = findSgemmBench(root);
  if (!exe) return { rows: [], note: 'bench_sgemm was not built (npm run build:native)' };
  const output = execFileSync(exe, ['--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const results = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as SgemmResult);
  const rows: Row[] = [];
  for (const r of results) {
    const trans = `${r.trans_a ? 'T' : 'N'}${r.trans_b ? 'T' : 'N'}`;
    const shape = `${r.shape} ${r.m}x${r.n}x${r.k} ${trans} t${r.threads}`;
    const ms = (2 * r.m * r.n * r.k) / (r.convkit_gflops * 1e6);
    rows.push({ op: 'sgemm', shape, backend: `cpu/${r.isa}`, medianMs: ms, rate: r.convkit_gflops, unit: 'GFLOP/s',
      note: r.ratio != null ? `${r.ratio.toFixed(2)}x OpenBLAS` : 'no OpenBLAS' });
    if (r.openblas_gflops != null) {
      rows.push({ op: 'sgemm', shape, backend: 'openblas', medianMs: (2 * r.m * r.n * r.k) / (r.openblas_gflops * 1e6),
        rate: r.openblas_gflops, unit: 'GFLOP/s' });
    }
  }
  const note = results.some((r) => r.openblas_gflops != null) ? '' : 'OpenBLAS not found at build time (apt-get install libopenblas-dev)';
  return { rows, note };
}
