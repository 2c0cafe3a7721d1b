// Image kernels: the classic 3x3 filters applied with convkit's conv2d, the symbolic 2-D
// convolution (a 3x4 input a..l with a 2x2 kernel w x y z), and 1-D convolution as smoothing
// of noisy position readings (s_t = sum_a w(a) x(t - a)).
//
//   npx tsx examples/kernels.ts            prints the walkthrough, writes out/kernels/*
//   npx tsx examples/kernels.ts --json     one line of JSON (for tests and scripts)
//   npx tsx examples/kernels.ts --out DIR  pictures go to DIR instead of out/kernels/
//
// Note: conv2d computes what deep-learning libraries call convolution, which is really
// cross-correlation: out[i][j] = sum_{m,n} in[i+m][j+n] * k[m][n], without flipping the kernel.
// The image-kernel walkthrough applies its kernels the same way, so the matrices below are
// used exactly as printed (this only matters for the asymmetric ones: emboss and Sobel).
import { join } from 'node:path';
import { conv2d, nn, noGrad, tensor } from '../lib/index.js';
import { exampleArgs, printJson, say } from './common/cli.js';
import { diverging, encodePng, grayImage, imageGrid, writePng, type RgbaImage } from './common/png.js';
import { esc, linePlot, matrixBody, matrixSize, writeSvg } from './common/svg.js';

const { json, outDir } = exampleArgs('kernels', {});

// ---------------------------------------------------------------------------------------------
// 1. The classic kernels on a test card
// ---------------------------------------------------------------------------------------------

interface Kernel {
  name: string;
  /** 3x3, row-major, as printed in the walkthrough */
  k: number[][];
  /** how to show the response: clipped to 0..1 in gray, or signed in blue-white-red */
  show: 'gray' | 'signed';
}

const KERNELS: Kernel[] = [
  { name: 'identity', k: [[0, 0, 0], [0, 1, 0], [0, 0, 0]], show: 'gray' },
  { name: 'box blur', k: [[1, 1, 1], [1, 1, 1], [1, 1, 1]].map((r) => r.map((v) => v / 9)), show: 'gray' },
  { name: 'sharpen', k: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], show: 'gray' },
  { name: 'edge detection', k: [[1, 1, 1], [1, -8, 1], [1, 1, 1]], show: 'gray' },
  { name: 'emboss', k: [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], show: 'gray' },
  { name: 'outline', k: [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], show: 'gray' },
  { name: 'Sobel x', k: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], show: 'signed' },
  { name: 'Sobel y', k: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]], show: 'signed' },
];

const SIDE = 128;

/**
 * A 128x128 grayscale test card in 0..1, built in code: a left-to-right gradient background,
 * a bright disc, a dark ring, vertical stripes of rising frequency, a checkerboard and a dark
 * triangle. Shapes are anti-aliased by 4x4 supersampling so edges look like a real photo's.
 */
function testCard(): Float32Array {
  const img = new Float32Array(SIDE * SIDE);
  const SS = 4;
  const value = (x: number, y: number): number => {
    let v = 0.25 + 0.5 * (x / SIDE);                                       // gradient
    const d1 = Math.hypot(x - 36, y - 36);
    if (d1 < 24) v = 1;                                                    // bright disc
    const d2 = Math.hypot(x - 94, y - 34);
    if (d2 > 16 && d2 < 23) v = 0.05;                                      // dark ring
    if (d2 <= 16 && Math.abs(x - 94) < 3) v = 0.95;                        // a bar inside the ring
    if (x >= 8 && x < 60 && y >= 70 && y < 120) {                          // stripes, period 10 -> 4 px
      const period = 10 - Math.floor((x - 8) / 13) * 2;
      v = Math.floor((x - 8) / (period / 2)) % 2 === 0 ? 0.9 : 0.1;
    }
    if (x >= 70 && x < 120 && y >= 70 && y < 95) {                         // checkerboard, 5 px squares
      v = (Math.floor((x - 70) / 5) + Math.floor((y - 70) / 5)) % 2 === 0 ? 0.85 : 0.15;
    }
    if (y >= 100 && y < 122 && x >= 70 && x < 120 && (x - 70) < 2.2 * (y - 100) + 1 && (120 - x) < 2.2 * (y - 100) + 1) {
      v = 0.0;                                                             // dark triangle
    }
    return v;
  };
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      let s = 0;
      for (let sy = 0; sy < SS; sy++) for (let sx = 0; sx < SS; sx++) s += value(x + (sx + 0.5) / SS, y + (sy + 0.5) / SS);
      img[y * SIDE + x] = s / (SS * SS);
    }
  }
  return img;
}

