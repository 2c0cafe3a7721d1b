// A simple ConvNet: X's and O's. The classic walkthrough, step by step, on convkit's ops:
//   1. the 9x9 X of -1/+1 pixels and three 3x3 features (backslash, X, slash);
//   2. filtering: each feature's normalized match (the mean of the pixel-by-filter products)
//      at every position, conv2d(x, filters) / 9, three 7x7 maps;
//   3. max pooling (window 2, stride 2, ceil mode: 7x7 -> 4x4), then ReLU;
//   4. stacking: conv -> relu -> pool -> conv -> relu -> pool (9x9 -> 7x7 -> 4x4 -> 2x2 -> 1x1);
//   5. learning: a small CNN trained on generated X and O images (shifted, scaled, rotated),
//      whose learned 3x3 filters are compared with the hand-made features.
//
//   npx tsx examples/xo.ts [--epochs 12] [--train 800] [--seed 1] [--json] [--out DIR]
//
// Matrices print as the walkthrough shows them: two decimals, truncated toward zero rather than
// rounded, so 7/9 = 0.777... prints 0.77 and 5/9 = 0.555... prints 0.55 (see trunc2).
import {
  conv2d, crossEntropy, data, manualSeed, maxPool2d, nn, noGrad, optim, relu, tensor, Generator, type Tensor,
} from '../lib/index.js';
import { exampleArgs, printJson, say } from './common/cli.js';
import { diverging, imageGrid, writePng, type RgbaImage } from './common/png.js';
import { join } from 'node:path';

// ---------------------------------------------------------------------------------------------
// The walkthrough's input and features
// ---------------------------------------------------------------------------------------------

const TOP_HALF = [
  [-1, -1, -1, -1, -1, -1, -1, -1, -1],
  [-1, 1, -1, -1, -1, -1, -1, 1, -1],
  [-1, -1, 1, -1, -1, -1, 1, -1, -1],
  [-1, -1, -1, 1, -1, 1, -1, -1, -1],
  [-1, -1, -1, -1, 1, -1, -1, -1, -1],
];
/** The 9x9 X: rows 5-8 mirror rows 3-0. */
export const X_IMAGE: number[][] = [...TOP_HALF, ...TOP_HALF.slice(0, 4).reverse()];

export const FEATURES = {
  backslash: [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]],
  x: [[1, -1, 1], [-1, 1, -1], [1, -1, 1]],
  slash: [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]],
} as const;
type FeatureName = keyof typeof FEATURES;
const NAMES = Object.keys(FEATURES) as FeatureName[];

/**
 * The walkthrough's print format: two decimals, truncated toward zero (not rounded), so
 * 0.777... prints 0.77 and -0.111... prints -0.11. A 1e-4 nudge away from zero absorbs float32
 * error, so a match of exactly 1 (computed as 0.99999994) still prints 1.00.
 */
export function trunc2(v: number): string {
  const t = Math.trunc(v * 100 + Math.sign(v) * 1e-4) / 100;
  return (t === 0 ? 0 : t).toFixed(2); // no "-0.00"
}

/** A [C, H, W] plane set as nested arrays: planes[c][row][col]. */
function planes(t: Tensor): number[][][] {
  const [, c, h, w] = t.shape;
  return Array.from({ length: c }, (_, k) =>
    Array.from({ length: h }, (_, r) => Array.from(t.data.subarray((k * h + r) * w, (k * h + r + 1) * w))));
}

function formatMatrix(m: number[][], indent = '  '): string {
  return m.map((row) => indent + row.map((v) => trunc2(v).padStart(5)).join(' ')).join('\n');
}

const round6 = (m: number[][]) => m.map((row) => row.map((v) => Math.round(v * 1e6) / 1e6));

// ---------------------------------------------------------------------------------------------
// Part 2: learning the features from generated X's and O's
// ---------------------------------------------------------------------------------------------

const SIZE = 16;
/** Learned 3x3 filters in the CNN's one conv layer. */
const FILTERS = 8;

interface Variant { dx: number; dy: number; scale: number; angle: number; noise: number }

/** Distance from point p to segment a-b. */
function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const vx = bx - ax, vy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)));
  return Math.hypot(px - ax - t * vx, py - ay - t * vy);
}

/**
 * A SIZE x SIZE image of -1 background and +1 strokes: an X (two diagonals) or an O (a ring)
 * of half-size 5.5 px, shifted, scaled and rotated by the variant, with a fraction `noise` of
 * pixels flipped.
 */
