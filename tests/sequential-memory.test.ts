// Sequential gives the outputs passed between its own layers back to the cache at the next
// forward call, once no backward pass needs them: repeated forwards reuse memory, pending
// backward passes (gradient accumulation) still see their activations, and a user's layer that
// keeps its input keeps it.
import { describe, expect, it } from 'vitest';
import { cpu, crossEntropy, manualSeed, nn, noGrad, Tensor, tensor } from '../lib/index.js';
import { hasCpu, randData, rng, withBackend } from './helpers.js';

function convNet(): nn.Sequential {
  manualSeed(3);
  return new nn.Sequential(new nn.Conv2d(1, 8, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(8 * 15 * 15, 10));
}

const input = (seed: number, n = 8) => tensor(randData(rng(seed), n * 32 * 32), [n, 1, 32, 32]);

class Keeper extends nn.Module {
  kept: Tensor | null = null;
  forward(x: Tensor): Tensor {
    this.kept = x;
    return x;
  }
  toConfig() {
    return { type: 'Keeper', args: [] };
  }
}

describe.skipIf(!hasCpu)('Sequential intermediates', () => {
  it('reuses their memory on every forward pass, with the same results', () => {
    withBackend('cpu', () => {
      const model = convNet();
      const x = input(1);
      const first = noGrad(() => model.forward(x)).toArray();
      noGrad(() => model.forward(x));
      const before = cpu.memoryStats();
      for (let i = 0; i < 5; i++) expect(noGrad(() => model.forward(x)).toArray()).toEqual(first);
      const after = cpu.memoryStats();
      // conv (28 KiB x 8 images), relu and pool outputs come back from the pool every call
      expect(after.poolHits - before.poolHits).toBeGreaterThanOrEqual(5 * 3);
    });
  });

  it('keeps activations that a pending backward pass needs (gradient accumulation over two forwards)', () => {
    withBackend('cpu', () => {
      const labels = [1, 2, 3, 4, 5, 6, 7, 8];
      const accumulate = (model: nn.Sequential) => {
        const l1 = crossEntropy(model.forward(input(1)), labels);
        const l2 = crossEntropy(model.forward(input(2)), labels); // releases nothing of l1's graph
        l1.backward();
        l2.backward();
        return model.parameters().map((p) => p.grad!.toArray());
      };
      const separate = (model: nn.Sequential) => {
        crossEntropy(model.forward(input(1)), labels).backward();
        crossEntropy(model.forward(input(2)), labels).backward();
        return model.parameters().map((p) => p.grad!.toArray());
      };
      const a = accumulate(convNet());
      const b = separate(convNet());
      a.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(b[i])));
    });
  });

  it('leaves alone a tensor that one of the user\'s layers has seen', () => {
    withBackend('cpu', () => {
      const keeper = new Keeper();
      const model = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.ReLU(), keeper, new nn.MaxPool2d(2));
      noGrad(() => model.forward(input(1)));
      const kept = keeper.kept!;
      const values = kept.toArray();
      noGrad(() => model.forward(input(2)));
      noGrad(() => model.forward(input(3)));
      expect(kept.isDisposed).toBe(false);
      expect(kept.toArray()).toEqual(values);
    });
  });

  it('never disposes the input or the output', () => {
    withBackend('cpu', () => {
      const model = convNet();
      const x = input(4);
      const y = noGrad(() => model.forward(x));
      noGrad(() => model.forward(x));
      expect(x.isDisposed).toBe(false);
      expect(y.isDisposed).toBe(false);
    });
  });
});
