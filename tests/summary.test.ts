// The shape calculator: the walkthrough's numbers (LeNet-5, AlexNet conv1, 199 -> 1),
// output sizes, receptive fields, the spec grammar and its errors, and the CLI.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  AvgPool2d, BatchNorm2d, Conv1d, Conv2d, Dropout, Flatten, GlobalAvgPool2d, LeakyReLU, Linear,
  MaxPool2d, ReLU, Sequential, Sigmoid, Softmax, Tanh,
} from '../lib/nn/index.js';
import { convGeometry } from '../lib/geometry.js';
import { Tensor } from '../lib/tensor.js';
import { isExactOutputSize, outputSize, outputSizeDetail, parseSpec, stepsToReach, summary } from '../lib/summary/index.js';
import { leNet5 } from './models.js';

const LENET_SPEC = '1x32x32 conv6k5 relu pool2 conv16k5 relu pool2 flatten fc120 relu fc84 relu fc10';

function expectThrow(f: () => unknown, type: ErrorConstructor, ...parts: string[]): string {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(type);
  const message = (error as Error).message;
  for (const part of parts) expect(message).toContain(part);
  return message;
}

describe('outputSize', () => {
  it('follows the walkthrough: 32x32, F5 S1 P0 -> 28; 7x7, F3 S2 -> 3; AlexNet 227, F11 S4 -> 55', () => {
    expect(outputSize({ size: 32, kernel: 5 })).toBe(28);
    expect(outputSize({ size: 7, kernel: 3, stride: 2 })).toBe(3);
    expect(outputSize({ size: 227, kernel: 11, stride: 4 })).toBe(55);
    expect(outputSize({ size: 32, kernel: 5, padding: 2 })).toBe(32);
    expect(outputSize({ size: 7, kernel: 3, stride: 1 })).toBe(5);
  });

  it('floors a stride that does not divide, and says it is not exact', () => {
    expect(outputSize({ size: 8, kernel: 3, stride: 2 })).toBe(3);
    expect(outputSizeDetail({ size: 8, kernel: 3, stride: 2 })).toEqual({ size: 3, value: 3.5, exact: false, padding: [0, 0] });
    expect(isExactOutputSize({ size: 7, kernel: 3, stride: 3 })).toBe(false); // the walkthrough's invalid 7x7, F3 S3
    expect(isExactOutputSize({ size: 7, kernel: 3, stride: 2 })).toBe(true);
  });

  it('takes padding as [before, after], same and valid', () => {
    expect(outputSize({ size: 10, kernel: 3, padding: [1, 0] })).toBe(9);
    expect(outputSize({ size: 10, kernel: 3, padding: [2, 1] })).toBe(11);
    expect(outputSize({ size: 10, kernel: 3, stride: 2, padding: 'same' })).toBe(5);
    expect(outputSizeDetail({ size: 10, kernel: 4, padding: 'same' }).padding).toEqual([1, 2]);
    expect(outputSize({ size: 10, kernel: 3, padding: 'valid' })).toBe(8);
  });

  it('rounds up in ceil mode, dropping a window that starts in the right padding', () => {
    expect(outputSize({ size: 6, kernel: 3, stride: 2 })).toBe(2);
    expect(outputSize({ size: 6, kernel: 3, stride: 2, ceilMode: true })).toBe(3);
    expect(outputSize({ size: 13, kernel: 3, stride: 2, ceilMode: true })).toBe(6); // exact: same as floor
    // 5 + 1 + 1 padded, k2 s2: ceil(5/2)+1 = 4, but the 4th window would start at 6 >= 5 + 1: dropped.
    expect(outputSize({ size: 5, kernel: 2, stride: 2, padding: 1, ceilMode: true })).toBe(3);
  });

  it('dilates the kernel to D(F-1)+1', () => {
    expect(outputSize({ size: 32, kernel: 3, dilation: 2 })).toBe(28);
    expect(outputSize({ size: 10, kernel: 3, dilation: 4 })).toBe(2);
    expectThrow(() => outputSize({ size: 8, kernel: 3, dilation: 4 }), RangeError, 'dilated kernel 9', 'padded input 8');
  });

  it('agrees with convGeometry', () => {
    for (const [size, kernel, stride, padding, dilation] of [[199, 3, 2, 1, 1], [31, 4, 3, 2, 2], [5, 5, 1, 0, 1]]) {
      const g = convGeometry('conv2d', [1, 1, size, size], [1, 1, kernel, kernel], { stride, padding, dilation });
      expect(outputSize({ size, kernel, stride, padding, dilation })).toBe(g.oh);
    }
  });

  it('throws clear errors', () => {
    expectThrow(() => outputSize({ size: 3, kernel: 5 }), RangeError, 'outputSize: kernel 5 is larger than the padded input 3');
    expectThrow(() => outputSize({ size: 3, kernel: 6, padding: 1 }), RangeError, 'kernel 6 is larger than the padded input 5');
    expect(outputSize({ size: 3, kernel: 5, padding: 1 })).toBe(1);
    expectThrow(() => outputSize({ size: 0, kernel: 1 }), RangeError, 'size must be a positive integer');
    expectThrow(() => outputSize({ size: 8, kernel: 3, stride: 0 }), RangeError, 'stride');
    expectThrow(() => outputSize({ size: 8, kernel: 3, padding: -1 }), RangeError, 'padding');
    expectThrow(() => outputSize({ size: 8, kernel: 2.5 }), RangeError, 'kernel');
    expectThrow(() => outputSize({ size: 8, kernel: 3, strides: 2 } as never), TypeError, "unknown option 'strides'");
  });
});