function drawShape(kind: 'x' | 'o', v: Variant, g: Generator): Float32Array {
  const img = new Float32Array(SIZE * SIZE);
  const half = 5.5 * v.scale, c = (SIZE - 1) / 2, cos = Math.cos(v.angle), sin = Math.sin(v.angle);
  for (let r = 0; r < SIZE; r++) {
    for (let col = 0; col < SIZE; col++) {
      // Into the shape's own frame: undo the shift and the rotation.
      const x0 = col - c - v.dx, y0 = r - c - v.dy;
      const x = cos * x0 + sin * y0, y = -sin * x0 + cos * y0;
      const d = kind === 'x'
        ? Math.min(segmentDistance(x, y, -half, -half, half, half), segmentDistance(x, y, -half, half, half, -half))
        : Math.abs(Math.hypot(x, y) - half);
      let value = d <= 0.55 ? 1 : -1;
      if (v.noise > 0 && g.random() < v.noise) value = -value;
      img[r * SIZE + col] = value;
    }
  }
  return img;
}

/** count images, alternating X (label 0) and O (label 1). Clean: centred, at most 1 px off; tricky: shifted, scaled, rotated, noisy. */
function makeSet(count: number, tricky: boolean, g: Generator): data.TensorDataset {
  const images = new Float32Array(count * SIZE * SIZE);
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const v: Variant = tricky
      ? { dx: g.uniform(-2.5, 2.5), dy: g.uniform(-2.5, 2.5), scale: g.uniform(0.55, 1.15), angle: g.uniform(-0.45, 0.45), noise: 0.03 }
      : { dx: g.int(3) - 1, dy: g.int(3) - 1, scale: 1, angle: 0, noise: 0 };
    images.set(drawShape(label === 0 ? 'x' : 'o', v, g), i * SIZE * SIZE);
    labels.push(label);
  }
  return new data.TensorDataset(tensor(images, [count, 1, SIZE, SIZE]), labels);
}

function concat(a: data.TensorDataset, b: data.TensorDataset): data.TensorDataset {
  const images = new Float32Array(a.images.size + b.images.size);
  images.set(a.images.data);
  images.set(b.images.data, a.images.size);
  return new data.TensorDataset(tensor(images, [a.length + b.length, ...a.sampleShape]), [...a.labels, ...b.labels]);
}

function accuracy(model: nn.Module, set: data.TensorDataset): number {
  const logits = noGrad(() => model.forward(set.images)).data;
  let correct = 0;
  for (let i = 0; i < set.length; i++) correct += Number((logits[2 * i + 1] > logits[2 * i] ? 1 : 0) === set.labels[i]);
  return correct / set.length;
}

/**
 * The cosine similarity of two filters after removing each one's mean (Pearson's correlation):
 * a conv layer's bias absorbs a constant offset, so only the pattern is compared.
 */
