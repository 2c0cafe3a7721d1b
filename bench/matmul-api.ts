// matmul of two 1024x1024 tensors through the public API, as a user's loop calls it (a fresh
// result each call, dropped), next to the same GEMM on preallocated buffers (kernel only) and
// to OpenBLAS in its own process. The three alternate round by round in one run, because
// this machine is shared and noisy: a burst of load lands on all three alike.
import { backendInfo, matmul, setNumThreads, tensor } from '../lib/index.js';
import { backendForDevice } from '../lib/backend/registry.js';
import { randomArray } from './fill.js';
import { OpenblasServer, sgemmBenchPath } from './openblas-server.js';
import { median, percentile } from './stats.js';
import type { Row } from './table.js';

const SIZE = 1024;
const CALLS = 9;
/** Timed rounds. Untimed rounds first warm workspaces, OpenBLAS's buffers and convkit's host
 * cache, which grows to the set of results alive between two garbage collections. */
const ROUNDS = 5;
const WARM_ROUNDS = 4;

interface Samples { seconds: number[]; faults: number[] }

function timeCalls(fn: () => unknown, out: Samples): void {
  for (let i = 0; i < CALLS; i++) {
    const f0 = process.resourceUsage().minorPageFault;
    const t0 = process.hrtime.bigint();
    fn();
    const t1 = process.hrtime.bigint();
    out.faults.push(process.resourceUsage().minorPageFault - f0);
    out.seconds.push(Number(t1 - t0) / 1e9);
  }
}

const FLOPS = 2 * SIZE ** 3;
const gflops = (seconds: number[]) => seconds.map((s) => FLOPS / s / 1e9);

/** Median and 10th-percentile GFLOP/s (p10 is the slow end). */
function spread(seconds: number[]) {
  const g = gflops(seconds);
  return { medianMs: median(seconds) * 1e3, median: median(g), p10: percentile(g, 10), p90: percentile(g, 90) };
}

export async function matmulRows(root: string): Promise<{ rows: Row[]; notes: string[] }> {
  const notes: string[] = [];
  const be = backendForDevice('cpu');
  const info = backendInfo();
  const label = `${be.name}${info.native.isa ? `/${info.native.isa}` : ''}`;
  const a = tensor(randomArray(SIZE * SIZE, 11), [SIZE, SIZE]);
  const b = tensor(randomArray(SIZE * SIZE, 12), [SIZE, SIZE]);
  const ad = a.data, bd = b.data, c = new Float32Array(SIZE * SIZE);
  const kernel = () => be.gemm({ transA: false, transB: false, m: SIZE, n: SIZE, k: SIZE, alpha: 1, beta: 0, a: ad, b: bd, c });

  const exe = sgemmBenchPath(root);
  let server: OpenblasServer | null = exe ? OpenblasServer.start(exe) : null;
  if (!exe) notes.push('matmul: bench_sgemm not found (build it, or set CONVKIT_BENCH_SGEMM=/path); no OpenBLAS rows');
  let corename = '';

  const rows: Row[] = [];
  const savedThreads = info.native.numThreads ?? 1;
  try {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const api: Samples = { seconds: [], faults: [] }, kern: Samples = { seconds: [], faults: [] };
      const blas: number[] = [];
      for (let round = 0; round < WARM_ROUNDS + ROUNDS; round++) {
        const warm = round < WARM_ROUNDS;
        const apiRound: Samples = { seconds: [], faults: [] }, kernRound: Samples = { seconds: [], faults: [] };
        timeCalls(() => matmul(a, b), apiRound);
        timeCalls(kernel, kernRound);
        let blasRound: number[] = [];
        if (server) {
          try {
            const reply = await server.sgemm(SIZE, SIZE, SIZE, threads, CALLS);
            blasRound = reply.seconds;
            corename = reply.corename;
          } catch (err) {
            notes.push(`matmul: no OpenBLAS rows: ${(err as Error).message}`);
            server.close();
            server = null;
          }
        }
        if (!warm) {
          api.seconds.push(...apiRound.seconds); api.faults.push(...apiRound.faults);
          kern.seconds.push(...kernRound.seconds); kern.faults.push(...kernRound.faults);
          blas.push(...blasRound);
        }
        // Between rounds only: lets finalizers and timers run, as a real program's loop would.
        await new Promise(setImmediate);
      }
      const shape = `${SIZE}x${SIZE} @ ${SIZE}x${SIZE}, t${threads}`;
      const A = spread(api.seconds), K = spread(kern.seconds);
      const B = blas.length ? spread(blas) : null;
      const vsBlas = B ? `; vs OpenBLAS ${(A.median / B.median).toFixed(2)}x median, ${(A.p10 / B.p10).toFixed(2)}x p10` : '';
      const range = (s: typeof A) => `p10 ${s.p10.toFixed(1)} / p90 ${s.p90.toFixed(1)} GFLOP/s`;
      rows.push({ op: 'matmul (public API)', shape, backend: label, medianMs: A.medianMs, rate: A.median, unit: 'GFLOP/s',
        note: `${range(A)}; ${median(api.faults)} minor faults/call (max ${Math.max(...api.faults)})${vsBlas}` });
      rows.push({ op: 'gemm (kernel only)', shape, backend: label, medianMs: K.medianMs, rate: K.median, unit: 'GFLOP/s',
        note: `${range(K)}; ${median(kern.faults)} faults/call; API/kernel ${(A.median / K.median).toFixed(2)}x median, ${(A.p10 / K.p10).toFixed(2)}x p10` });
      if (B) {
        rows.push({ op: 'cblas_sgemm (child)', shape, backend: `openblas/${corename}`, medianMs: B.medianMs, rate: B.median, unit: 'GFLOP/s',
          note: range(B) });
      }
    }
  } finally {
    setNumThreads(savedThreads);
    server?.close();
  }
  notes.push(`matmul: ${ROUNDS} rounds x ${CALLS} calls each of API, kernel, OpenBLAS, after ${WARM_ROUNDS} warm-up rounds` +
    (corename ? `; OpenBLAS core ${corename} (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its environment only)` : ''));
  return { rows, notes };
}
