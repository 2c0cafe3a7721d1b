// The training loop: a real MNIST run, repeatability, early stopping, callbacks, checkpoint
// resume, evaluate/predict, progress output and option errors.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crossEntropy, data, getBackend, logSoftmax, manualSeed, nn, optim, tensor, type Tensor } from '../lib/index.js';
import { readSafetensors, writeSafetensors } from '../lib/io/index.js';
import { evaluate, fit, predict, type EpochLogs, type FitOptions, type History, type ProgressWriter } from '../lib/train/index.js';

const SLOW = 60_000;
const tmp = mkdtempSync(join(tmpdir(), 'convkit-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** 3 classes of 8x8 images: a bright row band, a bright column band, or a bright centre, plus noise. */
function blobs(n: number, seed: number): data.TensorDataset {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(n * 64);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y.push(c);
    for (let r = 0; r < 8; r++) {
      for (let q = 0; q < 8; q++) {
        const on = c === 0 ? r >= 3 && r <= 4 : c === 1 ? q >= 3 && q <= 4 : r >= 2 && r <= 5 && q >= 2 && q <= 5;
        x[i * 64 + r * 8 + q] = (on ? 1 : 0) + (rand() - 0.5) * 0.8;
      }
    }
  }
  return new data.TensorDataset(tensor(x, [n, 1, 8, 8]), y);
}

function smallNet(dropout = 0): nn.Sequential {
  const layers: nn.Module[] = [new nn.Conv2d(1, 4, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten()];
  if (dropout > 0) layers.push(new nn.Dropout(dropout));
  layers.push(new nn.Linear(36, 3));
  return new nn.Sequential(...layers);
}

function weights(model: nn.Module): Float32Array[] {
  return Object.values(model.stateDict()).map((t) => t.data.slice());
}

/** The history without wall-clock fields. */
function stable(h: History): unknown {
  return { ...h, epochs: h.epochs.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest) };
}

const train = blobs(96, 1);
const val = blobs(48, 2);

describe('fit on MNIST', () => {
  // About 30x slower on the js fallback (90 s): there the toy-problem tests below cover fit.
  it.skipIf(getBackend() !== 'cpu')('trains LeNet-5 to >= 90% test accuracy on 4000 images in 2 epochs', async () => {
    const trainSet = data.mnist('train', { pad: 2, limit: 4000 });
    const testSet = data.mnist('test', { pad: 2, limit: 1000 });
    manualSeed(1);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 6, 5), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10));
    const started = performance.now();
    const history = await fit(model, trainSet, {
      epochs: 2, batchSize: 32, optimizer: new optim.Adam(model.parameters(), { lr: 2e-3 }),
      metrics: ['accuracy'], validation: testSet, progress: false,
    });
    const { loss, accuracy, samples } = await evaluate(model, testSet, { metrics: ['accuracy'] });
    const seconds = (performance.now() - started) / 1000;
    // Measured on the cpu backend (2 cores): accuracy 0.941 (seeds 1-5: 0.938-0.950), about 2-4 s.
    console.log(`MNIST LeNet-5: test accuracy ${accuracy}, loss ${loss.toFixed(4)}, ${seconds.toFixed(1)} s`);
    expect(samples).toBe(1000);
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
    expect(history.epochs).toHaveLength(2);
    expect(history.epochs[1].loss).toBeLessThan(history.epochs[0].loss);
    expect(history.epochs[1].valAccuracy).toBeCloseTo(accuracy!, 10);
    expect(history.epochs[1].valLoss).toBeCloseTo(loss, 5);
    expect(history.epochs[0].imagesPerSecond).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(20);
  }, SLOW);
});