/** Pad by repeating the border pixels, so that the filters see no artificial black frame. */
function padReplicate(img: Float32Array, w: number, h: number, p: number): Float32Array {
  const W = w + 2 * p, H = h + 2 * p;
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.max(0, y - p));
    for (let x = 0; x < W; x++) out[y * W + x] = img[sy * w + Math.min(w - 1, Math.max(0, x - p))]!;
  }
  return out;
}

const card = testCard();
// All eight kernels in one conv2d call: weight [8, 1, 3, 3] (OIHW), input [1, 1, 130, 130]
// (replicate-padded by 1), output [1, 8, 128, 128].
const responses = noGrad(() => conv2d(
  tensor(padReplicate(card, SIDE, SIDE, 1), [1, 1, SIDE + 2, SIDE + 2]),
  tensor(KERNELS.flatMap((k) => k.k.flat()), [KERNELS.length, 1, 3, 3]),
));
const plane = (i: number): Float32Array => responses.data.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE);

// The identity kernel must give the picture back exactly.
const identityError = plane(0).reduce((m, v, i) => Math.max(m, Math.abs(v - card[i]!)), 0);
if (identityError > 1e-6) throw new Error(`identity kernel changed the picture (max error ${identityError})`);

const SCALE = 2;
const tileOf = (k: Kernel, values: Float32Array): RgbaImage => (k.show === 'gray'
  ? grayImage(values, SIDE, SIDE, { min: 0, max: 1, scale: SCALE })
  : diverging(values, SIDE, SIDE, { scale: SCALE }));
const originalTile = grayImage(card, SIDE, SIDE, { min: 0, max: 1, scale: SCALE });
const tiles = KERNELS.map((k, i) => tileOf(k, plane(i)));
const grid = imageGrid([originalTile, ...tiles], { cols: 3, pad: 6, background: [40, 40, 40] });
writePng(join(outDir, 'kernels.png'), grid);
writePng(join(outDir, 'test-card.png'), originalTile);

// The labelled index: for each kernel, its name, its matrix (numbers in the cells) and its result.
function kernelIndexSvg(): string {
  const fmtK = (v: number): string => (Number.isInteger(v) ? String(v) : Math.abs(v - 1 / 9) < 1e-12 ? '1/9' : v.toFixed(2));
  const cols = 3, tileW = 256, matCell = 30;
  const entries = [{ name: 'test card (input)', k: null as number[][] | null, png: encodePng(originalTile), show: 'gray' as const },
    ...KERNELS.map((k, i) => ({ name: k.name, k: k.k, png: encodePng(tiles[i]!), show: k.show }))];
  const [mw, mh] = matrixSize({ title: 'x', matrix: [[0, 0, 0], [0, 0, 0], [0, 0, 0]], cell: matCell });
  const cellW = tileW + mw + 30, cellH = Math.max(tileW, mh) + 40;
  const W = cols * cellW + 20, H = Math.ceil(entries.length / cols) * cellH + 60;
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n<rect width="${W}" height="${H}" fill="white"/>\n`;
  s += `<text x="20" y="30" font-size="18" font-family="Helvetica, Arial, sans-serif">Image kernels with convkit's conv2d (3x3, replicate padding; Sobel shown signed: blue &lt; 0 &lt; red)</text>\n`;
  entries.forEach((e, n) => {
    const x = 10 + (n % cols) * cellW, y = 50 + Math.floor(n / cols) * cellH;
    s += `<text x="${x}" y="${y + 14}" font-size="15" font-weight="bold" font-family="Helvetica, Arial, sans-serif">${esc(e.name)}</text>\n`;
    s += `<image x="${x}" y="${y + 22}" width="${tileW}" height="${tileW}" href="data:image/png;base64,${e.png.toString('base64')}"/>\n`;
    if (e.k) s += matrixBody({ title: 'kernel', matrix: e.k, format: fmtK, diverging: true, cell: matCell }, x + tileW + 10, y + 22);
  });
  return s + '</svg>\n';
}
writeSvg(join(outDir, 'kernels.svg'), kernelIndexSvg());

say('Image kernels (3x3, applied with conv2d to a 128x128 test card built in code):');
for (const k of KERNELS) {
  const rows = k.k.map((r) => r.map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(3)).padStart(6)).join(' '));
  const resp = plane(KERNELS.indexOf(k));
  let lo = Infinity, hi = -Infinity;
  for (const v of resp) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  say(`  ${k.name.padEnd(15)}${rows[0]}   response range ${lo.toFixed(2)} .. ${hi.toFixed(2)}`);
  say(`  ${''.padEnd(15)}${rows[1]}`);
  say(`  ${''.padEnd(15)}${rows[2]}`);
}
say(`  wrote ${join(outDir, 'kernels.png')} (input, then the kernels in the order above) and kernels.svg (labelled, with the matrices)`);

