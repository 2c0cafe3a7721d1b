// Initialization experiments: why the starting weights matter.
//   1. A 9-layer linear net with weights 1.5*I or 0.5*I: activations explode (1.5^L) or vanish (0.5^L).
//   2. Four inits of a small ReLU net on two circles: zero, too small, appropriate (He), too large.
//      Zero init keeps every hidden unit of a layer identical, however long it trains.
//   3. A 5-layer tanh net on MNIST with Zero, Uniform U(-1/sqrt(n), 1/sqrt(n)), Xavier N(0, 1/n) and
//      Standard Normal weights: the activation distributions per layer, and accuracy after training.
//   4. Xavier vs He at init in a 10-layer net, under tanh and under ReLU: activation std per layer.
//
//   npx tsx examples/init.ts [--epochs 2] [--limit 10000] [--test 2000] [--steps 1500] [--json] [--out DIR]
import {
  bceWithLogits, crossEntropy, data, init, linear, manualSeed, nn, noGrad, optim, relu, tanh, tensor, Generator, type Tensor,
} from '../lib/index.js';
import { exampleArgs, printJson, say } from './common/cli.js';
import { histogramSvg, linePlot, writeSvg } from './common/svg.js';
import { join } from 'node:path';

const { values, json, outDir } = exampleArgs('init', {
  epochs: { type: 'string', default: '2' },
  limit: { type: 'string', default: '10000' },
  test: { type: 'string', default: '2000' },
  steps: { type: 'string', default: '1500' },
  seed: { type: 'string', default: '0' },
});
const epochs = Number(values.epochs), limit = Number(values.limit), testLimit = Number(values.test);
const steps = Number(values.steps), seed = Number(values.seed);
const picture = (name: string) => join(outDir, name);
const written: string[] = [];
const svg = (name: string, content: string) => { writeSvg(picture(name), content); written.push(name); };

/** Layers' weights and biases: every Linear's bias is set to zero, its weight by fill. */
function initLinears(model: nn.Module, fill: (w: Tensor) => void): void {
  for (const [name, p] of model.namedParameters()) {
    if (name.endsWith('bias')) init.zeros(p);
    else fill(p);
  }
}

function linears(model: nn.Module): nn.Linear[] {
  return model.namedModules().map(([, m]) => m).filter((m): m is nn.Linear => m instanceof nn.Linear);
}

function std(values: ArrayLike<number>): number {
  let s = 0, ss = 0;
  for (let i = 0; i < values.length; i++) { s += values[i]; ss += values[i] * values[i]; }
  const m = s / values.length;
  return Math.sqrt(Math.max(0, ss / values.length - m * m));
}

const sig = (v: number, digits = 4) => (Number.isFinite(v) ? Number(v.toPrecision(digits)) : v);

// ---------------------------------------------------------------------------------------------
// 1. Exploding and vanishing: y = W9 ... W2 W1 x with every W = s*I.
// ---------------------------------------------------------------------------------------------
function linearChain(scale: number, layers = 9): number[] {
  const w = tensor([scale, 0, 0, scale], [2, 2]);
  let h = tensor([1, 1], [1, 2]);
  const out: number[] = [];
  for (let l = 0; l < layers; l++) {
    h = linear(h, w);
    out.push(h.data[0]);
  }
  return out;
}
const exploding = linearChain(1.5), vanishing = linearChain(0.5);
say('1. A 9-layer linear net, input [1, 1], every weight s*I (2x2): the activation after each layer');
say('   layer   s = 1.5 (exploding)   s = 0.5 (vanishing)');
exploding.forEach((v, l) => say(`   ${String(l + 1).padStart(5)}   ${v.toFixed(4).padStart(19)}   ${vanishing[l].toPrecision(4).padStart(19)}`));
say(`   output: 1.5^9 = ${exploding[8].toFixed(4)} (both units), 0.5^9 = ${vanishing[8].toPrecision(3)}`);
svg('linear.svg', linePlot({
  title: '9-layer linear net, weights s*I: activation per layer', xLabel: 'layer', yLabel: 'activation', logY: true,
  series: [
    { name: 's = 1.5: 1.5^L', values: exploding, x: exploding.map((_, i) => i + 1), markers: true },
    { name: 's = 0.5: 0.5^L', values: vanishing, x: vanishing.map((_, i) => i + 1), markers: true },
  ],
}));

