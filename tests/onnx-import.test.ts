// importOnnx on the models torch.onnx.export writes (tests/fixtures/make_onnx_fixtures.py): every
// fixture gives PyTorch's outputs on every host backend at two batch sizes, chains of layers
// come back as an nn.Sequential that compile() runs, imported models train, and the ONNX
// conformance pools with pads beyond half the kernel give ONNX's expected outputs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, encodeOnnx, importOnnx, load, noGrad, nn, OnnxModel, optim, readSafetensors, save, tensor, type Tensor } from '../lib/index.js';
import { installCudaAddonForTesting } from '../lib/backend/registry.js';
import { backends, expectClose, withBackend, withBackendAsync } from './helpers.js';
import { fakeCuda } from './fixtures/fake-cuda.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'onnx');

interface Fixture {
  name: string; file: string; io: string; opset: number;
  inputs: string[]; outputs: string[]; batches: number[]; sequential: boolean; ops: string[];
}

const fixtures: Fixture[] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const ioCache = new Map<string, Record<string, Tensor>>();

/** 'input.b3', 'output.b3', ...: the inputs and PyTorch's outputs beside each model. */
function io(f: Fixture): Record<string, Tensor> {
  let t = ioCache.get(f.io);
  if (!t) ioCache.set(f.io, (t = readSafetensors(new Uint8Array(readFileSync(join(dir, f.io))), f.io).tensors));
  return t;
}

/** Runs any imported model on the fixture's inputs at batch b: output name -> tensor. */
function runModel(model: nn.Module, f: Fixture, b: number): Record<string, Tensor> {
  const data = io(f);
  if (f.inputs.length === 1 && f.outputs.length === 1) return { [f.outputs[0]]: model.forward(data[`${f.inputs[0]}.b${b}`]) };
  return (model as OnnxModel).run(Object.fromEntries(f.inputs.map((name) => [name, data[`${name}.b${b}`]])));
}

function expectPyTorchOutputs(model: nn.Module, f: Fixture, label: string): void {
  for (const b of f.batches) {
    const outs = noGrad(() => runModel(model, f, b));
    for (const name of f.outputs) {
      const expected = io(f)[`${name}.b${b}`];
      expect(outs[name].shape, `${label} ${name} batch ${b}`).toEqual(expected.shape);
      expectClose(outs[name].toArray(), expected.data, `${label} ${name} batch ${b}`, 1e-4, 1e-6);
    }
  }
}

describe('the fixtures', () => {
  it('cover the networks and ops of the issue, at opsets 11, 13 and 17, under 10 MB', () => {
    const names = new Set(fixtures.map((f) => f.name));
    for (const name of ['lenet', 'basic-block', 'inverted-residual', 'fire', 'shuffle-unit', 'mobilenet-v2', 'shufflenet-v2', 'squeezenet1_1', 'resnet-narrow']) {
      expect(names.has(name), name).toBe(true);
    }
    const ops = new Set(fixtures.flatMap((f) => f.ops));
    for (const op of ['Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Relu',
      'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'Softmax', 'LogSoftmax', 'Flatten', 'Reshape', 'Transpose', 'Concat', 'Split', 'Slice',
      'Squeeze', 'Unsqueeze', 'Shape', 'Gather', 'Cast', 'Constant', 'ReduceMean', 'ReduceSum', 'BatchNormalization', 'Identity']) {
      expect(ops.has(op), op).toBe(true);
    }
    expect(new Set(fixtures.map((f) => f.opset))).toEqual(new Set([11, 12, 13, 17]));
    const bytes = fixtures.reduce((sum, f) => sum + readFileSync(join(dir, f.file)).length, 0);
    expect(bytes).toBeLessThan(10 * 2 ** 20);
  });
});

describe.each(backends)('importOnnx on %s', (backend) => {
  it.each(fixtures.map((f) => [f.file, f] as const))('%s gives PyTorch\'s outputs at every batch size', async (_file, f) => {
    const model = await withBackendAsync(backend, () => importOnnx(join(dir, f.file)));
    expect(model instanceof nn.Sequential, 'a plain chain of layers is a Sequential').toBe(f.sequential);
    withBackend(backend, () => expectPyTorchOutputs(model, f, `${f.file} on ${backend}`));
  });
});