describe('fit', () => {
  const run = async (extra: Partial<FitOptions> = {}, dropout = 0.2) => {
    manualSeed(7);
    const model = smallNet(dropout);
    const optimizer = new optim.Adam(model.parameters(), { lr: 1e-2 });
    const history = await fit(model, train, { epochs: 3, batchSize: 16, optimizer, metrics: ['accuracy'], validation: val, progress: false, ...extra });
    return { model, history };
  };

  it('learns the toy problem and records every field of the history', async () => {
    const { history } = await run({ epochs: 12 }, 0);
    expect(history.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const last = history.epochs[11];
    for (const key of ['loss', 'accuracy', 'valLoss', 'valAccuracy', 'seconds', 'imagesPerSecond', 'lr'] as const) expect(Number.isFinite(last[key])).toBe(true);
    expect(last.valAccuracy).toBeGreaterThan(0.8);
    expect(last.lr).toBe(1e-2);
    expect(history.stoppedEarly).toBe(false);
    expect(history.bestEpoch).toBe(history.epochs.reduce((b, e) => (e.valLoss! < history.epochs[b - 1].valLoss! ? e.epoch : b), 1));
  });

  it('repeats exactly with the same seed (shuffles and dropout included)', async () => {
    const a = await run();
    const b = await run();
    expect(stable(b.history)).toEqual(stable(a.history));
    expect(weights(b.model)).toEqual(weights(a.model));
    manualSeed(8);
    const model = smallNet(0.2);
    const c = await fit(model, train, { epochs: 3, batchSize: 16, optimizer: new optim.Adam(model.parameters(), { lr: 1e-2 }), progress: false });
    expect(c.epochs[2].loss).not.toBe(a.history.epochs[2].loss);
  });

  it('accepts a DataLoader and a loss function, and steps the scheduler once per epoch', async () => {
    manualSeed(3);
    const model = smallNet();
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const scheduler = new optim.StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
    const seen: number[] = [];
    const loader = new data.DataLoader(train, { batchSize: 32, shuffle: true });
    const history = await fit(model, loader, {
      epochs: 3, optimizer, scheduler, progress: false,
      loss: (out, y) => { seen.push(y.length); return nnLoss(out, y); },
    });
    expect(seen).toEqual([32, 32, 32, 32, 32, 32, 32, 32, 32]);
    expect(history.epochs.map((e) => e.lr)).toEqual([0.1, 0.05, 0.025]);
    expect(optimizer.lr).toBe(0.0125);
    expect(history.epochs[0].accuracy).toBeUndefined();
    expect(history.epochs[0].valLoss).toBeUndefined();
  });

  it('yields to the event loop between batches', async () => {
    // An immediate that schedules itself runs once per turn of the event loop, however fast the
    // batches are (a timer would need a millisecond to pass, and the compiled step is faster).
    let ticks = 0;
    let spinning = true;
    const spin = () => {
      if (!spinning) return;
      ticks++;
      setImmediate(spin);
    };
    setImmediate(spin);
    try {
      await run({ epochs: 2 }); // 12 batches
    } finally {
      spinning = false;
    }
    expect(ticks).toBeGreaterThan(10);
  });

  it('leaves every module in the mode it found it', async () => {
    manualSeed(1);
    const model = smallNet(0.5);
    model.eval();
    model[4].train(); // a mixed state must come back as it was
    await fit(model, train, { epochs: 1, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), progress: false, validation: val });
    expect(model.training).toBe(false);
    expect(model[0].training).toBe(false);
    expect(model[4].training).toBe(true);
  });
});

function nnLoss(out: Tensor, y: Int32Array): Tensor {
  return crossEntropy(out, y);
}

describe('early stopping', () => {
  it('stops after patience epochs without improvement', async () => {
    manualSeed(2);
    const model = smallNet();
    // lr 0: nothing changes, so valLoss never improves after epoch 1.
    const history = await fit(model, train, {
      epochs: 10, optimizer: new optim.SGD(model.parameters(), { lr: 0 }), validation: val, progress: false,
      earlyStopping: { monitor: 'valLoss', patience: 2 },
    });
    expect(history.epochs).toHaveLength(4);
    expect(history.stoppedEarly).toBe(true);
    expect(history.bestEpoch).toBe(1);
  });

  it('restores the best weights', async () => {
    manualSeed(2);
    const model = smallNet();
    let best: Float32Array[] = [];
    const history = await fit(model, train, {
      epochs: 5, optimizer: new optim.SGD(model.parameters(), { lr: 1e-4 }), validation: val, progress: false, metrics: ['accuracy'],
      earlyStopping: { monitor: 'valLoss', patience: 0, restoreBestWeights: true },
      callbacks: {
        onEpochEnd(epoch) {
          if (epoch !== 1) return;
          best = weights(model);
          for (const p of model.parameters()) for (let i = 0; i < p.size; i++) p.data[i] *= -20; // ruin it
        },
      },
    });
    expect(history.epochs).toHaveLength(2);
    expect(history.stoppedEarly).toBe(true);
    expect(history.bestEpoch).toBe(1);
    expect(weights(model)).toEqual(best);
  });

  it('watches accuracy upwards', async () => {
    manualSeed(2);
    const model = smallNet();
    const history = await fit(model, train, {
      epochs: 6, optimizer: new optim.SGD(model.parameters(), { lr: 0 }), validation: val, progress: false, metrics: ['accuracy'],
      earlyStopping: { monitor: 'valAccuracy', patience: 1, minDelta: 0.01 },
    });
    expect(history.epochs).toHaveLength(3);
    expect(history.bestEpoch).toBe(1);
  });
});

