// A small tape. An op whose inputs need gradients stores a GradNode on its output: the
// parents and a closure that maps the output's gradient to the parents' gradients.
// backward() walks the graph once in topological order, sums gradients of tensors used more
// than once, stores them on leaves (tensors the user created with requiresGrad) and then
// releases the closures, as PyTorch does, so the activations they hold can be collected.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Storage } from './backend/types.js';
import { backendForDevice } from './backend/registry.js';
import type { Tensor } from './tensor.js';

/**
 * Maps the output gradient to one gradient per parent (null where a parent needs none).
 * A returned buffer must be fresh, except that gradOut itself may be passed on to one parent
 * (reshape does): the walk accumulates into these buffers in place.
 */
export type BackwardFn = (gradOut: Storage) => ReadonlyArray<Storage | null>;

export interface GradNode {
  readonly op: string;
  parents: ReadonlyArray<Tensor | null>;
  backward: BackwardFn | null; // null once released
}

// Async-aware: code awaited inside noGrad(async () => ...) stays in no-grad mode, while
// code running concurrently outside it does not.
const noGradScope = new AsyncLocalStorage<boolean>();

export function isGradEnabled(): boolean {
  return noGradScope.getStore() !== true;
}

/** Runs fn without recording the tape and returns its result (a Promise for an async fn). */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`noGrad: fn must be a function, got ${typeof fn}`);
  return noGradScope.run(true, fn);
}

/** Whether an op on these inputs must record itself (decided before the forward pass). */
export function needsGrad(...inputs: ReadonlyArray<Tensor | null | undefined>): boolean {
  if (!isGradEnabled()) return false;
  for (const t of inputs) if (t?.requiresGrad) return true;
  return false;
}

/**
 * Attaches the tape entry to out and returns out. Ops call it only when needsGrad said so
 * (`track ? record(out, ...) : out`), so nothing is built for the tape when nothing is recorded.
 */
export function record(out: Tensor, op: string, parents: ReadonlyArray<Tensor | null>, backward: BackwardFn): Tensor {
  out.requiresGrad = true;
  out.gradFn = { op, parents, backward };
  return out;
}

/** Tensors reachable from root through nodes that need gradients, root first (reverse topological order). */
function topologicalOrder(root: Tensor): Tensor[] {
  const postOrder: Tensor[] = [];
  const visited = new Set<Tensor>([root]);
  // Iterative DFS: a deep graph (a long training step) must not overflow the JS stack.
  const stack: Array<{ t: Tensor; next: number }> = [{ t: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const parents = top.t.gradFn?.parents ?? [];
    if (top.next < parents.length) {
      const p = parents[top.next++];
      if (p && p.requiresGrad && !visited.has(p)) {
        visited.add(p);
        stack.push({ t: p, next: 0 });
      }
    } else {
      postOrder.push(top.t);
      stack.pop();
    }
  }
  return postOrder.reverse();
}

/** Whether a and b are, or view, the same memory (host arrays over one buffer; one device handle). */
function sameMemory(a: Storage, b: Storage): boolean {
  return a === b || (a instanceof Float32Array && b instanceof Float32Array && a.buffer === b.buffer);
}

/**
 * Propagates seed (owned by the walk) from root to every leaf that requires grad. The walk owns
 * every gradient buffer that it does not store, and gives each back to the backend's cache as
 * soon as it is consumed, so a training step reuses the same blocks instead of waiting for GC.
 */
export function runBackward(root: Tensor, seed: Storage): void {
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Storage>([[root, seed]]);
  try {
    for (const t of order) {
      const g = grads.get(t);
      grads.delete(t); // drop each buffer as soon as it is consumed
      const node = t.gradFn;
      if (!node) {
        if (g && !t.accumulateGrad(g)) backendForDevice(t.device).release(g, false);
        continue;
      }
      if (!node.backward) {
        throw new Error(`backward: the graph through ${node.op} was already released by an earlier backward() call; run the forward pass again`);
      }
      if (!g) continue;
      const be = backendForDevice(t.device);
      const parentGrads = node.backward(g);
      let keptG = false;
      node.parents.forEach((p, i) => {
        const pg = parentGrads[i];
        if (!p || !p.requiresGrad || !pg) return;
        const acc = grads.get(p);
        if (!acc) {
          grads.set(p, pg);
          keptG ||= sameMemory(pg, g);
        } else if (acc === pg) {
          be.scale(acc, 2);
        } else {
          be.axpy(1, pg, acc);
          if (!sameMemory(pg, g)) be.release(pg, false);
        }
      });
      if (!keptG) be.release(g, false);
    }
  } finally {
    for (const t of order) {
      if (t.gradFn) {
        t.gradFn.backward = null;
        t.gradFn.parents = [];
      }
    }
  }
}
