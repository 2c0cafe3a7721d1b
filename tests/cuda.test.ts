// The cuda backend. Three parts:
// - without a GPU (here and in CI): the addon loads, cuda is left out of availableBackends,
//   backendInfo says why, and every way of asking for cuda throws a clear error;
// - on a fake device (tests/fixtures/fake-cuda.ts, js kernels behind opaque device handles):
//   every op, the autograd, the optimizers and fit run their device code paths, with no host
//   array reaching a device kernel and no copy to the host inside a training step;
// - on a real GPU (skipped without one): every op against the js reference, and LeNet
//   trained on cuda reaching the accuracy it reaches on cpu.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  argmax, availableBackends, backendInfo, conv2d, conv2dAsync, crossEntropy, cuda, data, evaluate, fit, manualSeed, nn, optim,
  relu, setBackend, Tensor, tensor,
} from '../lib/index.js';
import { backendForDevice, installCudaAddonForTesting } from '../lib/backend/registry.js';
import { allCases, caseTolerance, type OpCase } from './op-cases.js';
import { expectClose, forwardBackward, hasCpu, randData, rng, withBackend, withBackendAsync } from './helpers.js';
import { fakeCuda, faults, transfers } from './fixtures/fake-cuda.js';
import { leNet5 } from './models.js';

const realGpu = backendInfo().cuda.available;
const cases = allCases();

/** forwardBackward with the inputs copied to the device as leaves, and the results copied back. */
function onDevice(c: OpCase) {
  const be = backendForDevice('cuda');
  const makeInputs = () => c.makeInputs().map((t) => new Tensor(be.fromHost(t.data.slice()), t.shape, t.requiresGrad));
  const inputs = makeInputs();
  const y = c.forward(inputs);
  const r = randData(rng(c.seed ^ 0x5eed), y.size);
  y.backward(new Tensor(r, y.shape).to('cuda'));
  return {
    out: y.toArray(),
    shape: y.shape,
    grads: inputs.filter((t) => t.requiresGrad).map((t) => t.grad?.toArray() ?? new Float32Array(0)),
  };
}

function compareOnDevice(c: OpCase, label: string): void {
  const expected = withBackend('js', () => forwardBackward(c.makeInputs, c.forward, c.seed));
  const actual = onDevice(c);
  const tol = caseTolerance(c);
  expect(actual.shape).toEqual(expected.shape);
  expectClose(actual.out, expected.out, `${label} forward`, tol);
  actual.grads.forEach((g, i) => expectClose(g, expected.grads[i], `${label} grad of input ${i}`, tol));
}

/** argmax of device tensors equals the js backend's on host copies: rows, columns, flattened, NaN and ties. */
function expectArgmaxOnDevice(): void {
  const r = rng(11);
  const cases: Array<[number[], number | undefined]> = [[[37, 50], -1], [[3, 40, 70], 1], [[2, 3, 4], undefined], [[1, 1000], 1]];
  for (const [shape, axis] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, () => [0, 1, 2, NaN, -Infinity][Math.floor(r() * 5)]);
    const host = tensor(values, shape);
    const want = withBackend('js', () => argmax(host, axis));
    const got = argmax(host.to('cuda'), axis);
    expect(got.shape).toEqual(want.shape);
    expect(got.data).toBeInstanceOf(Int32Array);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
  }
}

/** Writes to either side of a to() copy, in both directions, leave the other side as it was. */
function expectIndependentCopies(): void {
  const host = tensor([1, 2, 3], [3]);
  const onDevice = host.to('cuda');
  host.data[0] = 99;
  expect(Array.from(onDevice.toArray())).toEqual([1, 2, 3]);
  const back = onDevice.to('cpu');
  back.data[1] = 99;
  expect(Array.from(onDevice.toArray())).toEqual([1, 2, 3]);
  expect(Array.from(back.data)).toEqual([1, 99, 3]);
}