describe('callbacks', () => {
  it('run in order, may be async, and can stop training', async () => {
    manualSeed(4);
    const model = smallNet();
    const events: string[] = [];
    const history = await fit(model, train, {
      epochs: 3, batchSize: 48, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), progress: false,
      callbacks: [
        {
          async onBatchEnd(batch, logs) {
            await new Promise((r) => setTimeout(r, 1));
            events.push(`batch ${logs.epoch}.${batch}/${logs.batches}`);
          },
          onEpochEnd(epoch, logs: EpochLogs) {
            events.push(`epoch ${epoch} ${logs.epoch}`);
            if (epoch === 2) return 'stop';
          },
          onTrainEnd(h) { events.push(`end ${h.epochs.length}`); },
        },
        { onEpochEnd(epoch) { events.push(`second ${epoch}`); } },
      ],
    });
    expect(events).toEqual([
      'batch 1.1/2', 'batch 1.2/2', 'epoch 1 1', 'second 1',
      'batch 2.1/2', 'batch 2.2/2', 'epoch 2 2', 'second 2', 'end 2',
    ]);
    expect(history.stoppedEarly).toBe(true);
  });

  it('control.stop set in onBatchEnd ends the epoch at that batch', async () => {
    manualSeed(4);
    const model = smallNet();
    let batches = 0;
    const history = await fit(model, train, {
      epochs: 3, batchSize: 8, optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), progress: false,
      callbacks: { onBatchEnd(batch, _logs, control) { batches++; if (batch === 3) control.stop = true; } },
    });
    expect(batches).toBe(3);
    expect(history.epochs).toHaveLength(1);
    expect(history.stoppedEarly).toBe(true);
  });
});

describe('checkpoints', () => {
  const options = (model: nn.Module, path?: string, resume = false): FitOptions => {
    const optimizer = new optim.Adam(model.parameters(), { lr: 1e-2 });
    return {
      epochs: 4, batchSize: 16, optimizer, scheduler: new optim.StepLR(optimizer, { stepSize: 2, gamma: 0.5 }), metrics: ['accuracy'],
      validation: val, progress: false, earlyStopping: { monitor: 'valLoss', patience: 10, restoreBestWeights: true },
      ...(path ? { checkpoint: { path, every: 1, resume } } : {}),
    };
  };

  it('resuming after a crash gives the same weights and history as an uninterrupted run', async () => {
    manualSeed(11);
    const reference = smallNet(0.3);
    const whole = await fit(reference, train, options(reference));

    const path = join(tmp, 'run.ckpt');
    manualSeed(11);
    const first = smallNet(0.3);
    const crashing = options(first, path);
    crashing.callbacks = { onEpochEnd(epoch) { if (epoch === 3) throw new Error('power cut'); } };
    await expect(fit(first, train, crashing)).rejects.toThrow('power cut');

    manualSeed(999); // a new process: a different global state; the checkpoint restores what matters
    const second = smallNet(0.3);
    const resumed = await fit(second, train, options(second, path, true));
    expect(stable(resumed)).toEqual(stable(whole));
    expect(weights(second)).toEqual(weights(reference));
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);

    // Resuming a finished run trains nothing and returns its history.
    const third = smallNet(0.3);
    let batches = 0;
    const again = await fit(third, train, { ...options(third, path, true), callbacks: { onBatchEnd() { batches++; } } });
    expect(batches).toBe(0);
    expect(stable(again)).toEqual(stable(whole));
    expect(weights(third)).toEqual(weights(reference));
  }, SLOW);

  it('resume: true without a file starts afresh', async () => {
    manualSeed(5);
    const model = smallNet();
    const history = await fit(model, train, { ...options(model, join(tmp, 'fresh.ckpt'), true), epochs: 1 });
    expect(history.epochs).toHaveLength(1);
    expect(readdirSync(tmp)).toContain('fresh.ckpt');
  });

  it('saves every N epochs and after the last, as a safetensors file', async () => {
    const path = join(tmp, 'every.ckpt');
    manualSeed(5);
    const model = smallNet();
    const seen: Array<number | null> = [];
    const epochInFile = async () => (existsSync(path) ? JSON.parse(readSafetensors(await readFile(path)).metadata.convkit_checkpoint).epoch : null);
    await fit(model, train, {
      ...options(model), epochs: 5, checkpoint: { path, every: 2 },
      callbacks: { async onEpochEnd() { seen.push(await epochInFile()); } },
    });
    expect(seen).toEqual([null, null, 2, 2, 4]);
    expect(await epochInFile()).toBe(5);
    const { tensors } = readSafetensors(await readFile(path));
    expect(Array.from(tensors['model.0.weight'].data)).toEqual(Array.from(model.stateDict()['0.weight'].data));
    expect(Object.keys(tensors).some((k) => k.startsWith('optim.0.'))).toBe(true);
  });

  it('refuses a file that is not a fit checkpoint', async () => {
    const path = join(tmp, 'plain.safetensors');
    manualSeed(5);
    const model = smallNet();
    await writeFile(path, writeSafetensors(model.stateDict()));
    await expect(fit(model, train, { ...options(model, path, true), epochs: 1 })).rejects.toThrow(/not a convkit fit checkpoint/);
  });

  it('rejects a checkpoint of another architecture', async () => {
    const path = join(tmp, 'other.ckpt');
    manualSeed(5);
    const model = smallNet();
    await fit(model, train, { ...options(model, path), epochs: 1 });
    const other = new nn.Sequential(new nn.Flatten(), new nn.Linear(64, 3));
    await expect(fit(other, train, { ...options(other, path, true), epochs: 2 })).rejects.toThrow(/loadStateDict/);
  });
});

