// The cpu backend's elementwise helpers (native from 256 elements, host.ts's loops below)
// against the js backend, on lengths around that cut, every broadcast shape, and bad arguments.
import { describe, expect, it } from 'vitest';
import { backendByName, hostKernels } from '../lib/backend/registry.js';
import { broadcastGeometry, reduceGeometry } from '../lib/ops/broadcast.js';
import { expectClose, hasCpu, randData, rng } from './helpers.js';

describe.skipIf(!hasCpu)('cpu elementwise helpers match js', () => {
  const cpu = hasCpu ? backendByName('cpu') : null!;
  const js = backendByName('js');
  const r = rng(5);

  it.each([0, 1, 15, 255, 256, 257, 1000, 100003])('axpy and scale on %i elements', (n) => {
    const x = randData(r, n), y = randData(r, n);
    const [yc, yj] = [y.slice(), y.slice()];
    cpu.axpy(-0.75, x, yc);
    js.axpy(-0.75, x, yj);
    expectClose(yc, yj, `axpy ${n}`, 1e-6);
    cpu.scale(yc, 3.5);
    js.scale(yj, 3.5);
    expectClose(yc, yj, `scale ${n}`, 1e-6);
  });

  const shapes: Array<[number, number]> = [[1, 1], [3, 7], [64, 120], [257, 3], [1, 300], [2048, 10]];
  for (const [m, n] of shapes) {
    for (const [rows, cols] of [[1, n], [m, 1], [1, 1], [m, n]]) {
      it(`broadcast2d and reduce2d [${rows},${cols}] <-> [${m},${n}]`, () => {
        const c = randData(r, rows * cols), dy = randData(r, m * n);
        const [yc, yj] = [new Float32Array(m * n), new Float32Array(m * n)];
        cpu.broadcast2d(c, rows, cols, m, n, yc);
        js.broadcast2d(c, rows, cols, m, n, yj);
        expect(Array.from(yc)).toEqual(Array.from(yj));
        const [dc, dj] = [new Float32Array(rows * cols).fill(NaN), new Float32Array(rows * cols)];
        cpu.reduce2d(dy, rows, cols, m, n, 0.5, dc);
        js.reduce2d(dy, rows, cols, m, n, 0.5, dj);
        expectClose(dc, dj, `reduce2d [${rows},${cols}] of [${m},${n}]`, 1e-4, 1e-5);
      });
    }
  }

  it('answers bad arguments with TypeError or RangeError', () => {
    const addon = hostKernels('cpu') as unknown as Record<string, (...a: unknown[]) => unknown>;
    const f = (n: number) => new Float32Array(n);
    expect(() => addon.axpy(1, f(3), f(4))).toThrow(RangeError);
    expect(() => addon.axpy('1', f(3), f(3))).toThrow(TypeError);
    expect(() => addon.scale([1, 2], 2)).toThrow(TypeError);
    expect(() => addon.broadcast2d(f(3), 1, 3, 2, 3, f(5))).toThrow(RangeError);
    expect(() => addon.broadcast2d(f(3), 2, 3, 1, 3, f(3))).toThrow(RangeError);
    expect(() => addon.reduce2d(f(6), 1, 3, 2, 3, 1, f(2))).toThrow(RangeError);
    expect(() => addon.reduce2d(f(6), -1, 3, 2, 3, 1, f(3))).toThrow(RangeError);
  });

  it('answers bad arguments to binary, sumAxes and clamp with TypeError or RangeError', () => {
    const addon = hostKernels('cpu') as unknown as Record<string, (...a: unknown[]) => unknown>;
    const f = (n: number) => new Float32Array(n);
    const g = broadcastGeometry('t', [2, 3], [2, 3], [3]);
    expect(() => addon.binary(0, g, f(6), f(3), f(6))).not.toThrow();
    expect(() => addon.binary(4, g, f(6), f(3), f(6))).toThrow(new RangeError('binary: op must be 0..3 (add, sub, mul, div), got 4'));
    expect(() => addon.binary(0, g, f(6), f(2), f(6))).toThrow(new RangeError('binary: b has 2 elements, expected 3'));
    expect(() => addon.binary(0, g, f(6), f(3), f(5))).toThrow(new RangeError('binary: y has 5 elements, expected 6'));
    expect(() => addon.binary(0, { packed: new Int32Array([2, 2, 3, 3, 1]) }, f(6), f(3), f(6))).toThrow(RangeError);
    expect(() => addon.binary(0, { packed: Int32Array.from([1, 4, -1, 1]) }, f(6), f(3), f(4))).toThrow(RangeError);
    expect(() => addon.binary(0, { packed: Int32Array.from([17, ...new Array(51).fill(1)]) }, f(1), f(1), f(1))).toThrow(RangeError);
    expect(() => addon.binary(0, { packed: [1, 6, 1, 1] }, f(6), f(6), f(6))).toThrow(TypeError);
    expect(() => addon.binary(0, null, f(6), f(6), f(6))).toThrow(TypeError);
    expect(() => addon.binary(0, g, [1, 2], f(3), f(6))).toThrow(TypeError);
    const r = reduceGeometry('t', [2, 3], [true, false]);
    expect(() => addon.sumAxes(r, f(6), 1, f(3))).not.toThrow();
    expect(() => addon.sumAxes(r, f(6), 1, f(2))).toThrow(new RangeError('sumAxes: y has 2 elements, expected 3'));
    expect(() => addon.sumAxes(r, f(5), 1, f(3))).toThrow(RangeError);
    expect(() => addon.sumAxes(r, f(6), '1', f(3))).toThrow(TypeError);
    expect(() => addon.sumAxes({ packed: Int32Array.from([1, -3, 1]) }, f(6), 1, f(3))).toThrow(RangeError);
    expect(() => addon.clamp(f(3), 1, 0, f(3))).toThrow(RangeError);
    expect(() => addon.clamp(f(3), 0, 1, f(2))).toThrow(RangeError);
    expect(() => addon.clampBackward(f(3), f(3), 0, 1, f(4))).toThrow(RangeError);
    expect(() => addon.clampBackward(f(3), f(3), 'a', 1, f(3))).toThrow(TypeError);
  });
});
