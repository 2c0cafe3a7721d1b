// npm start (until the LeNet walkthrough lands): the engine end to end.
// 1. LeNet-5's shapes, computed by running the real ops on a 32x32 input.
// 2. A small CNN trained with plain SGD on generated X-vs-O images, on every backend,
//    with the loss, accuracy and time of each.
import {
  availableBackends, backendInfo, conv2d, crossEntropy, flatten, linear, maxPool2d, noGrad, relu,
  setBackend, tensor, type BackendName, type Tensor,
} from '../lib/index.js';

/** A seeded uniform generator (mulberry32), so every run prints the same numbers. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function param(shape: number[], fanIn: number, random: () => number): Tensor {
  const bound = 1 / Math.sqrt(fanIn); // PyTorch's default for conv and linear layers
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, () => (2 * random() - 1) * bound), shape, { requiresGrad: true });
}

function lenetShapes(): void {
  const random = rng(1);
  const x = tensor(new Float32Array(32 * 32).map(() => random()), [1, 1, 32, 32]);
  const c1 = param([6, 1, 5, 5], 25, random), c2 = param([16, 6, 5, 5], 150, random);
  const f1 = param([120, 400], 400, random), f2 = param([84, 120], 120, random), f3 = param([10, 84], 84, random);
  noGrad(() => {
    const stages: [string, Tensor][] = [];
    let h = conv2d(x, c1); stages.push(['conv 5x5, 6 filters', h]);
    h = maxPool2d(relu(h), 2); stages.push(['relu + max pool 2x2', h]);
    h = conv2d(h, c2); stages.push(['conv 5x5, 16 filters', h]);
    h = maxPool2d(relu(h), 2); stages.push(['relu + max pool 2x2', h]);
    h = relu(linear(flatten(h), f1)); stages.push(['fully connected 120', h]);
    h = relu(linear(h, f2)); stages.push(['fully connected 84', h]);
    h = linear(h, f3); stages.push(['fully connected 10', h]);
    console.log('LeNet-5 on a 1x32x32 input:');
    for (const [name, t] of stages) console.log(`  ${name.padEnd(24)} -> ${t.shape.slice(1).join('x')}`);
  });
}

/** 12x12 images: an X (two diagonals) or an O (a ring), shifted and noisy. Label 0 = X, 1 = O. */
function xoDataset(count: number, random: () => number): { images: Float32Array; labels: number[] } {
  const size = 12;
  const images = new Float32Array(count * size * size).fill(-1);
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    const dx = Math.floor(random() * 3) - 1, dy = Math.floor(random() * 3) - 1;
    const img = images.subarray(i * size * size, (i + 1) * size * size);
    for (let r = 2; r < 10; r++) {
      for (let c = 2; c < 10; c++) {
        const onX = r === c || r + c === 11;
        const onO = (r === 2 || r === 9 || c === 2 || c === 9) && !((r === 2 || r === 9) && (c === 2 || c === 9));
        if (label === 0 ? onX : onO) img[(r + dy) * size + (c + dx)] = 1;
      }
    }
    for (let p = 0; p < img.length; p++) img[p] += (random() - 0.5) * 0.6;
    labels.push(label);
  }
  return { images, labels };
}

function trainXo(backend: BackendName): void {
  setBackend(backend);
  const random = rng(7);
  const train = xoDataset(256, random), test = xoDataset(128, random);
  const w1 = param([4, 1, 3, 3], 9, random), b1 = param([4], 9, random);
  const w2 = param([2, 4 * 5 * 5], 100, random), b2 = param([2], 100, random);
  const params = [w1, b1, w2, b2];
  const forward = (images: Float32Array, n: number) =>
    linear(flatten(maxPool2d(relu(conv2d(tensor(images, [n, 1, 12, 12]), w1, b1)), 2)), w2, b2);

  const batch = 32, lr = 0.1, epochs = 8;
  const start = performance.now();
  let loss = NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < 256; i += batch) {
      const out = forward(train.images.subarray(i * 144, (i + batch) * 144), batch);
      const l = crossEntropy(out, train.labels.slice(i, i + batch));
      l.backward();
      loss = l.item();
      for (const p of params) {
        const g = p.grad!.data;
        for (let j = 0; j < p.data.length; j++) p.data[j] -= lr * g[j];
        p.grad = null;
      }
    }
  }
  const ms = performance.now() - start;
  const logits = noGrad(() => forward(test.images, 128)).data;
  let correct = 0;
  for (let i = 0; i < 128; i++) correct += Number((logits[2 * i + 1] > logits[2 * i] ? 1 : 0) === test.labels[i]);
  console.log(`  ${backend.padEnd(4)} final batch loss ${loss.toFixed(4)}, test accuracy ${((100 * correct) / 128).toFixed(1)}%, ${epochs} epochs in ${ms.toFixed(0)} ms`);
}

const info = backendInfo();
console.log(`convkit: backends ${info.available.join(', ')}, native ISA ${info.native.isa ?? 'none'}${info.native.error ? ` (${info.native.error})` : ''}, ${info.native.numThreads ?? 1} threads\n`);
lenetShapes();
console.log('\nA 4-filter CNN learning X vs O (12x12, shifted, noisy), plain SGD:');
for (const backend of availableBackends()) trainXo(backend);