describe('evaluate and predict', () => {
  it('evaluate returns the mean loss and accuracy in eval mode, then restores the mode', async () => {
    manualSeed(6);
    const model = smallNet(0.5);
    model.train();
    const a = await evaluate(model, val, { metrics: ['accuracy'], batchSize: 5 });
    const b = await evaluate(model, new data.DataLoader(val, { batchSize: 48 }));
    expect(model.training).toBe(true);
    expect(model[4].training).toBe(true);
    expect(a.samples).toBe(48);
    expect(a.accuracy).toBeGreaterThanOrEqual(0);
    expect(a.accuracy).toBeLessThanOrEqual(1);
    expect(b.accuracy).toBeUndefined();
    expect(b.loss).toBeCloseTo(a.loss, 5); // dropout off: batch size does not matter
  });

  it("loss: 'nllLoss' on a model that outputs log-probabilities equals crossEntropy on its logits", async () => {
    manualSeed(6);
    const model = smallNet();
    class LogSoftmax extends nn.Module {
      forward(x: Tensor): Tensor { return logSoftmax(x, 1); }
      toConfig(): nn.ModuleConfig { return { type: 'LogSoftmax', args: [] }; }
    }
    const ce = await evaluate(model, val, { metrics: ['accuracy'] });
    const nll = await evaluate(new nn.Sequential(model, new LogSoftmax()), val, { loss: 'nllLoss', metrics: ['accuracy'] });
    expect(nll.loss).toBeCloseTo(ce.loss, 5);
    expect(nll.accuracy).toBe(ce.accuracy);
  });

  it('predict gives the raw outputs by default, softmax probabilities on request, the same at any batch size', async () => {
    manualSeed(6);
    const model = smallNet(0.5);
    const x = val.images;
    const raw = await predict(model, x);
    model.eval();
    const direct = model.forward(x);
    model.train();
    expect(raw.shape).toEqual([48, 3]);
    expect(raw.requiresGrad).toBe(false);
    expect(Array.from(raw.data)).toEqual(Array.from(direct.data));
    const inSevens = await predict(model, x, { batchSize: 7 });
    for (let i = 0; i < raw.size; i++) expect(inSevens.data[i]).toBeCloseTo(raw.data[i], 5); // GEMM blocking differs by batch size
    const probs = await predict(model, x, { batchSize: 7, softmax: true });
    expect(probs.shape).toEqual([48, 3]);
    for (let i = 0; i < 48; i++) expect(probs.data[i * 3] + probs.data[i * 3 + 1] + probs.data[i * 3 + 2]).toBeCloseTo(1, 5);
    const whole = await predict(model, x, { softmax: true });
    for (let i = 0; i < probs.size; i++) expect(whole.data[i]).toBeCloseTo(probs.data[i], 6);
    expect(model.training).toBe(true);
    // A model that ends in Softmax returns its probabilities as they are, and refuses a second softmax.
    const withSoftmax = new nn.Sequential(model, new nn.Softmax(1));
    const p2 = await predict(withSoftmax, x);
    for (let i = 0; i < probs.size; i++) expect(p2.data[i]).toBeCloseTo(whole.data[i], 6);
    await expect(predict(withSoftmax, x, { softmax: true })).rejects.toThrow(/already ends in Softmax/);
  });

  it('predict explains softmax on a non-classifier output', async () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3));
    await expect(predict(model, val.images, { softmax: true })).rejects.toThrow(/softmax: true \} needs a model output \[N, classes\]/);
    const raw = await predict(model, val.images, { batchSize: 10 });
    expect(raw.shape).toEqual([48, 2, 6, 6]);
  });
});

