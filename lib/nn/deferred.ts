// Deferred init: modules built inside withDeferredInit() get parameters and buffers that have
// their shapes but no memory until first use (like PyTorch's meta device followed by a lazy
// init). The shape calculator (parseSpec, summary) builds its modules this way, so a spec that
// names a layer of 300 million weights costs nothing, and load() does, so that a file's config
// can only make memory for the tensors the file holds: it fills them from the file instead of
// drawing them.
import { backendForDevice, getDefaultDevice } from '../backend/registry.js';
import { allocResult } from '../check.js';
import { Tensor } from '../tensor.js';

let depth = 0;

/** Runs build() with deferred init for every module it constructs. */
export function withDeferredInit<T>(build: () => T): T {
  depth += 1;
  try {
    return build();
  } finally {
    depth -= 1;
  }
}

/**
 * A layer's tensors of the given shapes (null for an absent one), filled by fill(). Made now,
 * or on first use of any of them under withDeferredInit, all at once so that fill() draws
 * them in the same order either way.
 */
export function createTensors(op: string, shapes: ReadonlyArray<readonly number[] | null>, fill: (tensors: Array<Tensor | null>) => void): Array<Tensor | null> {
  const make = () => {
    const tensors = shapes.map((shape) => (shape ? allocResult(op, shape, backendForDevice('cpu')) : null));
    fill(tensors);
    return tensors;
  };
  if (depth === 0) return make();
  const group = {
    deferred: true as const,
    materialize(): void {
      const made = make();
      deferredTensors.forEach((t, i) => { if (t?.isDeferred) t.adopt((made[i] as Tensor).data); });
    },
  };
  const deferredTensors = shapes.map((shape) => (shape ? Tensor.deferred(group, shape, getDefaultDevice()) : null));
  return deferredTensors;
}
