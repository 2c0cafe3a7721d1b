// fromImage: HWC uint8 pixels (gray, RGB, RGBA) to a normalised [1, C, H, W] tensor, and its checks.
import { describe, expect, it } from 'vitest';
import { fromImage } from '../lib/index.js';

const close = (a: ArrayLike<number>, b: number[]) => { expect(a.length).toBe(b.length); b.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 5)); };

describe('fromImage', () => {
  it('gray HWC to [1, 1, H, W] in [0, 1], then (v - mean) / std', () => {
    const px = Uint8Array.of(0, 255, 51, 102, 204, 153); // 3 wide, 2 high
    const t = fromImage(px, { width: 3, height: 2, channels: 1 });
    expect(t.shape).toEqual([1, 1, 2, 3]);
    close(t.data, [0, 1, 0.2, 0.4, 0.8, 0.6]);
    close(fromImage(px, { width: 3, height: 2, channels: 1, mean: 0.5, std: 0.5 }).data, [-1, 1, -0.6, -0.2, 0.6, 0.2]);
  });

  it('RGBA to NCHW planes (alpha kept, dropped, or luma gray), per-channel mean and std', () => {
    const px = Uint8ClampedArray.of(255, 0, 0, 255, 0, 255, 0, 128); // 2x1: red opaque, green half-transparent
    const rgba = fromImage(px, { width: 2, height: 1, channels: 4 });
    expect(rgba.shape).toEqual([1, 4, 1, 2]);
    close(rgba.data, [1, 0, 0, 1, 0, 0, 1, 128 / 255]);
    const rgb = fromImage(px, { width: 2, height: 1, channels: 4, outputChannels: 3, mean: [0.5, 0, 0], std: [0.5, 1, 2] });
    close(rgb.data, [1, -1, 0, 1, 0, 0]);
    close(fromImage(px, { width: 2, height: 1, channels: 4, outputChannels: 1 }).data, [0.299, 0.587]);
    close(fromImage(Buffer.from([10, 20, 30]), { width: 1, height: 1, channels: 3, outputChannels: 1 }).data, [(0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255]);
    close(fromImage(Uint8Array.of(255, 0), { width: 2, height: 1, channels: 1, outputChannels: 3 }).data, [1, 0, 1, 0, 1, 0]);
  });

  it("layout 'chw' reads planar pixels", () => {
    const hwc = Uint8Array.of(1, 2, 3, 4, 5, 6); // 2x1 RGB, interleaved
    const chw = Uint8Array.of(1, 4, 2, 5, 3, 6); // the same, planar
    const a = fromImage(hwc, { width: 2, height: 1, channels: 3 });
    const b = fromImage(chw, { width: 2, height: 1, channels: 3, layout: 'chw' });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    close(a.data, [1, 4, 2, 5, 3, 6].map((v) => v / 255));
    // Luma and a gray channel repeated read the planes too.
    const grayA = fromImage(hwc, { width: 2, height: 1, channels: 3, outputChannels: 1 });
    expect(Array.from(fromImage(chw, { width: 2, height: 1, channels: 3, outputChannels: 1, layout: 'chw' }).data)).toEqual(Array.from(grayA.data));
    close(grayA.data, [(0.299 * 1 + 0.587 * 2 + 0.114 * 3) / 255, (0.299 * 4 + 0.587 * 5 + 0.114 * 6) / 255]);
  });

  it('checks every argument, naming it', () => {
    const px = new Uint8Array(12);
    const ok = { width: 2, height: 2, channels: 3 } as const;
    expect(() => fromImage(new Float32Array(12) as unknown as Uint8Array, ok)).toThrow(/pixels must be a Uint8Array/);
    expect(() => fromImage(px, undefined as unknown as typeof ok)).toThrow(TypeError);
    expect(() => fromImage(px, { ...ok, width: 0 })).toThrow(/width must be a positive integer/);
    expect(() => fromImage(px, { ...ok, height: '2' as unknown as number })).toThrow(/height must be a number/);
    expect(() => fromImage(px, { ...ok, channels: 2 as 1 })).toThrow(/channels must be one of 1, 3, 4/);
    expect(() => fromImage(px, { ...ok, outputChannels: 4 })).toThrow(/outputChannels must be one of 1, 3 for this input/);
    expect(() => fromImage(px, { ...ok, width: 3 })).toThrow(/pixels must hold width x height x channels = 3x2x3 = 18 values, got 12/);
    expect(() => fromImage(px, { ...ok, std: 0 })).toThrow(/std must be positive/);
    expect(() => fromImage(px, { ...ok, std: [1, 1] })).toThrow(/std must have one value per output channel \(3\), got 2/);
    expect(() => fromImage(px, { ...ok, mean: [0, NaN, 0] })).toThrow(/mean\[1\] must be finite/);
    expect(() => fromImage(px, { ...ok, mean: '0' as unknown as number })).toThrow(/mean must be a number or an array/);
    expect(() => fromImage(px, { ...ok, layout: 'nhwc' as 'hwc' })).toThrow(/layout must be 'hwc' or 'chw'/);
    expect(() => fromImage(px, { ...ok, normalize: true } as typeof ok)).toThrow(/unknown option 'normalize'/);
  });
});