describe('an imported chain of layers', () => {
  const lenet = fixtures.find((f) => f.file === 'lenet-opset13.onnx') as Fixture;

  it('is an nn.Sequential of convkit layers with the file\'s weights as parameters', async () => {
    const model = await importOnnx(join(dir, lenet.file)) as nn.Sequential;
    expect([...model].map((m) => m.constructor.name)).toEqual([
      'Conv2d', 'ReLU', 'MaxPool2d', 'Conv2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear', 'ReLU', 'Linear', 'ReLU', 'Linear']);
    expect(Object.keys(model.stateDict())).toEqual(['0.weight', '0.bias', '3.weight', '3.bias', '7.weight', '7.bias', '9.weight', '9.bias', '11.weight', '11.bias']);
    expect(model.training).toBe(false);
  });

  it.each(fixtures.filter((f) => f.sequential).map((f) => [f.file, f] as const))('%s compiles to the same outputs', async (_file, f) => {
    const model = await importOnnx(join(dir, f.file));
    const x = io(f)[`${f.inputs[0]}.b${f.batches[f.batches.length - 1]}`];
    const compiled = compile(model, { inputShape: x.shape.slice(1) });
    expectClose(compiled.run(x).toArray(), noGrad(() => model.forward(x)).toArray(), `${f.file} compiled`, 1e-5, 1e-6);
  });

  it('imports from bytes as from a path, a Node Buffer included (whose slices are views)', async () => {
    for (const bytes of [readFileSync(join(dir, lenet.file)), new Uint8Array(readFileSync(join(dir, lenet.file)))]) {
      expectPyTorchOutputs(await importOnnx(bytes), lenet, `lenet from a ${bytes.constructor.name}`);
    }
  });

  it('goes back to ONNX with exportOnnx and imports again to the same outputs', async () => {
    const model = await importOnnx(join(dir, lenet.file));
    const again = await importOnnx(encodeOnnx(model, { inputShape: [1, 32, 32] }));
    expect(again instanceof nn.Sequential).toBe(true);
    expectPyTorchOutputs(again, lenet, 'lenet after exportOnnx');
  });
});

describe('an imported model on a (fake) cuda device', () => {
  beforeAll(() => installCudaAddonForTesting(fakeCuda));
  afterAll(() => installCudaAddonForTesting(null));

  it.each(['ops-mix-opset13.onnx', 'shuffle-unit-opset11.onnx', 'lenet-opset11.onnx'])('%s moves with to(\'cuda\'), constants included, and gives PyTorch\'s outputs', async (file) => {
    const f = fixtures.find((x) => x.file === file) as Fixture;
    const model = (await importOnnx(join(dir, f.file))).to('cuda');
    expect([...model.parameters(), ...model.buffers()].every((t) => t.device === 'cuda')).toBe(true);
    const x = io(f)[`input.b3`].to('cuda');
    const y = noGrad(() => model.forward(x));
    expect(y.device).toBe('cuda');
    expectClose(y.toArray(), io(f)['output.b3'].data, `${file} on the fake device`, 1e-4, 1e-6);
  });
});

describe('an imported ResNet', () => {
  const resnet = fixtures.find((f) => f.name === 'resnet-narrow') as Fixture;

  it('is an nn.Sequential of layers and nn.Residual blocks', async () => {
    const model = await importOnnx(join(dir, resnet.file)) as nn.Sequential;
    expect(model).toBeInstanceOf(nn.Sequential);
    expect([...model].map((m) => m.constructor.name)).toEqual(['Conv2d', 'ReLU', 'MaxPool2d',
      ...new Array<string[]>(8).fill(['Residual', 'ReLU']).flat(), 'GlobalAvgPool2d', 'Flatten', 'Linear']);
    const downsample = model[7] as nn.Residual; // layer2.0, with its 1x1 stride-2 conv (BatchNorm folded in by torch)
    expect([downsample.body.constructor.name, downsample.shortcut?.constructor.name]).toEqual(['Sequential', 'Conv2d']);
    expect((model[3] as nn.Residual).shortcut).toBe(null);
  });

  it('saves and loads as a convkit model file, and exports to ONNX, with the same outputs', async () => {
    const model = await importOnnx(join(dir, resnet.file));
    const dirOut = mkdtempSync(join(tmpdir(), 'convkit-onnx-import-'));
    try {
      await save(model, join(dirOut, 'resnet.safetensors'));
      expectPyTorchOutputs((await load(join(dirOut, 'resnet.safetensors'))).eval(), resnet, 'resnet after save/load');
    } finally {
      rmSync(dirOut, { recursive: true, force: true });
    }
    expectPyTorchOutputs(await importOnnx(encodeOnnx(model, { inputShape: [3, 64, 64] })), resnet, 'resnet after exportOnnx');
  });

  it('trains: its layers are ordinary parameters', async () => {
    const block = fixtures.find((f) => f.file === 'basic-block-opset13.onnx') as Fixture;
    const model = await importOnnx(join(dir, block.file));
    expect(new Set(model.namedModules().slice(1).map(([, m]) => m.constructor.name))).toEqual(new Set(['Sequential', 'Conv2d', 'BatchNorm2d', 'ReLU', 'Residual']));
    await expectTrains(model, io(block)['input.b3'], [3, 32, 8, 8]);
  });
});

