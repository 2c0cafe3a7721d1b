// compile(): the compiled model equals the eager model in eval mode on every backend, for every
// layer the plan takes, odd geometries and batch sizes; async equals sync, also when many run at
// once; parameter changes reach it; what it cannot take, and bad input, are clear errors.
import { describe, expect, it } from 'vitest';
import { backendInfo, compile, manualSeed, nn, noGrad, optim, setNumThreads, tensor, Tensor, crossEntropy } from '../lib/index.js';
import { backends, expectClose, randTensor, rng, withBackend, withBackendAsync } from './helpers.js';
import { leNet5 } from './models.js';

const r = rng(21);

/** Gives every BatchNorm2d running statistics away from 0 and 1, by forward passes in training mode. */
function warmBatchNorm(model: nn.Module, shape: number[]): void {
  model.train();
  noGrad(() => { for (let i = 0; i < 3; i++) model.forward(randTensor(r, [4, ...shape], false, 2)); });
  model.eval();
}

interface Case { name: string; build: () => nn.Module; inputShape: number[] }

const cases: Case[] = [
  { name: 'LeNet-5', build: () => leNet5(), inputShape: [1, 32, 32] },
  {
    name: 'conv + BatchNorm (folded) + ReLU, a BatchNorm alone, dropout, avg and global pooling',
    build: () => new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.Dropout(0.5),
      new nn.AvgPool2d(2, { ceilMode: true, padding: 1, countIncludePad: false }), new nn.BatchNorm2d(8, { affine: false }), new nn.ReLU(),
      new nn.Conv2d(8, 4, 1), new nn.GlobalAvgPool2d(), new nn.Flatten(), new nn.Linear(4, 3), new nn.Softmax()),
    inputShape: [3, 9, 11],
  },
  {
    name: 'stride, asymmetric padding, dilation, groups, no bias, leaky/tanh/sigmoid',
    build: () => new nn.Sequential(
      new nn.Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: [1, 0, 2, 1], bias: false }), new nn.LeakyReLU(0.2),
      new nn.Conv2d(6, 6, 3, { dilation: 2, groups: 3, padding: 'same' }), new nn.Tanh(),
      new nn.MaxPool2d(3, { stride: 2, padding: 1, dilation: 1, ceilMode: true }), new nn.Sigmoid(),
      new nn.Flatten(), new nn.Dropout(), new nn.Linear(6 * 4 * 6, 5, { bias: false }), new nn.ReLU(), new nn.ReLU()),
    inputShape: [4, 11, 11],
  },
  {
    name: 'nested Sequential, softmax over channels',
    build: () => new nn.Sequential(new nn.Sequential(new nn.Conv2d(2, 3, 3), new nn.ReLU()), new nn.Softmax(1)),
    inputShape: [2, 5, 7],
  },
];

// Convs followed by a 2x2, stride-2 max pool: odd conv outputs (the pool drops the last row and column), with and without ReLU, a folded
// BatchNorm, a conv too wide for the direct kernel (im2col).
const convPool = (): nn.Module => new nn.Sequential(
  new nn.Conv2d(3, 6, 3), new nn.ReLU(), new nn.MaxPool2d(2),                    // 13x11 -> 11x9 -> 5x4
  new nn.Conv2d(6, 16, 2, { padding: 1 }), new nn.BatchNorm2d(16), new nn.MaxPool2d(2), // -> 6x5 -> 3x2
  new nn.Conv2d(16, 40, 1), new nn.ReLU(), new nn.MaxPool2d(2, { stride: 2 }));   // -> 3x2 -> 1x1
cases.push({ name: 'conv (+ ReLU) + 2x2 max pool, odd sizes', build: convPool, inputShape: [3, 13, 11] });

for (const backend of backends) {
  describe(`compile on ${backend}`, () => {
    it('conv + 2x2 max pool equals eager at 1 and 2 threads, batch 1 to 300', () => {
      withBackend(backend, () => {
        manualSeed(6);
        const model = convPool();
        warmBatchNorm(model, [3, 13, 11]);
        const compiled = compile(model, { inputShape: [3, 13, 11] });
        const before = backendInfo().native.numThreads;
        try {
          for (const threads of [1, 2]) {
            setNumThreads(threads);
            for (const n of [1, 3, 300]) {
              const x = randTensor(r, [n, 3, 13, 11]);
              expectClose(compiled.run(x).toArray(), noGrad(() => model.forward(x)).toArray(), `threads=${threads} n=${n}`, 1e-5, 1e-5);
            }
          }
        } finally {
          if (before) setNumThreads(before);
        }
      });
    });

    it.each(cases)('$name equals the eager model in eval mode, sync and async', async ({ build, inputShape }) => {
      await withBackendAsync(backend, async () => {
        manualSeed(4);
        const model = build();
        warmBatchNorm(model, inputShape);
        const compiled = compile(model, { inputShape });
        for (const n of [1, 2, 7, 33]) {
          const x = randTensor(r, [n, ...inputShape]);
          const eager = noGrad(() => model.forward(x));
          const sync = compiled.run(x);
          expect(sync.shape).toEqual(eager.shape);
          expectClose(sync.toArray(), eager.toArray(), `n=${n} run`, 1e-4, 1e-5);
          expectClose((await compiled.runAsync(x)).toArray(), sync.toArray(), `n=${n} runAsync`, 0, 0);
        }
      });
    });

    it('gives each of many concurrent runAsync calls its own result', async () => {
      await withBackendAsync(backend, async () => {
        const model = leNet5();
        const compiled = compile(model, { inputShape: [1, 32, 32] });
        const inputs = Array.from({ length: 12 }, (_, i) => randTensor(r, [1 + (i % 5) * 7, 1, 32, 32]));
        const results = await Promise.all(inputs.map((x) => compiled.runAsync(x)));
        results.forEach((y, i) => expect(Array.from(y.toArray())).toEqual(Array.from(compiled.run(inputs[i]).toArray())));
      });
    });

    it('sees an optimizer step, loadStateDict and a write through data', () => {
      withBackend(backend, () => {
        manualSeed(9);
        const model = leNet5();
        const compiled = compile(model, { inputShape: [1, 32, 32] });
        const x = randTensor(r, [3, 1, 32, 32]);
        const check = (label: string) => expectClose(compiled.run(x).toArray(), noGrad(() => model.forward(x)).toArray(), label, 1e-4, 1e-5);
        check('before');
        const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
        crossEntropy(model.forward(x), [1, 2, 3]).backward();
        opt.step();
        check('after an optimizer step');
        const other = leNet5();
        model.loadStateDict(other.stateDict());
        check('after loadStateDict');
        (model[0] as nn.Conv2d).weight.data.fill(0.01);
        check('after a write through data');
      });
    });

    it('keeps its result when the input is disposed or transferred during runAsync', async () => {
      await withBackendAsync(backend, async () => {
        const compiled = compile(leNet5(), { inputShape: [1, 32, 32] });
        const x = randTensor(r, [64, 1, 32, 32]);
        const want = compiled.run(x).toArray();
        const copy = new Tensor(x.data.slice(), x.shape);
        const pending = compiled.runAsync(copy);
        structuredClone(copy.data.buffer, { transfer: [copy.data.buffer as ArrayBuffer] });
        expect(Array.from((await pending).toArray())).toEqual(Array.from(want));
        const other = new Tensor(x.data.slice(), x.shape);
        const second = compiled.runAsync(other);
        other.dispose();
        expect(Array.from((await second).toArray())).toEqual(Array.from(want));
      });
    });
  });
}

