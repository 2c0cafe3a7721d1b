// The public surface: lib/index.ts exports exactly the API, and the built package imports
// itself by name from dist (checked when dist exists; `npm install` builds it via prepare).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../lib/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// CI installs from scratch, so there dist must exist and these tests may not skip.
const haveDist = existsSync(join(root, 'dist', 'index.js')) || process.env.CONVKIT_REQUIRE_NATIVE === '1';

function runModule(script: string, env: NodeJS.ProcessEnv = {}): any {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root, encoding: 'utf8', env: { ...process.env, ...env },
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const expectedExports = [
  'Generator', 'Tensor', 'availableBackends', 'avgPool2d', 'backendInfo', 'batchNorm2d', 'bceWithLogits', 'cpu', 'dropout', 'nn', 'conv2d', 'conv2dAsync', 'crossEntropy', 'cuda', 'encodeOnnx', 'evaluate', 'exportOnnx', 'fit', 'flatten', 'gemm',
  'gemmAsync', 'getBackend', 'globalAvgPool2d', 'globalMaxPool2d', 'leakyRelu', 'init', 'data', 'linear', 'load', 'loadStateDictFile', 'readSafetensors', 'save', 'saveSync', 'writeSafetensors', 'IntegerTensor', 'logSoftmax', 'manualSeed', 'matmul', 'mseLoss', 'nllLoss',
  'matmulAsync', 'maxPool2d', 'maxPool2dAsync', 'noGrad', 'optim', 'outputSize', 'outputSizeDetail', 'parseSpec', 'predict', 'relu', 'reshape', 'setBackend', 'setNumThreads', 'sigmoid',
  'softmax', 'stepsToReach', 'summary', 'tanh', 'tensor', 'compile', 'CompiledModel',
  'createBatcher', 'createWorkerPool', 'fromImage', 'QueueFullError', 'ClosedError',
  'add', 'sub', 'mul', 'div', 'clamp', 'sum', 'mean',
  'permute', 'transpose', 'concat', 'split', 'slice', 'argmax',
];

describe('public API', () => {
  it('lib/index.ts exports exactly the API', () => {
    expect(Object.keys(api).sort()).toEqual([...expectedExports].sort());
  });

  it.runIf(haveDist)("import('convkit') resolves to dist and works", () => {
    const script = `
      const ck = await import('convkit');
      const url = import.meta.resolve('convkit');
      const y = ck.relu(ck.tensor([-1, 2], [2]));
      console.log(JSON.stringify({ url, keys: Object.keys(ck).sort(), y: Array.from(y.data), backends: ck.availableBackends() }));
    `;
    const result = runModule(script);
    expect(result.url).toBe(new URL('dist/index.js', `file://${root}/`).href);
    expect(result.keys).toEqual([...expectedExports].sort());
    expect(result.y).toEqual([0, 2]);
    expect(result.backends).toContain('js');
  });

  it.runIf(haveDist)('without the addon, convkit runs on js and says why', () => {
    const script = `
      const ck = await import('convkit');
      const errorOf = (fn) => { try { fn(); return null; } catch (e) { return e.constructor.name + ': ' + e.message; } };
      const y = ck.maxPool2d(ck.tensor([1, 5, 3, 2], [1, 1, 2, 2]), 2);
      console.log(JSON.stringify({
        info: ck.backendInfo(), backend: ck.getBackend(), y: Array.from(y.data),
        cpu: errorOf(() => ck.setBackend('cpu')), cuda: errorOf(() => ck.setBackend('cuda')),
      }));
    `;
    const result = runModule(script, { CONVKIT_DISABLE_NATIVE: '1' });
    expect(result.backend).toBe('js');
    expect(result.info.available).toEqual(['js']);
    expect(result.info.native.loaded).toBe(false);
    expect(result.info.native.error).toMatch(/CONVKIT_DISABLE_NATIVE/);
    expect(result.y).toEqual([5]);
    expect(result.cpu).toMatch(/^RangeError: setBackend: the 'cpu' backend is not available/);
    expect(result.cuda).toMatch(/^RangeError: setBackend: the 'cuda' backend is not available \(the native addon is not loaded/);
    expect(result.info.cuda.available).toBe(false);
  });
});