function similarity(a0: ArrayLike<number>, b0: ArrayLike<number>): number {
  const centre = (v: ArrayLike<number>) => { const m = Array.from(v).reduce((s, t) => s + t, 0) / v.length; return Array.from(v, (t) => t - m); };
  const a = centre(a0), b = centre(b0);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const { values, json, outDir } = exampleArgs('xo', {
  epochs: { type: 'string', default: '12' },
  train: { type: 'string', default: '800' },
  seed: { type: 'string', default: '1' },
});
const epochs = Number(values.epochs), trainCount = Number(values.train), seed = Number(values.seed);
const picture = (name: string) => join(outDir, name);

// 1. Input and features.
const x = tensor(X_IMAGE.flat(), [1, 1, 9, 9]);
const filters = tensor(NAMES.flatMap((n) => FEATURES[n].flat()), [3, 1, 3, 3]);
say('The input: a 9x9 X of -1/+1 pixels');
say(X_IMAGE.map((row) => '  ' + row.map((v) => String(v).padStart(2)).join(' ')).join('\n'));
for (const n of NAMES) say(`\nFeature '${n}':\n${formatMatrix(FEATURES[n] as unknown as number[][])}`);

// 2. Filtering: the mean of the 9 pixel-by-filter products at each of the 7x7 positions.
const maps = noGrad(() => {
  const y = conv2d(x, filters);
  return tensor(y.data.map((v) => v / 9), y.shape);
});
const mapsArr = planes(maps);
say('\nFiltering: the match of each feature at every position, conv2d(x, filters) / 9 -> 3 maps of 7x7');
say('(printed as the walkthrough does: two decimals, truncated, so 7/9 shows as 0.77)');
NAMES.forEach((n, k) => say(`\n'${n}' map:\n${formatMatrix(mapsArr[k])}`));
say(`\nThe backslash map's diagonal: ${mapsArr[0].map((row, i) => trunc2(row[i])).join(' ')}`);

// 3. Pooling (window 2, stride 2, ceil mode: 7 -> ceil(7/2) = 4) and ReLU.
const pooled = maxPool2d(maps, 2, { stride: 2, ceilMode: true });
const pooledArr = planes(pooled);
say('\nMax pooling, window 2, stride 2, ceil mode: 7x7 -> 4x4');
NAMES.forEach((n, k) => say(`\n'${n}' pooled:\n${formatMatrix(pooledArr[k])}`));
const rectified = relu(maps);
say('\nReLU on the filtered maps: every negative becomes 0');
NAMES.forEach((n, k) => say(`\n'${n}' after ReLU:\n${formatMatrix(planes(rectified)[k])}`));

// 4. Stacking: conv -> relu -> pool, twice. The second conv applies each feature to all three
//    maps and takes the mean of the 27 products (its weight is [3, 3, 3, 3]).
const filters2 = tensor(NAMES.flatMap((n) => [0, 1, 2].flatMap(() => FEATURES[n].flat())), [3, 3, 3, 3]);
const stages: Array<[string, Tensor]> = [['input', x]];
noGrad(() => {
  let h: Tensor = x;
  const conv = (t: Tensor, w: Tensor) => { const y = conv2d(t, w); const n = w.shape[1] * 9; return tensor(y.data.map((v) => v / n), y.shape); };
  h = conv(h, filters); stages.push(['conv', h]);
  h = relu(h); stages.push(['relu', h]);
  h = maxPool2d(h, 2, { stride: 2, ceilMode: true }); stages.push(['pool', h]);
  h = conv(h, filters2); stages.push(['conv', h]);
  h = relu(h); stages.push(['relu', h]);
  h = maxPool2d(h, 2, { stride: 2, ceilMode: true }); stages.push(['pool', h]);
});
say('\nStacking the layers: conv -> relu -> pool -> conv -> relu -> pool (the same three features)');
for (const [name, t] of stages) say(`  ${name.padEnd(6)} ${t.shape.slice(1).join('x')}`);
const last = planes(stages[stages.length - 1][1]);
say(`The final 1x1 values (backslash, x, slash): ${last.map((p) => trunc2(p[0][0])).join(' ')}`);
for (const [i, [name, t]] of stages.entries()) {
  if (i < 4) continue;
  NAMES.forEach((n, k) => say(`\n${name} ${i > 3 ? '(2nd layer) ' : ''}'${n}' ${t.shape.slice(2).join('x')}:\n${formatMatrix(planes(t)[k])}`));
}

// Pictures of each stage: one row per stage, the three maps side by side (red +, blue -).
const tile = (m: number[][], scale: number) => diverging(m.flat(), m[0].length, m.length, { scale, min: -1, max: 1 });
writePng(picture('input.png'), tile(X_IMAGE, 24));
writePng(picture('features.png'), imageGrid(NAMES.map((n) => tile(FEATURES[n] as unknown as number[][], 24)), { cols: 3, pad: 8, background: [160, 160, 160] }));
writePng(picture('maps.png'), imageGrid(mapsArr.map((m) => tile(m, 24)), { cols: 3, pad: 8, background: [160, 160, 160] }));
writePng(picture('pooled.png'), imageGrid(pooledArr.map((m) => tile(m, 24)), { cols: 3, pad: 8, background: [160, 160, 160] }));
writePng(picture('relu.png'), imageGrid(planes(rectified).map((m) => tile(m, 24)), { cols: 3, pad: 8, background: [160, 160, 160] }));
// The whole walkthrough in one picture, ~108 px a tile: input and features; the 3 maps; pooled; ReLU'd.
const gap: RgbaImage = { width: 1, height: 1, rgba: new Uint8Array([160, 160, 160, 255]) };
const sized = (m: number[][]) => tile(m, Math.floor(108 / m.length));
writePng(picture('walkthrough.png'), imageGrid([
  sized(X_IMAGE), ...NAMES.map((n) => sized(FEATURES[n] as unknown as number[][])),
  gap, ...mapsArr.map(sized), gap, ...pooledArr.map(sized), gap, ...planes(rectified).map(sized),
], { cols: 4, pad: 8, background: [160, 160, 160] }));
writePng(picture('stages.png'), imageGrid(stages.slice(1).flatMap(([, t]) => planes(t).map((m) => tile(m, Math.floor(84 / m.length)))), { cols: 3, pad: 8, background: [160, 160, 160] }));

// 5. Learning the features.
manualSeed(seed);
const g = new Generator(seed + 1);
const start = performance.now();
const half = Math.round(trainCount / 2);
const trainSet = concat(makeSet(half, false, g), makeSet(trainCount - half, true, g));
const cleanTest = makeSet(200, false, g), trickyTest = makeSet(400, true, g);
const model = new nn.Sequential(
  new nn.Conv2d(1, FILTERS, 3), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(FILTERS * 7 * 7, 2));
const optimizer = new optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 0.01 });
const loader = new data.DataLoader(trainSet, { batchSize: 32, shuffle: true, generator: g });
let lastLoss = NaN;
for (let epoch = 0; epoch < epochs; epoch++) {
  let sum = 0, batches = 0;
  for (const batch of loader) {
    const loss = crossEntropy(model.forward(batch.x), batch.y);
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    sum += loss.item();
    batches++;
  }
  lastLoss = sum / batches;
}
const cleanAccuracy = accuracy(model, cleanTest), trickyAccuracy = accuracy(model, trickyTest);
const trainMs = performance.now() - start;
say(`\nLearning: a CNN (conv ${FILTERS}x3x3 -> relu -> max pool 2 -> linear 2) on ${trainCount} generated ${SIZE}x${SIZE} X's and O's`);
say(`(half centred, half shifted/scaled/rotated/noisy), Adam, ${epochs} epochs, seed ${seed}: ${trainMs.toFixed(0)} ms`);
say(`  final training loss ${lastLoss.toFixed(4)}`);
say(`  test accuracy, clean images:  ${(100 * cleanAccuracy).toFixed(1)}% (${cleanTest.length} images)`);
say(`  test accuracy, tricky images: ${(100 * trickyAccuracy).toFixed(1)}% (${trickyTest.length} images)`);