// ---------------------------------------------------------------------------------------------
// 2. The symbolic 2-D example: a 3x4 input a..l, a 2x2 kernel w x y z, a 2x3 output
// ---------------------------------------------------------------------------------------------

const IN_H = 3, IN_W = 4, K = 2;
const letters = 'abcdefghijkl'.split('');
const kLetters = ['w', 'x', 'y', 'z'];
// One conv2d call finds the structure: a batch of 12 one-hot inputs (one per letter) against
// 4 one-hot kernels (one per kernel letter). out[p, q, i, j] is the coefficient of the product
// (input letter p) * (kernel letter q) in output (i, j): 1 where conv2d multiplies them, else 0.
const oneHotInputs = new Float32Array(letters.length * IN_H * IN_W);
letters.forEach((_, p) => { oneHotInputs[p * IN_H * IN_W + p] = 1; });
const oneHotKernels = new Float32Array(kLetters.length * K * K);
kLetters.forEach((_, q) => { oneHotKernels[q * K * K + q] = 1; });
const coeff = noGrad(() => conv2d(tensor(oneHotInputs, [letters.length, 1, IN_H, IN_W]), tensor(oneHotKernels, [kLetters.length, 1, K, K])));
const [, , OH, OW] = coeff.shape as [number, number, number, number];
const terms: [number, number][][][] = [];   // terms[i][j] = [[p, q], ...] in input order
for (let i = 0; i < OH; i++) {
  const row: [number, number][][] = [];
  for (let j = 0; j < OW; j++) {
    const t: [number, number][] = [];
    for (let p = 0; p < letters.length; p++) {
      for (let q = 0; q < kLetters.length; q++) {
        const c = coeff.data[((p * kLetters.length + q) * OH + i) * OW + j]!;
        if (c !== 0 && c !== 1) throw new Error(`unexpected coefficient ${c}`);
        if (c === 1) t.push([p, q]);
      }
    }
    row.push(t);
  }
  terms.push(row);
}
const symbolic = terms.map((row) => row.map((t) => t.map(([p, q]) => `${letters[p]}${kLetters[q]}`).join('+')));

// Check numerically: give the letters distinct primes and compare conv2d with the expressions.
const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];
const inVals = PRIMES.slice(0, 12), kVals = PRIMES.slice(12, 16);
const numeric = noGrad(() => conv2d(tensor(inVals, [1, 1, IN_H, IN_W]), tensor(kVals, [1, 1, K, K])));
const fromExpr = terms.flat().map((t) => t.reduce((s, [p, q]) => s + inVals[p]! * kVals[q]!, 0));
const symbolicMatches = fromExpr.every((v, n) => v === numeric.data[n]);
if (!symbolicMatches) throw new Error(`symbolic expressions disagree with conv2d: ${fromExpr} vs ${Array.from(numeric.data)}`);

say('\nSymbolic 2-D convolution (valid, stride 1): input 3x4, kernel 2x2, output 2x3');
say('  input        kernel');
for (let r = 0; r < IN_H; r++) {
  say(`  ${letters.slice(r * IN_W, (r + 1) * IN_W).join(' ')}      ${r < K ? kLetters.slice(r * K, (r + 1) * K).join(' ') : ''}`.trimEnd());
}
say('  output');
const colW = Math.max(...symbolic.flat().map((e) => e.length)) + 2;
for (const row of symbolic) say(('  ' + row.map((e) => e.padEnd(colW)).join('')).trimEnd());
say(`  check with primes a..l = ${inVals.join(' ')}, w x y z = ${kVals.join(' ')}:`);
for (let i = 0; i < OH; i++) say(`    conv2d ${Array.from(numeric.data.subarray(i * OW, (i + 1) * OW)).join(' ')}   expressions ${fromExpr.slice(i * OW, (i + 1) * OW).join(' ')}`);
say('  -> the same');

// ---------------------------------------------------------------------------------------------
// 3. 1-D convolution: smoothing a spaceship's noisy position readings
// ---------------------------------------------------------------------------------------------

