// The framework's cost per call: a public-API op on plain tensors (no grad) against the same
// Backend contract calls on preallocated buffers, in alternating rounds. The difference is
// what the API adds: argument checks, geometry, output allocation, the Tensor, the tape check.
// Two ways to call it: dropping the result (V8 collects it: a new array each call, cold in the
// caches) and dispose() (its memory serves the next call, as in PyTorch's caching allocator).
import { conv2d, linear, maxPool2d, relu, tensor, type Tensor } from '../lib/index.js';
import { backendForDevice } from '../lib/backend/registry.js';
import { convGeometry, poolGeometry } from '../lib/geometry.js';
import { alternate, medianDifference } from './alternate.js';
import { randomArray } from './fill.js';
import { median } from './stats.js';
import type { Row } from './table.js';

const ROUNDS = 9;

interface Case { op: string; shape: string; api: () => Tensor; kernel: () => void }

const volume = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const rand = (shape: number[], seed: number) => tensor(randomArray(volume(shape), seed), shape);

function cases(): Case[] {
  const be = backendForDevice('cpu');
  const out: Case[] = [];

  const px = rand([16, 6, 14, 14], 1);
  const pg = poolGeometry('bench', px.shape, 2, {}, 'max');
  const py = new Float32Array(pg.n * pg.c * pg.oh * pg.ow);
  out.push({ op: 'maxPool2d(x, 2)', shape: '16x6x14x14', api: () => maxPool2d(px, 2), kernel: () => be.maxPool2dForward(pg, px.data, py, null) });

  const w = rand([16, 6, 5, 5], 2), bias = rand([16], 3);
  for (const n of [1, 16]) {
    const x = rand([n, 6, 14, 14], 4);
    const g = convGeometry('bench', x.shape, w.shape, {});
    const y = new Float32Array(g.n * g.o * g.oh * g.ow);
    out.push({ op: 'conv2d + bias', shape: `LeNet conv2 N${n} 6->16 14x14 5x5`,
      api: () => conv2d(x, w, bias), kernel: () => be.conv2dForward(g, x.data, w.data, bias.data, y) });
  }

  for (const shape of [[1], [16, 6, 28, 28]]) {
    const x = rand(shape, 5), y = new Float32Array(x.size);
    out.push({ op: 'relu', shape: shape.join('x'), api: () => relu(x), kernel: () => be.relu(x.data, y) });
  }

  // linear = the bias broadcast into y, then y += x w^T: the two contract calls the op makes.
  const lx = rand([1, 400], 6), lw = rand([120, 400], 7), lb = rand([120], 8), ly = new Float32Array(120);
  out.push({ op: 'linear + bias', shape: 'x 1x400, w 120x400', api: () => linear(lx, lw, lb), kernel: () => {
    be.broadcast2d(lb.data, 1, 120, 1, 120, ly);
    be.gemm({ transA: false, transB: true, m: 1, n: 120, k: 400, alpha: 1, beta: 1, a: lx.data, b: lw.data, c: ly });
  } });
  return out;
}

export async function overheadRows(): Promise<Row[]> {
  const be = backendForDevice('cpu');
  const rows: Row[] = [];
  for (const c of cases()) {
    const disposed = () => c.api().dispose();
    const { perCall: [api, kernel, apiDisposed], faultsPerCall: [apiFaults], callsPerRound } = await alternate([c.api, c.kernel, disposed], { rounds: ROUNDS, roundSeconds: 0.2, minCalls: 200 });
    const us = (s: number) => (s * 1e6).toFixed(2);
    const faults = median(apiFaults);
    rows.push({ op: `overhead: ${c.op}`, shape: c.shape, backend: be.name, medianMs: median(api) * 1e3, rate: 0, unit: '',
      note: `kernel ${us(median(kernel))} us; api ${us(median(api))} us (+${us(medianDifference(api, kernel))}) dropping the result, ${us(median(apiDisposed))} us (+${us(medianDifference(apiDisposed, kernel))}) with dispose(); ${faults.toFixed(faults < 10 ? 2 : 0)} minor faults/call (${ROUNDS} rounds x ${callsPerRound} calls)` });
  }
  return rows;
}
