// Models for the ONNX export tests: LeNet, and models that together use every layer and option
// exportOnnx supports, each with the input shape (without batch) it takes.
import * as nn from '../lib/nn/index.js';
import { tensor } from '../lib/index.js';
import { rng } from './helpers.js';
import { leNet5 } from './models.js';

export interface ExportCase {
  name: string;
  model: nn.Module;
  inputShape: number[];
}

/**
 * Gives every BatchNorm2d random running statistics (variances in [0.5, 1.5]) and affine
 * parameters: their initial values (0 and 1) would hide a swapped or ignored input. The other
 * layers keep convkit's own random init, whose scale keeps float32 rounding small.
 */
export function randomizeBatchNorm(model: nn.Module, seed: number): nn.Module {
  const r = rng(seed);
  const values: Record<string, ReturnType<typeof tensor>> = {};
  for (const [path, layer] of model.namedModules()) {
    if (!(layer instanceof nn.BatchNorm2d)) continue;
    for (const [name, t] of Object.entries(layer.stateDict())) {
      if (name === 'num_batches_tracked') continue;
      const draw = name === 'running_var' ? () => 0.5 + r() : name === 'weight' ? () => 0.5 + r() : () => 2 * r() - 1;
      values[path ? `${path}.${name}` : name] = tensor(Float32Array.from({ length: t.size }, draw), t.shape);
    }
  }
  model.loadStateDict(values, { strict: false });
  return model;
}

/** The export cases, freshly built and randomized. */
export function exportCases(): ExportCase[] {
  const cases: ExportCase[] = [
    { name: 'LeNet', model: leNet5(), inputShape: [1, 32, 32] },
    {
      // Conv2d and BatchNorm2d with every option, a nested Sequential, Softmax over features.
      name: 'conv2d options',
      inputShape: [4, 13, 11],
      model: new nn.Sequential(
        new nn.Conv2d(4, 6, 3, { stride: 2, padding: 'same', dilation: 2, groups: 2, bias: false }),
        new nn.BatchNorm2d(6, { affine: false, eps: 1e-3 }),
        new nn.LeakyReLU(0.2),
        new nn.Conv2d(6, 8, [3, 2], { padding: [1, 0, 2, 1], stride: [1, 2] }),
        new nn.BatchNorm2d(8),
        new nn.Tanh(),
        new nn.Sequential(new nn.Dropout(0.3), new nn.Conv2d(8, 8, 1, { padding: 'valid', groups: 4 })),
        new nn.Flatten(),
        new nn.Linear(192, 5),
        new nn.Sigmoid(),
        new nn.Linear(5, 3, { bias: false }),
        new nn.Softmax(1),
      ),
    },
    {
      // Flatten from dim 2 keeps the channels (a Reshape, as ONNX Flatten would make 2-d);
      // Softmax over a non-last axis (moved last and back before opset 13).
      name: 'flatten from dim 2',
      inputShape: [3, 4, 5],
      model: new nn.Sequential(new nn.Flatten(2), new nn.Softmax(1)),
    },
    {
      // Pooling: ceil mode (also where the last window would start in the padding), dilation,
      // asymmetric and 'same' padding, count_include_pad both ways.
      name: 'pooling options',
      inputShape: [3, 12, 10],
      model: new nn.Sequential(
        new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
        new nn.AvgPool2d(2, { stride: 2, padding: 1, ceilMode: true }),
        new nn.MaxPool2d([2, 3], { stride: 1, dilation: [2, 1], padding: [1, 1, 0, 1] }),
        new nn.AvgPool2d(3, { stride: 2, padding: 'same', countIncludePad: false, ceilMode: true }),
        new nn.ReLU(),
      ),
    },
    {
      // Ceil mode with padding counted: a last window past the padding (rows) next to a last
      // window that would start in the padding (columns, dropped), then plain counted padding.
      name: 'avgpool count_include_pad with ceil mode',
      inputShape: [2, 6, 7],
      model: new nn.Sequential(new nn.AvgPool2d([3, 2], { stride: 2, padding: [0, 1], ceilMode: true }), new nn.AvgPool2d(2, { padding: 1 })),
    },
    {
      name: 'global pooling head',
      inputShape: [3, 7, 7],
      model: new nn.Sequential(new nn.Conv2d(3, 5, 3, { padding: 1 }), new nn.BatchNorm2d(5), new nn.ReLU(), new nn.GlobalAvgPool2d(),
        new nn.Flatten(), new nn.Dropout(), new nn.Linear(5, 4), new nn.Softmax()),
    },
    {
      // Conv1d with every option, nested Sequentials, Softmax over a non-last axis, Flatten from -1.
      name: 'conv1d options',
      inputShape: [4, 17],
      model: new nn.Sequential(
        new nn.Conv1d(4, 6, 3, { stride: 2, padding: 'same', dilation: 2, groups: 2 }),
        new nn.Sequential(new nn.ReLU(), new nn.Sequential(new nn.Conv1d(6, 4, 2, { padding: [1, 2], bias: false }))),
        new nn.Conv1d(4, 4, 3, { padding: 'valid' }),
        new nn.Conv1d(4, 3, 1, { padding: 1 }),
        new nn.Flatten(-1),
        new nn.Softmax(1),
      ),
    },
    {
      // ResNet basic blocks: an identity shortcut, then a strided one (1x1 conv + BatchNorm),
      // each an Add node; a Residual nested in a Residual's body.
      name: 'residual blocks',
      inputShape: [4, 9, 8],
      model: new nn.Sequential(
        new nn.Residual(new nn.Sequential(new nn.Conv2d(4, 4, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(4), new nn.ReLU(),
          new nn.Conv2d(4, 4, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(4))),
        new nn.ReLU(),
        new nn.Residual(
          new nn.Sequential(new nn.Conv2d(4, 6, 3, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(6), new nn.ReLU(),
            new nn.Residual(new nn.Conv2d(6, 6, 3, { padding: 1 }))),
          new nn.Sequential(new nn.Conv2d(4, 6, 1, { stride: 2, bias: false }), new nn.BatchNorm2d(6))),
        new nn.ReLU(),
        new nn.GlobalAvgPool2d(),
        new nn.Flatten(),
        new nn.Linear(6, 3),
      ),
    },
    { name: 'a bare Residual as the model', inputShape: [3], model: new nn.Residual(new nn.Linear(3, 3), new nn.Linear(3, 1)) },
    { name: 'a bare layer as the model', inputShape: [3, 5, 5], model: new nn.Conv2d(3, 2, 3) },
    { name: 'no node (only Dropout)', inputShape: [2, 3], model: new nn.Sequential(new nn.Dropout()) },
  ];
  cases.forEach((c, i) => randomizeBatchNorm(c.model, 100 + i));
  return cases;
}