describe('compile: what it cannot take', () => {
  class Custom extends nn.Module {
    forward(x: Tensor): Tensor { return x; }
    toConfig() { return { type: 'Custom', args: [] }; }
  }
  const rejects: Array<[string, () => nn.Module, number[], RegExp]> = [
    ['a module of the user', () => new nn.Sequential(new nn.Conv2d(1, 2, 3), new Custom()), [1, 5, 5], /^compile: layer 1 \(Custom\) is not a layer compiled plans support/],
    ['Conv1d', () => new nn.Sequential(new nn.Conv1d(2, 2, 3)), [2, 9], /^compile: layer 0 \(Conv1d\) is not a layer/],
    ['Flatten from dim 2', () => new nn.Sequential(new nn.Flatten(2)), [2, 3, 4], /^compile: layer 0 \(Flatten\) flattens from dim 2/],
    ['BatchNorm without running statistics', () => new nn.Sequential(new nn.BatchNorm2d(2, { trackRunningStats: false })), [2, 3, 3], /^compile: layer 0 \(BatchNorm2d\) keeps no running statistics/],
    ['Linear on a 3-d sample', () => new nn.Sequential(new nn.Linear(4, 2)), [3, 4], /^compile: layer 0 \(Linear\) needs a flat sample of 4 features, gets \[3,4\]/],
    ['a conv that does not fit', () => new nn.Sequential(new nn.Conv2d(1, 1, 7)), [1, 5, 5], /^compile: kernel 7x7 is larger than the padded input 5x5/],
  ];
  it.each(rejects)('%s', (_name, build, inputShape, message) => {
    expect(() => compile(build(), { inputShape })).toThrow(message);
  });
});

describe('compile and run: bad input', () => {
  const compiled = compile(leNet5(), { inputShape: [1, 32, 32] });
  const cases: Array<[string, () => unknown, typeof TypeError | typeof RangeError, RegExp]> = [
    ['compile: not a module', () => compile({} as never, { inputShape: [1] }), TypeError, /^compile: model must be an nn\.Module/],
    ['compile: no inputShape', () => compile(leNet5(), {} as never), TypeError, /^compile: options\.inputShape is required/],
    ['compile: unknown option', () => compile(leNet5(), { inputShape: [1, 32, 32], batch: 3 } as never), TypeError, /^compile: unknown option 'batch'/],
    ['compile: inputShape with a 0', () => compile(leNet5(), { inputShape: [1, 0, 32] }), RangeError, /^compile: inputShape must be one sample's shape/],
    ['run: not a tensor', () => compiled.run([1, 2] as never), TypeError, /^run: x must be a Tensor/],
    ['run: wrong shape', () => compiled.run(tensor(new Float32Array(28 * 28), [1, 1, 28, 28])), RangeError, /^run: x must have shape \[N, 1, 32, 32\] \(the compiled input shape\), got \[1,1,28,28\]/],
    ['run: no batch dim', () => compiled.run(tensor(new Float32Array(1024), [1, 32, 32])), RangeError, /^run: x must have shape \[N, 1, 32, 32\]/],
    ['run: empty batch', () => compiled.run(tensor([], [0, 1, 32, 32])), RangeError, /^run: x must hold at least one sample/],
    ['run: disposed', () => { const t = tensor(new Float32Array(1024), [1, 1, 32, 32]); t.dispose(); return compiled.run(t); }, TypeError, /^run: the tensor \[1,1,32,32\] was disposed/],
  ];
  it.each(cases)('%s', (_name, fn, cls, message) => {
    let error: unknown = null;
    try { fn(); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(cls);
    expect((error as Error).message).toMatch(message);
  });
  it('rejects runAsync on a wrong shape with a RangeError', async () => {
    await expect(compiled.runAsync(tensor(new Float32Array(4), [1, 4]))).rejects.toThrow(RangeError);
  });
});