describe('stepsToReach', () => {
  it('refuses a walk of more than a million steps before taking it (it lists every size)', () => {
    // It used to walk all 5e7 steps: a minute and 1 GB.
    expect(() => stepsToReach(1e8 + 1, 1)).toThrow(/^stepsToReach: reaching 1 from 100000001 with kernel 3, stride 1, padding 0 takes 50000000 steps, more than 1000000/);
    expect(() => stepsToReach(2_000_003, 1)).toThrow(/takes 1000001 steps/);
  });

  it('takes 199 to 1 in 99 steps of a 3x3 kernel', () => {
    const r = stepsToReach(199, 1, { kernel: 3 });
    expect(r.steps).toBe(99);
    expect(r.sizes).toEqual(Array.from({ length: 100 }, (_, i) => 199 - 2 * i));
    expect(r.sizes[0]).toBe(199);
    expect(r.sizes.at(-1)).toBe(1);
    expect(r.exact).toBe(true);
    expect(stepsToReach(199, 1)).toEqual(r); // kernel 3 is the default
  });

  it('handles strides, padding and no steps', () => {
    expect(stepsToReach(199, 2, { stride: 2 })).toEqual({ steps: 6, sizes: [199, 99, 49, 24, 11, 5, 2], exact: false });
    expect(stepsToReach(32, 32)).toEqual({ steps: 0, sizes: [32], exact: true });
    expect(stepsToReach(4, 8, { kernel: 1, padding: 2 }).sizes).toEqual([4, 8]);
  });

  it('throws a RangeError when the target is unreachable', () => {
    expectThrow(() => stepsToReach(199, 2), RangeError, 'stepsToReach: 2 cannot be reached from 199', '3 -> 1');
    expectThrow(() => stepsToReach(10, 1, { kernel: 1 }), RangeError, 'the size stays 10');
    expectThrow(() => stepsToReach(1, 5), RangeError, 'cannot be reached');
    expect(stepsToReach(10, 1, { kernel: 2, stride: 4 }).sizes).toEqual([10, 3, 1]);
    expectThrow(() => stepsToReach(10, 2, { kernel: 2, stride: 4 }), RangeError, 'the sizes go 3 -> 1'); // jumps over 2
    expectThrow(() => stepsToReach(0, 1), RangeError, 'from must be a positive integer');
  });
});

