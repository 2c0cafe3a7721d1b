// An uploaded PNG to the model's input tensor. The header is checked before pngjs decodes
// anything, so a small file that declares a huge image costs no memory, and every problem is
// an HttpError with a clear message: 415 not a PNG, 422 the wrong size, 400 a broken file.
import { PNG } from 'pngjs';
import { fromImage, type Tensor } from '../../lib/index.js';
import { HttpError } from './http-error.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngInputOptions {
  /** The model's sample shape [C, H, W]; C is 1 (gray: RGB is turned to luma) or 3. */
  inputShape: readonly number[];
  mean: number | number[];
  std: number | number[];
}

export function pngToTensor(body: Buffer, { inputShape, mean, std }: PngInputOptions): Tensor {
  const [channels, height, width] = inputShape as [number, number, number];
  if (body.length === 0) throw new HttpError(400, 'empty body: POST the PNG image as the request body');
  if (body.length < SIGNATURE.length || !body.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw new HttpError(415, 'not a PNG: the body must be a PNG image (it does not start with the PNG signature)');
  }
  // The IHDR chunk comes first: its width and height at bytes 16 and 20.
  if (body.length < 24 || body.toString('latin1', 12, 16) !== 'IHDR') throw new HttpError(400, 'not a valid PNG: truncated before its IHDR header');
  const w = body.readUInt32BE(16), h = body.readUInt32BE(20);
  if (w !== width || h !== height) throw new HttpError(422, `wrong image size: ${w}x${h}, the model takes ${width}x${height}`);
  let png: PNG;
  try {
    png = PNG.sync.read(body);
  } catch (err) {
    throw new HttpError(400, `not a valid PNG: ${(err as Error).message}`);
  }
  // pngjs always gives RGBA; gray images come back with R = G = B.
  return fromImage(png.data, { width, height, channels: 4, outputChannels: channels as 1 | 3, mean, std });
}
