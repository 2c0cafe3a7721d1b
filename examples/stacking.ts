// Why 3x3: the shape walkthrough with convkit's shape calculator.
//   1. 199x199 down to 1x1 with 3x3 convolutions (stride 1, no padding): 99 layers.
//   2. Stacked 3x3 layers against one large kernel: the same receptive field with fewer weights.
//   3. AlexNet's first layer: 227x227x3, F = 11, S = 4, K = 96 -> 55x55x96.
//   4. The Keras MNIST model's summary, layer by layer.
//
//   npx tsx examples/stacking.ts            prints the walkthrough, writes out/stacking/*.svg
//   npx tsx examples/stacking.ts --json     one line of JSON (for tests and scripts)
//   npx tsx examples/stacking.ts --out DIR  pictures go to DIR instead of out/stacking/
//
// Every number below comes from convkit (outputSize, stepsToReach, summary, parseSpec); the
// walkthrough's numbers are only used to check them.
import { join } from 'node:path';
import { nn, outputSize, outputSizeDetail, parseSpec, stepsToReach, summary, type LayerRow } from '../lib/index.js';
import { exampleArgs, printJson, say } from './common/cli.js';
import { esc, linePlot, writeSvg } from './common/svg.js';

const { json, outDir } = exampleArgs('stacking', {});
const count = (n: number): string => n.toLocaleString('en-US');
const problems: string[] = [];
function expectSame(what: string, got: unknown, walkthrough: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(walkthrough)) problems.push(`${what}: convkit gives ${JSON.stringify(got)}, the walkthrough ${JSON.stringify(walkthrough)}`);
}

// ---------------------------------------------------------------------------------------------
// 1. 199x199 -> 1x1
// ---------------------------------------------------------------------------------------------
const steps = stepsToReach(199, 1, { kernel: 3 });
expectSame('layers from 199 to 1', steps.steps, 99);
say('199x199 to 1x1 with 3x3 convolutions (stride 1, no padding): each layer takes 2 off, (W - F + 2P)/S + 1 = W - 2');
say(`  ${steps.steps} layers: ${steps.sizes.join(' -> ')}`);

writeSvg(join(outDir, 'sizes.svg'), linePlot({
  title: `199x199 to 1x1: ${steps.steps} stacked 3x3 convolutions (stride 1, no padding)`,
  xLabel: 'layers applied',
  yLabel: 'feature map side (pixels)',
  series: [{ name: 'side after n layers', values: steps.sizes, markers: false }],
}));

// ---------------------------------------------------------------------------------------------
// 2. Stacked 3x3 against one large kernel
// ---------------------------------------------------------------------------------------------
interface Stack { layers: number; receptiveField: number; weights: number; singleKernelWeights: number }
const stacks: Stack[] = [];
let threeStackTable = '';
for (let n = 1; n <= 5; n++) {
  const side = 2 * n + 1;   // the smallest input that n unpadded 3x3 layers take down to 1x1
  const stack = new nn.Sequential(...Array.from({ length: n }, () => new nn.Conv2d(1, 1, 3, { bias: false })));
  const s = summary(stack, [1, side, side]);
  const single = summary(new nn.Sequential(new nn.Conv2d(1, 1, s.rows[s.rows.length - 1]!.receptiveField, { bias: false })), [1, side, side]);
  stacks.push({
    layers: n,
    receptiveField: s.rows[s.rows.length - 1]!.receptiveField,
    weights: s.rows.reduce((a, r) => a + r.weights, 0),
    singleKernelWeights: single.rows[0]!.weights,
  });
  if (n === 3) threeStackTable = s.toString();
}
expectSame('two 3x3 layers', [stacks[1]!.receptiveField, stacks[1]!.weights, stacks[1]!.singleKernelWeights], [5, 18, 25]);
expectSame('three 3x3 layers', [stacks[2]!.receptiveField, stacks[2]!.weights, stacks[2]!.singleKernelWeights], [7, 27, 49]);