describe('summary', () => {
  it('matches the LeNet-5 walkthrough', () => {
    const s = summary(leNet5(), [1, 32, 32]);
    const conv = s.rows.filter((r) => r.type !== 'ReLU');
    expect(conv.map((r) => r.outputShape)).toEqual([[6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 5, 5], [400], [120], [84], [10]]);
    expect(conv.map((r) => r.params)).toEqual([156, 0, 2416, 0, 0, 48120, 10164, 850]);
    expect(s.rows.map((r) => r.name)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(s.totalParams).toBe(61706);
    expect(s.trainableParams).toBe(61706);
    expect(s.rows[0]).toMatchObject({ type: 'Conv2d', description: 'Conv2d 1->6, 5x5', weights: 150, biases: 6, macs: 6 * 28 * 28 * 25, flops: 2 * 6 * 28 * 28 * 25 });
    expect(s.rows[3]).toMatchObject({ weights: 2400, biases: 16, macs: 16 * 10 * 10 * 6 * 25 });
    expect(s.rows[7]).toMatchObject({ type: 'Linear', weights: 48000, biases: 120, macs: 48000 });
    expect(s.totalMacs).toBe(117600 + 240000 + 48000 + 10080 + 840);
    expect(s.totalFlops).toBe(2 * s.totalMacs);
    expect(s.outputShape).toEqual([10]);
  });

  it('matches AlexNet conv1: 3x227x227 -> 96x55x55 with 34,944 params', () => {
    const s = summary(new Sequential(new Conv2d(3, 96, 11, { stride: 4 })), [3, 227, 227]);
    expect(s.rows[0]).toMatchObject({ outputShape: [96, 55, 55], params: 34944, weights: 34848, biases: 96, receptiveField: 11, jump: 4 });
    expect(s.rows[0].macs).toBe(96 * 55 * 55 * 3 * 11 * 11);
  });

  it('renders an aligned table with a totals line', () => {
    const text = summary(leNet5(), [1, 32, 32]).toString();
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^Layer\s+Type\s+Output shape\s+Weights\s+Biases\s+Params\s+MACs\s+RF\s+Jump$/);
    expect(text).toContain('Conv2d 6->16, 5x5');
    expect(text).toContain('16x5x5');
    expect(lines.at(-1)).toContain('Total params: 61,706');
    expect(lines.at(-1)).toContain('MACs: 416,520');
    // Right-aligned numbers end in the same column.
    const paramsEnd = lines[0].indexOf('Params') + 'Params'.length;
    const row7 = lines.find((l) => l.startsWith('7 '))!;
    expect(row7.slice(paramsEnd - '48,120'.length, paramsEnd)).toBe('48,120');
    const weightsEnd = lines[0].indexOf('Weights') + 'Weights'.length;
    expect(row7.slice(weightsEnd - '48,000'.length, weightsEnd)).toBe('48,000');
    expect(String(summary(leNet5(), [1, 32, 32]))).toBe(text);
  });

  it('grows the receptive field of a 3x3 stack by 2 a layer: 2n + 1', () => {
    for (const n of [1, 2, 3, 5]) {
      const layers = Array.from({ length: n }, () => new Conv2d(1, 1, 3));
      const s = summary(new Sequential(...layers), [1, 32, 32]);
      expect(s.rows.map((r) => r.receptiveField)).toEqual(Array.from({ length: n }, (_, i) => 2 * (i + 1) + 1));
      expect(s.rows.at(-1)!.jump).toBe(1);
    }
  });

  it('multiplies jumps by strides and counts dilation and pooling', () => {
    const s = summary(new Sequential(
      new Conv2d(3, 8, 3, { stride: 2, padding: 1 }), new MaxPool2d(2), new Conv2d(8, 8, 3, { dilation: 2, padding: 'same' }),
      new GlobalAvgPool2d(), new Flatten(), new Linear(8, 2),
    ), [3, 64, 64]);
    expect(s.rows.map((r) => [r.receptiveField, r.jump])).toEqual([
      [3, 2], // 1 + 2*1
      [5, 4], // 3 + 1*2
      [21, 4], // 5 + (5-1)*4
      [21 + 15 * 4, 64], // the whole 16x16 map
      [81, 64], [81, 64],
    ]);
    expect(s.rows.map((r) => r.outputShape)).toEqual([[8, 32, 32], [8, 16, 16], [8, 16, 16], [8, 1, 1], [8], [2]]);
  });

  it('walks nested Sequentials with dotted names', () => {
    const block = (i: number, o: number) => new Sequential(new Conv2d(i, o, 3, { padding: 1 }), new BatchNorm2d(o), new ReLU());
    const model = new Sequential(block(3, 16), new Sequential(block(16, 32), new MaxPool2d(2)), new GlobalAvgPool2d(), new Flatten(), new Linear(32, 10));
    const s = summary(model, [3, 32, 32]);
    expect(s.rows.map((r) => r.name)).toEqual(['0.0', '0.1', '0.2', '1.0.0', '1.0.1', '1.0.2', '1.1', '2', '3', '4']);
    expect(s.rows[1]).toMatchObject({ type: 'BatchNorm2d', weights: 16, biases: 16, params: 32, macs: 16 * 32 * 32 });
    expect(s.rows[6].outputShape).toEqual([32, 16, 16]);
    expect(s.totalParams).toBe(model.parameters().reduce((a, t) => a + t.size, 0));
  });

  it('covers every layer type and agrees with a real forward pass', () => {
    const model = new Sequential(
      new Conv2d(2, 4, [3, 1], { padding: [1, 0], bias: false }), new BatchNorm2d(4), new LeakyReLU(0.1),
      new AvgPool2d(2, { ceilMode: true }), new Tanh(), new Conv2d(4, 4, 3, { groups: 2, padding: 'same' }), new Sigmoid(),
      new Dropout(0.5), new MaxPool2d(3, { stride: 2, padding: 1 }), new Flatten(), new Linear(4 * 3 * 2, 5), new Softmax(),
    );
    const s = summary(model, [2, 9, 7]);
    expect(s.rows[0]).toMatchObject({ weights: 24, biases: 0, macs: 4 * 9 * 7 * 2 * 3 });
    expect(s.rows[5]).toMatchObject({ weights: 4 * 2 * 9, macs: 4 * 5 * 4 * 2 * 9, description: 'Conv2d 4->4, 3x3, psame, g2' });
    model.eval();
    const y = model.forward(new Tensor(new Float32Array(3 * 2 * 9 * 7), [3, 2, 9, 7]));
    expect(y.shape).toEqual([3, ...s.outputShape]);
    let x = new Tensor(new Float32Array(2 * 9 * 7), [1, 2, 9, 7]);
    for (const [i, layer] of [...model].entries()) {
      x = layer.forward(x);
      expect([...x.shape.slice(1)]).toEqual(s.rows[i].outputShape);
    }
  });

  it('handles Conv1d on [C, L]', () => {
    const s = summary(new Sequential(new Conv1d(2, 4, 5, { stride: 2, padding: [2, 1] }), new ReLU()), [2, 100]);
    expect(s.rows[0]).toMatchObject({ outputShape: [4, 50], params: 4 * 2 * 5 + 4, macs: 4 * 50 * 2 * 5, receptiveField: 5, jump: 2 });
  });

  it('counts a shared layer once in the totals and frozen parameters as not trainable', () => {
    const fc = new Linear(4, 4);
    const model = new Sequential(fc, new ReLU(), fc);
    const s = summary(model, [4]);
    expect(s.rows.map((r) => r.params)).toEqual([20, 0, 20]);
    expect(s.totalParams).toBe(20);
    fc.bias!.requiresGrad = false;
    expect(summary(model, [4]).trainableParams).toBe(16);
  });

  it('names the layer when a shape does not fit', () => {
    const model = new Sequential(new Conv2d(1, 6, 5), new ReLU(), new MaxPool2d(2), new Conv2d(6, 16, 5));
    expectThrow(() => summary(model, [1, 10, 10]), RangeError, 'summary: layer 3 (Conv2d 6->16, 5x5) gets input [6, 3, 3]: kernel 5x5 is larger than the padded input 3x3');
    expect(summary(model, [1, 14, 14]).outputShape).toEqual([16, 1, 1]);
    expectThrow(() => summary(model, [1, 12, 12]), RangeError, 'layer 3 (Conv2d 6->16, 5x5) gets input [6, 4, 4]', 'kernel 5x5 is larger than the padded input 4x4');
    expectThrow(() => summary(model, [3, 32, 32]), RangeError, 'layer 0 (Conv2d 1->6, 5x5) gets input [3, 32, 32]', 'input has 3 channels but weight expects 1');
    expectThrow(() => summary(new Sequential(new Linear(100, 10)), [4, 5, 5]), RangeError, 'layer 0 (Linear 100->10) gets input [4, 5, 5] but expects 100 features', 'flatten');
    expectThrow(() => summary(new Sequential(new Sequential(new MaxPool2d(2))), [3, 8]), RangeError, 'layer 0.0 (MaxPool2d 2x2) gets input [3, 8] but expects a 3-d input');
    expectThrow(() => summary(new Sequential(new BatchNorm2d(3)), [4, 8, 8]), RangeError, 'expects 3 channels but gets 4');
    expectThrow(() => summary(leNet5(), [1, 32]), RangeError, 'layer 0');
    expectThrow(() => summary(leNet5(), [1, 0, 32]), RangeError, 'inputShape[1] must be a positive integer');
    expectThrow(() => summary({} as never, [1]), TypeError, 'model must be a Module');
  });

  it('is fast for a big input (no op runs)', () => {
    const start = performance.now();
    const s = summary(new Sequential(new Conv2d(3, 64, 3, { padding: 1 }), new MaxPool2d(2), new Conv2d(64, 64, 3)), [3, 4096, 4096]);
    expect(s.rows[2].outputShape).toEqual([64, 2046, 2046]);
    expect(performance.now() - start).toBeLessThan(500);
  });
});