describe('progress', () => {
  const capture = (isTTY = false) => {
    const chunks: string[] = [];
    const output: ProgressWriter = { write: (s: string) => { chunks.push(s); return true; }, isTTY };
    return { output, text: () => chunks.join('') };
  };
  const quick = async (progress: FitOptions['progress'], epochs = 2) => {
    manualSeed(9);
    const model = smallNet();
    return fit(model, train, { epochs, batchSize: 16, optimizer: new optim.SGD(model.parameters(), { lr: 0.05 }), metrics: ['accuracy'], validation: val, progress });
  };

  it('prints one plain line per epoch without a TTY', async () => {
    const { output, text } = capture();
    await quick({ output });
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^epoch 1\/2 - loss \d\.\d{4} - accuracy \d\.\d{4} - valLoss \d\.\d{4} - valAccuracy \d\.\d{4} - \d+\.\ds - \d+ img\/s - lr 0\.05000$/);
    expect(lines[1]).toMatch(/^epoch 2\/2 /);
  });

  it('adds a line every N batches', async () => {
    const { output, text } = capture();
    await quick({ output, every: 2 }, 1);
    const lines = text().trimEnd().split('\n');
    expect(lines.map((l) => l.split(' - ')[0])).toEqual(['epoch 1/1 batch 2/6', 'epoch 1/1 batch 4/6', 'epoch 1/1']);
    expect(lines[0]).toMatch(/ETA \d/);
  });

  it('draws a bar on a TTY and ends each epoch with its summary line', async () => {
    const { output, text } = capture(true);
    await quick({ output });
    const out = text();
    expect(out).toMatch(/epoch 1\/2 .*\d+\/6 \| loss/);
    expect(out).toMatch(/epoch 1\/2 - loss .* - lr 0\.05000\n/);
    expect(out).toMatch(/epoch 2\/2 - loss .* - lr 0\.05000\n$/);
  });

  it('progress: false prints nothing', async () => {
    const { output, text } = capture();
    const writes = process.stdout.write;
    let stdout = 0;
    process.stdout.write = ((..._args: unknown[]) => { stdout++; return true; }) as typeof process.stdout.write;
    try {
      await quick(false);
    } finally {
      process.stdout.write = writes;
    }
    expect(stdout).toBe(0);
    expect(text()).toBe('');
    expect(output).toBeDefined();
  });
});

