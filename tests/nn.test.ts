// lib/nn: names, counts and shapes (LeNet-5), state dicts, train/eval, default initialisation,
// seeding, configs, gradients through a composed module, and Conv1d by hand.
import { describe, expect, it } from 'vitest';
import * as nn from '../lib/nn/index.js';
import { manualSeed } from '../lib/random.js';
import { noGrad, tensor, Tensor } from '../lib/index.js';
import { backends, expectClose, gradcheck, randTensor, rng, withBackend } from './helpers.js';
import { leNet5 } from './models.js';

const any = (v: unknown) => v as never;

const count = (m: nn.Module) => m.parameters().reduce((s, p) => s + p.size, 0);

describe('LeNet-5 as a Sequential', () => {
  const model = leNet5();

  it('has 61,706 parameters with PyTorch names', () => {
    expect(count(model)).toBe(61706);
    expect(model.namedParameters().map(([name, p]) => `${name} ${p.shape.join('x')}`)).toEqual([
      '0.weight 6x1x5x5', '0.bias 6', '3.weight 16x6x5x5', '3.bias 16',
      '7.weight 120x400', '7.bias 120', '9.weight 84x120', '9.bias 84', '11.weight 10x84', '11.bias 10',
    ]);
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('maps [2,1,32,32] to [2,10] on every backend', () => {
    for (const backend of backends) {
      withBackend(backend, () => expect(model.forward(randTensor(rng(1), [2, 1, 32, 32])).shape).toEqual([2, 10]));
    }
  });

  it('is indexable and has a length', () => {
    expect(model.length).toBe(12);
    expect(model[0]).toBeInstanceOf(nn.Conv2d);
    expect(model[11]).toBeInstanceOf(nn.Linear);
    expect(model[12]).toBeUndefined();
    expect([...model].length).toBe(12);
    expect((model[7] as nn.Linear).weight.shape).toEqual([120, 400]);
  });

  it('trains end to end: gradients reach every parameter', () => {
    model.zeroGrad();
    const y = model.forward(randTensor(rng(2), [2, 1, 32, 32]));
    y.backward(tensor(new Array(20).fill(1), [2, 10]));
    expect(model.parameters().every((p) => p.grad !== null && p.grad.shape.join() === p.shape.join())).toBe(true);
    model.zeroGrad();
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
  });
});

class Net extends nn.Module {
  readonly features = this.registerModule('features', new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.ReLU()));
  readonly head = this.registerModule('head', new nn.Linear(2, 3, { bias: false }));
  forward(x: Tensor): Tensor {
    return this.head.forward(new nn.Flatten().forward(new nn.GlobalAvgPool2d().forward(this.features.forward(x))));
  }
  toConfig(): nn.ModuleConfig {
    return { type: 'Net', args: [] };
  }
}

describe('names, buffers and state dicts', () => {
  it('names nested modules with dots, in registration order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias', 'head.weight']);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['features.1.running_mean', 'features.1.running_var', 'features.1.num_batches_tracked']);
    expect(net.namedModules().map(([n]) => n)).toEqual(['', 'features', 'features.0', 'features.1', 'features.2', 'head']);
    expect(net.buffers().every((b) => !b.requiresGrad)).toBe(true);
  });

  it('orders the state dict as PyTorch: each module\'s parameters, then its buffers', () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.Linear(2, 2));
    expect(Object.keys(model.stateDict())).toEqual([
      '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '2.weight', '2.bias',
    ]);
  });

  it('round-trips through loadStateDict, copying values into the existing tensors', () => {
    manualSeed(1);
    const a = new Net();
    manualSeed(2);
    const b = new Net();
    const weight = b.head.weight;
    const x = randTensor(rng(3), [2, 1, 5, 5]);
    a.eval();
    b.eval();
    expect(b.forward(x).toArray()).not.toEqual(a.forward(x).toArray());
    b.loadStateDict(a.stateDict());
    expect(b.head.weight).toBe(weight);
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
    weight.data[0] += 1; // copies, not shared storage
    expect(a.head.weight.data[0]).not.toBe(weight.data[0]);
  });

  it('reports missing and unexpected keys and shape mismatches, and changes nothing then', () => {
    const net = new Net();
    const before = net.head.weight.toArray();
    const dict = { ...new Net().stateDict() };
    const { 'head.weight': headWeight, ...missing } = dict;
    expect(() => net.loadStateDict(missing)).toThrow(new RangeError('Net.loadStateDict: the state dict does not match the module (missing keys: head.weight)'));
    expect(() => net.loadStateDict({ ...dict, 'head.bias': headWeight })).toThrow(/unexpected keys: head\.bias/);
    expect(() => net.loadStateDict({ ...dict, 'features.0.weight': tensor(new Array(9).fill(0), [1, 1, 3, 3]) })).toThrow(
      new RangeError("Net.loadStateDict: 'features.0.weight' has shape [1,1,3,3] but the module expects [2,1,3,3]"));
    expect(() => net.loadStateDict({ ...dict, 'head.weight': any([1, 2]) })).toThrow(TypeError);
    expect(() => net.loadStateDict(any(null))).toThrow(/^Net\.loadStateDict: dict must be an object/);
    expect(net.head.weight.toArray()).toEqual(before);
    // Non-strict: loads what matches and ignores the rest; shapes are still checked.
    net.loadStateDict({ 'head.weight': headWeight, extra: headWeight }, { strict: false });
    expect(net.head.weight.toArray()).toEqual(headWeight.toArray());
    expect(() => net.loadStateDict({ 'features.1.weight': headWeight }, { strict: false })).toThrow(/has shape \[3,2\] but the module expects \[2\]/);
  });

  it('rejects duplicate and malformed registrations', () => {
    class Bad extends nn.Module {
      constructor(name: string) {
        super();
        this.registerParameter('w', tensor([1], [1]));
        this.registerBuffer(name, tensor([1], [1]));
      }
      forward(x: Tensor) { return x; }
      toConfig() { return { type: 'Bad', args: [] }; }
    }
    expect(() => new Bad('w')).toThrow(/^Bad: 'w' is already registered/);
    expect(() => new Bad('a.b')).toThrow(/^Bad: a registered name must be letters, digits or _/);
  });
});

