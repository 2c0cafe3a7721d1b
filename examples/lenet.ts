// LeNet-5 on MNIST: the walkthrough's network, its shapes and parameter counts, trained and
// taken apart (npm start runs this file with its defaults).
//
//   1. The walkthrough table: every layer's F, S, P, K, its output size by (W - F + 2P)/S + 1
//      (computed with outputSize, the arithmetic shown), and its parameters counted the
//      walkthrough's way (conv weights only, FC with biases) and with biases (summary()).
//   2. Why convolutions: a fully connected map from 32x32 to 28x28x6 needs 4,816,896 weights,
//      the 5x5 conv layer 150.
//   3. Training on MNIST padded to 32x32 (Adam, cosine-annealed learning rate), validated on the
//      test set after every epoch, then the test accuracy.
//   4. Pictures under out/lenet/: the learned conv1 filters, one digit's feature maps at every
//      stage, the loss and accuracy curves, and the test set's confusion matrix.
//   5. The model saved as safetensors, loaded back and checked, then inference latency at
//      batch 1 and throughput at batch 256.
//
//   npx tsx examples/lenet.ts [--epochs 5] [--batch-size 64] [--backend js|cpu|cuda] [--threads N]
//                             [--limit N] [--json] [--out DIR]
//
// The model is the walkthrough's modern variant: ReLU after each conv and hidden FC layer and
// max pooling (LeNet-5 itself used tanh-like squashing and trainable average pooling).
import { join } from 'node:path';
import {
  backendInfo, data, evaluate, fit, load, manualSeed, nn, noGrad, optim, outputSizeDetail, predict, save,
  setBackend, setNumThreads, summary, Tensor, type BackendName, type History, type LayerRow,
} from '../lib/index.js';
import { exampleArgs, printJson, say } from './common/cli.js';
import { diverging, grayImage, imageGrid, writePng, type RgbaImage } from './common/png.js';
import { linePlot, matrixSvg, writeSvg } from './common/svg.js';

const SEED = 42;

const { values, json, outDir } = exampleArgs('lenet', {
  epochs: { type: 'string', default: '6' },
  'batch-size': { type: 'string', default: '64' },
  lr: { type: 'string', default: '0.001' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  limit: { type: 'string' },
});

/** A positive integer option, or exit 2 naming it. */
function intOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) usageError(`--${name} must be a positive integer, got '${text}'`);
  return n;
}

function usageError(message: string): never {
  process.stderr.write(`lenet: ${message}\n`);
  process.exit(2);
}

const epochs = intOption('epochs', values.epochs)!;
const batchSize = intOption('batch-size', values['batch-size'])!;
const lr = Number(values.lr);
if (!(lr > 0)) usageError(`--lr must be a positive number, got '${values.lr}'`);
const threads = intOption('threads', values.threads);
const limit = intOption('limit', values.limit);