/** A few SGD steps towards a constant target lower the loss, and every parameter gets a gradient. */
async function expectTrains(model: nn.Module, x: Tensor, outShape: number[]): Promise<void> {
  model.train();
  const target = tensor(new Float32Array(outShape.reduce((a, b) => a * b, 1)).fill(0.5), outShape);
  const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
  const loss = () => {
    const d = model.forward(x).toArray().map((v, i) => v - target.data[i]);
    return d.reduce((s, v) => s + v * v, 0) / d.length;
  };
  const before = loss();
  for (let step = 0; step < 3; step++) {
    opt.zeroGrad();
    const y = model.forward(x);
    // d/dy mean((y - t)^2) = 2 (y - t) / n
    y.backward(tensor(y.toArray().map((v, i) => (2 * (v - target.data[i])) / y.size), y.shape));
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
    opt.step();
  }
  expect(loss()).toBeLessThan(before);
}

describe('an imported graph', () => {
  it('holds its layers as children, so that it trains', async () => {
    const f = fixtures.find((x) => x.file === 'inverted-residual-opset13.onnx') as Fixture;
    const model = await importOnnx(join(dir, f.file));
    expect(model).toBeInstanceOf(OnnxModel);
    expect(new Set(model.namedModules().slice(1).map(([, m]) => m.constructor.name))).toEqual(new Set(['Conv2d']));
    await expectTrains(model, io(f)['input.b3'], [3, 16, 12, 12]);
  });

  it('gives its intermediates back after their last use when nothing is recorded', async () => {
    const model = await importOnnx(join(dir, 'inverted-residual-opset13.onnx')) as OnnxModel;
    const made: Tensor[] = [];
    const steps = (model as unknown as { steps: Array<{ run: (...a: never[]) => Tensor[] }> }).steps;
    for (const step of steps) {
      const run = step.run;
      step.run = (...args: never[]) => {
        const outs = run(...args);
        made.push(...outs);
        return outs;
      };
    }
    const y = noGrad(() => model.forward(io(fixtures.find((f) => f.name === 'inverted-residual') as Fixture)['input.b3']));
    expect(made.length).toBeGreaterThan(5);
    expect(made.filter((t) => t !== y).every((t) => t.isDisposed)).toBe(true);
    expect(y.isDisposed).toBe(false);
  });

  it('runs named inputs and returns named outputs; forward refuses a graph of two inputs', async () => {
    const f = fixtures.find((x) => x.name === 'two-inputs') as Fixture;
    const model = await importOnnx(join(dir, f.file)) as OnnxModel;
    expect(model.inputNames).toEqual(['image', 'bias']);
    expect(model.outputNames).toEqual(['output0', 'output1']);
    expect(() => model.forward(io(f)['image.b1'])).toThrow(/2 inputs \(image, bias\); call run/);
    expect(() => model.run({ image: io(f)['image.b1'] })).toThrow(/input 'bias' is missing/);
    expect(() => model.run({ image: io(f)['image.b1'], bias: io(f)['bias.b1'], extra: io(f)['bias.b1'] })).toThrow(/unknown input 'extra'/);
    expect(() => model.run({ image: tensor(new Float32Array(3 * 5 * 5), [1, 3, 5, 5]), bias: io(f)['bias.b1'] })).toThrow(RangeError);
    expect(() => model.toConfig()).toThrow(/no JSON config/);
  });
});
