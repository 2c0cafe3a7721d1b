// nn.Residual: y = body(x) + shortcut(x). Its children and state dict names, its config
// through save/load, summary's rows, a ResNet basic block trained on cpu and js alike and
// gradchecked, and compiled (the native plan runs the stack steps on cpu, the eager runner elsewhere).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { add, compile, load, manualSeed, mseLoss, nn, noGrad, optim, predict, save, summary } from '../lib/index.js';
import type { Tensor } from '../lib/index.js';
import { backends, expectClose, gradcheck, hasCpu, randTensor, rng, withBackend, withBackendAsync } from './helpers.js';
import { randomizeBatchNorm } from './onnx-models.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-residual-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A ResNet basic block: conv-bn-relu-conv-bn plus the identity or a 1x1 conv + bn, then relu. */
function basicBlock(inC: number, outC: number, stride = 1): nn.Sequential {
  const body = new nn.Sequential(
    new nn.Conv2d(inC, outC, 3, { stride, padding: 1, bias: false }), new nn.BatchNorm2d(outC), new nn.ReLU(),
    new nn.Conv2d(outC, outC, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(outC));
  const shortcut = stride !== 1 || inC !== outC
    ? new nn.Sequential(new nn.Conv2d(inC, outC, 1, { stride, bias: false }), new nn.BatchNorm2d(outC))
    : null;
  return new nn.Sequential(new nn.Residual(body, shortcut), new nn.ReLU());
}

function tinyResNet(): nn.Sequential {
  return new nn.Sequential(basicBlock(2, 4, 2), basicBlock(4, 4), new nn.GlobalAvgPool2d(), new nn.Flatten(), new nn.Linear(4, 3));
}

describe('nn.Residual', () => {
  it('adds the body to the input, or to the shortcut; children are body and shortcut', () => {
    const body = new nn.Linear(3, 3);
    const x = randTensor(rng(1), [2, 3]);
    const identity = new nn.Residual(body);
    expect(Array.from(identity.forward(x).data)).toEqual(Array.from(add(body.forward(x), x).data));
    const shortcut = new nn.Linear(3, 1);
    const projected = new nn.Residual(body, shortcut);
    expect(Array.from(projected.forward(x).data)).toEqual(Array.from(add(body.forward(x), shortcut.forward(x)).data));
    expect(identity.namedChildren().map(([n]) => n)).toEqual(['body']);
    expect(Object.keys(projected.stateDict())).toEqual(['body.weight', 'body.bias', 'shortcut.weight', 'shortcut.bias']);
    expect(Object.keys(basicBlock(2, 4, 2).stateDict()).filter((k) => k.endsWith('weight'))).toEqual([
      '0.body.0.weight', '0.body.1.weight', '0.body.3.weight', '0.body.4.weight', '0.shortcut.0.weight', '0.shortcut.1.weight']);
  });

  it('rejects what is not a module, and outputs that do not add', () => {
    expect(() => new nn.Residual(null as never)).toThrow(new TypeError('Residual: body must be a Module, got null'));
    expect(() => new nn.Residual(new nn.ReLU(), 3 as never)).toThrow(/^Residual: shortcut must be a Module, null or undefined, got 3$/);
    expect(() => new nn.Residual(new nn.Linear(3, 2)).forward(randTensor(rng(2), [4, 3]))).toThrow(RangeError);
    expect(() => new nn.Residual(new nn.Linear(3, 2)).forward(randTensor(rng(2), [4, 3]))).toThrow(/^add: a \[4,2\] and b \[4,3\] do not broadcast/);
  });

  it('round-trips through save and load: config, weights and outputs', async () => {
    manualSeed(3);
    const model = tinyResNet();
    model.eval();
    const x = randTensor(rng(3), [2, 2, 8, 8]);
    const path = join(dir, 'resnet.safetensors');
    await save(model, path);
    const loaded = await load(path);
    loaded.eval();
    expect(loaded.toConfig()).toEqual(model.toConfig());
    expect(Object.keys(loaded.stateDict())).toEqual(Object.keys(model.stateDict()));
    expect(Array.from(loaded.forward(x).data)).toEqual(Array.from(model.forward(x).data));
    expect(() => nn.moduleFromConfig({ type: 'Residual', args: [] })).toThrow(/Residual takes \[body\] or \[body, shortcut\] configs, got 0/);
  });

  it('has summary rows for both branches and for the addition', () => {
    const s = summary(tinyResNet(), [2, 8, 8]);
    const names = s.rows.map((r) => r.name);
    expect(names.slice(0, 9)).toEqual(['0.0.body.0', '0.0.body.1', '0.0.body.2', '0.0.body.3', '0.0.body.4', '0.0.shortcut.0', '0.0.shortcut.1', '0.0', '0.1']);
    const addRow = s.rows[7];
    expect(addRow).toMatchObject({ type: 'Residual', description: 'Residual add', outputShape: [4, 4, 4], params: 0, macs: 0 });
    expect(s.rows.find((r) => r.name === '1.0')).toMatchObject({ description: 'Residual add (identity)', outputShape: [4, 4, 4] });
    expect(s.outputShape).toEqual([3]);
    expect(s.totalParams).toBe(tinyResNet().parameters().reduce((a, t) => a + t.size, 0));
    expect(() => summary(new nn.Residual(new nn.Conv2d(2, 3, 3, { padding: 1 })), [2, 8, 8])).toThrow(
      /^summary: layer \(model\) \(Residual\) adds its body's output \[3,8,8\] to its shortcut's \[2,8,8\], which do not broadcast/);
  });
});

/** A few SGD steps of the tiny ResNet on fixed data; the losses and final weights. */
function train(steps: number): { losses: number[]; weights: Float32Array[] } {
  manualSeed(7);
  const model = tinyResNet();
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const r = rng(8);
  const x = randTensor(r, [6, 2, 8, 8]);
  const target = randTensor(r, [6, 3]);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    const loss = mseLoss(model.forward(x), target);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return { losses, weights: model.parameters().map((p) => p.toArray()) };
}

describe('a ResNet basic block trains', () => {
  it('on js: the loss decreases', () => {
    const { losses } = withBackend('js', () => train(8));
    expect(losses[losses.length - 1]).toBeLessThan(0.8 * losses[0]);
  });

  it.runIf(hasCpu)('on cpu with the losses and weights of js', () => {
    const js = withBackend('js', () => train(8));
    const cpu = withBackend('cpu', () => train(8));
    expectClose(cpu.losses, js.losses, 'losses', 1e-4);
    cpu.weights.forEach((w, i) => expectClose(w, js.weights[i], `parameter ${i}`, 1e-3, 1e-5));
    expect(cpu.losses[cpu.losses.length - 1]).toBeLessThan(0.8 * cpu.losses[0]);
  });

  it('passes gradcheck on js (input and every parameter, BatchNorm in training mode)', () => {
    withBackend('js', () => {
      manualSeed(9);
      const block = basicBlock(2, 3, 2);
      const x = randTensor(rng(10), [2, 2, 5, 5], true);
      const params = block.parameters();
      gradcheck('basic block', [x, ...params], ([input]) => block.forward(input), { eps: 1e-3 });
      const identity = basicBlock(3, 3);
      const y = randTensor(rng(11), [2, 3, 4, 4], true);
      gradcheck('identity block', [y, ...identity.parameters()], ([input]) => identity.forward(input), { eps: 1e-3 });
    });
  });
});

describe('compile and predict on a model with a Residual', () => {
  for (const backend of backends) {
    it(`compile runs it (on cpu as one native call) on ${backend}: model.forward's eval outputs, BatchNorm folded`, async () => {
      await withBackendAsync(backend, async () => {
        manualSeed(12);
        const model = tinyResNet();
        randomizeBatchNorm(model, 14);
        // A Residual in a Residual, a shortcut that ends in a Flatten (no step: shapes come back at the add).
        const nested = new nn.Sequential(new nn.Residual(new nn.Sequential(new nn.Conv2d(2, 2, 3, { padding: 1 }), new nn.ReLU(),
          new nn.Residual(new nn.Sequential(new nn.Conv2d(2, 2, 1), new nn.BatchNorm2d(2)))), null), new nn.Flatten(),
        new nn.Residual(new nn.Linear(128, 128), new nn.Sequential(new nn.Dropout(), new nn.Flatten())));
        randomizeBatchNorm(nested, 15);
        const x = randTensor(rng(13), [3, 2, 8, 8]);
        for (const m of [model, nested]) {
          const session = compile(m, { inputShape: [2, 8, 8] });
          m.eval();
          const eager = noGrad(() => m.forward(x));
          m.train();
          const compiled = session.run(x);
          expect(session.runnerKind).toBe(backend === 'cpu' ? 'native' : 'eager');
          expect(compiled.shape).toEqual(eager.shape);
          expectClose(compiled.toArray(), eager.toArray(), `${backend} compiled`, 1e-4, 1e-5);
          expectClose((await session.runAsync(x)).toArray(), eager.toArray(), `${backend} runAsync`, 1e-4, 1e-5);
          expectClose((await predict(m, x) as Tensor).toArray(), eager.toArray(), `${backend} predict`, 1e-4, 1e-5);
          expect(m.training).toBe(true);
        }
      });
    });
  }

  it('names a Residual whose branches do not add', () => {
    const model = new nn.Sequential(new nn.Conv2d(2, 3, 1), new nn.Residual(new nn.Conv2d(3, 4, 1)));
    expect(() => compile(model, { inputShape: [2, 4, 4] })).toThrow(/^compile: layer 1 \(Residual\) adds its body's output \[4,4,4\] to its shortcut's \[3,4,4\]/);
  });
});
