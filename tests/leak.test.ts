// Memory stays flat over many native calls (sync and async): a leaked buffer, reference or
// workspace per call would show up as hundreds of MB of growth.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../lib/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('memory', () => {
  it.runIf(availableBackends().includes('cpu'))('stays flat over 1200 steps of async and sync native calls', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'tests/fixtures/leak-loop.ts', '600'],
      { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.steps).toBe(1200);
    // 1200 steps x (512 KiB input + 512 KiB output + ...) would be > 1 GB if any call leaked its buffers.
    expect(result.growthMiB).toBeLessThan(64);
  }, 120_000);
});