describe('parseSpec', () => {
  it('parses the LeNet spec into the walkthrough model', () => {
    const { inputShape, model } = parseSpec(LENET_SPEC);
    expect(inputShape).toEqual([1, 32, 32]);
    expect(model).toBeInstanceOf(Sequential);
    expect(model.toConfig()).toEqual(leNet5().toConfig());
    expect(summary(model, inputShape).totalParams).toBe(61706);
  });

  it('parses every token kind', () => {
    const spec = '3x227x227 conv96k11s4 relu maxpool3s2 bn conv256k5p2g2 lrelu pool2 conv64k3psame lrelu0.2 conv64k3pvalid'
      + ' avgpool2 conv8k3x1d2nobiasp2 maxpool3s2p1ceil avgpool2s1 tanh sigmoid gap flatten dropout dropout0.25 fc10 softmax';
    const { inputShape, model } = parseSpec(spec);
    expect(inputShape).toEqual([3, 227, 227]);
    const types = model.toConfig().args.map((c) => (c as { type: string }).type);
    expect(types).toEqual(['Conv2d', 'ReLU', 'MaxPool2d', 'BatchNorm2d', 'Conv2d', 'LeakyReLU', 'MaxPool2d', 'Conv2d', 'LeakyReLU', 'Conv2d',
      'AvgPool2d', 'Conv2d', 'MaxPool2d', 'AvgPool2d', 'Tanh', 'Sigmoid', 'GlobalAvgPool2d', 'Flatten', 'Dropout', 'Dropout', 'Linear', 'Softmax']);
    const configs = model.toConfig().args as Array<{ args: unknown[] }>;
    expect(configs[0].args).toEqual([3, 96, 11, { stride: 4 }]);
    expect(configs[2].args).toEqual([3, { stride: 2 }]);
    expect(configs[4].args).toEqual([96, 256, 5, { padding: 2, groups: 2 }]);
    expect(configs[5].args).toEqual([0.01]);
    expect(configs[6].args).toEqual([2, {}]);
    expect(configs[7].args).toEqual([256, 64, 3, { padding: 'same' }]);
    expect(configs[8].args).toEqual([0.2]);
    expect(configs[9].args).toEqual([64, 64, 3, { padding: 'valid' }]);
    expect(configs[10].args).toEqual([2, {}]);
    expect(configs[11].args).toEqual([64, 8, [3, 1], { padding: 2, dilation: 2, bias: false }]);
    expect(configs[12].args).toEqual([3, { stride: 2, padding: 1, ceilMode: true }]);
    expect(configs[13].args).toEqual([2, { stride: 1 }]);
    expect(configs[18].args).toEqual([0.5]);
    expect(configs[19].args).toEqual([0.25]);
    expect(configs[20].args.slice(0, 2)).toEqual([8, 10]);
    const s = summary(model, inputShape);
    expect(s.rows[0].outputShape).toEqual([96, 55, 55]);
    expect(s.rows[0].params).toBe(34944);
    expect(s.outputShape).toEqual([10]);
  });

  it('builds Conv1d on a CxL input, and accepts commas and arrows as separators', () => {
    const { inputShape, model } = parseSpec('2x100, conv4k5s2p2 -> relu -> flatten -> fc3');
    expect(inputShape).toEqual([2, 100]);
    expect(model[0]).toBeInstanceOf(Conv1d);
    expect(summary(model, inputShape).rows.map((r) => r.outputShape)).toEqual([[4, 50], [4, 50], [200], [3]]);
    expect(parseSpec('  10   fc5 ').inputShape).toEqual([10]);
  });

  it('points at an unknown token with its position and a caret line', () => {
    const spec = '1x32x32 conv6x5 relu';
    const message = expectThrow(() => parseSpec(spec), RangeError, "parseSpec: unknown token 'conv6x5' at position 8 (layer 0): expected conv");
    const lines = message.split('\n');
    expect(lines[1]).toBe(`  ${spec}`);
    expect(lines[2]).toBe(`  ${' '.repeat(8)}^^^^^^^`);
    expectThrow(() => parseSpec('1x32x32 relu pool2 bogus'), RangeError, "unknown token 'bogus' at position 19 (layer 2)");
    expectThrow(() => parseSpec('1x32x32 conv6k5s'), RangeError, "unknown token 'conv6k5s'");
    expectThrow(() => parseSpec('1x32x32 conv6k5s2s2'), RangeError, "unknown token 'conv6k5s2s2'"); // an option twice
    expectThrow(() => parseSpec('1x32x32 pool2nobias'), RangeError, "unknown token 'pool2nobias'");
    expectThrow(() => parseSpec('1x32x32 pool2psame'), RangeError, "unknown token 'pool2psame'");
    expect(parseSpec('1x32x32 conv6k5p2s2').model.toConfig()).toEqual(parseSpec('1x32x32 conv6k5s2p2').model.toConfig()); // any order
    expectThrow(() => parseSpec('1x32x32 dropout1.5'), RangeError, "token 'dropout1.5' at position 8", 'Dropout');
  });

  it('names the token when a layer does not fit the shape', () => {
    const spec = '1x8x8 conv6k5 relu pool2 conv16k5';
    const message = expectThrow(() => parseSpec(spec), RangeError,
      "parseSpec: token 'conv16k5' at position 25 (layer 3: Conv2d 6->16, 5x5) gets input [6, 2, 2]: kernel 5x5 is larger");
    expect(message.split('\n')[2]).toBe(`  ${' '.repeat(25)}^^^^^^^^`);
    expectThrow(() => parseSpec('1x32x32 fc10'), RangeError, "token 'fc10' at position 8", "add 'flatten'");
    expectThrow(() => parseSpec('1x32x32 flatten bn'), RangeError, "token 'bn' at position 16", 'bn needs a CxHxW input');
    expectThrow(() => parseSpec('1x4x4 pool3s2p2'), RangeError, "token 'pool3s2p2'", 'padding 2 is more than half');
  });

  it('checks the input shape token', () => {
    expectThrow(() => parseSpec('conv6k5 relu'), RangeError, "first token 'conv6k5' at position 0 must be the input shape");
    expectThrow(() => parseSpec('1x0x32 relu'), RangeError, "input shape '1x0x32'");
    expectThrow(() => parseSpec('   '), RangeError, 'the spec is empty');
    expectThrow(() => parseSpec(3 as never), TypeError, 'spec must be a string');
  });
});