describe('train and eval', () => {
  it('switches every descendant', () => {
    const net = new Net();
    expect(net.training).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    net.train();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
    expect(() => net.train(any('no'))).toThrow(TypeError);
  });

  it('BatchNorm2d: batch statistics and running updates in training, running statistics in eval', () => {
    for (const backend of backends) {
      withBackend(backend, () => {
        const bn = new nn.BatchNorm2d(2);
        const x = randTensor(rng(4), [4, 2, 3, 3], false, 3);
        for (let i = 0; i < x.size; i++) x.data[i] += 5;
        const y = bn.forward(x);
        for (let ch = 0; ch < 2; ch++) {
          const v = [];
          for (let n = 0; n < 4; n++) v.push(...y.data.slice((n * 2 + ch) * 9, (n * 2 + ch + 1) * 9));
          const mean = v.reduce((a, b) => a + b) / v.length;
          expect(Math.abs(mean)).toBeLessThan(1e-5);
          expect(Math.abs(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length - 1)).toBeLessThan(1e-3);
        }
        expect(bn.runningMean!.data[0]).toBeCloseTo(0.5, 0); // 0.9*0 + 0.1*~5
        expect(bn.numBatchesTracked!.item()).toBe(1);
        bn.eval();
        const stats = bn.runningMean!.toArray();
        const z = bn.forward(x);
        expect(bn.runningMean!.toArray()).toEqual(stats);
        expect(bn.numBatchesTracked!.item()).toBe(1);
        const is = 1 / Math.sqrt(bn.runningVar!.data[0] + 1e-5);
        expect(z.data[0]).toBeCloseTo((x.data[0] - stats[0]) * is, 5);
      });
    }
  });

  it('BatchNorm2d without running statistics uses the batch in eval too; without affine has no parameters', () => {
    const bn = new nn.BatchNorm2d(3, { trackRunningStats: false, affine: false });
    expect(bn.parameters()).toEqual([]);
    expect(Object.keys(bn.stateDict())).toEqual([]);
    const x = randTensor(rng(5), [2, 3, 2, 2]);
    expect(bn.eval().forward(x).toArray()).toEqual(bn.train().forward(x).toArray());
  });

  it('Dropout drops in training and is the identity in eval', () => {
    const drop = new nn.Dropout(0.5);
    const x = tensor(new Array(1000).fill(1), [10, 100]);
    const y = drop.forward(x);
    const zeros = y.data.filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(400);
    expect(zeros).toBeLessThan(600);
    expect(y.data.every((v) => v === 0 || v === 2)).toBe(true);
    expect(drop.eval().forward(x)).toBe(x);
    expect(() => new nn.Dropout(1)).toThrow(/^Dropout: p must be in \[0, 1\), got 1$/);
  });
});

