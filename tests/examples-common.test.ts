// The shared example helpers: PNG round trip, SVG well-formedness, the CLI options.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { diverging, grayImage, imageGrid, writePng } from '../examples/common/png.js';
import { barPlot, groupedBarPlot, histogramSvg, linePlot, matrixSvg, svgProblem, writeSvg } from '../examples/common/svg.js';
import { exampleArgs } from '../examples/common/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-examples-common-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const checkSvg = (svg: string): void => expect(svgProblem(svg)).toBeNull();

describe('examples/common/png', () => {
  it('grayImage maps min..max to 0..255 and upscales; writePng round-trips through pngjs', () => {
    const img = grayImage([0, 0.5, 1, 2], 2, 2, { max: 1, scale: 3 });
    expect([img.width, img.height]).toEqual([6, 6]);
    const path = join(dir, 'g.png');
    writePng(path, img);
    const back = PNG.sync.read(readFileSync(path));
    expect([back.width, back.height]).toEqual([6, 6]);
    expect(Buffer.from(back.data)).toEqual(Buffer.from(img.rgba));
    const px = (x: number, y: number): number[] => Array.from(back.data.subarray((y * 6 + x) * 4, (y * 6 + x) * 4 + 4));
    expect(px(0, 0)).toEqual([0, 0, 0, 255]);
    expect(px(5, 0)).toEqual([128, 128, 128, 255]);
    expect(px(2, 5)).toEqual([255, 255, 255, 255]);
    expect(px(5, 5)).toEqual([255, 255, 255, 255]); // 2 clipped at max 1
  });

  it('diverging is white at 0, red for positive, blue for negative', () => {
    const img = diverging([-1, 0, 1], 3, 1);
    const px = (i: number): number[] => Array.from(img.rgba.subarray(4 * i, 4 * i + 3));
    expect(px(1)).toEqual([255, 255, 255]);
    expect(px(2)[0]).toBeGreaterThan(px(2)[2]!);
    expect(px(0)[2]).toBeGreaterThan(px(0)[0]!);
  });

  it('imageGrid tiles with padding and background', () => {
    const a = grayImage([1], 1, 1, { scale: 2, min: 0, max: 1 });
    const grid = imageGrid([a, a, a], { cols: 2, pad: 1, background: [10, 20, 30] });
    expect([grid.width, grid.height]).toEqual([2 * 2 + 3, 2 * 2 + 3]);
    expect(Array.from(grid.rgba.subarray(0, 4))).toEqual([10, 20, 30, 255]);
    const o = (1 * grid.width + 1) * 4;
    expect(Array.from(grid.rgba.subarray(o, o + 4))).toEqual([255, 255, 255, 255]);
    expect(() => grayImage([1, 2, 3], 2, 2)).toThrow(RangeError);
  });
});

describe('examples/common/svg', () => {
  it('linePlot, matrixSvg, histogramSvg and barPlot are well-formed and escape text', () => {
    const line = linePlot({ title: 'a < b & c', xLabel: 'x', yLabel: 'y', series: [{ name: 's1', values: [1, 2, 3] }, { name: 's2', values: [3, 1, 2] }] });
    checkSvg(line);
    expect(line).toContain('a &lt; b &amp; c');
    checkSvg(linePlot({ title: 'log', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 'l', values: [1, 10, 100, 0] }] }));
    const mat = matrixSvg({ title: 'k', matrix: [[-1, 0], [1, 8]], rowLabels: ['r0', 'r1'], colLabels: ['c0', 'c1'], diverging: true });
    checkSvg(mat);
    expect(mat).toContain('>8<');
    checkSvg(histogramSvg({ title: 'h', series: [{ name: 'a', values: new Float32Array([0, 1, 1, 2]) }, { name: 'b', values: [5] }], bins: 4 }));
    checkSvg(barPlot({ title: 'b', labels: ['x', 'y'], values: [1, -2] }));
    const grouped = groupedBarPlot({ title: 'g', groups: ['one\n1 thread', 'two'], series: [{ name: 'a & b', values: [1.5, NaN] }, { name: 'c', values: [0.5, 2] }],
      reference: { value: 1, label: 'peer = 1' }, format: (v) => `${v.toFixed(2)}x` });
    checkSvg(grouped);
    expect(grouped).toContain('a &amp; b');
    expect(grouped).toContain('>1.50x<');
    expect(grouped).toContain('stroke-dasharray');
    expect(svgProblem('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')).toMatch(/closes/);
    expect(svgProblem('<svg xmlns="http://www.w3.org/2000/svg"><text>a < b</text></svg>')).toMatch(/stray/);
    expect(svgProblem('<svg xmlns="http://www.w3.org/2000/svg"><text>a & b</text></svg>')).toMatch(/bare &/);
    const path = join(dir, 'sub', 'p.svg');
    writeSvg(path, line);
    expect(readFileSync(path, 'utf8')).toBe(line);
  });
});

describe('examples/common/cli', () => {
  it('parses --json, --out and example options, and creates the output folder', () => {
    const out = join(dir, 'cli-out');
    const r = exampleArgs('t', { steps: { type: 'string', default: '3' }, fast: { type: 'boolean', default: false } }, ['--json', '--out', out, '--steps', '5']);
    expect(r.json).toBe(true);
    expect(r.outDir).toBe(out);
    expect(r.values.steps).toBe('5');
    expect(r.values.fast).toBe(false);
    expect(statSync(out).isDirectory()).toBe(true);
  });
});
