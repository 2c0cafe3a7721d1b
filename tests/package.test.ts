// The public surface: lib/index.ts exports exactly the API, and the built package imports
// itself by name from dist (checked when dist exists; `npm install` builds it via prepare).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../lib/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const expectedExports = [
  'Tensor', 'availableBackends', 'avgPool2d', 'backendInfo', 'conv2d', 'conv2dAsync', 'crossEntropy', 'flatten', 'gemm',
  'gemmAsync', 'getBackend', 'globalAvgPool2d', 'globalMaxPool2d', 'leakyRelu', 'linear', 'logSoftmax', 'matmul',
  'matmulAsync', 'maxPool2d', 'maxPool2dAsync', 'noGrad', 'relu', 'reshape', 'setBackend', 'setNumThreads', 'sigmoid',
  'softmax', 'tanh', 'tensor',
];

describe('public API', () => {
  it('lib/index.ts exports exactly the API', () => {
    expect(Object.keys(api).sort()).toEqual([...expectedExports].sort());
  });

  it.runIf(existsSync(join(root, 'dist', 'index.js')))("import('convkit') resolves to dist and works", () => {
    const script = `
      const ck = await import('convkit');
      const url = import.meta.resolve('convkit');
      const y = ck.relu(ck.tensor([-1, 2], [2]));
      console.log(JSON.stringify({ url, keys: Object.keys(ck).sort(), y: Array.from(y.data), backends: ck.availableBackends() }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result.url).toBe(new URL('dist/index.js', `file://${root}/`).href);
    expect(result.keys).toEqual([...expectedExports].sort());
    expect(result.y).toEqual([0, 2]);
    expect(result.backends).toContain('js');
  });
});
