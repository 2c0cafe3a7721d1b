// Eval mode is a property of each call: any number of overlapping predict/evaluate calls on
// one model (with Dropout and BatchNorm, in train mode) give exactly the sequential result and
// leave the model's modes and running statistics untouched. Before each batch's eval forward
// became one synchronous section, the calls toggled the shared flags across awaits: the first
// to finish put train mode back while the others were mid-run, and they saw dropout active.
import { describe, expect, it } from 'vitest';
import { data, evaluate, manualSeed, nn, predict, Tensor } from '../lib/index.js';
import { randData, rng } from './helpers.js';

function dropoutBatchNormNet(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.Flatten(),
    new nn.Dropout(0.5), new nn.Linear(4 * 6 * 6, 3));
}

const x = new Tensor(randData(rng(1), 16 * 64), [16, 1, 8, 8]);
const labels = Int32Array.from({ length: 16 }, (_, i) => i % 3);

function buffers(model: nn.Module): number[][] {
  return Object.values(model.stateDict()).map((t) => Array.from(t.data));
}

describe('concurrent inference on one model', () => {
  it('100 concurrent predict calls each equal the sequential result exactly', async () => {
    manualSeed(3);
    const model = dropoutBatchNormNet();
    model.train();
    const state = buffers(model);
    // batchSize 4: four batches per call, so the calls interleave at every await.
    const sequential = await predict(model, x, { batchSize: 4 });
    const results = await Promise.all(Array.from({ length: 100 }, () => predict(model, x, { batchSize: 4 })));
    for (const r of results) expect(Array.from(r.data)).toEqual(Array.from(sequential.data));
    expect(model.training).toBe(true);
    expect(model.namedModules().every(([, m]) => m.training)).toBe(true);
    expect(buffers(model)).toEqual(state); // no running-statistics update, no weight change
  });

  it('concurrent evaluate and predict calls each equal their sequential result', async () => {
    manualSeed(4);
    const model = dropoutBatchNormNet();
    model.train();
    const set = new data.TensorDataset(x, labels);
    const loss = (await evaluate(model, set, { batchSize: 4 })).loss;
    const out = await predict(model, x, { batchSize: 4 });
    const calls = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? evaluate(model, set, { batchSize: 4 }) : predict(model, x, { batchSize: 4 })));
    for (const [i, r] of (await Promise.all(calls)).entries()) {
      if (i % 2 === 0) expect((r as { loss: number }).loss).toBe(loss);
      else expect(Array.from((r as Tensor).data)).toEqual(Array.from(out.data));
    }
    expect(model.training).toBe(true);
  });
});
