// Disposing a tensor, or transferring its ArrayBuffer away, while an async op still uses it must
// neither crash nor change the result: the worker holds blocks of the addon's cache, and runs
// on held copies of any other array (lib/backend/async-staging.ts).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { conv2d, conv2dAsync, relu, tensor, type Tensor } from '../lib/index.js';
import { hasCpu, randData, rng, withBackend } from './helpers.js';

async function disposeWhileRunning(xShape: number[], wShape: number[]): Promise<void> {
  const r = rng(xShape[0] * 31 + wShape[0]);
  const make = (shape: number[]) => tensor(randData(r, shape.reduce((a, b) => a * b, 1)), shape);
  const x = relu(make(xShape)); // storage from the cpu backend's caches, like any op result
  const w = make(wShape);
  const expected = conv2d(x, w).toArray();
  const sources = [0, 1, 2, 3].map((i) => tensor(new Float32Array(x.size).fill(1e6 + i), xShape));
  const pending = conv2dAsync(x, w);
  x.dispose();
  // Results of x's size made now would get x's memory if it were free, and fill it with garbage.
  const garbage: Tensor[] = sources.map((t) => relu(t));
  const got = (await pending).toArray();
  expect(got.length).toBe(expected.length);
  let same = true;
  for (let i = 0; i < got.length; i++) same &&= got[i] === expected[i];
  expect(same).toBe(true);
  garbage.forEach((t) => expect(t.data[0]).toBeGreaterThanOrEqual(1e6));
}

describe.skipIf(!hasCpu)('dispose() during an async op', () => {
  it('keeps a block of the native cache until the kernel is done', async () => {
    await withBackend('cpu', () => disposeWhileRunning([8, 64, 128, 128], [64, 64, 3, 3])); // x: 32 MiB
  }, 60_000);

  it('keeps a pooled mid-size array until the kernel is done', async () => {
    await withBackend('cpu', () => disposeWhileRunning([1, 8, 128, 128], [64, 8, 5, 5])); // x: 512 KiB
  }, 60_000);
});

describe.skipIf(!hasCpu)('transferring an input away during an async op', () => {
  it('neither crashes nor changes the result (structuredClone and a real Worker, under GC)', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'tests/fixtures/transfer-during-async.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, CONVKIT_TUNE_MALLOC: '0' } });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ rounds: 4, same: true });
  }, 60_000);
});
