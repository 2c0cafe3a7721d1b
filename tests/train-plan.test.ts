// fit's compiled training step (lib/compile/native-trainer.ts, native/src/train_plan.cpp): it
// trains exactly as the autograd tape does (parameters, gradients, running statistics, the
// optimizer's state, the history) within float tolerance, over several epochs with momentum,
// on LeNet and on models with BatchNorm and Dropout; it does not depend on the thread count;
// the models, losses and optimizers it cannot take train eagerly; bad input is a clear error.
import { describe, expect, it } from 'vitest';
import {
  availableBackends, compile, data, fit, manualSeed, mseLoss, nn, optim, setNumThreads, backendInfo, tensor, Tensor, type History,
} from '../lib/index.js';
import { crossEntropy } from '../lib/ops/loss.js';
import { NativeTrainer } from '../lib/compile/native-trainer.js';
import { nativePlanSupport } from '../lib/backend/registry.js';
import { expectClose, randData, rng, withBackendAsync } from './helpers.js';
import { leNet5 } from './models.js';

const native = nativePlanSupport();
const describeNative = native ? describe : describe.skip;

interface Run {
  history: History;
  state: Record<string, Float32Array>;
  grads: Float32Array[];
  optimizer: ReturnType<optim.Optimizer['stateDict']>;
}

type MakeOptimizer = (params: Iterable<Tensor>) => optim.Optimizer;
const sgdMomentum: MakeOptimizer = (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9 });

function dataset(seed: number, count: number, shape: number[], classes: number): data.TensorDataset {
  const r = rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const labels = Array.from({ length: count }, () => Math.floor(r() * classes));
  return new data.TensorDataset(new Tensor(randData(r, count * size), [count, ...shape]), labels);
}

async function train(build: () => nn.Module, ds: data.TensorDataset, compiled: boolean,
  opts: { batchSize?: number; epochs?: number; makeOptimizer?: MakeOptimizer } = {}): Promise<Run> {
  manualSeed(5);
  const model = build();
  const optimizer = (opts.makeOptimizer ?? sgdMomentum)(model.parameters());
  const history = await fit(model, ds, {
    epochs: opts.epochs ?? 2, batchSize: opts.batchSize ?? 16, optimizer, seed: 9, compiled, progress: false, metrics: ['accuracy'],
  });
  const state = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.toArray()]));
  return { history, state, grads: model.parameters().map((p) => p.grad!.toArray()), optimizer: optimizer.stateDict() };
}

function expectSameTraining(actual: Run, expected: Run, rtol = 2e-3): void {
  expect(Object.keys(actual.state)).toEqual(Object.keys(expected.state));
  for (const [name, values] of Object.entries(expected.state)) expectClose(actual.state[name], values, name, rtol, 1e-5);
  expected.grads.forEach((g, i) => expectClose(actual.grads[i], g, `grad ${i}`, rtol, 1e-5));
  expected.optimizer.state.forEach((s, i) => {
    const a = actual.optimizer.state[i]!;
    expect(a.step).toBe(s!.step);
    for (const [name, buf] of Object.entries(s!.buffers)) expectClose(a.buffers[name], buf, `optimizer ${i} ${name}`, rtol, 1e-5);
  });
  expected.history.epochs.forEach((e, i) => {
    const a = actual.history.epochs[i];
    expect(a.loss).toBeCloseTo(e.loss, 4);
    expect(a.accuracy).toBe(e.accuracy);
  });
}

interface Case { name: string; build: () => nn.Module; shape: number[]; classes: number; count: number; batchSize: number }

