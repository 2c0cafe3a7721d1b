// createBatcher: coalescing, results split back to the right caller, the queue limit and its
// error, AbortSignal cancellation, close/drain, and argument checks. The inference function is
// gated by a promise where the test needs batches to stay running; no timing thresholds.
import { describe, expect, it } from 'vitest';
import { ClosedError, createBatcher, manualSeed, nn, predict, QueueFullError, reshape, Tensor, type InferFunction } from '../lib/index.js';
import { randData, rng } from './helpers.js';

function net(): nn.Sequential {
  manualSeed(5);
  return new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.Flatten(), new nn.Dropout(0.5), new nn.Linear(2 * 6 * 6, 3));
}

const sample = (seed: number) => new Tensor(randData(rng(seed), 64), [1, 8, 8]);

/** An inference function that holds every batch until release(), answering each row's sum as [N, 1]. */
function gatedRowSums() {
  let release!: () => void;
  let gate = new Promise<void>((r) => { release = r; });
  const sizes: number[] = [];
  const infer: InferFunction = async (x) => {
    sizes.push(x.shape[0]!);
    await gate;
    const n = x.shape[0]!, row = x.size / n;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < row; j++) out[i] += x.data[i * row + j]!;
    return new Tensor(out, [n, 1]);
  };
  return { infer, sizes, release: () => { release(); gate = Promise.resolve(); } };
}

const rowSum = (t: Tensor) => t.data.reduce((a, b) => a + b, 0);
const tick = () => new Promise((r) => setImmediate(r));

