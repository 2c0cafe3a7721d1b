// A LeNet-5 with BatchNorm trained in PyTorch (tests/fixtures/make_torch_fixtures.py), saved as a
// safetensors state_dict with PyTorch's names and its int64 num_batches_tracked, loads into the
// same convkit model and gives PyTorch's eval-mode outputs on every backend.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../lib/nn/index.js';
import { IntegerTensor, loadStateDictFile, readSafetensors, type SafetensorsContents, type Tensor } from '../lib/index.js';
import { backends, expectClose, withBackend } from './helpers.js';
import { leNet5 } from './models.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'torch');

/** torch.nn.Sequential(Conv2d(1,6,5), BatchNorm2d(6), ReLU(), MaxPool2d(2), ...), as in the script. */
const io = readSafetensors(new Uint8Array(readFileSync(join(fixtures, 'lenet-bn-io.safetensors'))), 'lenet-bn-io').tensors;
let f32: SafetensorsContents;
let f16: SafetensorsContents;
beforeAll(async () => {
  f32 = await loadStateDictFile(join(fixtures, 'lenet-bn.safetensors'));
  f16 = await loadStateDictFile(join(fixtures, 'lenet-bn-f16.safetensors'));
});

describe('the PyTorch state_dict file', () => {
  it('has PyTorch\'s names, float32 weights and an int64 num_batches_tracked', () => {
    expect(f32.metadata).toEqual({ format: 'pt' });
    expect(Object.keys(f32.integers)).toEqual(['1.num_batches_tracked']);
    const counter = f32.integers['1.num_batches_tracked'];
    expect([counter.dtype, counter.shape, counter.data]).toEqual(['I64', [], new BigInt64Array([5n])]);
    expect(Object.keys({ ...f32.tensors, ...f32.integers }).sort()).toEqual(Object.keys(leNet5({ batchNorm: true }).stateDict()).sort());
  });

  it('needs its integers too: the float tensors alone miss num_batches_tracked', () => {
    expect(() => leNet5({ batchNorm: true }).loadStateDict(f32.tensors)).toThrow(/missing keys: 1\.num_batches_tracked/);
  });
});

describe.each(backends)('a PyTorch LeNet-5 with BatchNorm on %s', (backend) => {
  const loaded = (contents: SafetensorsContents): nn.Sequential => {
    const model = leNet5({ batchNorm: true });
    model.loadStateDict({ ...contents.tensors, ...contents.integers });
    return model.eval();
  };

  it('loads by PyTorch\'s names with its running statistics and gives PyTorch\'s outputs', () => withBackend(backend, () => {
    const model = loaded(f32);
    const bn = model[1] as nn.BatchNorm2d;
    expect(bn.numBatchesTracked!.item()).toBe(5);
    const state = model.stateDict();
    for (const [key, t] of Object.entries(f32.tensors)) expect(state[key].toArray(), key).toEqual(t.data);
    // Five training steps moved the statistics away from their initial 0 and 1.
    expect(bn.runningMean!.toArray().every((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(bn.runningVar!.toArray().every((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    const y = model.forward(io.input);
    expect(y.shape).toEqual([4, 10]);
    expectClose(y.toArray(), io.output.data, `LeNet-BN on ${backend}`, 1e-5, 0);
  }));

  it('the same model saved with .half() gives PyTorch\'s outputs for the half weights', () => withBackend(backend, () => {
    const model = loaded(f16);
    expect((model[1] as nn.BatchNorm2d).numBatchesTracked!.item()).toBe(5);
    expect(f16.integers['1.num_batches_tracked']).toBeInstanceOf(IntegerTensor);
    const y: Tensor = model.forward(io.input);
    expectClose(y.toArray(), io.output_f16.data, `LeNet-BN float16 on ${backend}`, 1e-5, 0);
    // Half precision moved the outputs (so this test is not the float32 one again).
    expect(() => expectClose(y.toArray(), io.output.data, 'vs float32', 1e-5, 0)).toThrow();
  }));
});