describe('default initialisation (PyTorch)', () => {
  it('Linear and Conv2d: weight and bias uniform within 1/sqrt(fanIn)', () => {
    const cases: Array<[nn.Linear | nn.Conv2d, number]> = [
      [new nn.Linear(100, 300), 100],
      [new nn.Conv2d(3, 64, 5), 75],
      [new nn.Conv2d(8, 64, 3, { groups: 4 }), 18],
    ];
    for (const [layer, fanIn] of cases) {
      const bound = 1 / Math.sqrt(fanIn);
      const w = layer.weight.data;
      const max = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(max).toBeLessThanOrEqual(bound);
      expect(max).toBeGreaterThan(0.97 * bound);
      const mean = w.reduce((a, b) => a + b, 0) / w.length;
      const variance = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
      expect(Math.abs(mean)).toBeLessThan(0.05 * bound);
      expect(Math.abs(variance / (bound * bound / 3) - 1)).toBeLessThan(0.1); // uniform: b^2/3
      expect(layer.bias!.data.every((v) => Math.abs(v) <= bound)).toBe(true);
      expect(new Set(layer.bias!.data).size).toBeGreaterThan(layer.bias!.size / 2);
    }
  });

  it('BatchNorm2d: weight 1, bias 0, running mean 0, running var 1', () => {
    const bn = new nn.BatchNorm2d(4);
    expect(Array.from(bn.weight!.data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(bn.bias!.data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(bn.runningMean!.data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(bn.runningVar!.data)).toEqual([1, 1, 1, 1]);
  });

  it('init by name or function, and bias: false', () => {
    const zeros = new nn.Linear(4, 3, { init: 'zeros', bias: false });
    expect(zeros.weight.data.every((v) => v === 0)).toBe(true);
    expect(zeros.bias).toBeNull();
    expect(zeros.parameters().length).toBe(1);
    const custom = new nn.Conv2d(2, 2, 3, { init: (w) => w.data.fill(0.25) });
    expect(custom.weight.data.every((v) => v === 0.25)).toBe(true);
    expect(custom.bias!.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(18))).toBe(true);
    const he = new nn.Linear(50, 50, { init: 'kaimingNormal' });
    expect(he.weight.data.some((v) => Math.abs(v) > 1 / Math.sqrt(50))).toBe(true);
    expect(() => new nn.Linear(2, 2, { init: any('heUniformish') })).toThrow(RangeError);
    expect(() => new nn.Linear(2, 2, { init: any(3) })).toThrow(/^Linear: init must be an initializer name or a function/);
  });

  it('manualSeed makes models repeatable', () => {
    manualSeed(7);
    const a = leNet5().stateDict();
    manualSeed(7);
    const b = leNet5().stateDict();
    const c = leNet5().stateDict();
    for (const key of Object.keys(a)) expect(b[key].toArray(), key).toEqual(a[key].toArray());
    expect(c['0.weight'].toArray()).not.toEqual(a['0.weight'].toArray());
  });
});

describe('configs', () => {
  it('toConfig -> JSON -> moduleFromConfig rebuilds the architecture; with the weights, the same outputs', () => {
    const model = new nn.Sequential(
      new nn.Conv2d(3, 4, [3, 2], { stride: [1, 2], padding: 'same', bias: false, init: 'xavierUniform' }),
      new nn.BatchNorm2d(4, { momentum: 0.2, eps: 1e-3 }), new nn.LeakyReLU(0.2),
      new nn.MaxPool2d(2, { ceilMode: true }), new nn.AvgPool2d(2, { stride: 1, padding: 1, countIncludePad: false }),
      new nn.Dropout(0.3), new nn.Tanh(), new nn.Sigmoid(),
      new nn.GlobalAvgPool2d(), new nn.Flatten(), new nn.Linear(4, 5), new nn.Softmax(1),
    );
    const json = JSON.stringify(model.toConfig());
    const rebuilt = nn.moduleFromConfig(JSON.parse(json));
    expect(JSON.stringify(rebuilt.toConfig())).toBe(json);
    expect(rebuilt.namedParameters().map(([n, p]) => [n, p.shape])).toEqual(model.namedParameters().map(([n, p]) => [n, p.shape]));
    rebuilt.loadStateDict(model.stateDict());
    const x = randTensor(rng(8), [2, 3, 7, 8]);
    model.eval();
    rebuilt.eval();
    expect(rebuilt.forward(x).toArray()).toEqual(model.forward(x).toArray());
    const conv1d = new nn.Conv1d(2, 3, 3, { padding: [1, 0], dilation: 2, stride: 2 });
    expect(JSON.stringify(nn.moduleFromConfig(JSON.parse(JSON.stringify(conv1d.toConfig()))).toConfig())).toBe(JSON.stringify(conv1d.toConfig()));
  });

  it('rejects unknown types and malformed configs; accepts registered types', () => {
    expect(() => nn.moduleFromConfig({ type: 'Conv3d', args: [] })).toThrow(/^moduleFromConfig: unknown module type 'Conv3d' \(known: Conv2d, Conv1d/);
    expect(() => nn.moduleFromConfig(any({ type: 'ReLU' }))).toThrow(/^moduleFromConfig: config\.args of 'ReLU' must be an array/);
    expect(() => nn.moduleFromConfig(any(null))).toThrow(TypeError);
    expect(() => nn.moduleFromConfig({ type: 'Linear', args: [0, 2] })).toThrow(/^Linear: inFeatures must be a positive integer, got 0/);
    nn.registerModuleType('Net', () => new Net());
    expect((nn.moduleFromConfig({ type: 'Sequential', args: [{ type: 'Net', args: [] }] }) as nn.Sequential)[0]).toBeInstanceOf(Net);
    expect(() => nn.registerModuleType('Net', () => new Net())).toThrow(/already registered/);
  });
});

describe('layer arguments', () => {
  it('are checked at construction', () => {
    expect(() => new nn.Conv2d(3, 4, 0)).toThrow(/^Conv2d: kernelSize must be a positive integer, got 0/);
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(/^Conv2d: inChannels 3 and outChannels 4 must both be divisible by groups 2/);
    expect(() => new nn.Conv2d(3, 4, 3, any({ strides: 2 }))).toThrow(/^Conv2d: unknown option 'strides'/);
    expect(() => new nn.Conv2d(1.5, 4, 3)).toThrow(/^Conv2d: inChannels must be a positive integer/);
    expect(() => new nn.Conv1d(1, 1, 3, { padding: any('full') })).toThrow(TypeError);
    expect(() => new nn.MaxPool2d(2, any({ countIncludePad: true }))).toThrow(/^MaxPool2d: unknown option 'countIncludePad'/);
    expect(() => new nn.BatchNorm2d(0)).toThrow(/^BatchNorm2d: numFeatures must be a positive integer/);
    expect(() => new nn.BatchNorm2d(2, { momentum: -1 })).toThrow(/^BatchNorm2d: momentum must be in \[0, 1\]/);
    expect(() => new nn.Sequential(any({}))).toThrow(/^Sequential: layer 0 must be a Module/);
    expect(() => new nn.Conv1d(2, 2, 3).forward(randTensor(rng(1), [2, 2, 2, 5]))).toThrow(/^Conv1d: input must be 3-d \(NCL\)/);
  });
});

describe('Conv1d', () => {
  const readings = [1.0, 1.1, 1.2, 1.4, 1.7, 1.8, 1.9, 2.0, 2.2];
  const weights = [0.01, 0.01, 0.02, 0.02, 0.04, 0.04, 0.05];

  it('is a weighted moving average (checked by hand)', () => {
    for (const backend of backends) {
      withBackend(backend, () => {
        const conv = new nn.Conv1d(1, 1, 7, { bias: false, init: (w) => w.data.set(weights) });
        const y = noGrad(() => conv.forward(tensor(readings, [1, 1, 9])));
        expect(y.shape).toEqual([1, 1, 3]);
        // 0.01*1.00 + 0.01*1.10 + 0.02*1.20 + 0.02*1.40 + 0.04*1.70 + 0.04*1.80 + 0.05*1.90 = 0.308, ...
        expectClose(y.data, [0.308, 0.333, 0.362], 'moving average', 1e-6);
      });
    }
  });

  it('handles padding, stride, dilation, groups and bias like a conv2d on one row', () => {
    const conv = new nn.Conv1d(4, 6, 3, { stride: 2, padding: 2, dilation: 2, groups: 2 });
    expect(conv.weight.shape).toEqual([6, 2, 3]);
    const x = randTensor(rng(9), [2, 4, 11]);
    const y = conv.forward(x);
    expect(y.shape).toEqual([2, 6, 6]); // floor((11 + 4 - 5) / 2) + 1
    expect(new nn.Conv1d(1, 1, 4, { padding: 'same' }).forward(randTensor(rng(9), [1, 1, 10])).shape).toEqual([1, 1, 10]);
  });

  it('gradients (input, weight, bias)', () => {
    const conv = new nn.Conv1d(2, 3, 3, { padding: 1, stride: 2 });
    gradcheck('Conv1d', [randTensor(rng(10), [2, 2, 7], true), conv.weight, conv.bias!], ([x]) => conv.forward(x));
  });
});

describe.each(backends)('gradients through a composed module on %s', (backend) => {
  it('conv, batchnorm, relu, pool, linear: input and every parameter', () => withBackend(backend, () => {
    manualSeed(3);
    const model = new nn.Sequential(
      new nn.Conv2d(2, 3, 3, { padding: 1 }), new nn.BatchNorm2d(3), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(12, 4),
    );
    const x = randTensor(rng(11), [2, 2, 4, 4], true);
    // A small step: a larger one moves some values across the relu kink or a max-pool tie.
    gradcheck('composed (training)', [x, ...model.parameters()], ([input]) => model.forward(input), { eps: 1e-3 });
    model.eval();
    gradcheck('composed (eval)', [x, ...model.parameters()], ([input]) => model.forward(input), { eps: 1e-3 });
  }));
});