// s_t = sum_a w(a) x(t - a). Our reading of the walkthrough: the weights are listed from the
// oldest reading to the newest, so w(6) = 0.01 weighs x(t-6) and w(0) = 0.05 weighs x(t), the
// newest reading counts most. conv1d (cross-correlation) computes y[o] = sum_k W[k] x[o + k];
// with o = t - 6 and k = 6 - a that is sum_a W[6 - a] x(t - a), so W[k] = w(6 - k): the
// layer's weight is the list exactly as written, oldest first.
const WEIGHTS_OLDEST_FIRST = [0.01, 0.01, 0.02, 0.02, 0.04, 0.04, 0.05];
// The first seven readings are the walkthrough's; the other 18 (from 2.10 on) are made up for
// this example: a flight that climbs and levels off at about 3.
const READINGS = [1.00, 1.10, 1.20, 1.40, 1.70, 1.80, 1.90,
  2.10, 2.20, 2.30, 2.50, 2.70, 2.90, 2.97, 3.00, 3.01, 3.00, 2.99, 2.98, 3.02, 3.06, 3.09, 3.10, 3.14, 3.20];
const WALKTHROUGH_READINGS = 7;

const smoother = new nn.Conv1d(1, 1, WEIGHTS_OLDEST_FIRST.length, { bias: false });
smoother.weight.data.set(WEIGHTS_OLDEST_FIRST);
const smoothedT = noGrad(() => smoother.forward(tensor(READINGS, [1, 1, READINGS.length])));
const smoothed = Array.from(smoothedT.data);               // smoothed[o] = s_{o+6}, t = 6 .. 24
const first = WEIGHTS_OLDEST_FIRST.length - 1;             // the first t with a full window
const s6 = smoothed[0]!;
const s6Terms = WEIGHTS_OLDEST_FIRST.map((w, k) => `${w.toFixed(2)}*${READINGS[k]!.toFixed(2)}`);
const s6Exact = WEIGHTS_OLDEST_FIRST.reduce((s, w, k) => s + w * READINGS[k]!, 0);   // in float64
if (Math.abs(s6 - s6Exact) > 1e-6) throw new Error(`s_6: conv1d gives ${s6}, the sum gives ${s6Exact}`);
const weightSum = WEIGHTS_OLDEST_FIRST.reduce((a, b) => a + b, 0);

say('\n1-D convolution: s_t = sum_a w(a) x(t - a), weights (oldest -> newest) ' + WEIGHTS_OLDEST_FIRST.join(' '));
say(`  w(6) = ${WEIGHTS_OLDEST_FIRST[0]} ... w(0) = ${WEIGHTS_OLDEST_FIRST[6]} (the newest reading weighs most); nn.Conv1d(1, 1, 7, { bias: false })`);
say(`  readings x(0..24): ${READINGS.map((v) => v.toFixed(2)).join(' ')}`);
say(`  (x(0..6) are the walkthrough's; x(7..24) are made up for this example)`);
say(`  s_6 = ${s6Terms.join(' + ')}`);
say(`      = ${WEIGHTS_OLDEST_FIRST.map((w, k) => (w * READINGS[k]!).toFixed(3)).join(' + ')}`);
say(`      = ${s6.toFixed(4)}`);
say(`  s_6..s_24: ${smoothed.map((v) => v.toFixed(4)).join(' ')}`);
say(`  the weights sum to ${weightSum.toFixed(2)}, not 1, so s_t is about ${weightSum.toFixed(2)} x the position;`);
say(`  s_t / ${weightSum.toFixed(2)} is the weighted average the plot also shows.`);

writeSvg(join(outDir, 'smoothing.svg'), linePlot({
  title: '1-D convolution: noisy readings x(t) and s(t) = sum_a w(a) x(t - a)',
  xLabel: 't (reading number)',
  yLabel: 'position',
  series: [
    { name: 'readings x(t)', values: READINGS },
    { name: 's(t)', values: smoothed, x: smoothed.map((_, o) => o + first) },
    { name: `s(t) / ${weightSum.toFixed(2)} (weighted average)`, values: smoothed.map((v) => v / weightSum), x: smoothed.map((_, o) => o + first) },
  ],
}));
say(`  wrote ${join(outDir, 'smoothing.svg')}`);

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;
if (json) {
  printJson({
    kernels: KERNELS.map((k) => k.name),
    symbolic,
    symbolicMatches,
    s6: round6(s6),
    smoothed: smoothed.map(round6),
    readings: READINGS,
    walkthroughReadings: WALKTHROUGH_READINGS,
    weights: WEIGHTS_OLDEST_FIRST,
    files: ['kernels.png', 'test-card.png', 'kernels.svg', 'smoothing.svg'].map((f) => join(outDir, f)),
  });
}
