// One epoch of LeNet-5 training on MNIST through fit(), per device: the recipe of
// bench/gpu/torch_reference.py (32x32 inputs, batch 64, SGD lr 0.05 momentum 0.9, batches
// copied from host memory each step), so the cuda row compares with PyTorch's epoch on the
// same GPU. Two epochs run and the second is reported: the first warms the workspaces, the
// caching allocator and the JIT. An epoch is one sample, so this suite does not go through
// `benchmark`; its rate is images per second.
import { availableBackends, data, fit, manualSeed, nn, optim } from '../lib/index.js';
import type { Row } from './table.js';

export function lenet(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 6, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10));
}

export async function lenetEpochRows(): Promise<Row[]> {
  const train = data.mnist('train', { pad: 2 });
  const devices = availableBackends().includes('cuda') ? (['cpu', 'cuda'] as const) : (['cpu'] as const);
  const rows: Row[] = [];
  // On the cpu, fit's compiled step and, beside it, the autograd tape (compiled: false).
  const runs: Array<['cpu' | 'cuda', boolean]> = [];
  for (const device of devices) runs.push([device, true], ...(device === 'cpu' ? [[device, false] as ['cpu', boolean]] : []));
  for (const [device, compiled] of runs) {
    manualSeed(1);
    const model = lenet().to(device);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const history = await fit(model, train, { epochs: 2, batchSize: 64, optimizer, progress: false, compiled });
    const timed = history.epochs[1];
    rows.push({
      op: 'LeNet-5 epoch', shape: `MNIST ${train.length} x 32x32, batch 64`, backend: compiled ? device : `${device} (tape)`,
      medianMs: timed.seconds * 1000, rate: timed.imagesPerSecond, unit: 'img/s',
      note: `fit${compiled ? '' : ', compiled: false'}, SGD momentum; 2nd of 2 epochs; loss ${timed.loss.toFixed(4)}`,
    });
  }
  return rows;
}