say('\nStacked 3x3 convolutions against one large kernel (weights per input/output channel pair, no bias):');
say('  3x3 layers  receptive field  weights (stack)  weights (one FxF kernel)  saving');
for (const s of stacks) {
  say(`  ${String(s.layers).padStart(10)}  ${`${s.receptiveField}x${s.receptiveField}`.padStart(15)}  ${String(s.weights).padStart(15)}  ${String(s.singleKernelWeights).padStart(24)}  ${(100 * (1 - s.weights / s.singleKernelWeights)).toFixed(0).padStart(5)}%`);
}
say('  with C channels in and out it is 9nC^2 against (2n+1)^2 C^2, and the stack has n nonlinearities instead of one.');
say('\n  summary() of three stacked Conv2d(1, 1, 3) on a 7x7 input (RF = receptive field):');
say(threeStackTable.split('\n').map((l) => '    ' + l).join('\n'));

writeSvg(join(outDir, 'weights.svg'), linePlot({
  title: 'Same receptive field (2n+1), fewer weights: n stacked 3x3 vs one kernel',
  xLabel: 'n (3x3 layers stacked); receptive field = 2n + 1',
  yLabel: 'weights per channel pair',
  series: [
    { name: 'n stacked 3x3: 9n', values: stacks.map((s) => s.weights), x: stacks.map((s) => s.layers) },
    { name: 'one kernel: (2n+1)^2', values: stacks.map((s) => s.singleKernelWeights), x: stacks.map((s) => s.layers) },
  ],
}));
writeSvg(join(outDir, 'receptive-field.svg'), receptiveFieldDiagram(3));

// ---------------------------------------------------------------------------------------------
// 3. AlexNet conv1
// ---------------------------------------------------------------------------------------------
const alexSide = outputSize({ size: 227, kernel: 11, stride: 4 });
const alexDetail = outputSizeDetail({ size: 227, kernel: 11, stride: 4 });
const alex = summary(new nn.Sequential(new nn.Conv2d(3, 96, 11, { stride: 4 })), [3, 227, 227]);
const [alexC, alexH, alexW] = alex.outputShape as [number, number, number];
expectSame('AlexNet conv1 output (HxWxC)', `${alexH}x${alexW}x${alexC}`, '55x55x96');
expectSame('AlexNet conv1 params', alex.totalParams, 34944);
say('\nAlexNet conv1: input 227x227x3, F = 11, S = 4, P = 0, K = 96 filters');
say(`  (W - F + 2P)/S + 1 = (227 - 11 + 0)/4 + 1 = ${alexDetail.value}${alexDetail.exact ? ' (exact: the windows tile the input)' : ''}; outputSize gives ${alexSide}`);
say(`  output ${alexH}x${alexW}x${alexC} (convkit's NCHW shape [${alex.outputShape.join(', ')}])`);
say(`  params: 11*11*3*96 weights + 96 biases = ${count(11 * 11 * 3 * 96)} + 96 = ${count(alex.totalParams)}`);
say(alex.toString().split('\n').map((l) => '    ' + l).join('\n'));

