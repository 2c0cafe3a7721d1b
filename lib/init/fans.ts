// Fan in and fan out of a weight shape, as PyTorch's _calculate_fan_in_and_fan_out. Every
// variance-scaled initializer (xavier, kaiming, lecun) reads its fans from here.
import { formatShape, parseShape } from '../shape.js';

/** How many inputs (fanIn) and outputs (fanOut) each weight connects, receptive field included. */
export interface Fans {
  fanIn: number;
  fanOut: number;
}

/**
 * Linear weights are [out, in]; conv weights are [out, in/groups, ...kernel], where each
 * input reaches kernel-size weights, so both fans scale by the receptive field.
 */
export function fans(shape: readonly number[]): Fans {
  const dims = parseShape('init.fans', shape);
  if (dims.length < 2) {
    throw new RangeError(`init.fans: fan in and fan out need at least 2 dims ([out, in, ...kernel]), got shape ${formatShape(dims)}`);
  }
  let receptiveField = 1;
  for (let i = 2; i < dims.length; i++) receptiveField *= dims[i];
  return { fanIn: dims[1] * receptiveField, fanOut: dims[0] * receptiveField };
}