const cases: Case[] = [
  { name: 'LeNet-5', build: () => leNet5(), shape: [1, 32, 32], classes: 10, count: 45, batchSize: 16 },
  { name: 'LeNet-5 with BatchNorm', build: () => leNet5({ batchNorm: true }), shape: [1, 32, 32], classes: 10, count: 40, batchSize: 13 },
  {
    name: 'BatchNorm (affine, plain, untracked) and Dropout, avg and global pooling, no biases, padded max pool',
    build: () => new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.Dropout(0.3),
      new nn.AvgPool2d(2, { ceilMode: true, padding: 1, countIncludePad: false }), new nn.BatchNorm2d(8, { affine: false }), new nn.ReLU(),
      new nn.Conv2d(8, 6, 3, { stride: 2, padding: [1, 0, 2, 1] }), new nn.BatchNorm2d(6, { trackRunningStats: false, momentum: 0.3 }),
      new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }), new nn.ReLU(),
      new nn.Conv2d(6, 5, 1), new nn.GlobalAvgPool2d(), new nn.Flatten(), new nn.Dropout(0.5), new nn.Linear(5, 7, { bias: false }), new nn.ReLU(),
      new nn.Linear(7, 4)),
    shape: [3, 9, 11], classes: 4, count: 29, batchSize: 9,
  },
  {
    name: 'one image per batch, a lone conv and linear',
    build: () => new nn.Sequential(new nn.Conv2d(2, 3, 2), new nn.Flatten(), new nn.Linear(3 * 4 * 4, 3)),
    shape: [2, 5, 5], classes: 3, count: 5, batchSize: 1,
  },
];