// ---------------------------------------------------------------------------------------------
// 4. The Keras example
// ---------------------------------------------------------------------------------------------
// Keras puts the activation inside Conv2D/Dense; convkit has separate ReLU/Softmax rows with
// no parameters, so its table has more rows but the same shapes and counts.
const KERAS_SPEC = '1x28x28 conv32k3 relu pool2 conv64k3 relu pool2 conv128k3 relu flatten fc10 softmax';
const keras = parseSpec(KERAS_SPEC);
const kerasSummary = summary(keras.model, keras.inputShape);
/** Keras' model.summary() for the same model: layer, output shape (HxWxC), params. */
const KERAS_TABLE: { layer: string; type: string; shape: string; params: number }[] = [
  { layer: 'conv2d (Conv2D)', type: 'Conv2d', shape: '26x26x32', params: 320 },
  { layer: 'max_pooling2d (MaxPooling2D)', type: 'MaxPool2d', shape: '13x13x32', params: 0 },
  { layer: 'conv2d_1 (Conv2D)', type: 'Conv2d', shape: '11x11x64', params: 18496 },
  { layer: 'max_pooling2d_1 (MaxPooling2D)', type: 'MaxPool2d', shape: '5x5x64', params: 0 },
  { layer: 'conv2d_2 (Conv2D)', type: 'Conv2d', shape: '3x3x128', params: 73856 },
  { layer: 'flatten (Flatten)', type: 'Flatten', shape: '1152', params: 0 },
  { layer: 'dense (Dense)', type: 'Linear', shape: '10', params: 11530 },
];
const hwc = (shape: readonly number[]): string => (shape.length === 3 ? `${shape[1]}x${shape[2]}x${shape[0]}` : shape.join('x'));
const kerasLike = kerasSummary.rows.filter((r) => !['ReLU', 'Softmax'].includes(r.type));
expectSame('Keras rows', kerasLike.map((r) => [r.type, hwc(r.outputShape), r.params]), KERAS_TABLE.map((k) => [k.type, k.shape, k.params]));
expectSame('Keras total params', kerasSummary.totalParams, 104202);

say(`\nThe Keras MNIST model: parseSpec("${KERAS_SPEC}")`);
say(kerasSummary.toString().split('\n').map((l) => '    ' + l).join('\n'));
say('\n  Against Keras\' model.summary() (activations folded into their layers, shapes HxWxC):');
say(`    ${'Keras layer'.padEnd(32)}${'Keras shape'.padEnd(13)}${'Keras params'.padStart(13)}   convkit row  ${'shape'.padEnd(10)}${'params'.padStart(8)}`);
KERAS_TABLE.forEach((k, i) => {
  const r = kerasLike[i]!;
  say(`    ${k.layer.padEnd(32)}${k.shape.padEnd(13)}${count(k.params).padStart(13)}   ${r.name.padEnd(11)}  ${hwc(r.outputShape).padEnd(10)}${count(r.params).padStart(8)}`);
});
say(`    total: Keras ${count(104202)}, convkit ${count(kerasSummary.totalParams)}`);
say('    320 = 3*3*1*32 + 32, 18,496 = 3*3*32*64 + 64, 73,856 = 3*3*64*128 + 128, 11,530 = 1152*10 + 10');

if (problems.length) {
  say('\nMISMATCHES:\n  ' + problems.join('\n  '));
} else {
  say('\nAll numbers match the walkthrough.');
}
say(`\nwrote ${['sizes.svg', 'weights.svg', 'receptive-field.svg'].map((f) => join(outDir, f)).join(', ')}`);

const rowJson = (r: LayerRow): object => ({ name: r.name, type: r.type, outputShape: r.outputShape, params: r.params, receptiveField: r.receptiveField });
if (json) {
  printJson({
    layers: steps.steps,
    sizes: steps.sizes,
    stacks,
    alexnet: { outputShape: alex.outputShape, hwc: `${alexH}x${alexW}x${alexC}`, outputSize: alexSide, params: alex.totalParams },
    keras: { totalParams: kerasSummary.totalParams, rows: kerasSummary.rows.map(rowJson) },
    matchesWalkthrough: problems.length === 0,
    problems,
    files: ['sizes.svg', 'weights.svg', 'receptive-field.svg'].map((f) => join(outDir, f)),
  });
}
if (problems.length) process.exitCode = 1;

/**
 * The receptive-field picture. Left: one row of pixels through `depth` stacked 3x3 layers, each
 * node wired to the three below it; the cone of the top centre node is highlighted (3 -> 5 -> 7
 * inputs). Right: the same in 2-D, the input pixels one output sees after 1, 2 and 3 layers.
 * The sizes are the receptive fields summary() reports for the stacks above.
 */