// ---------------------------------------------------------------------------------------------
// 2. Four inits on two circles: 2 -> 10 -> 5 -> 1, ReLU, a logistic output, full-batch descent.
// ---------------------------------------------------------------------------------------------
/** Two noisy concentric circles: label 0 on radius 0.5, label 1 on radius 1. */
function circles(count: number, g: Generator): { x: Tensor; y: Tensor } {
  const xs = new Float32Array(2 * count), ys = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 2, angle = g.uniform(0, 2 * Math.PI), r = (label ? 1 : 0.5) + 0.08 * g.normal();
    xs[2 * i] = r * Math.cos(angle);
    xs[2 * i + 1] = r * Math.sin(angle);
    ys[i] = label;
  }
  return { x: tensor(xs, [count, 2]), y: tensor(ys, [count, 1]) };
}

const FOUR_INITS: Array<{ name: string; fill: (w: Tensor) => void }> = [
  { name: 'zero', fill: (w) => { init.zeros(w); } },
  { name: 'too small (N(0, 0.01^2))', fill: (w) => { init.normal(w, 0, 0.01); } },
  { name: 'appropriate (He)', fill: (w) => { init.kaimingNormal(w); } },
  { name: 'too large (N(0, 100^2))', fill: (w) => { init.normal(w, 0, 100); } },
];

const g2 = new Generator(seed + 2);
const circleTrain = circles(300, g2), circleTest = circles(200, g2);
const fourInits: Array<{ name: string; finalLoss: number; accuracy: number; curve: number[]; identicalUnits: boolean[] }> = [];
say(`\n2. Four inits of a 2-10-5-1 ReLU net on two circles (300 points), full-batch SGD, ${steps} steps`);
const t2 = performance.now();
for (const { name, fill } of FOUR_INITS) {
  manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(2, 10), new nn.ReLU(), new nn.Linear(10, 5), new nn.ReLU(), new nn.Linear(5, 1));
  initLinears(model, fill);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const curve: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = bceWithLogits(model.forward(circleTrain.x), circleTrain.y);
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    if (step % 10 === 0 || step === steps - 1) curve.push(loss.item());
  }
  const finalLoss = noGrad(() => bceWithLogits(model.forward(circleTrain.x), circleTrain.y).item());
  const logits = noGrad(() => model.forward(circleTest.x)).data;
  let correct = 0;
  for (let i = 0; i < logits.length; i++) correct += Number((logits[i] > 0 ? 1 : 0) === circleTest.y.data[i]);
  // Are all units of each hidden layer the same function (equal weight rows and biases)?
  const identicalUnits = linears(model).slice(0, -1).map((layer) => {
    const [out, inp] = layer.weight.shape, w = layer.weight.data, b = layer.bias!.data;
    for (let u = 1; u < out; u++) {
      if (b[u] !== b[0]) return false;
      for (let j = 0; j < inp; j++) if (w[u * inp + j] !== w[j]) return false;
    }
    return true;
  });
  fourInits.push({ name, finalLoss, accuracy: correct / logits.length, curve, identicalUnits });
  say(`   ${name.padEnd(26)} first loss ${sig(curve[0]).toString().padStart(10)}  final loss ${sig(finalLoss).toString().padStart(8)}  test accuracy ${(100 * correct / logits.length).toFixed(1)}%`);
  if (name === 'zero') {
    linears(model).slice(0, -1).forEach((layer, k) => {
      const w = layer.weight.data;
      say(`     hidden layer ${k + 1}: ${layer.outFeatures} units, identical weights and biases after training: ${identicalUnits[k]} (every weight ${[...new Set(w)].join(', ')})`);
    });
  }
}
const circlesMs = performance.now() - t2;
say(`   (${circlesMs.toFixed(0)} ms) Zero init never breaks the symmetry: every unit of a layer gets the same gradient, here 0.`);
svg('four-inits.svg', linePlot({
  title: 'Two circles: training loss for four initializations', xLabel: 'step', yLabel: 'loss', logY: true,
  series: fourInits.map((r) => ({ name: r.name, values: r.curve.map((v) => Math.max(v, 1e-6)), x: r.curve.map((_, i) => Math.min(10 * i, steps - 1)) })),
}));