if (values.backend !== undefined) {
  try {
    setBackend(values.backend as BackendName);
  } catch (err) {
    const cuda = values.backend === 'cuda' ? ` (cuda: ${backendInfo().cuda.reason})` : '';
    usageError(`--backend ${values.backend}: ${(err as Error).message}${cuda}`);
  }
}
if (threads !== undefined) {
  try {
    setNumThreads(threads);
  } catch (err) {
    usageError(`--threads ${threads}: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The network
// ---------------------------------------------------------------------------------------------

manualSeed(SEED);
const model = new nn.Sequential(
  new nn.Conv2d(1, 6, 5),    // C1: 32x32x1 -> 28x28x6
  new nn.ReLU(),
  new nn.MaxPool2d(2),       // S2: -> 14x14x6
  new nn.Conv2d(6, 16, 5),   // C3: -> 10x10x16
  new nn.ReLU(),
  new nn.MaxPool2d(2),       // S4: -> 5x5x16
  new nn.Flatten(),          // -> 400
  new nn.Linear(400, 120),   // C5 / F5
  new nn.ReLU(),
  new nn.Linear(120, 84),    // F6
  new nn.ReLU(),
  new nn.Linear(84, 10),     // output
);
const INPUT: [number, number, number] = [1, 32, 32];

/** The walkthrough's layers: which row of the model each is, and its hyperparameters. */
interface WalkthroughLayer {
  name: string;
  /** Index of the layer in the Sequential (and of its summary row). */
  index: number;
  kind: 'conv' | 'pool' | 'fc';
  F?: number;
  S?: number;
  P?: number;
  /** Filters (conv), or units (fc). */
  K?: number;
}

const LAYERS: WalkthroughLayer[] = [
  { name: 'conv1', index: 0, kind: 'conv', F: 5, S: 1, P: 0, K: 6 },
  { name: 'pool1', index: 2, kind: 'pool', F: 2, S: 2, P: 0 },
  { name: 'conv2', index: 3, kind: 'conv', F: 5, S: 1, P: 0, K: 16 },
  { name: 'pool2', index: 5, kind: 'pool', F: 2, S: 2, P: 0 },
  { name: 'fc1', index: 7, kind: 'fc', K: 120 },
  { name: 'fc2', index: 9, kind: 'fc', K: 84 },
  { name: 'fc3', index: 11, kind: 'fc', K: 10 },
];

const info = summary(model, INPUT);
const rowOf = (l: WalkthroughLayer): LayerRow => info.rows[l.index]!;
const fmtInt = (n: number): string => n.toLocaleString('en-US');
const shapeText = (s: readonly number[]): string => (s.length === 3 ? `${s[1]}x${s[2]}x${s[0]}` : String(s[0]));

interface TableRow {
  name: string;
  outputShape: number[];
  /** With biases. */
  params: number;
  /** As the walkthrough counts them: conv weights without biases, FC layers with. */
  walkthroughParams: number;
  arithmetic: string;
}

const tableRows: TableRow[] = LAYERS.map((l) => {
  const row = rowOf(l);
  let arithmetic = '';
  if (l.kind !== 'fc') {
    const W = row.inputShape[1]!;
    const d = outputSizeDetail({ size: W, kernel: l.F!, stride: l.S!, padding: l.P! });
    if (d.size !== row.outputShape[1]) throw new Error(`lenet: outputSize gives ${d.size} for ${l.name} but summary gives ${row.outputShape[1]}`);
    arithmetic = `(${W}−${l.F}+2·${l.P})/${l.S}+1 = ${d.size}`;
  } else {
    arithmetic = `${row.inputShape[0]}·${l.K}+${l.K} weights+biases`;
  }
  return {
    name: l.name,
    outputShape: row.outputShape,
    params: row.params,
    walkthroughParams: l.kind === 'conv' ? row.weights : row.params,
    arithmetic,
  };
});

const convInput = INPUT[1] * INPUT[2];
const conv1Out = rowOf(LAYERS[0]!).outputShape;
const fcComparison = {
  fullyConnectedParams: convInput * conv1Out[0]! * conv1Out[1]! * conv1Out[2]!,
  convWeights: rowOf(LAYERS[0]!).weights,
};

function printTable(): void {
  const head = ['layer', 'F', 'S', 'P', 'K', 'output size (W−F+2P)/S+1', 'output', 'params (walkthrough)', 'params (with biases)'];
  const body = tableRows.map((r, i) => {
    const l = LAYERS[i]!;
    const dash = (v: number | undefined) => (v === undefined ? '' : String(v));
    return [r.name, dash(l.F), dash(l.S), dash(l.P), dash(l.K), r.arithmetic, shapeText(r.outputShape), fmtInt(r.walkthroughParams), fmtInt(r.params)];
  });
  const rows = [['input', '', '', '', '', '', shapeText(INPUT), '', ''], ...body];
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const right = new Set([1, 2, 3, 4, 7, 8]);
  const line = (cells: string[]) => '  ' + cells.map((c, j) => (right.has(j) ? c.padStart(widths[j]!) : c.padEnd(widths[j]!))).join('  ').trimEnd();
  say(line(head));
  say('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) say(line(r));
  const walkTotal = tableRows.reduce((a, r) => a + r.walkthroughParams, 0);
  say(line(['total', '', '', '', '', '', '', fmtInt(walkTotal), fmtInt(info.totalParams)]));
  say('  (ReLU follows conv1, conv2, fc1 and fc2; a flatten turns 5x5x16 into 400 before fc1)');
}

const bi = backendInfo();
say(`LeNet-5 on MNIST (convkit, backend ${bi.backend}${bi.backend === 'cpu' ? ` ${bi.native.isa}, ${bi.native.numThreads} threads` : ''})\n`);
say('The walkthrough: 32x32 input, conv 5x5 (6), max pool 2x2, conv 5x5 (16), max pool 2x2, FC 120, FC 84, FC 10.\n');
printTable();
say('');
say('Why convolutions: a fully connected layer from the 32x32 input to conv1\'s 28x28x6 output would need');
say(`  32·32·28·28·6 = ${fmtInt(fcComparison.fullyConnectedParams)} weights; the conv layer shares one 5x5 filter per output map: 5·5·6 = ${fmtInt(fcComparison.convWeights)}.`);
say('');

// ---------------------------------------------------------------------------------------------
// Training
// ---------------------------------------------------------------------------------------------

const trainSet = data.mnist('train', { pad: 2, ...(limit !== undefined && { limit }) });
const testLimit = limit === undefined ? undefined : Math.min(10000, Math.max(1000, Math.ceil(limit / 5)));
const testSet = data.mnist('test', { pad: 2, ...(testLimit !== undefined && { limit: testLimit }) });
const optimizer = new optim.Adam(model.parameters(), { lr });
const scheduler = new optim.CosineAnnealingLR(optimizer, { tMax: epochs, etaMin: lr / 50 });

say(`Training on ${fmtInt(trainSet.length)} images (validating on ${fmtInt(testSet.length)} test images): ${epochs} epoch${epochs === 1 ? '' : 's'}, batch ${batchSize}, Adam lr ${lr} with cosine decay, seed ${SEED}`);
const started = performance.now();
const history: History = await fit(model, trainSet, {
  epochs, batchSize, optimizer, scheduler, seed: SEED,
  metrics: ['accuracy'],
  validation: testSet,
  progress: json ? false : { every: process.stdout.isTTY ? 0 : 200 },
});
const trainSeconds = (performance.now() - started) / 1000;
const test = await evaluate(model, testSet, { metrics: ['accuracy'] });
const testAccuracy = test.accuracy!;
const trainImages = history.epochs.length * trainSet.length;
const trainImagesPerSecond = trainImages / history.epochs.reduce((a, e) => a + e.seconds, 0);

say('');
say('  epoch  train loss  train acc  test loss  test acc   time  images/s');
for (const e of history.epochs) {
  say(`  ${String(e.epoch).padStart(5)}  ${e.loss.toFixed(4).padStart(10)}  ${(100 * e.accuracy!).toFixed(2).padStart(8)}%  ${e.valLoss!.toFixed(4).padStart(9)}  ${(100 * e.valAccuracy!).toFixed(2).padStart(7)}%  ${e.seconds.toFixed(1).padStart(4)}s  ${Math.round(e.imagesPerSecond).toString().padStart(8)}`);
}
say(`\nTest accuracy: ${(100 * testAccuracy).toFixed(2)}% (${Math.round(testAccuracy * test.samples)}/${test.samples}), test loss ${test.loss.toFixed(4)}; trained in ${trainSeconds.toFixed(1)}s (with validation), ${Math.round(trainImagesPerSecond)} images/s`);

// ---------------------------------------------------------------------------------------------
// Pictures
// ---------------------------------------------------------------------------------------------

/** The planes of a [1, C, H, W] tensor as images, one per channel. */
function planeImages(t: Tensor, scale: number, signed: boolean): RgbaImage[] {
  const [, c, h, w] = t.shape as [number, number, number, number];
  const values = t.toArray(); // a host copy, wherever the model runs
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return Array.from({ length: c }, (_, k) => {
    const plane = values.subarray(k * h * w, (k + 1) * h * w);
    // One scale for all the maps of a stage, so they compare.
    return signed ? diverging(plane, w, h, { scale, min: -m || -1, max: m || 1 }) : grayImage(plane, w, h, { scale, min: 0, max: m || 1 });
  });
}

const files: string[] = [];
const out = (name: string): string => {
  const path = join(outDir, name);
  files.push(path);
  return path;
};

// The learned conv1 filters: 6 5x5 kernels, blue negative, red positive, one shared scale.
const conv1 = model[0] as nn.Conv2d;
const filters = conv1.weight;
writePng(out('conv1-filters.png'), imageGrid(planeImages(new Tensor(filters.toArray(), [1, 6, 5, 5]), 16, true), { cols: 6, pad: 6, background: [160, 160, 160] }));

// One test digit through every stage (after ReLU for the conv layers, as the pooling sees them).
const digit = new Tensor(testSet.images.data.subarray(0, 32 * 32).slice(), [1, 1, 32, 32]);
const digitLabel = testSet.labels[0]!;
model.eval();
const stages = noGrad(() => {
  const s: Record<string, Tensor> = {};
  let h = digit.to(model.device);
  for (let i = 0; i < 6; i++) {
    h = (model[i] as nn.Module).forward(h);
    if (i === 1) s.conv1 = h;
    if (i === 2) s.pool1 = h;
    if (i === 4) s.conv2 = h;
    if (i === 5) s.pool2 = h;
  }
  return s;
});
writePng(out('features-0-input.png'), imageGrid([grayImage(digit.data, 32, 32, { scale: 4 })]));
writePng(out('features-1-conv1.png'), imageGrid(planeImages(stages.conv1!, 4, false), { cols: 6 }));
writePng(out('features-2-pool1.png'), imageGrid(planeImages(stages.pool1!, 8, false), { cols: 6 }));
writePng(out('features-3-conv2.png'), imageGrid(planeImages(stages.conv2!, 8, false), { cols: 8 }));
writePng(out('features-4-pool2.png'), imageGrid(planeImages(stages.pool2!, 16, false), { cols: 8 }));

// Loss and accuracy per epoch.
const epochNumbers = history.epochs.map((e) => e.epoch);
writeSvg(out('loss.svg'), linePlot({
  title: 'LeNet-5 on MNIST: loss', xLabel: 'epoch', yLabel: 'cross-entropy',
  series: [
    { name: 'train loss', values: history.epochs.map((e) => e.loss), x: epochNumbers, markers: true },
    { name: 'test (val) loss', values: history.epochs.map((e) => e.valLoss!), x: epochNumbers, markers: true },
  ],
}));
writeSvg(out('accuracy.svg'), linePlot({
  title: 'LeNet-5 on MNIST: accuracy', xLabel: 'epoch', yLabel: 'accuracy',
  series: [
    { name: 'train accuracy', values: history.epochs.map((e) => e.accuracy!), x: epochNumbers, markers: true },
    { name: 'test (val) accuracy', values: history.epochs.map((e) => e.valAccuracy!), x: epochNumbers, markers: true },
  ],
}));

// Confusion matrix on the test set: rows the true digit, columns the prediction.
const logits = await predict(model, testSet.images); // raw outputs: their argmax is the class
const predicted = argmaxRows(logits);
const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
predicted.forEach((p, i) => { confusion[testSet.labels[i]!]![p]! += 1; });
writeSvg(out('confusion.svg'), matrixSvg({
  title: `Confusion matrix, ${fmtInt(testSet.length)} test images (rows: true, columns: predicted)`,
  matrix: confusion,
  rowLabels: confusion.map((_, i) => String(i)),
  colLabels: confusion.map((_, i) => String(i)),
  format: (v) => String(v),
}));

function argmaxRows(t: Tensor): number[] {
  const [n, c] = t.shape as [number, number];
  const outRows: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (t.data[i * c + j]! > t.data[i * c + best]!) best = j;
    outRows.push(best);
  }
  return outRows;
}

say(`\nPictures in ${outDir}:`);
say(`  conv1-filters.png (the 6 learned 5x5 filters), features-*.png (test digit ${digitLabel} at input, conv1, pool1, conv2, pool2),`);
say('  loss.svg and accuracy.svg (per epoch), confusion.svg (test set)');
const worst = confusion.flatMap((row, t) => row.map((n, p) => ({ t, p, n }))).filter((c) => c.t !== c.p).sort((a, b) => b.n - a.n).slice(0, 3);
if (worst.length && worst[0]!.n > 0) say(`  most frequent mistakes: ${worst.filter((w) => w.n > 0).map((w) => `${w.t} read as ${w.p} (${w.n})`).join(', ')}`);

// ---------------------------------------------------------------------------------------------
// Save, load, check, and time inference
// ---------------------------------------------------------------------------------------------

const modelPath = out('lenet.safetensors');
await save(model, modelPath);
const loaded = await load(modelPath);
const checkRows = Math.min(256, testSet.length);
const checkX = new Tensor(testSet.images.data.subarray(0, checkRows * 32 * 32), [checkRows, 1, 32, 32]);
const before = await predict(model, checkX);
const after = await predict(loaded, checkX);
let maxDiff = 0;
for (let i = 0; i < before.size; i++) maxDiff = Math.max(maxDiff, Math.abs(before.data[i]! - after.data[i]!));
const samePredictions = argmaxRows(before).every((p, i) => p === argmaxRows(after)[i]);
if (maxDiff !== 0 || !samePredictions) {
  process.stderr.write(`lenet: the loaded model differs from the trained one (max |difference| ${maxDiff})\n`);
  process.exit(1);
}
say(`\nSaved ${modelPath} and loaded it back: the same outputs on ${checkRows} test images (max |difference| ${maxDiff}).`);

loaded.eval();
const one = new Tensor(testSet.images.data.slice(0, 32 * 32), [1, 1, 32, 32]);
const times: number[] = [];
noGrad(() => {
  for (let i = 0; i < 20; i++) loaded.forward(one);
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    loaded.forward(one);
    times.push(performance.now() - t0);
  }
});
times.sort((a, b) => a - b);
const inferenceLatencyMs = times[times.length >> 1]!;

const bigRows = Math.min(256, testSet.length);
const big = new Tensor(testSet.images.data.slice(0, bigRows * 32 * 32), [bigRows, 1, 32, 32]);
let batches = 0;
const throughputSeconds = noGrad(() => {
  loaded.forward(big);
  const t0 = performance.now();
  do { loaded.forward(big); batches++; } while (performance.now() - t0 < 1000 || batches < 3);
  return (performance.now() - t0) / 1000;
});
const inferenceImagesPerSecond = (batches * bigRows) / throughputSeconds;
say(`Inference: ${inferenceLatencyMs.toFixed(3)} ms per image at batch 1 (median of 200), ${fmtInt(Math.round(inferenceImagesPerSecond))} images/s at batch ${bigRows}.`);

if (json) {
  printJson({
    backend: bi.backend,
    layers: tableRows.map((r) => ({ name: r.name, outputShape: r.outputShape, params: r.params, walkthroughParams: r.walkthroughParams })),
    totalParams: info.totalParams,
    fcComparison,
    epochs: history.epochs.map((e) => ({
      epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, valLoss: e.valLoss, valAccuracy: e.valAccuracy,
      seconds: e.seconds, imagesPerSecond: e.imagesPerSecond, lr: e.lr,
    })),
    trainImages: trainSet.length,
    testImages: testSet.length,
    testAccuracy,
    testLoss: test.loss,
    trainSeconds,
    trainImagesPerSecond,
    inferenceLatencyMs,
    inferenceImagesPerSecond,
    confusion,
    files,
    model: modelPath,
  });
}
