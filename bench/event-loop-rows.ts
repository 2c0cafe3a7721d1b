// The largest event-loop gap while a big conv runs async, against the same conv run sync.
import { backendByName, availableBackends } from '../lib/backend/registry.js';
import { convGeometry, poolGeometry } from '../lib/geometry.js';
import { largestEventLoopGapMs } from './event-loop.js';
import type { Row } from './table.js';

export async function eventLoopRows(): Promise<Row[]> {
  if (!availableBackends().includes('cpu')) return [];
  const cpu = backendByName('cpu');
  const g = convGeometry('bench', [64, 64, 56, 56], [64, 64, 3, 3], { padding: 1 });
  const x = new Float32Array(g.n * g.c * g.h * g.w).fill(0.5), w = new Float32Array(g.o * g.c * 9).fill(0.01);
  const y = new Float32Array(g.n * g.o * g.oh * g.ow).fill(0);
  const calls = 5;
  // Steady state, as in a server: every libuv thread that may pick up a call has grown its
  // workspace (first growth maps and faults in fresh pages, a stall of its own).
  for (let i = 0; i < 8; i++) await Promise.all([cpu.conv2dForwardAsync(g, x, w, null, y), cpu.conv2dForwardAsync(g, x, w, null, new Float32Array(y.length).fill(0))]);
  // This machine's own timer and scheduler noise, measured in the same run as the baseline.
  const idleGap = await largestEventLoopGapMs(() => new Promise((resolve) => setTimeout(resolve, 500)));
  const t0 = performance.now();
  const asyncGap = await largestEventLoopGapMs(async () => {
    for (let i = 0; i < calls; i++) await cpu.conv2dForwardAsync(g, x, w, null, y);
  });
  const asyncMs = (performance.now() - t0) / calls;
  const syncGap = await largestEventLoopGapMs(() => cpu.conv2dForward(g, x, w, null, y));

  const pg = poolGeometry('bench', [64, 32, 112, 112], 2, {}, 'max');
  // Written once first, as real inputs are: the first touch of fresh pages faults them in
  // under the process's memory-map lock, which stalls the event loop for reasons of its own.
  const px = new Float32Array(pg.n * pg.c * pg.h * pg.w).fill(0.5), py = new Float32Array(pg.n * pg.c * pg.oh * pg.ow).fill(0);
  const poolGap = await largestEventLoopGapMs(async () => {
    for (let i = 0; i < calls; i++) await cpu.maxPool2dForwardAsync(pg, px, py, null);
  });
  const gapRow = (op: string, gap: number, note: string): Row => ({ op, shape: 'largest event-loop gap', backend: 'cpu', medianMs: gap, rate: 0, unit: '', note });
  return [
    gapRow('idle (setTimeout 500 ms)', idleGap, 'baseline: no work; gap in ms'),
    gapRow('conv2dAsync N64 64->64 56x56', asyncGap, `${calls} calls of ~${asyncMs.toFixed(0)} ms each; gap in ms`),
    gapRow('conv2d (sync) same shape', syncGap, 'blocks for the whole call; gap in ms'),
    gapRow('maxPool2dAsync 64x32x112x112', poolGap, `${calls} calls; gap in ms`),
  ];
}
