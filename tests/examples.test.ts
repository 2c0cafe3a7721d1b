// The kernels and stacking walkthroughs, run as the user runs them (tsx, in a child process),
// with --json and --out in a temp folder: their numbers, and that their pictures are valid.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { svgProblem } from '../examples/common/svg.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function runExample(name: string): { result: Record<string, any>; out: string; stdout: string } {
  const out = mkdtempSync(join(tmpdir(), `convkit-example-${name}-`));
  dirs.push(out);
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', `examples/${name}.ts`, '--json', '--out', out], {
    cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' },
  });
  const lines = stdout.trim().split('\n');
  expect(lines, '--json prints exactly one line').toHaveLength(1);
  return { result: JSON.parse(lines[0]!), out, stdout };
}

function expectPng(path: string): { width: number; height: number } {
  expect(existsSync(path), path).toBe(true);
  const png = PNG.sync.read(readFileSync(path));
  expect(png.width).toBeGreaterThan(0);
  return { width: png.width, height: png.height };
}

function expectSvg(path: string): string {
  expect(existsSync(path), path).toBe(true);
  const svg = readFileSync(path, 'utf8');
  expect(svgProblem(svg)).toBeNull();
  return svg;
}

describe('examples/kernels.ts', () => {
  let r: Record<string, any> = {}, out = '';
  beforeAll(() => { ({ result: r, out } = runExample('kernels')); }, 120_000);

  it('applies the eight classic kernels and writes the grid and the labelled index', () => {
    expect(r.kernels).toEqual(['identity', 'box blur', 'sharpen', 'edge detection', 'emboss', 'outline', 'Sobel x', 'Sobel y']);
    const grid = expectPng(join(out, 'kernels.png'));
    expect(grid).toEqual({ width: 3 * 256 + 4 * 6, height: 3 * 256 + 4 * 6 }); // input + 8 results, 3x3 tiles of 2x128
    expectPng(join(out, 'test-card.png'));
    const index = expectSvg(join(out, 'kernels.svg'));
    for (const name of r.kernels) expect(index).toContain(`>${name}<`);
    expect(index.match(/<image /g)).toHaveLength(9);
  });

  it('prints the symbolic 2x3 output of the 3x4 input and the 2x2 kernel', () => {
    expect(r.symbolic).toEqual([
      ['aw+bx+ey+fz', 'bw+cx+fy+gz', 'cw+dx+gy+hz'],
      ['ew+fx+iy+jz', 'fw+gx+jy+kz', 'gw+hx+ky+lz'],
    ]);
    expect(r.symbolicMatches).toBe(true);
  });

  it('smooths the readings with Conv1d: s_6 = 0.01*1.00 + ... + 0.05*1.90 = 0.308', () => {
    const w = [0.01, 0.01, 0.02, 0.02, 0.04, 0.04, 0.05];
    const x = [1.00, 1.10, 1.20, 1.40, 1.70, 1.80, 1.90];
    expect(r.readings.slice(0, 7)).toEqual(x);
    expect(r.s6).toBeCloseTo(w.reduce((s, wk, k) => s + wk * x[k]!, 0), 6);
    expect(r.s6).toBeCloseTo(0.308, 6);
    expect(r.smoothed).toHaveLength(r.readings.length - 6);
    expect(r.smoothed[0]).toBe(r.s6);
    // Each s_t is the weighted sum of the 7 readings ending at t (oldest weight first).
    r.smoothed.forEach((s: number, o: number) => {
      expect(s).toBeCloseTo(w.reduce((acc, wk, k) => acc + wk * r.readings[o + k], 0), 5);
    });
    const svg = expectSvg(join(out, 'smoothing.svg'));
    expect(svg).toContain('readings x(t)');
  });
});

describe('examples/stacking.ts', () => {
  let r: Record<string, any> = {}, out = '';
  beforeAll(() => { ({ result: r, out } = runExample('stacking')); }, 120_000);

  it('takes 199x199 to 1x1 in 99 layers of 3x3', () => {
    expect(r.layers).toBe(99);
    expect(r.sizes).toHaveLength(100);
    expect(r.sizes.slice(0, 3)).toEqual([199, 197, 195]);
    expect(r.sizes.at(-1)).toBe(1);
    expect(r.sizes.every((s: number, i: number) => s === 199 - 2 * i)).toBe(true);
  });

  it('stacked 3x3: 5x5 with 18 weights against 25, 7x7 with 27 against 49', () => {
    const byLayers = new Map<number, any>(r.stacks.map((s: any) => [s.layers, s]));
    expect(byLayers.get(1)).toEqual({ layers: 1, receptiveField: 3, weights: 9, singleKernelWeights: 9 });
    expect(byLayers.get(2)).toEqual({ layers: 2, receptiveField: 5, weights: 18, singleKernelWeights: 25 });
    expect(byLayers.get(3)).toEqual({ layers: 3, receptiveField: 7, weights: 27, singleKernelWeights: 49 });
  });

  it('AlexNet conv1: 227x227x3, F=11, S=4, K=96 -> 55x55x96 with 34,944 params', () => {
    expect(r.alexnet.outputShape).toEqual([96, 55, 55]);
    expect(r.alexnet.hwc).toBe('55x55x96');
    expect(r.alexnet.outputSize).toBe(55);
    expect(r.alexnet.params).toBe(34944);
  });

  it('the Keras model: the same shapes and parameter counts as Keras, 104,202 in total', () => {
    expect(r.keras.totalParams).toBe(104202);
    const rows = r.keras.rows.filter((row: any) => !['ReLU', 'Softmax'].includes(row.type))
      .map((row: any) => [row.type, row.outputShape, row.params]);
    expect(rows).toEqual([
      ['Conv2d', [32, 26, 26], 320], ['MaxPool2d', [32, 13, 13], 0],
      ['Conv2d', [64, 11, 11], 18496], ['MaxPool2d', [64, 5, 5], 0],
      ['Conv2d', [128, 3, 3], 73856], ['Flatten', [1152], 0], ['Linear', [10], 11530],
    ]);
    expect(r.matchesWalkthrough).toBe(true);
    expect(r.problems).toEqual([]);
  });

  it('writes the size plot, the weights plot and the receptive-field diagram', () => {
    expect(expectSvg(join(out, 'sizes.svg'))).toContain('99 stacked 3x3');
    expectSvg(join(out, 'weights.svg'));
    expect(expectSvg(join(out, 'receptive-field.svg'))).toContain('7x7');
  });
});

describe('examples without --json', () => {
  it('kernels prints the walkthrough for people (s_6 and the symbolic output)', { timeout: 120_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'convkit-example-kernels-text-'));
    dirs.push(out);
    const text = execFileSync(process.execPath, ['--import', 'tsx', 'examples/kernels.ts', '--out', out], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(text).toContain('aw+bx+ey+fz  bw+cx+fy+gz  cw+dx+gy+hz');
    expect(text).toContain('= 0.3080');
  });
});