describe.skipIf(realGpu)('without a GPU', () => {
  it('leaves cuda out and says why', () => {
    expect(availableBackends()).not.toContain('cuda');
    const info = backendInfo().cuda;
    expect(info.available).toBe(false);
    expect(info.reason.length).toBeGreaterThan(10);
    expect(cuda.isAvailable()).toBe(false);
    expect(cuda.deviceInfo().reason).toBe(info.reason);
  });

  it('throws a clear error for every way of asking for cuda', () => {
    const why = /cuda.*not available/;
    expect(() => setBackend('cuda')).toThrow(RangeError);
    expect(() => setBackend('cuda')).toThrow(/setBackend: the 'cuda' backend is not available/);
    expect(() => tensor([1, 2], [2], { device: 'cuda' })).toThrow(why);
    expect(() => tensor([1, 2], [2]).to('cuda')).toThrow(why);
    expect(() => new nn.Linear(2, 2).to('cuda')).toThrow(why);
    expect(() => cuda.memoryStats()).toThrow(/cuda.memoryStats: cuda is not available/);
    expect(() => cuda.emptyCache()).toThrow(RangeError);
    expect(() => cuda.synchronize()).toThrow(RangeError);
    expect(() => tensor([1], [1], { device: 'gpu' as never })).toThrow(new TypeError("tensor: device must be 'cpu' or 'cuda', got string 'gpu'"));
  });

  it.runIf(hasCpu)('reports why from the addon: no driver or no device, or a build without CUDA', () => {
    expect(backendInfo().cuda.reason).toMatch(/driver|GPU|device|nvcc|CONVKIT_CUDA=OFF/);
  });
});

