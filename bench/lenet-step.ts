// LeNet-5 (the model of bench/lenet-epoch.ts) one call at a time through the public API:
// inference under noGrad at batch 1 and 256, each next to the sum of its Backend contract
// calls on preallocated buffers (the same kernels the ops make, minus the framework), and
// one training step at batch 64.
import { crossEntropy, manualSeed, noGrad, optim, tensor, type Tensor } from '../lib/index.js';
import { backendForDevice } from '../lib/backend/registry.js';
import { convGeometry, poolGeometry } from '../lib/geometry.js';
import { alternate, medianDifference } from './alternate.js';
import { randomArray } from './fill.js';
import { lenet } from './lenet-epoch.js';
import { median, percentile } from './stats.js';
import type { Row } from './table.js';

type Params = Record<string, Float32Array>;

/** LeNet's forward pass as contract calls: conv, relu, pool twice, then three linears (bias broadcast + GEMM). */
function kernelForward(batch: number, x: Float32Array, p: Params): { run: () => void; logits: Float32Array } {
  const be = backendForDevice('cpu');
  const c1 = convGeometry('bench', [batch, 1, 32, 32], [6, 1, 5, 5], {});
  const p1 = poolGeometry('bench', [batch, 6, 28, 28], 2, {}, 'max');
  const c2 = convGeometry('bench', [batch, 6, 14, 14], [16, 6, 5, 5], {});
  const p2 = poolGeometry('bench', [batch, 16, 10, 10], 2, {}, 'max');
  const buf = (n: number) => new Float32Array(batch * n);
  const y1 = buf(6 * 28 * 28), r1 = buf(6 * 28 * 28), q1 = buf(6 * 14 * 14);
  const y2 = buf(16 * 10 * 10), r2 = buf(16 * 10 * 10), q2 = buf(400);
  const f1 = buf(120), g1 = buf(120), f2 = buf(84), g2 = buf(84), f3 = buf(10);
  const linear = (input: Float32Array, w: Float32Array, b: Float32Array, k: number, n: number, out: Float32Array) => {
    be.broadcast2d(b, 1, n, batch, n, out);
    be.gemm({ transA: false, transB: true, m: batch, n, k, alpha: 1, beta: 1, a: input, b: w, c: out });
  };
  const run = () => {
    be.conv2dForward(c1, x, p['0.weight'], p['0.bias'], y1);
    be.relu(y1, r1);
    be.maxPool2dForward(p1, r1, q1, null);
    be.conv2dForward(c2, q1, p['3.weight'], p['3.bias'], y2);
    be.relu(y2, r2);
    be.maxPool2dForward(p2, r2, q2, null);
    linear(q2, p['7.weight'], p['7.bias'], 400, 120, f1);
    be.relu(f1, g1);
    linear(g1, p['9.weight'], p['9.bias'], 120, 84, f2);
    be.relu(f2, g2);
    linear(g2, p['11.weight'], p['11.bias'], 84, 10, f3);
  };
  return { run, logits: f3 };
}

async function inferenceRows(): Promise<Row[]> {
  manualSeed(1);
  const model = lenet().eval();
  const params: Params = Object.fromEntries(model.namedParameters().map(([name, t]) => [name, t.data]));
  const rows: Row[] = [];
  for (const batch of [1, 256]) {
    const x = tensor(randomArray(batch * 32 * 32, 21), [batch, 1, 32, 32]);
    const api = () => noGrad(() => model.forward(x));
    const kernels = kernelForward(batch, x.data, params);
    const { perCall: [a, k], faultsPerCall: [faults], callsPerRound } = await alternate([api, kernels.run], { rounds: 7, roundSeconds: 0.2 });
    // The sum of kernels must be the same computation as the model, or the comparison means nothing.
    const logits = api().data;
    if (logits.some((v, i) => Math.abs(v - kernels.logits[i]) > 1e-4)) throw new Error(`lenet: the kernel-only forward differs from model.forward at batch ${batch}`);
    const ms = (s: number) => (s * 1e3).toFixed(3);
    rows.push({ op: 'LeNet-5 forward (noGrad)', shape: `batch ${batch}, 1x32x32`, backend: 'cpu', medianMs: median(a) * 1e3, rate: batch / median(a), unit: 'img/s',
      note: `kernels alone ${ms(median(k))} ms (${(batch / median(k)).toFixed(0)} img/s); framework +${ms(medianDifference(a, k))} ms/call; ` +
        `${median(faults).toFixed(0)} minor faults/call (7 rounds x ${callsPerRound})` });
  }
  return rows;
}

/** forward + crossEntropy + backward + step + zeroGrad, timed one step at a time. */
function trainStepRow(): Row {
  const batch = 64;
  manualSeed(1);
  const model = lenet();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const x = tensor(randomArray(batch * 32 * 32, 22), [batch, 1, 32, 32]);
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10);
  const step = () => {
    const loss: Tensor = crossEntropy(model.forward(x), labels);
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
  };
  for (let i = 0; i < 20; i++) step(); // workspaces, momentum buffers, JIT
  const seconds: number[] = [];
  const t0 = performance.now();
  while (seconds.length < 1000 && (seconds.length < 50 || performance.now() - t0 < 3000)) {
    const s0 = process.hrtime.bigint();
    step();
    seconds.push(Number(process.hrtime.bigint() - s0) / 1e9);
  }
  const ms = (s: number) => (s * 1e3).toFixed(3);
  return { op: 'LeNet-5 train step', shape: `batch ${batch}, 1x32x32`, backend: 'cpu', medianMs: median(seconds) * 1e3, rate: batch / median(seconds), unit: 'img/s',
    note: `fwd+crossEntropy+backward+SGD step+zeroGrad; p10 ${ms(percentile(seconds, 10))} / p90 ${ms(percentile(seconds, 90))} ms over ${seconds.length} steps` };
}

export async function lenetStepRows(): Promise<Row[]> {
  return [...(await inferenceRows()), trainStepRow()];
}