describe('createBatcher', () => {
  it('coalesces concurrent requests into batches and gives each caller its own row, in eval mode', async () => {
    const model = net();
    model.train(); // the batcher runs eval mode per batch: dropout off
    const batcher = createBatcher(model, { inputShape: [1, 8, 8], maxBatch: 8, maxDelayMs: 5 });
    const xs = Array.from({ length: 50 }, (_, i) => sample(i));
    const results = await Promise.all(xs.map((x, i) => batcher.predict(i % 2 ? x : reshape(x, [1, 1, 8, 8]))));
    for (const [i, r] of results.entries()) {
      expect(r.shape).toEqual(i % 2 ? [3] : [1, 3]); // mirrors the caller's batch dimension
      const alone = await predict(model, reshape(xs[i]!, [1, 1, 8, 8]));
      for (let k = 0; k < 3; k++) expect(r.data[k]).toBeCloseTo(alone.data[k]!, 5);
    }
    expect(batcher.stats.batches).toBeLessThan(50);
    expect(batcher.stats.largestBatch).toBeLessThanOrEqual(8);
    expect(batcher.stats.samples).toBe(50);
    expect(model.training).toBe(true);
    await batcher.close();
  });

  it('softmax: true gives probabilities', async () => {
    const batcher = createBatcher(net(), { inputShape: [1, 8, 8], softmax: true });
    const p = await batcher.predict(sample(1));
    expect(p.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    await batcher.close();
  });

  it('bounds the queue: past maxQueue it rejects at once with QueueFullError, and every accepted request is answered correctly', async () => {
    const { infer, sizes, release } = gatedRowSums();
    const batcher = createBatcher(infer, { inputShape: [4], maxBatch: 4, maxQueue: 10, maxDelayMs: 0 });
    const x = (i: number) => new Tensor(Float32Array.from([i, i, i, i]), [4]);
    const first = Array.from({ length: 25 }, (_, i) => batcher.predict(x(i)).then((t) => ({ i, t }), (e: unknown) => ({ i, e })));
    expect(batcher.stats.queued).toBe(10);
    await tick(); // the first batch of 4 starts and holds
    expect(batcher.stats).toMatchObject({ running: 1, queued: 6 });
    const more = Array.from({ length: 7 }, (_, i) => batcher.predict(x(100 + i)).then((t) => ({ i: 100 + i, t }), (e: unknown) => ({ i: 100 + i, e })));
    expect(batcher.stats.queued).toBe(10); // never above maxQueue
    release();
    const settled = await Promise.all([...first, ...more]);
    const ok = settled.filter((s) => 't' in s) as Array<{ i: number; t: Tensor }>;
    const full = settled.filter((s) => 'e' in s) as Array<{ i: number; e: unknown }>;
    expect(ok.map((s) => s.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 101, 102, 103]);
    for (const { i, t } of ok) expect(Array.from(t.data)).toEqual([4 * i]); // each caller's own row
    expect(full).toHaveLength(25 - 10 + 3);
    for (const { e } of full) {
      expect(e).toBeInstanceOf(QueueFullError);
      expect((e as QueueFullError).code).toBe('ERR_CONVKIT_QUEUE_FULL');
      expect((e as Error).message).toMatch(/queue is full \(10 requests waiting\)/);
    }
    expect(batcher.stats.rejected).toBe(18);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    await batcher.close();
  });

  it('cancels through AbortSignal: queued requests leave the queue, running ones reject, the rest are answered', async () => {
    const { infer, release } = gatedRowSums();
    const batcher = createBatcher(infer, { inputShape: [2], maxBatch: 2, maxDelayMs: 0 });
    const x = (v: number) => new Tensor(Float32Array.from([v, v]), [2]);
    const [c1, c2, c3] = [new AbortController(), new AbortController(), new AbortController()];
    const running = batcher.predict(x(1), { signal: c1.signal });
    const runningOk = batcher.predict(x(2));
    await tick(); // batch [1, 2] runs
    const queued = batcher.predict(x(3), { signal: c2.signal });
    const queuedOk = batcher.predict(x(4));
    c1.abort();
    c2.abort(new Error('client went away'));
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
    await expect(queued).rejects.toThrow('client went away');
    expect(batcher.stats.queued).toBe(1);
    c3.abort();
    await expect(batcher.predict(x(5), { signal: c3.signal })).rejects.toMatchObject({ name: 'AbortError' });
    release();
    expect(Array.from((await runningOk).data)).toEqual([4]);
    expect(Array.from((await queuedOk).data)).toEqual([8]);
    expect(batcher.stats.samples).toBe(3); // the aborted queued request never ran
    await batcher.close();
  });

  it('close() finishes queued and running requests, then refuses new ones with ClosedError', async () => {
    const { infer, release } = gatedRowSums();
    const batcher = createBatcher(infer, { inputShape: [1], maxBatch: 2, maxDelayMs: 1000 });
    const pending = [1, 2, 3].map((v) => batcher.predict(new Tensor(Float32Array.of(v), [1])));
    const closed = batcher.close();
    await expect(batcher.predict(new Tensor(Float32Array.of(9), [1]))).rejects.toBeInstanceOf(ClosedError);
    let done = false;
    void closed.then(() => { done = true; });
    await tick();
    expect(done).toBe(false);
    release();
    expect((await Promise.all(pending)).map((t) => t.data[0])).toEqual([1, 2, 3]); // no wait for maxDelayMs once closing
    await closed;
    expect(batcher.close()).toBe(closed);
  });

  it('a failing batch rejects its requests with the error and the batcher keeps serving', async () => {
    let fail = true;
    const batcher = createBatcher(async (x) => {
      if (fail) throw new RangeError('model broke');
      return new Tensor(new Float32Array(x.shape[0]!), [x.shape[0]!, 1]);
    }, { inputShape: [1], maxDelayMs: 0 });
    const bad = [1, 2].map((v) => batcher.predict(new Tensor(Float32Array.of(v), [1])));
    for (const p of bad) await expect(p).rejects.toThrow('model broke');
    fail = false;
    expect((await batcher.predict(new Tensor(Float32Array.of(1), [1]))).shape).toEqual([1]);
    const wrongRows = createBatcher(async () => new Tensor(new Float32Array(4), [4, 1]), { inputShape: [1], maxDelayMs: 0 });
    await expect(wrongRows.predict(new Tensor(Float32Array.of(1), [1]))).rejects.toThrow(/output for a batch of 1 must have 1 rows, got shape \[4,1\]/);
    await batcher.close();
    await wrongRows.close();
  });

  it('checks its arguments, naming them', async () => {
    const model = net();
    expect(() => createBatcher({} as nn.Module, { inputShape: [1] })).toThrow(TypeError);
    expect(() => createBatcher(model, undefined as unknown as { inputShape: number[] })).toThrow(/inputShape/);
    expect(() => createBatcher(model, { inputShape: [] })).toThrow(/inputShape must be one sample's shape/);
    expect(() => createBatcher(model, { inputShape: [1, 0, 8] })).toThrow(/inputShape\[1\] must be a positive integer/);
    expect(() => createBatcher(model, { inputShape: [1, 8, 8], maxBatch: 0 })).toThrow(RangeError);
    expect(() => createBatcher(model, { inputShape: [1, 8, 8], maxDelayMs: -1 })).toThrow(/maxDelayMs must be >= 0/);
    expect(() => createBatcher(model, { inputShape: [1, 8, 8], maxQueue: 1.5 })).toThrow(/maxQueue must be a positive integer/);
    expect(() => createBatcher(model, { inputShape: [1, 8, 8], maxbatch: 4 } as object as { inputShape: number[] })).toThrow(/unknown option 'maxbatch'/);
    expect(() => createBatcher(new nn.Sequential(model, new nn.Softmax(1)), { inputShape: [1, 8, 8], softmax: true })).toThrow(/already ends in Softmax/);
    const batcher = createBatcher(model, { inputShape: [1, 8, 8] });
    await expect(batcher.predict(new Tensor(new Float32Array(64), [8, 8]))).rejects.toThrow(/x must be one sample \[1,8,8\] or \[1,1,8,8\], got shape \[8,8\]/);
    await expect(batcher.predict(new Tensor(new Float32Array(128), [2, 1, 8, 8]))).rejects.toThrow(RangeError);
    await expect(batcher.predict('x' as unknown as Tensor)).rejects.toThrow(/x must be a Tensor/);
    await expect(batcher.predict(sample(1), { signal: {} as AbortSignal })).rejects.toThrow(/signal must be an AbortSignal/);
    const disposed = sample(2);
    disposed.dispose();
    await expect(batcher.predict(disposed)).rejects.toThrow(TypeError);
    await batcher.close();
  });
});

describe('batcher.flush', () => {
  it('runs what is queued without waiting for maxDelayMs', async () => {
    const batcher = createBatcher(async (x) => new Tensor(new Float32Array(x.shape[0]!), [x.shape[0]!, 1]), { inputShape: [1], maxDelayMs: 60_000 });
    const p = batcher.predict(new Tensor(Float32Array.of(1), [1]));
    await tick();
    expect(batcher.stats.queued).toBe(1); // still waiting for company
    batcher.flush();
    expect((await p).shape).toEqual([1]);
    await batcher.close();
  });
});