describe('device code paths on a fake device', () => {
  beforeAll(() => installCudaAddonForTesting(fakeCuda));
  afterAll(() => {
    setBackend(hasCpu ? 'cpu' : 'js');
    installCudaAddonForTesting(null);
  });

  it.each(cases.filter((_, i) => i % 3 === 0).map((c, i) => [`${i} ${c.op} ${c.label}`, c] as const))('%s', (label, c) => {
    compareOnDevice(c, label);
  });

  it('keeps results on the device; data throws there, toArray copies', async () => {
    const x = tensor([-1, 2, -3, 4], [2, 2], { device: 'cuda' });
    const y = relu(x);
    expect(y.device).toBe('cuda');
    expect(() => y.data).toThrow(/data: this tensor \[2,2\] is on cuda; read it with toArray\(\)/);
    expect(Array.from(y.toArray())).toEqual([0, 2, 0, 4]);
    expect(Array.from(await y.toArrayAsync())).toEqual([0, 2, 0, 4]);
    expect(y.to('cpu').device).toBe('cpu');
    expect(y.to('cuda')).toBe(y);
  });

  it('to() copies across devices: the copy and the source never share memory', () => {
    expectIndependentCopies();
  });

  it('rejects tensors on two devices with an error naming them', () => {
    const x = tensor(randData(rng(1), 16), [1, 1, 4, 4], { device: 'cuda' });
    const w = tensor(randData(rng(2), 9), [1, 1, 3, 3]);
    expect(() => conv2d(x, w)).toThrow(new TypeError("conv2d: weight is on cpu but input is on cuda; move them to one device with .to('cuda')"));
  });

  it('dispose frees once, is safe twice, and a disposed tensor is refused', () => {
    const x = tensor([1, 2, 3], [3], { device: 'cuda' });
    const view = x.detach();
    x.dispose();
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expect(() => relu(x)).toThrow(/relu: x \[3\] was disposed/);
    expect(() => x.toArray()).toThrow(/toArray: the tensor \[3\] was disposed/);
    expect(Array.from(view.toArray())).toEqual([1, 2, 3]); // another handle keeps the memory
  });

  it('gradients flow back through to() to the host leaf', () => {
    const x = tensor([1, -2, 3], [3], { requiresGrad: true });
    const y = relu(x.to('cuda'));
    y.backward(tensor([1, 1, 1], [3], { device: 'cuda' }));
    expect(x.grad!.device).toBe('cpu');
    expect(Array.from(x.grad!.data)).toEqual([1, 0, 1]);
  });

  it('runs the async ops on the device', async () => {
    const x = tensor(randData(rng(3), 2 * 3 * 5 * 5), [2, 3, 5, 5]);
    const w = tensor(randData(rng(4), 4 * 3 * 3 * 3), [4, 3, 3, 3]);
    const expected = conv2d(x, w, null, { padding: 1 }).data;
    const y = await conv2dAsync(x.to('cuda'), w.to('cuda'), null, { padding: 1 });
    expectClose(y.toArray(), expected, 'conv2dAsync on cuda', 1e-5);
  });

  it('argmax reads its indices back to the host, as js computes them', () => {
    transfers.downloads = 0;
    expectArgmaxOnDevice();
    expect(transfers.downloads).toBe(4); // the indices, once per call
  });

  it('a training step (forward, loss, backward, optimizer) never copies to the host', () => {
    manualSeed(7);
    const model = leNet5().to('cuda');
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = tensor(randData(rng(5), 4 * 32 * 32), [4, 1, 32, 32], { device: 'cuda' });
    transfers.downloads = 0;
    for (let step = 0; step < 2; step++) {
      const loss = crossEntropy(model.forward(x), [1, 2, 3, 4]);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    expect(transfers.downloads).toBe(0);
  });

  it('Module.to moves parameters in place; training on cuda matches training on the cpu', async () => {
    const train = data.mnist('train', { pad: 2, limit: 96 });
    const run = async (device: 'cpu' | 'cuda') => {
      manualSeed(3);
      const model = leNet5();
      const params = model.parameters();
      const opt = new optim.SGD(params, { lr: 0.05, momentum: 0.9 });
      model.to(device);
      expect(model.parameters()[0]).toBe(params[0]);
      expect(model.device).toBe(device);
      const history = await fit(model, train, { epochs: 2, batchSize: 32, optimizer: opt, progress: false, shuffle: false });
      const stats = Object.values(model.stateDict()).map((t) => t.toArray());
      return { history, stats, eval: await evaluate(model, train, { metrics: ['accuracy'] }) };
    };
    const host = await withBackendAsync('js', () => run('cpu'));
    const device = await run('cuda');
    expect(device.history.epochs[1].loss).toBeCloseTo(host.history.epochs[1].loss, 4);
    expect(device.eval.accuracy).toBe(host.eval.accuracy);
    device.stats.forEach((s, i) => expectClose(s, host.stats[i], `parameter ${i}`, 1e-3));
  }, 60_000);

  it('fit and evaluate read the loss and logits back asynchronously, never with a blocking copy', async () => {
    const train = data.mnist('train', { pad: 2, limit: 64 });
    manualSeed(5);
    const model = leNet5().to('cuda');
    transfers.downloads = 0;
    transfers.asyncDownloads = 0;
    const history = await fit(model, train, {
      epochs: 1, batchSize: 16, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), progress: false,
      metrics: ['accuracy'], validation: train,
    });
    expect(transfers.downloads).toBe(0);
    expect(transfers.asyncDownloads).toBe(2 * 4 + 2 * 1); // loss and logits: 4 training batches, 1 validation batch
    const logs = history.epochs[0];
    expect(Number.isFinite(logs.loss)).toBe(true);
    expect(logs.accuracy! * 64).toBeCloseTo(Math.round(logs.accuracy! * 64), 9);
    const evaluated = await evaluate(model, train, { metrics: ['accuracy'] });
    expect(evaluated.loss).toBeCloseTo(logs.valLoss!, 5);
    expect(evaluated.accuracy).toBe(logs.valAccuracy);
    expect(transfers.downloads).toBe(0);
  });

  it('fit passes an asynchronous read error on, with no unhandled rejection', async () => {
    manualSeed(6);
    const model = leNet5().to('cuda');
    const train = data.mnist('train', { pad: 2, limit: 64 });
    faults.asyncDownload = new RangeError('cuda: an illegal memory access was encountered');
    try {
      await expect(fit(model, train, {
        epochs: 1, batchSize: 16, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), progress: false,
      })).rejects.toThrow(faults.asyncDownload);
    } finally {
      faults.asyncDownload = null;
    }
  });

  it('setBackend(cuda) makes cuda the default device for tensors and new parameters', () => {
    setBackend('cuda');
    try {
      expect(tensor([1], [1]).device).toBe('cuda');
      expect(new nn.Linear(3, 2).weight.device).toBe('cuda');
      expect(new nn.BatchNorm2d(2).runningMean!.device).toBe('cuda');
    } finally {
      setBackend(hasCpu ? 'cpu' : 'js');
    }
  });

  it('optimizer state round-trips through stateDict on the device', () => {
    const p = tensor([1, 2], [2], { requiresGrad: true, device: 'cuda' });
    const opt = new optim.Adam([p], { lr: 0.1 });
    p.grad = tensor([0.5, -0.5], [2], { device: 'cuda' });
    opt.step();
    const dict = opt.stateDict();
    const again = new optim.Adam([tensor([1, 2], [2], { requiresGrad: true, device: 'cuda' })], { lr: 0.1 });
    again.loadStateDict(dict);
    expect(again.stateDict()).toEqual(dict);
  });
});

