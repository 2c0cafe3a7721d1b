// OpenBLAS in a persistent child process (bench_sgemm --serve), so that node can alternate
// convkit's public API with cblas_sgemm round by round in one run on a noisy machine.
import { existsSync } from 'node:fs';
import { LineChild } from './line-child.js';
import { findSgemmBench } from './sgemm-openblas.js';

export interface OpenblasReply {
  threads: number;
  openblas_threads: number;
  corename: string;
  /** One entry per call, in seconds. */
  seconds: number[];
}

/** CONVKIT_BENCH_SGEMM=/path overrides the build's bench_sgemm. */
export function sgemmBenchPath(root: string): string | null {
  const override = process.env.CONVKIT_BENCH_SGEMM;
  if (override) return existsSync(override) ? override : null;
  return findSgemmBench(root);
}

export class OpenblasServer {
  private constructor(private readonly child: LineChild) {}

  static start(exe: string): OpenblasServer {
    // These two pin OpenBLAS to a core type and L2 size that make it ~2x slower on this CPU;
    // they are dropped for OpenBLAS's own process only, everything else keeps them.
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    return new OpenblasServer(LineChild.spawn(exe, ['--serve'], env));
  }

  /** Runs cblas_sgemm (row-major, no transposes) reps times on `threads` threads. */
  async sgemm(m: number, n: number, k: number, threads: number, reps: number): Promise<OpenblasReply> {
    const line = await this.child.request(`sgemm ${m} ${n} ${k} ${threads} ${reps}`);
    // An older binary without --serve prints its usage and exits.
    if (line === null) throw new Error(`bench_sgemm --serve exited: ${this.child.stderr || 'no message'} (rebuild bench_sgemm)`);
    const reply = JSON.parse(line) as OpenblasReply & { error?: string };
    if (reply.error) throw new Error(`bench_sgemm --serve: ${reply.error}`);
    return reply;
  }

  close(): void {
    this.child.close();
  }
}