const weight = (model[0] as nn.Conv2d).weight;
const learned = Array.from({ length: weight.shape[0] }, (_, k) => Array.from(weight.data.subarray(k * 9, (k + 1) * 9)));
const filterSimilarity = learned.map((w, k) => {
  const scores = NAMES.map((n) => similarity(w, FEATURES[n].flat()));
  const best = scores.indexOf(Math.max(...scores));
  return { filter: k, feature: NAMES[best], cosine: Math.round(scores[best] * 1000) / 1000 };
});
say('\nThe learned 3x3 filters and the hand-made feature each matches best (cosine similarity of the mean-removed 3x3s):');
for (const { filter, feature, cosine: c } of filterSimilarity) {
  say(`  filter ${filter}: ${feature.padEnd(9)} ${c.toFixed(3)}`);
  say(formatMatrix([0, 1, 2].map((r) => learned[filter].slice(3 * r, 3 * r + 3)), '    '));
}
const learnedTiles = learned.map((w) => {
  const max = Math.max(...w.map(Math.abs));
  return diverging(w, 3, 3, { scale: 24, min: -max, max });
});
const featureMatch: Record<string, { filter: number; cosine: number }> = {};
for (const n of NAMES) {
  const scores = learned.map((w) => similarity(w, FEATURES[n].flat()));
  const best = scores.indexOf(Math.max(...scores));
  featureMatch[n] = { filter: best, cosine: Math.round(scores[best] * 1000) / 1000 };
  say(`  the learned filter closest to '${n}': filter ${best} (${scores[best].toFixed(3)})`);
}
// Top row: the hand-made features; bottom row: the learned filters (each on its own +-max scale).
const blank: RgbaImage = { width: 72, height: 72, rgba: new Uint8Array(72 * 72 * 4).map((_, i) => (i % 4 === 3 ? 255 : 160)) };
const handMade = NAMES.map((n) => tile(FEATURES[n] as unknown as number[][], 24));
writePng(picture('filters.png'), imageGrid([...handMade, ...Array(FILTERS - 3).fill(blank), ...learnedTiles],
  { cols: FILTERS, pad: 8, background: [160, 160, 160] }));
const samples = [...Array(8).keys()].map((i) => trickyTest.get(i).x.data);
writePng(picture('samples.png'), imageGrid(samples.map((s) => diverging(s, SIZE, SIZE, { scale: 6, min: -1, max: 1 })), { cols: 8, pad: 4 }));
say(`\nPictures in ${outDir}: walkthrough.png input.png features.png maps.png pooled.png relu.png stages.png filters.png samples.png`);

if (json) {
  const byName = (arr: number[][][]) => Object.fromEntries(NAMES.map((n, k) => [n, round6(arr[k])]));
  printJson({
    maps: byName(mapsArr),
    pooled: byName(pooledArr),
    accuracy: cleanAccuracy,
    trickyAccuracy,
    filterSimilarity,
    featureMatch,
    trainMs: Math.round(trainMs),
  });
}
