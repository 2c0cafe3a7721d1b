// PNG helpers for the examples: turn number arrays into RGBA images, tile them, write them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';

/** An 8-bit RGBA image, row-major, 4 bytes a pixel. */
export interface RgbaImage { width: number; height: number; rgba: Uint8Array }

export interface MapOptions {
  /** value mapped to the low end (default: the minimum of the values; for diverging, -max|v|) */
  min?: number;
  /** value mapped to the high end (default: the maximum; for diverging, +max|v|) */
  max?: number;
  /** nearest-neighbour upscaling factor (default 1) */
  scale?: number;
}

/** Encode an image as PNG bytes. */
export function encodePng(image: RgbaImage): Buffer {
  checkImage(image);
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.rgba.buffer, image.rgba.byteOffset, image.rgba.byteLength);
  return PNG.sync.write(png);
}

/** Write an image as a PNG file, creating the folder if needed. */
export function writePng(path: string, image: RgbaImage): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodePng(image));
}

function checkImage(image: RgbaImage): void {
  const { width, height, rgba } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image: width and height must be positive integers (got ${width}x${height})`);
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`image: rgba has ${rgba.length} bytes but ${width}x${height}x4 = ${width * height * 4}`);
  }
}

function range(values: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  return lo === Infinity ? [0, 1] : [lo, hi];
}

/** Fill an upscaled image by calling color(i) for source pixel i. */
function paint(width: number, height: number, scale: number, color: (i: number) => [number, number, number]): RgbaImage {
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`image: scale must be a positive integer (got ${scale})`);
  const W = width * scale, H = height * scale;
  const rgba = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [r, g, b] = color(Math.floor(y / scale) * width + Math.floor(x / scale));
      const o = (y * W + x) * 4;
      rgba[o] = r; rgba[o + 1] = g; rgba[o + 2] = b; rgba[o + 3] = 255;
    }
  }
  return { width: W, height: H, rgba };
}

function checkSize(values: ArrayLike<number>, width: number, height: number, what: string): void {
  if (values.length !== width * height) {
    throw new RangeError(`${what}: values has ${values.length} entries but ${width}x${height} = ${width * height}`);
  }
}

const byte = (t: number): number => Math.round(255 * Math.min(1, Math.max(0, t)));

/** Grayscale: min -> black, max -> white, linearly; values outside are clipped. */
export function grayImage(values: ArrayLike<number>, width: number, height: number, opts: MapOptions = {}): RgbaImage {
  checkSize(values, width, height, 'grayImage');
  const [lo0, hi0] = range(values);
  const lo = opts.min ?? lo0, hi = opts.max ?? hi0;
  const span = hi - lo || 1;
  return paint(width, height, opts.scale ?? 1, (i) => {
    const v = byte((values[i]! - lo) / span);
    return [v, v, v];
  });
}

/** Blue-white-red for signed maps: -m -> blue, 0 -> white, +m -> red, m = max |v| unless given. */
export function diverging(values: ArrayLike<number>, width: number, height: number, opts: MapOptions = {}): RgbaImage {
  checkSize(values, width, height, 'diverging');
  const [lo0, hi0] = range(values);
  const m = Math.max(Math.abs(lo0), Math.abs(hi0)) || 1;
  const lo = opts.min ?? -m, hi = opts.max ?? m;
  return paint(width, height, opts.scale ?? 1, (i) => divergingColor(values[i]!, lo, hi));
}

/** The colour diverging() gives v on the scale lo..0..hi (also used by the SVG heatmaps). */
export function divergingColor(v: number, lo: number, hi: number): [number, number, number] {
  if (v >= 0) {
    const t = hi > 0 ? Math.min(1, v / hi) : 0;           // white -> red (178, 24, 43)
    return [byte(1 - t * (1 - 178 / 255)), byte(1 - t * (1 - 24 / 255)), byte(1 - t * (1 - 43 / 255))];
  }
  const t = lo < 0 ? Math.min(1, v / lo) : 0;             // white -> blue (33, 102, 172)
  return [byte(1 - t * (1 - 33 / 255)), byte(1 - t * (1 - 102 / 255)), byte(1 - t * (1 - 172 / 255))];
}

/** Tile images row by row, `cols` to a row (default: ceil(sqrt(n))), `pad` pixels apart (default 4). */
export function imageGrid(tiles: RgbaImage[], opts: { cols?: number; pad?: number; background?: [number, number, number] } = {}): RgbaImage {
  if (tiles.length === 0) throw new RangeError('imageGrid: no tiles');
  const cols = Math.max(1, Math.min(tiles.length, opts.cols ?? Math.ceil(Math.sqrt(tiles.length))));
  const rows = Math.ceil(tiles.length / cols);
  const pad = opts.pad ?? 4;
  const [br, bg, bb] = opts.background ?? [255, 255, 255];
  const cellW = Math.max(...tiles.map((t) => t.width)), cellH = Math.max(...tiles.map((t) => t.height));
  const W = cols * cellW + (cols + 1) * pad, H = rows * cellH + (rows + 1) * pad;
  const rgba = new Uint8Array(W * H * 4);
  for (let i = 0; i < W * H; i++) { rgba[4 * i] = br; rgba[4 * i + 1] = bg; rgba[4 * i + 2] = bb; rgba[4 * i + 3] = 255; }
  tiles.forEach((tile, k) => {
    checkImage(tile);
    const x0 = pad + (k % cols) * (cellW + pad), y0 = pad + Math.floor(k / cols) * (cellH + pad);
    for (let y = 0; y < tile.height; y++) {
      const src = tile.rgba.subarray(y * tile.width * 4, (y + 1) * tile.width * 4);
      rgba.set(src, ((y0 + y) * W + x0) * 4);
    }
  });
  return { width: W, height: H, rgba };
}