// ---------------------------------------------------------------------------------------------
// 3. MNIST, a 5-layer tanh net, four inits.
// ---------------------------------------------------------------------------------------------
const WIDTHS = [784, 256, 128, 64, 32, 10];
const MNIST_INITS: Array<{ name: string; fill: (w: Tensor) => void }> = [
  { name: 'Zero', fill: (w) => { init.zeros(w); } },
  { name: 'Uniform U(-1/sqrt(n), 1/sqrt(n))', fill: (w) => { const b = 1 / Math.sqrt(w.shape[1]); init.uniform(w, -b, b); } },
  { name: 'Xavier N(0, 1/n)', fill: (w) => { init.normal(w, 0, 1 / Math.sqrt(w.shape[1])); } },
  { name: 'Standard Normal N(0, 1)', fill: (w) => { init.normal(w, 0, 1); } },
];
const flat = (ds: data.TensorDataset) => new data.TensorDataset(tensor(ds.images.data, [ds.length, 784]), ds.labels);
const t3 = performance.now();
const mnistTrain = flat(data.mnist('train', { limit }));
const mnistTest = flat(data.mnist('test', { limit: testLimit }));
say(`\n3. MNIST, a 5-layer fully connected tanh net ${WIDTHS.join('-')}, ${mnistTrain.length} training images, ${epochs} epoch(s) of SGD (lr 0.01, momentum 0.9, batch 64), ${mnistTest.length} test images`);
const mnist: Array<{ name: string; accuracy: number; activationStd: number[] }> = [];
const probe = tensor(mnistTest.images.data.subarray(0, Math.min(1000, mnistTest.length) * 784), [Math.min(1000, mnistTest.length), 784]);
for (const [k, { name, fill }] of MNIST_INITS.entries()) {
  manualSeed(seed);
  const layers: nn.Module[] = [];
  for (let l = 0; l + 1 < WIDTHS.length; l++) {
    layers.push(new nn.Linear(WIDTHS[l], WIDTHS[l + 1]));
    if (l + 2 < WIDTHS.length) layers.push(new nn.Tanh());
  }
  const model = new nn.Sequential(...layers);
  initLinears(model, fill);
  // Activation distributions at init: the output of every tanh.
  const acts: Float32Array[] = [];
  noGrad(() => {
    let h = probe;
    for (const layer of layers) { h = layer.forward(h); if (layer instanceof nn.Tanh) acts.push(h.data); }
  });
  const activationStd = acts.map((a) => sig(std(a)));
  svg(`mnist-activations-${k}.svg`, histogramSvg({
    title: `${name}: tanh activations per layer at init`, xLabel: 'activation', bins: 40,
    series: acts.map((a, l) => ({ name: `layer ${l + 1} (std ${sig(std(a), 3)})`, values: a })),
  }));
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const loader = new data.DataLoader(mnistTrain, { batchSize: 64, shuffle: true });
  for (let e = 0; e < epochs; e++) {
    for (const batch of loader) {
      const loss = crossEntropy(model.forward(batch.x), batch.y);
      loss.backward();
      optimizer.step();
      optimizer.zeroGrad();
    }
  }
  const logits = noGrad(() => model.forward(mnistTest.images)).data;
  let correct = 0;
  for (let i = 0; i < mnistTest.length; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
    correct += Number(best === mnistTest.labels[i]);
  }
  const accuracy = correct / mnistTest.length;
  mnist.push({ name, accuracy, activationStd });
  say(`   ${name.padEnd(33)} activation std per layer at init ${activationStd.map((v) => v.toFixed(3)).join(' ')}   test accuracy ${(100 * accuracy).toFixed(1)}%`);
}
const mnistMs = performance.now() - t3;
say(`   (${(mnistMs / 1000).toFixed(1)} s)`);