describe.skipIf(!realGpu)('on the GPU', () => {
  it.each(cases.map((c, i) => [`${i} ${c.op} ${c.label}`, c] as const))('%s matches js', (label, c) => {
    compareOnDevice(c, label);
  });

  it('argmax matches js', () => {
    expectArgmaxOnDevice();
  });

  it('LeNet trained on cuda reaches the accuracy it reaches on the cpu', async () => {
    const train = data.mnist('train', { pad: 2, limit: 4000 });
    const test = data.mnist('test', { pad: 2, limit: 1000 });
    const run = async (device: 'cpu' | 'cuda') => {
      manualSeed(1);
      const model = leNet5().to(device);
      await fit(model, train, { epochs: 2, batchSize: 32, optimizer: new optim.Adam(model.parameters(), { lr: 2e-3 }), progress: false });
      return (await evaluate(model, test, { metrics: ['accuracy'] })).accuracy!;
    };
    const [onCpu, onGpu] = [await run('cpu'), await run('cuda')];
    expect(onGpu).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(onGpu - onCpu)).toBeLessThan(0.02);
  }, 120_000);

  it('reuses memory through the caching allocator and gives it back on emptyCache', () => {
    const before = cuda.memoryStats();
    for (let i = 0; i < 10; i++) tensor(new Float32Array(1 << 20), [1 << 20], { device: 'cuda' }).dispose();
    const after = cuda.memoryStats();
    expect(after.cacheHits - before.cacheHits).toBeGreaterThanOrEqual(9);
    cuda.emptyCache();
    expect(cuda.memoryStats().reservedBytes).toBeLessThanOrEqual(after.reservedBytes);
  });

  it('toArrayAsync returns the values at the call, whatever is queued after it', async () => {
    const p = tensor([1, 2, 3], [3], { device: 'cuda' });
    const before = p.toArrayAsync();
    backendForDevice('cuda').scale(p.storage, 10); // in place, as an optimizer step writes parameters
    expect(Array.from(await before)).toEqual([1, 2, 3]);
    expect(Array.from(p.toArray())).toEqual([10, 20, 30]);
  });

  it('to() copies across devices: the copy and the source never share memory', () => {
    expectIndependentCopies();
  });

  it('refuses a device copy between overlapping views', () => {
    const be = backendForDevice('cuda');
    const x = be.fromHost(new Float32Array([1, 2, 3, 4]));
    expect(() => be.copy(be.view(x, 0, 3), be.view(x, 1, 3))).toThrow(new RangeError('copy: src and dst overlap (views of one array)'));
  });
});
