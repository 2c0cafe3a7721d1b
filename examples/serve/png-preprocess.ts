// The worker side of `npm run serve -- --workers N`: each pool thread decodes uploads itself
// (createWorkerPool's preprocess module), so PNG decoding, its CPU time and its garbage stay
// off the server's event loop, which then only parses HTTP and routes bytes.
import type { Tensor } from '../../lib/index.js';
import { pngToTensor, type PngInputOptions } from './png-input.js';

export default function decodeUpload(body: Buffer, options: PngInputOptions): Tensor {
  return pngToTensor(body, options);
}
