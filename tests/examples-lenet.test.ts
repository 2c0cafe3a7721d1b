// examples/lenet.ts (npm start) as a child process: a small run (1 epoch on 2,000 images) with
// --json, checked against the walkthrough's shapes and parameter counts, plus its pictures and
// its model file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { svgProblem } from '../examples/common/svg.js';
import { availableBackends } from '../lib/index.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'convkit-lenet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function runLenet(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'examples/lenet.ts', ...args], {
    cwd: root, encoding: 'utf8', timeout: 120_000,
  });
}

interface LenetJson {
  layers: { name: string; outputShape: number[]; params: number; walkthroughParams: number }[];
  totalParams: number;
  fcComparison: { fullyConnectedParams: number; convWeights: number };
  epochs: { epoch: number; loss: number; valLoss: number; valAccuracy: number; seconds: number; imagesPerSecond: number }[];
  trainImages: number;
  testImages: number;
  testAccuracy: number;
  trainImagesPerSecond: number;
  inferenceLatencyMs: number;
  inferenceImagesPerSecond: number;
  confusion: number[][];
  files: string[];
  model: string;
}

describe('examples/lenet.ts', () => {
  let result: LenetJson;
  let stdout = '';

  beforeAll(() => {
    const r = runLenet(['--json', '--epochs', '1', '--limit', '2000', '--out', dir]);
    if (r.status !== 0) throw new Error(`lenet exited with ${r.status}: ${r.stderr}`);
    stdout = r.stdout;
    result = JSON.parse(r.stdout) as LenetJson;
  }, 120_000);

  it('prints one line of JSON and nothing else', () => {
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it("reports the walkthrough's layers: output shapes (no batch dim) and parameters with biases", () => {
    expect(result.layers.map((l) => [l.name, l.outputShape, l.params, l.walkthroughParams])).toEqual([
      ['conv1', [6, 28, 28], 156, 150],
      ['pool1', [6, 14, 14], 0, 0],
      ['conv2', [16, 10, 10], 2416, 2400],
      ['pool2', [16, 5, 5], 0, 0],
      ['fc1', [120], 48120, 48120],
      ['fc2', [84], 10164, 10164],
      ['fc3', [10], 850, 850],
    ]);
    expect(result.totalParams).toBe(61706);
    expect(result.fcComparison).toEqual({ fullyConnectedParams: 4816896, convWeights: 150 });
  });

  it('trains on the limited set and reaches a sane accuracy', () => {
    expect(result.trainImages).toBe(2000);
    expect(result.testImages).toBe(1000);
    expect(result.epochs).toHaveLength(1);
    expect(result.epochs[0]!.epoch).toBe(1);
    expect(Number.isFinite(result.epochs[0]!.loss)).toBe(true);
    // Measured 68% after one epoch on 2,000 images; chance is 10%.
    expect(result.testAccuracy).toBeGreaterThan(0.5);
    expect(result.epochs[0]!.valAccuracy).toBeCloseTo(result.testAccuracy, 10);
    const total = result.confusion.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(1000);
    const diagonal = result.confusion.reduce((a, row, i) => a + row[i]!, 0);
    expect(diagonal / total).toBeCloseTo(result.testAccuracy, 10);
  });

  it('reports positive timings', () => {
    for (const v of [result.trainImagesPerSecond, result.inferenceLatencyMs, result.inferenceImagesPerSecond, result.epochs[0]!.seconds, result.epochs[0]!.imagesPerSecond]) {
      expect(Number.isFinite(v) && v > 0).toBe(true);
    }
  });

  it('writes the pictures (PNG, SVG) and the model file', () => {
    const names = ['conv1-filters.png', 'features-0-input.png', 'features-1-conv1.png', 'features-2-pool1.png', 'features-3-conv2.png',
      'features-4-pool2.png', 'loss.svg', 'accuracy.svg', 'confusion.svg', 'lenet.safetensors'];
    expect(result.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual([...names].sort());
    for (const name of names) {
      const path = join(dir, name);
      expect(existsSync(path), name).toBe(true);
      const bytes = readFileSync(path);
      if (name.endsWith('.png')) expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE), name).toBe(true);
      if (name.endsWith('.svg')) {
        expect(bytes.toString('utf8').trimStart().startsWith('<svg'), name).toBe(true);
        expect(svgProblem(bytes.toString('utf8')), name).toBeNull();
      }
    }
    expect(result.model).toBe(join(dir, 'lenet.safetensors'));
    // safetensors: an 8-byte header length, then JSON; the weights are 61,706 float32s.
    expect(statSync(result.model).size).toBeGreaterThan(61706 * 4);
    expect(readFileSync(result.model).subarray(8, 9).toString()).toBe('{');
  });

  // Where a GPU is found, --backend cuda trains instead (the GPU kit runs that).
  it.skipIf(availableBackends().includes('cuda'))('--backend cuda exits 2 with a clear message where cuda is missing', () => {
    const r = runLenet(['--backend', 'cuda', '--json', '--out', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--backend cuda/);
    expect(r.stdout).toBe('');
  });
});