describeNative('fit with the compiled training step', () => {
  for (const c of cases) {
    it(`trains as the tape does: ${c.name}`, async () => {
      const ds = dataset(3, c.count, c.shape, c.classes);
      const eager = await train(c.build, ds, false, { batchSize: c.batchSize });
      const compiled = await train(c.build, ds, true, { batchSize: c.batchSize });
      expectSameTraining(compiled, eager);
      // It trained: the weights moved from where the seed put them.
      manualSeed(5);
      const initial = c.build().stateDict();
      const moved = Object.entries(initial).some(([k, t]) => t.toArray().some((v, i) => Math.abs(v - compiled.state[k][i]) > 1e-4));
      expect(moved).toBe(true);
    });
  }

  it('uses the native plan for these models, and says why it cannot for others', () => {
    for (const c of cases) {
      const model = c.build().train();
      expect(NativeTrainer.create(model, sgdMomentum(model.parameters()), crossEntropy, c.shape)).toBeInstanceOf(NativeTrainer);
    }
    const model = leNet5().train();
    const reason = (m: nn.Module, o: optim.Optimizer, loss: unknown = crossEntropy, shape = [1, 32, 32]) => {
      const made = NativeTrainer.create(m, o, loss, shape);
      return made instanceof NativeTrainer ? 'made' : made.reason;
    };
    expect(reason(model, sgdMomentum(model.parameters()), mseLoss)).toMatch(/loss is not crossEntropy/);
    expect(reason(model, sgdMomentum(model.parameters().slice(2)))).toMatch(/exactly the model's parameters/);
    const tanh = new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 3), new nn.Tanh(), new nn.Linear(3, 2)).train();
    expect(reason(tanh, sgdMomentum(tanh.parameters()), crossEntropy, [4])).toMatch(/layer 2 \(Tanh\) is not a layer/);
    const frozen = leNet5().train();
    (frozen.namedChildren()[0][1] as nn.Conv2d).eval();
    expect(reason(frozen, sgdMomentum(frozen.parameters()))).toMatch(/layer 0 \(Conv2d\) is in eval mode/);
    const wrongShape = leNet5().train();
    expect(reason(wrongShape, sgdMomentum(wrongShape.parameters()), crossEntropy, [1, 28, 28])).toMatch(/Linear.*400 features/);
    const first = new nn.Linear(4, 4);
    const shared = new nn.Sequential(new nn.Flatten(), first, new nn.ReLU(), first, new nn.Linear(4, 2)).train();
    expect(reason(shared, sgdMomentum(shared.parameters()), crossEntropy, [4])).toMatch(/shared between layers/);
    const image = new nn.Sequential(new nn.Conv2d(1, 2, 3)).train();
    expect(reason(image, sgdMomentum(image.parameters()), crossEntropy, [1, 5, 5])).toMatch(/not \[classes\]/);
  });

  it('falls back to the tape for what it cannot take, with the same results', async () => {
    const ds = dataset(4, 30, [1, 32, 32], 10);
    // mseLoss needs float targets, so the fallbacks here are the model and the optimizer.
    const withTanh = () => new nn.Sequential(new nn.Conv2d(1, 4, 5, { stride: 3 }), new nn.Tanh(), new nn.Flatten(), new nn.Linear(4 * 10 * 10, 10));
    expectSameTraining(await train(withTanh, ds, true), await train(withTanh, ds, false), 1e-6);
    const partial: MakeOptimizer = (p) => new optim.SGD([...p].slice(0, 3), { lr: 0.05, momentum: 0.9 });
    expectSameTraining(await train(() => leNet5(), ds, true, { makeOptimizer: partial }), await train(() => leNet5(), ds, false, { makeOptimizer: partial }), 1e-6);
  });

  it('leaves other optimizers to their own step (Adam, RMSprop) with the same results', async () => {
    const ds = dataset(6, 40, [1, 32, 32], 10);
    for (const make of [(p: Iterable<Tensor>) => new optim.Adam(p, { lr: 1e-3, weightDecay: 1e-4 }), (p: Iterable<Tensor>) => new optim.RMSprop(p, { lr: 1e-3 })]) {
      // Without BatchNorm: the gradient of a conv's bias before one is rounding noise, which
      // Adam's normalisation turns into steps of lr either way.
      const build = () => leNet5();
      expectSameTraining(await train(build, ds, true, { makeOptimizer: make }), await train(build, ds, false, { makeOptimizer: make }));
    }
  });

  it('SGD with Nesterov, dampening and weight decay, and without momentum', async () => {
    const ds = dataset(7, 40, [1, 32, 32], 10);
    const makers: MakeOptimizer[] = [
      (p) => new optim.SGD(p, { lr: 0.02, momentum: 0.8, nesterov: true, weightDecay: 1e-3 }),
      (p) => new optim.SGD(p, { lr: 0.02, momentum: 0.5, dampening: 0.3 }),
      (p) => new optim.SGD(p, { lr: 0.05 }),
    ];
    for (const make of makers) expectSameTraining(await train(() => leNet5(), ds, true, { makeOptimizer: make }), await train(() => leNet5(), ds, false, { makeOptimizer: make }));
  });

  it('gives the same results on 1 and 2 threads, bit for bit', async () => {
    const threads = backendInfo().native.numThreads!;
    const ds = dataset(8, 40, [1, 32, 32], 10);
    const build = () => leNet5({ batchNorm: true });
    try {
      setNumThreads(1);
      const one = await train(build, ds, true, { batchSize: 20 });
      setNumThreads(2);
      const two = await train(build, ds, true, { batchSize: 20 });
      for (const [name, values] of Object.entries(one.state)) expect(Array.from(two.state[name]), name).toEqual(Array.from(values));
    } finally {
      setNumThreads(threads);
    }
  });

  it('sees weights changed outside (loadStateDict in a callback, a resumed optimizer) and keeps a compiled model coherent', async () => {
    const ds = dataset(9, 48, [1, 32, 32], 10);
    const run = async (compiled: boolean) => {
      manualSeed(5);
      const model = leNet5();
      const session = compile(model, { inputShape: [1, 32, 32] });
      const probe = new Tensor(randData(rng(1), 2 * 1024), [2, 1, 32, 32]);
      const before = session.run(probe).toArray();
      const optimizer = sgdMomentum(model.parameters());
      const halve = { onBatchEnd: (batch: number) => {
        if (batch !== 2) return;
        const state = model.stateDict();
        model.loadStateDict(Object.fromEntries(Object.entries(state).map(([k, t]) => [k, tensor(Array.from(t.toArray(), (v) => v / 2), t.shape)])));
      } };
      await fit(model, ds, { epochs: 1, batchSize: 16, optimizer, seed: 1, compiled, progress: false, callbacks: halve });
      const after = session.run(probe).toArray();
      model.eval();
      expectClose(after, model.forward(probe).toArray(), 'the compiled model after training', 1e-4, 1e-6);
      return { before, after, state: model.stateDict() };
    };
    const eager = await run(false);
    const compiled = await run(true);
    expect(Array.from(compiled.before)).toEqual(Array.from(eager.before));
    expectClose(compiled.after, eager.after, 'outputs after training', 2e-3, 1e-5);
    for (const [k, t] of Object.entries(eager.state)) expectClose(compiled.state[k].toArray(), t.toArray(), k, 2e-3, 1e-5);
  });

  it('bad labels and options are the errors eager training gives', async () => {
    const images = new Tensor(randData(rng(2), 4 * 1024), [4, 1, 32, 32]);
    for (const compiled of [true, false]) {
      const model = leNet5();
      const optimizer = sgdMomentum(model.parameters());
      await expect(fit(model, new data.TensorDataset(images, [0, 1, 10, 2]), { epochs: 1, batchSize: 4, optimizer, compiled, progress: false }))
        .rejects.toThrow(/^crossEntropy: labels\[\d\] is 10, out of range for 10 classes/);
    }
    const model = leNet5();
    await expect(fit(model, new data.TensorDataset(images, [0, 1, 2, 3]), { epochs: 1, optimizer: sgdMomentum(model.parameters()), compiled: 'yes' as unknown as boolean }))
      .rejects.toThrow(TypeError);
    await expect(fit(model, new data.TensorDataset(images, [0, 1, 2, 3]), { epochs: 1, optimizer: sgdMomentum(model.parameters()), compiled: 'yes' as unknown as boolean }))
      .rejects.toThrow(/compiled/);
  });

  it('the addon checks its arguments: handles, lengths, labels', () => {
    const addon = native!.addon;
    const model = leNet5().train();
    const made = NativeTrainer.create(model, sgdMomentum(model.parameters()), crossEntropy, [1, 32, 32]);
    expect(made).toBeInstanceOf(NativeTrainer);
    const layers = [{ op: 'linear', inFeatures: 3, outFeatures: 2, relu: false, bias: true }];
    const plan = addon.planTrainCreate(layers, 3);
    const x = new Float32Array(6);
    const tensors = [new Float32Array(6), new Float32Array(6), null, new Float32Array(2), new Float32Array(2), null];
    const step = (over: Partial<{ plan: unknown; x: Float32Array; labels: Int32Array; n: number; tensors: Array<Float32Array | null> }>) =>
      () => addon.planTrainStep((over.plan ?? plan) as typeof plan, over.x ?? x, over.labels ?? Int32Array.of(0, 1), over.n ?? 2,
        over.tensors ?? tensors, [], [], null, null, null);
    expect(step({})()).toBeGreaterThan(0);
    expect(step({ plan: {} })).toThrow(TypeError);
    expect(step({ plan: {} })).toThrow(/plan must be a handle from planTrainCreate/);
    expect(step({ labels: Int32Array.of(0) })).toThrow(/labels has 1 elements, expected 2/);
    expect(step({ labels: Int32Array.of(0, 2) })).toThrow(RangeError);
    expect(step({ labels: Int32Array.of(0, 2) })).toThrow(/labels\[1\] = 2 is not a class index in \[0, 2\)/);
    expect(step({ x: new Float32Array(5) })).toThrow(/x has 5 elements, expected 6/);
    expect(step({ n: 0 })).toThrow(/n must be >= 1/);
    expect(step({ tensors: tensors.slice(0, 3) })).toThrow(/tensors has 3 entries, expected 6/);
    expect(step({ tensors: [new Float32Array(5), ...tensors.slice(1)] })).toThrow(/tensors\[0\] has 5 elements, expected 6/);
    expect(() => addon.planTrainCreate([{ op: 'linear', inFeatures: 4, outFeatures: 2 }], 3)).toThrow(/layer 0 \(linear\): 4 -> 2 features for 3 inputs/);
    expect(() => addon.planTrainCreate([{ op: 'softmax' }], 3)).toThrow(/unknown layer op 'softmax'/);
  });
});

describe('fit with compiled training off the native backend', () => {
  it.skipIf(!availableBackends().includes('js'))('trains eagerly on the js backend', async () => {
    const ds = dataset(10, 20, [1, 32, 32], 10);
    await withBackendAsync('js', async () => {
      const model = leNet5();
      const made = NativeTrainer.create(model.train(), sgdMomentum(model.parameters()), crossEntropy, [1, 32, 32]);
      expect(made).toEqual({ reason: 'the native cpu backend is not loaded' });
      const history = await fit(model, ds, { epochs: 1, batchSize: 8, optimizer: sgdMomentum(model.parameters()), progress: false });
      expect(Number.isFinite(history.epochs[0].loss)).toBe(true);
    });
  });
});
