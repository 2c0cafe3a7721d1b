// examples/xo.ts and examples/init.ts as child processes with --json --out <tmpdir> and small
// settings: the walkthrough's numbers (the X's 7x7 maps and 4x4 pooled maps, 1.5^9 and 0.5^9),
// the training results with margins, and the pictures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { svgProblem } from '../examples/common/svg.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'convkit-xo-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function run(example: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `examples/${example}.ts`, ...args], {
    cwd: root, encoding: 'utf8', timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`${example} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The walkthrough's print format: two decimals, truncated toward zero (7/9 -> 0.77). */
const trunc2 = (v: number) => (Math.trunc(v * 100 + Math.sign(v) * 1e-4) / 100).toFixed(2).replace(/^-0\.00$/, '0.00');

function expectPng(path: string) {
  expect(existsSync(path), path).toBe(true);
  expect(readFileSync(path).subarray(0, 8).equals(PNG_SIGNATURE), path).toBe(true);
}

function expectSvg(path: string) {
  expect(existsSync(path), path).toBe(true);
  expect(statSync(path).size).toBeGreaterThan(500);
  expect(svgProblem(readFileSync(path, 'utf8')), path).toBeNull();
}

interface XoJson {
  maps: Record<'backslash' | 'x' | 'slash', number[][]>;
  pooled: Record<'backslash' | 'x' | 'slash', number[][]>;
  accuracy: number;
  trickyAccuracy: number;
  filterSimilarity: { filter: number; feature: string; cosine: number }[];
  featureMatch: Record<string, { filter: number; cosine: number }>;
}

describe('examples/xo.ts', () => {
  const out = join(dir, 'xo');
  let stdout = '';
  let result: XoJson;

  beforeAll(() => {
    stdout = run('xo', ['--json', '--out', out]);
    result = JSON.parse(stdout) as XoJson;
  }, 120_000);

  it('prints one line of JSON and nothing else', () => {
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it("gives the walkthrough's 7x7 backslash map: first row and diagonal", () => {
    const m = result.maps.backslash;
    expect(m).toHaveLength(7);
    expect(m.every((row) => row.length === 7)).toBe(true);
    expect(m[0].map(trunc2)).toEqual(['0.77', '-0.11', '0.11', '0.33', '0.55', '-0.11', '0.33']);
    expect(m.map((row, i) => trunc2(row[i]))).toEqual(['0.77', '1.00', '1.00', '0.55', '1.00', '1.00', '0.77']);
    // Exact ninths: 7/9 and 1.
    expect(m[0][0]).toBeCloseTo(7 / 9, 5);
    expect(m[1][1]).toBeCloseTo(1, 5);
  });

  it('gives mirror-image maps for slash and an X map symmetric in both axes', () => {
    const { backslash, slash, x } = result.maps;
    for (let r = 0; r < 7; r++) {
      for (let c = 0; c < 7; c++) {
        expect(slash[r][c]).toBeCloseTo(backslash[r][6 - c], 5);
        expect(x[r][c]).toBeCloseTo(x[r][6 - c], 5);
        expect(x[r][c]).toBeCloseTo(x[6 - r][c], 5);
      }
    }
    expect(x[3][3]).toBeCloseTo(1, 5); // the X feature matches the centre exactly
  });

  it('pools 7x7 to 4x4 (ceil mode) with the walkthrough rows', () => {
    const p = result.pooled.backslash;
    expect(p).toHaveLength(4);
    expect(p.map((row) => row.map(trunc2))).toEqual([
      ['1.00', '0.33', '0.55', '0.33'],
      ['0.33', '1.00', '0.33', '0.55'],
      ['0.55', '0.33', '1.00', '0.11'],
      ['0.33', '0.55', '0.11', '0.77'],
    ]);
    expect(result.pooled.x).toHaveLength(4);
    expect(result.pooled.slash[0]).toHaveLength(4);
  });

  it('learns X vs O: ~100% on clean images, high on tricky ones', () => {
    expect(result.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(result.trickyAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('compares each learned filter with the hand-made features', () => {
    expect(result.filterSimilarity.length).toBeGreaterThanOrEqual(3);
    for (const f of result.filterSimilarity) {
      expect(['backslash', 'x', 'slash']).toContain(f.feature);
      expect(Math.abs(f.cosine)).toBeLessThanOrEqual(1);
    }
    // At least one learned filter is clearly a diagonal detector.
    expect(Math.max(...result.filterSimilarity.map((f) => f.cosine))).toBeGreaterThan(0.6);
    expect(Object.keys(result.featureMatch).sort()).toEqual(['backslash', 'slash', 'x']);
  });

  it('draws each stage', () => {
    for (const f of ['walkthrough', 'input', 'features', 'maps', 'pooled', 'relu', 'stages', 'filters', 'samples']) expectPng(join(out, `${f}.png`));
  });

  it('prints the matrices truncated to two decimals without --json', () => {
    const text = run('xo', ['--epochs', '1', '--out', join(dir, 'xo-text')]);
    expect(text).toContain('0.77 -0.11  0.11  0.33  0.55 -0.11  0.33');
    expect(text).toContain("The backslash map's diagonal: 0.77 1.00 1.00 0.55 1.00 1.00 0.77");
    expect(text).toContain('1.00  0.33  0.55  0.33');
    const maps = text.slice(text.indexOf('Filtering'), text.indexOf('Max pooling'));
    expect(maps).toContain('0.77');
    expect(maps).not.toContain('0.78'); // rounding would print 7/9 as 0.78
    expect(text).toMatch(/pool\s+3x1x1/);
  }, 120_000);
});

interface InitJson {
  linear: { exploding: number[]; vanishing: number[] };
  fourInits: { name: string; finalLoss: number; accuracy: number; identicalUnits: boolean[] }[];
  mnist: { name: string; accuracy: number; activationStd: number[] }[];
  xavierVsHe: Record<'tanh' | 'relu', Record<'xavier' | 'he', number[]>>;
}

describe('examples/init.ts', () => {
  const out = join(dir, 'init');
  let stdout = '';
  let result: InitJson;

  beforeAll(() => {
    stdout = run('init', ['--json', '--out', out, '--epochs', '1', '--limit', '2000', '--test', '500', '--steps', '400']);
    result = JSON.parse(stdout) as InitJson;
  }, 120_000);

  it('prints one line of JSON and nothing else', () => {
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it('explodes as 1.5^L and vanishes as 0.5^L through 9 linear layers', () => {
    const { exploding, vanishing } = result.linear;
    expect(exploding).toHaveLength(9);
    expect(vanishing).toHaveLength(9);
    exploding.forEach((v, l) => expect(v).toBeCloseTo(1.5 ** (l + 1), 4));
    vanishing.forEach((v, l) => expect(v).toBeCloseTo(0.5 ** (l + 1), 7));
    expect(exploding[8]).toBeCloseTo(38.44, 2);
    expect(vanishing[8]).toBeCloseTo(0.00195, 5);
  });

  it('zero init leaves every hidden unit identical; the others break the symmetry', () => {
    const byName = (prefix: string) => result.fourInits.find((r) => r.name.startsWith(prefix))!;
    expect(result.fourInits.map((r) => r.name.split(' ')[0])).toEqual(['zero', 'too', 'appropriate', 'too']);
    expect(byName('zero').identicalUnits).toEqual([true, true]);
    expect(byName('zero').finalLoss).toBeCloseTo(Math.log(2), 4); // it never learns
    expect(byName('appropriate').identicalUnits).toEqual([false, false]);
  });

  it('appropriate (He) init trains well and beats too-large init', () => {
    const appropriate = result.fourInits.find((r) => r.name.startsWith('appropriate'))!;
    const tooLarge = result.fourInits.find((r) => r.name.startsWith('too large'))!;
    expect(appropriate.finalLoss).toBeLessThan(0.1);
    expect(appropriate.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(Number.isFinite(tooLarge.finalLoss) ? tooLarge.finalLoss : Infinity).toBeGreaterThan(appropriate.finalLoss * 10);
  });

  it('MNIST: Xavier N(0, 1/n) learns, zero init does not, standard normal saturates', () => {
    const acc = Object.fromEntries(result.mnist.map((r) => [r.name.split(' ')[0], r.accuracy]));
    expect(Object.keys(acc)).toEqual(['Zero', 'Uniform', 'Xavier', 'Standard']);
    expect(acc.Zero).toBeLessThan(0.25);
    expect(acc.Xavier).toBeGreaterThan(0.6);
    expect(acc.Xavier).toBeGreaterThan(acc.Standard);
    const std = Object.fromEntries(result.mnist.map((r) => [r.name.split(' ')[0], r.activationStd]));
    expect(std.Zero.every((s) => s === 0)).toBe(true);
    expect(std.Standard.every((s) => s > 0.9)).toBe(true); // tanh saturated at +-1
    expect(std.Uniform[3]).toBeLessThan(std.Uniform[0] / 3); // shrinking layer by layer
  });

  it('Xavier vs He: ReLU + Xavier shrinks layer by layer, ReLU + He holds', () => {
    const { relu, tanh } = result.xavierVsHe;
    for (const s of [relu.xavier, relu.he, tanh.xavier, tanh.he]) expect(s).toHaveLength(10);
    expect(relu.xavier[9]).toBeLessThan(relu.xavier[0] / 10);
    expect(relu.he[9]).toBeGreaterThan(relu.he[0] / 2);
    expect(tanh.he[9]).toBeGreaterThan(tanh.xavier[9]);
  });

  it('draws the plots', () => {
    for (const f of ['linear', 'four-inits', 'mnist-activations-0', 'mnist-activations-1', 'mnist-activations-2', 'mnist-activations-3', 'xavier-vs-he']) {
      expectSvg(join(out, `${f}.svg`));
    }
  });
});
