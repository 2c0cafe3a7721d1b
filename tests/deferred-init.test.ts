// Deferred init (issue 17, group 6): a model file's config, or a shape-calculator spec, makes no
// memory for the weights it names; the weights are made on first use, with the values an
// eager build would have drawn.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load, manualSeed, nn, parseSpec, save, summary, tensor, writeSafetensors } from '../lib/index.js';
import { withDeferredInit } from '../lib/nn/deferred.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-deferred-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes of ArrayBuffer memory (V8's and the addon's host cache) that fn leaves allocated. */
async function arrayBufferGrowth(fn: () => unknown): Promise<number> {
  const before = process.memoryUsage().arrayBuffers;
  await fn();
  return process.memoryUsage().arrayBuffers - before;
}

const MB = 1 << 20;

describe('deferred init', () => {
  it('lets summary() of a spec with 600 million weights run without making them', async () => {
    let total = 0;
    const growth = await arrayBufferGrowth(() => {
      const { inputShape, model } = parseSpec('1x1x1 flatten fc300000000 relu fc2');
      total = summary(model, inputShape).totalParams;
    });
    expect(total).toBe(300_000_000 * 2 + 600_000_000 + 2);
    expect(growth).toBeLessThan(16 * MB);
  });

  it('rejects a small file whose config names a huge layer, before making its weights', async () => {
    const path = join(dir, 'bomb.safetensors');
    const config = JSON.stringify({ type: 'Sequential', args: [{ type: 'Linear', args: [16000, 16000] }, { type: 'BatchNorm2d', args: [100_000_000] }] });
    writeFileSync(path, writeSafetensors({ '0.weight': tensor([1, 2], [1, 2]), '0.bias': tensor([0], [1]) }, { format: 'convkit', 'convkit.config': config }));
    let error: unknown = null;
    const growth = await arrayBufferGrowth(async () => {
      await load(path).catch((e: unknown) => { error = e; });
    });
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/^load: '.*bomb\.safetensors': Sequential\.loadStateDict: the state dict does not match the module \(missing keys: 1\.weight/);
    expect(growth).toBeLessThan(16 * MB);
  });

  it('loads a saved model with its values, drawing no weights', async () => {
    manualSeed(3);
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.Flatten(), new nn.Linear(8, 3));
    const path = join(dir, 'model.safetensors');
    await save(model, path);
    const loaded = await load(path);
    const x = tensor(Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)), [1, 1, 4, 4]);
    model.eval();
    loaded.eval();
    expect(Array.from(loaded.forward(x).data)).toEqual(Array.from(model.forward(x).data));
    for (const [name, t] of Object.entries(loaded.stateDict())) expect(t.isDeferred, name).toBe(false);
  });

  it('makes a spec model\'s weights on first use, equal to an eager build from the same seed', () => {
    manualSeed(11);
    const eager = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(36, 5));
    manualSeed(11);
    const { model } = parseSpec('1x5x5 conv4k3 relu flatten fc5');
    const deferred = model.parameters();
    expect(deferred.every((t) => t.isDeferred)).toBe(true);
    const x = tensor(Float32Array.from({ length: 25 }, (_, i) => Math.cos(i)), [1, 1, 5, 5]);
    expect(Array.from(model.forward(x).data)).toEqual(Array.from(eager.forward(x).data));
    expect(deferred.every((t) => !t.isDeferred && t.requiresGrad)).toBe(true);
  });

  it('keeps a deferred tensor deferred through dispose, and its shape and size without memory', () => {
    const layer = withDeferredInit(() => new nn.Linear(100_000, 100_000));
    expect(layer.weight.size).toBe(1e10);
    expect(layer.weight.shape).toEqual([100_000, 100_000]);
    expect(layer.weight.device).toBe('cpu');
    layer.weight.dispose();
    expect(layer.weight.isDisposed).toBe(true);
    expect(() => layer.weight.data).toThrow(/was disposed/);
  });
});