function receptiveFieldDiagram(depth: number): string {
  const fields = stacks.slice(0, depth).map((s) => s.receptiveField);          // 3, 5, 7
  const inputN = fields[depth - 1]! + 4;                                         // a margin of 2 each side
  const dx = 40, dy = 80, r = 9, left = 30, top = 70;
  const width1 = left * 2 + (inputN - 1) * dx;
  const grid = fields[depth - 1]!, cell = 34, gx = width1 + 40, gy = top + 20;
  const W = gx + grid * cell + 420, H = top + depth * dy + 80;
  const FONT = 'font-family="Helvetica, Arial, sans-serif"';
  const colors = ['#1f77b4', '#2ca02c', '#d62728'];
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n<rect width="${W}" height="${H}" fill="white"/>\n`;
  s += `<text x="${W / 2}" y="28" text-anchor="middle" font-size="17" ${FONT}>${esc(`Receptive field of stacked 3x3 convolutions: ${fields.map((f) => `${f}x${f}`).join(' -> ')}`)}</text>\n`;
  // Left: rows of nodes, the input at the bottom.
  const rowY = (level: number): number => top + (depth - level) * dy;        // level 0 = input
  const nodeX = (level: number, i: number): number => left + (i + level) * dx; // layer `level` has inputN - 2*level nodes
  const centre = (inputN - 1) / 2;
  const inCone = (level: number, i: number): boolean => Math.abs(i + level - centre) <= depth - level;
  for (let level = 1; level <= depth; level++) {
    for (let i = 0; i < inputN - 2 * level; i++) {
      for (let k = 0; k < 3; k++) {
        const hot = inCone(level, i) && level > 0;
        s += `<line x1="${nodeX(level, i)}" y1="${rowY(level)}" x2="${nodeX(level - 1, i + k)}" y2="${rowY(level - 1)}" stroke="${hot ? colors[depth - level]! : '#ddd'}" stroke-width="${hot ? 2 : 1}"/>`;
      }
    }
    s += '\n';
  }
  for (let level = 0; level <= depth; level++) {
    for (let i = 0; i < inputN - 2 * level; i++) {
      const hot = inCone(level, i);
      s += `<circle cx="${nodeX(level, i)}" cy="${rowY(level)}" r="${r}" fill="${hot ? (level === depth ? '#d62728' : '#fde0c5') : '#f4f4f4'}" stroke="${hot ? '#333' : '#bbb'}"/>`;
    }
    const label = level === 0 ? 'input' : `layer ${level}`;
    s += `<text x="${nodeX(level, inputN - 2 * level - 1) + 20}" y="${rowY(level) + 4}" font-size="12" ${FONT}>${label}</text>\n`;
  }
  s += `<text x="${left}" y="${H - 30}" font-size="12" ${FONT}>${esc(`one output of layer ${depth} sees ${fields[depth - 1]} inputs; each layer adds 2`)}</text>\n`;
  // Right: nested squares on the input grid.
  for (let y = 0; y < grid; y++) {
    for (let x = 0; x < grid; x++) s += `<rect x="${gx + x * cell}" y="${gy + y * cell}" width="${cell}" height="${cell}" fill="#fafafa" stroke="#ccc"/>`;
  }
  s += '\n';
  fields.forEach((f, n) => {
    const off = (grid - f) / 2;
    s += `<rect x="${gx + off * cell + 2}" y="${gy + off * cell + 2}" width="${f * cell - 4}" height="${f * cell - 4}" fill="none" stroke="${colors[n]!}" stroke-width="3"/>`;
    s += `<text x="${gx + grid * cell + 12}" y="${gy + 20 + 22 * n}" font-size="13" fill="${colors[n]!}" ${FONT}>${esc(`${n + 1} layer${n ? 's' : ''}: ${f}x${f}, ${stacks[n]!.weights} weights (one ${f}x${f} kernel: ${stacks[n]!.singleKernelWeights})`)}</text>\n`;
  });
  const c = (grid - 1) / 2;
  s += `<rect x="${gx + c * cell + 6}" y="${gy + c * cell + 6}" width="${cell - 12}" height="${cell - 12}" fill="#d62728"/>\n`;
  s += `<text x="${gx}" y="${gy + grid * cell + 22}" font-size="12" ${FONT}>input pixels seen by one output (red centre)</text>\n`;
  return s + '</svg>\n';
}