describe('bad options', () => {
  manualSeed(1);
  const model = smallNet();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
  const base = { epochs: 1, optimizer, progress: false } as FitOptions;
  const cases: Array<[string, unknown, unknown, ErrorConstructor, RegExp]> = [
    ['no options', train, undefined, TypeError, /options must be an object/],
    ['epochs missing', train, { optimizer }, TypeError, /epochs is required/],
    ['epochs 0', train, { ...base, epochs: 0 }, RangeError, /epochs must be a positive integer/],
    ['epochs 1.5', train, { ...base, epochs: 1.5 }, RangeError, /epochs must be a positive integer/],
    ['epochs string', train, { ...base, epochs: '3' }, TypeError, /epochs must be a number/],
    ['unknown option', train, { ...base, epoch: 3 }, TypeError, /unknown option 'epoch'/],
    ['batchSize 0', train, { ...base, batchSize: 0 }, RangeError, /batchSize must be a positive integer/],
    ['batchSize -4', train, { ...base, batchSize: -4 }, RangeError, /batchSize/],
    ['batchSize with a loader', new data.DataLoader(train), { ...base, batchSize: 8 }, TypeError, /batchSize cannot be given with a DataLoader/],
    ['unknown loss', train, { ...base, loss: 'hinge' }, RangeError, /unknown loss 'hinge'.*crossEntropy/],
    ['loss not a function', train, { ...base, loss: 3 }, TypeError, /loss must be/],
    ['unknown metric', train, { ...base, metrics: ['f1'] }, RangeError, /unknown metric 'f1'/],
    ['metrics not an array', train, { ...base, metrics: 'accuracy' }, TypeError, /metrics must be an array/],
    ['no optimizer', train, { epochs: 1 }, TypeError, /optimizer is required/],
    ['optimizer of another model', train, { ...base, optimizer: new optim.SGD(smallNet().parameters(), { lr: 0.1 }) }, RangeError, /not a parameter of the model/],
    ['valLoss without validation', train, { ...base, earlyStopping: { monitor: 'valLoss' } }, RangeError, /monitor 'valLoss' needs validation data/],
    ['valAccuracy without the metric', train, { ...base, validation: val, earlyStopping: { monitor: 'valAccuracy' } }, RangeError, /needs metrics: \['accuracy'\]/],
    ['unknown monitor', train, { ...base, earlyStopping: { monitor: 'val_loss' } }, RangeError, /monitor 'val_loss' is unknown/],
    ['negative patience', train, { ...base, earlyStopping: { patience: -1 } }, RangeError, /patience must be a non-negative integer/],
    ['checkpoint without path', train, { ...base, checkpoint: { every: 1 } }, TypeError, /checkpoint.path must be a non-empty string/],
    ['checkpoint every 0', train, { ...base, checkpoint: { path: join(tmp, 'x'), every: 0 } }, RangeError, /every must be a positive integer/],
    ['scheduler of another optimizer', train, { ...base, scheduler: new optim.StepLR(new optim.SGD(smallNet().parameters(), { lr: 1 }), { stepSize: 1 }) }, RangeError, /scheduler must schedule options.optimizer/],
    ['callback not a function', train, { ...base, callbacks: { onEpochEnd: 1 } }, TypeError, /callbacks.onEpochEnd must be a function/],
    ['unknown callback', train, { ...base, callbacks: { onEpochStart() {} } }, TypeError, /unknown callback callbacks.onEpochStart/],
    ['progress writer', train, { ...base, progress: { output: {} } }, TypeError, /progress.output must have a write/],
    ['trainSet not a dataset', [1, 2], base, TypeError, /trainSet must be a Dataset/],
    ['empty trainSet', new data.TensorDataset(tensor([], [0, 1, 8, 8]), []), base, RangeError, /trainSet is empty/],
  ];
  it.each(cases)('fit: %s', async (_name, set, opts, type, message) => {
    const before = weights(model);
    const p = fit(model, set as data.TensorDataset, opts as FitOptions);
    await expect(p).rejects.toThrow(type);
    await expect(p).rejects.toThrow(message);
    expect(weights(model)).toEqual(before);
  });

  it('a loss function that does not return a scalar', async () => {
    await expect(fit(model, train, { ...base, loss: (out) => out })).rejects.toThrow(/1-element tensor/);
  });

  it('accuracy on an output that is not [N, C]', async () => {
    const conv = new nn.Sequential(new nn.Conv2d(1, 1, 3));
    await expect(evaluate(conv, val, { loss: () => tensor([0], [1]), metrics: ['accuracy'] })).rejects.toThrow(/accuracy metric needs an output of shape \[batch, classes\]/);
  });

  it('evaluate and predict check their arguments', async () => {
    await expect(evaluate({} as nn.Module, val)).rejects.toThrow(/model must be an nn.Module/);
    await expect(evaluate(model, val, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
    await expect(evaluate(model, val, { metrics: ['top5' as 'accuracy'] })).rejects.toThrow(/unknown metric 'top5'/);
    await expect(predict(model, val as unknown as Tensor)).rejects.toThrow(/x must be a Tensor/);
    await expect(predict(model, val.images, { batchSize: 2.5 })).rejects.toThrow(/batchSize must be a positive integer/);
    await expect(predict(model, val.images, { softmax: 1 as unknown as boolean })).rejects.toThrow(/softmax must be a boolean/);
    await expect(predict(model, val.images, { raw: true } as object)).rejects.toThrow(/'raw' option is gone.*softmax: true/);
  });
});