describe('convkit CLI', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('prints the summary table', () => {
    const r = cli('summary', LENET_SPEC);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Conv2d 1->6, 5x5');
    expect(r.stdout).toContain('16x5x5');
    expect(r.stdout).toContain('Total params: 61,706');
  }, 60_000);

  it('prints JSON rows with --json', () => {
    const r = cli('summary', '--json', '3x227x227 conv96k11s4');
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout) as { rows: Array<{ outputShape: number[]; params: number }>; totalParams: number };
    expect(data.rows[0].outputShape).toEqual([96, 55, 55]);
    expect(data.totalParams).toBe(34944);
  }, 60_000);

  it('prints output sizes and steps', () => {
    expect(cli('outputsize', '--size', '227', '--kernel', '11', '--stride', '4')).toMatchObject({ code: 0, stdout: '55\n' });
    const inexact = cli('outputsize', '--size', '8', '--kernel', '3', '--stride', '2');
    expect(inexact.stdout).toMatch(/^3\nnote: .*3\.5 is not an integer/);
    const steps = cli('steps', '199', '1', '--kernel', '3');
    expect(steps.code).toBe(0);
    expect(steps.stdout).toBe(`99 steps: ${Array.from({ length: 100 }, (_, i) => 199 - 2 * i).join(' -> ')}\n`);
  }, 60_000);

  it('prints help', () => {
    const r = cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('convkit summary');
    expect(r.stdout).toContain('convOUTkK');
  }, 60_000);

  it('exits with 2 and a message (no stack) on bad input', () => {
    const bad = cli('summary', '1x32x32 conv6x5');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain("unknown token 'conv6x5' at position 8");
    expect(bad.stderr).toContain('^^^^^^^');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    for (const args of [['outputsize', '--size', '3', '--kernel', '5'], ['steps', '199', '2'], ['frobnicate'], ['outputsize', '--sise', '3'], ['outputsize', '--kernel', '3']]) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^convkit: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 120_000);
});