// ---------------------------------------------------------------------------------------------
// 4. Xavier vs He at init: a 10-layer, 256-wide net on N(0, 1) inputs.
// ---------------------------------------------------------------------------------------------
const DEPTH = 10, WIDTH = 256;
function stdPerLayer(act: 'tanh' | 'relu', scheme: 'xavier' | 'he'): number[] {
  manualSeed(seed);
  const x = init.normal(tensor(new Float32Array(512 * WIDTH), [512, WIDTH]));
  const out: number[] = [];
  noGrad(() => {
    let h = x;
    for (let l = 0; l < DEPTH; l++) {
      const w = tensor(new Float32Array(WIDTH * WIDTH), [WIDTH, WIDTH]);
      if (scheme === 'xavier') init.xavierNormal(w); else init.kaimingNormal(w, { nonlinearity: 'relu' });
      h = linear(h, w);
      h = act === 'tanh' ? tanh(h) : relu(h);
      out.push(sig(std(h.data)));
    }
  });
  return out;
}
const xavierVsHe = {
  tanh: { xavier: stdPerLayer('tanh', 'xavier'), he: stdPerLayer('tanh', 'he') },
  relu: { xavier: stdPerLayer('relu', 'xavier'), he: stdPerLayer('relu', 'he') },
};
say(`\n4. Xavier N(0, 2/(fanIn+fanOut)) vs He N(0, 2/fanIn): activation std per layer of a ${DEPTH}-layer, ${WIDTH}-wide net at init`);
say(`   layer  ${['tanh+Xavier', 'tanh+He', 'relu+Xavier', 'relu+He'].map((s) => s.padStart(12)).join('')}`);
for (let l = 0; l < DEPTH; l++) {
  say(`   ${String(l + 1).padStart(5)}  ${[xavierVsHe.tanh.xavier, xavierVsHe.tanh.he, xavierVsHe.relu.xavier, xavierVsHe.relu.he].map((s) => s[l].toFixed(4).padStart(12)).join('')}`);
}
say('   ReLU halves the variance at each layer; He doubles the weights\' variance to make up for it, Xavier does not.');
const layerX = Array.from({ length: DEPTH }, (_, i) => i + 1);
svg('xavier-vs-he.svg', linePlot({
  title: `Activation std per layer at init (${DEPTH} layers, ${WIDTH} wide)`, xLabel: 'layer', yLabel: 'activation std', logY: true,
  series: [
    { name: 'tanh + Xavier', values: xavierVsHe.tanh.xavier, x: layerX, markers: true },
    { name: 'tanh + He', values: xavierVsHe.tanh.he, x: layerX, markers: true },
    { name: 'ReLU + Xavier', values: xavierVsHe.relu.xavier, x: layerX, markers: true },
    { name: 'ReLU + He', values: xavierVsHe.relu.he, x: layerX, markers: true },
  ],
}));

say(`\nPictures in ${outDir}: ${written.join(' ')}`);
if (json) {
  printJson({
    linear: { exploding, vanishing },
    fourInits: fourInits.map(({ name, finalLoss, accuracy, identicalUnits }) => ({ name, finalLoss, accuracy, identicalUnits })),
    mnist,
    xavierVsHe,
    timesMs: { circles: Math.round(circlesMs), mnist: Math.round(mnistMs) },
  });
}
