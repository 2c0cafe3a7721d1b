// Inverted dropout with a given keep-mask; the same kernel serves forward (on x) and backward (on dy).
import type { Floats } from './floats.js';

/** y = x * (mask ? scale : 0): a product, so a dropped NaN stays NaN as in PyTorch. */
export function dropout(x: Floats, mask: Uint8Array, scale: number, y: Floats): void {
  for (let i = 0; i < x.length; i++) y[i] = x[i] * (mask[i] ? scale : 0);
}
