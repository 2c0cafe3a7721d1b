// createWorkerPool: workers load the model file once and answer as in-process predict does;
// buffers move between threads (transfer: true detaches the caller's tensor); checks.
import { getEventListeners } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, ClosedError, QueueFullError, createBatcher, createWorkerPool, manualSeed, nn, predict, save, Tensor, type WorkerPool } from '../lib/index.js';
import { randData, rng } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-pool-'));
const modelPath = join(dir, 'model.safetensors');
manualSeed(7);
const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.ReLU(), new nn.Flatten(), new nn.Dropout(0.3), new nn.Linear(2 * 6 * 6, 4));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const batch = (n: number, seed: number) => new Tensor(randData(rng(seed), n * 64), [n, 1, 8, 8]);
let pool: WorkerPool;

beforeAll(async () => {
  await save(model, modelPath);
  pool = await createWorkerPool(modelPath, { threads: 2 });
}, 60_000);

afterAll(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('createWorkerPool', () => {
  it('answers as in-process predict, for several concurrent calls', async () => {
    const xs = [1, 3, 5, 2].map((n, i) => batch(n, i));
    const [outs, again] = await Promise.all([Promise.all(xs.map((x) => pool.predict(x))), pool.predict(xs[1]!)]);
    for (const [i, x] of xs.entries()) {
      const want = await predict(model, x);
      expect(outs[i]!.shape).toEqual(want.shape);
      expect(Array.from(outs[i]!.data)).toEqual(Array.from(want.data));
    }
    expect(Array.from(again.data)).toEqual(Array.from(outs[1]!.data));
    expect(Array.from(xs[0]!.data).length).toBe(64); // copied by default: the caller's tensor stays usable
  });

  it('transfer: true moves the caller buffer (x is detached afterwards)', async () => {
    const x = batch(2, 9);
    const want = await predict(model, x);
    const got = await pool.predict(x, { transfer: true });
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
    expect(x.isDetached).toBe(true);
    expect(() => x.data).toThrow(TypeError);
  });

  it('serves single samples through a batcher', async () => {
    const batcher = createBatcher((x) => pool.predict(x, { transfer: true }), { inputShape: [1, 8, 8], concurrency: 2 });
    const x = batch(6, 11);
    const want = await predict(model, x);
    const got = await Promise.all(Array.from({ length: 6 }, (_, i) => batcher.predict(new Tensor(x.data.slice(i * 64, (i + 1) * 64), [1, 8, 8]))));
    got.forEach((g, i) => g.data.forEach((v, k) => expect(v).toBeCloseTo(want.data[i * 4 + k]!, 5)));
    await batcher.close();
  });

  it('checks its arguments and refuses a bad file with load’s error', async () => {
    await expect(createWorkerPool('')).rejects.toThrow(/modelPath must be a non-empty string/);
    await expect(createWorkerPool(join(dir, 'missing.safetensors'))).rejects.toThrow(/no model file at/);
    await expect(createWorkerPool(modelPath, { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    await expect(createWorkerPool(modelPath, { thread: 2 } as object)).rejects.toThrow(/unknown option 'thread'/);
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'not a safetensors file at all');
    await expect(createWorkerPool(bad, { threads: 1 })).rejects.toThrow(RangeError);
    await expect(pool.predict(new Tensor(new Float32Array(0), [0, 1, 8, 8]))).rejects.toThrow(/x must be a batch \[N, ...\] with N >= 1/);
    await expect(pool.predict(batch(1, 1), { transfer: 1 } as object)).rejects.toThrow(/transfer must be a boolean/);
  });

  it('preprocess turns raw inputs into samples in the workers; a failing input rejects alone', async () => {
    const withPrep = await createWorkerPool(modelPath, { threads: 1, preprocess: fixture('preprocess-bytes.ts'), preprocessOptions: { scale: 0.5 } });
    try {
      const inputs = [3, 4, 5].map((seed) => Uint8Array.from(randData(rng(seed), 64), (v) => Math.floor(Math.abs(v) * 100) % 256));
      // Made in one turn: they travel to the worker together, the short one among them.
      const calls = [withPrep.preprocess(inputs[0]!), withPrep.preprocess(Buffer.alloc(10)), withPrep.preprocess(inputs[1]!), withPrep.preprocess(inputs[2]!)];
      const [a, bad, b, c] = await Promise.allSettled(calls);
      expect(bad.status).toBe('rejected');
      const err = (bad as PromiseRejectedResult).reason as RangeError & { status: number };
      expect(err).toBeInstanceOf(RangeError);
      expect(err.message).toBe('expected 64 bytes, got 10');
      expect(err.status).toBe(422);
      for (const [i, r] of [a, b, c].entries()) {
        const t = (r as PromiseFulfilledResult<Tensor>).value;
        expect(t.shape).toEqual([1, 8, 8]);
        expect(Array.from(t.data)).toEqual(Array.from(inputs[i]!, (v) => v * 0.5));
      }
      // A sample goes on to the pool's model like any tensor.
      const x = (a as PromiseFulfilledResult<Tensor>).value;
      const want = await predict(model, new Tensor(x.data.slice(), [1, 1, 8, 8]));
      expect(Array.from((await withPrep.predict(new Tensor(x.data.slice(), [1, 1, 8, 8]))).data)).toEqual(Array.from(want.data));
      const aborted = AbortSignal.abort(new Error('gone'));
      await expect(withPrep.preprocess(inputs[0]!, { signal: aborted })).rejects.toThrow('gone');
      await expect(withPrep.preprocess([1, 2] as unknown as Uint8Array)).rejects.toThrow(/input must be a Uint8Array or Buffer/);
    } finally {
      await withPrep.close();
    }
  }, 60_000);

  it('predictRaw decodes and runs the inputs of a turn as one batch; a failing input rejects alone', async () => {
    const raw = await createWorkerPool(modelPath, { threads: 1, softmax: true, maxQueue: 8, preprocess: fixture('preprocess-bytes.ts'), preprocessOptions: { scale: 0.5, batchOfOne: true } });
    try {
      const inputs = [3, 4, 5, 6].map((seed) => Uint8Array.from(randData(rng(seed), 64), (v) => Math.floor(Math.abs(v) * 100) % 256));
      const x = new Tensor(Float32Array.from(inputs.flatMap((b) => Array.from(b, (v) => v * 0.5))), [4, 1, 8, 8]);
      const want = await predict(model, x, { softmax: true });
      // One turn: the good inputs, one that throws and one of the wrong shape, in one task.
      const calls = [raw.predictRaw(inputs[0]!), raw.predictRaw(Buffer.alloc(10)), raw.predictRaw(inputs[1]!), raw.predictRaw(Buffer.alloc(63)), raw.predictRaw(inputs[2]!), raw.predictRaw(inputs[3]!)];
      const settled = await Promise.allSettled(calls);
      expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ name: 'RangeError', message: 'expected 64 bytes, got 10', status: 422 });
      expect(String((settled[3] as PromiseRejectedResult).reason)).toMatch(/returned \[1,1,9,7\] for this input and \[1,1,8,8\] for the batch's first/);
      [settled[0], settled[2], settled[4], settled[5]].forEach((r, i) => {
        const row = (r as PromiseFulfilledResult<Tensor>).value;
        expect(row.shape).toEqual([1, 4]);
        row.data.forEach((v, k) => expect(v).toBeCloseTo(want.data[i * 4 + k]!, 6));
      });
      // Back-pressure: past maxQueue inputs waiting, a QueueFullError at once; the rest answer.
      const burst = Array.from({ length: 10 }, () => raw.predictRaw(inputs[0]!));
      const burstSettled = await Promise.allSettled(burst);
      expect(burstSettled.filter((r) => r.status === 'fulfilled')).toHaveLength(8);
      for (const r of burstSettled.slice(8)) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
      // A signal shared by many calls (one per connection) keeps no listener of a settled call.
      const hangup = new AbortController();
      await Promise.all(Array.from({ length: 8 }, () => raw.predictRaw(inputs[1]!, { signal: hangup.signal })));
      expect(getEventListeners(hangup.signal, 'abort')).toHaveLength(0);
      const leaving = raw.predictRaw(inputs[1]!, { signal: hangup.signal });
      hangup.abort(new Error('client left'));
      await expect(leaving).rejects.toThrow('client left');
      // A sample that the model refuses fails its whole batch, with the model's error.
      const flat = await createWorkerPool(modelPath, { threads: 1, preprocess: fixture('preprocess-bytes.ts'), preprocessOptions: { scale: 1 } });
      await expect(flat.predictRaw(inputs[0]!)).rejects.toThrow(/conv2d: input must be 4-d/);
      await flat.close();
    } finally {
      await raw.close();
    }
  }, 60_000);

  it('preprocess: checks the module and refuses a pool without one', async () => {
    await expect(pool.preprocess(new Uint8Array(64))).rejects.toThrow(/this pool has no preprocess module/);
    await expect(createWorkerPool(modelPath, { preprocess: 42 as unknown as string })).rejects.toThrow(/preprocess must be a module path or file URL, got 42/);
    await expect(createWorkerPool(modelPath, { preprocess: join(dir, 'missing.ts') })).rejects.toThrow(/no preprocess module at/);
    await expect(createWorkerPool(modelPath, { threads: 1, preprocess: new URL(fixture('preprocess-no-default.ts'), 'file:') })).rejects.toThrow(/must export a default function/);
  }, 60_000);

  it.runIf(process.platform === 'linux')('runs its workers at the priority given, below the event loop, under SCHED_BATCH, or idle', async () => {
    // Each thread's nice value is field 19 of /proc/self/task/TID/stat, its policy field 41.
    // Counted among the threads started since `before` (a snapshot of the thread ids): others may
    // come and go meanwhile (earlier pools closing, the native pool).
    const tids = () => new Set(readdirSync('/proc/self/task'));
    const newThreadsWith = (before: Set<string>, field: number, value: number) => [...tids()].filter((tid) => {
      if (before.has(tid)) return false;
      let stat: string;
      try {
        stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      } catch {
        return false; // a thread that ended between the listing and the read
      }
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[field - 3]) === value;
    }).length;
    const SCHED_BATCH = 3;
    const batchExpected = backendInfo().native.isa && process.env.CONVKIT_SCHED_BATCH !== '0';
    expect(getPriority()).toBeLessThan(17);
    const before = tids();
    const low = await createWorkerPool(modelPath, { threads: 2, priority: 17 });
    try {
      // createWorkerPool waits for one worker; the other may still be starting.
      const started = () => newThreadsWith(before, 19, 17) >= 2 && (!batchExpected || newThreadsWith(before, 41, SCHED_BATCH) >= 2);
      for (let waited = 0; !started() && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      expect(newThreadsWith(before, 19, 17)).toBeGreaterThanOrEqual(2);
      expect(getPriority()).toBeLessThan(17); // the event loop's thread keeps its own
      // Their wake-ups do not preempt the event loop (where the addon loads; CONVKIT_SCHED_BATCH=0 turns it off).
      if (batchExpected) expect(newThreadsWith(before, 41, SCHED_BATCH)).toBeGreaterThanOrEqual(2);
      const loopStat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
      expect(Number(loopStat.slice(loopStat.lastIndexOf(')') + 2).split(' ')[41 - 3])).toBe(0); // the event loop's thread keeps SCHED_OTHER
    } finally {
      await low.close();
    }
    // 'idle': SCHED_IDLE, only the CPU time nobody else wants.
    const SCHED_IDLE = 5;
    const idleBefore = tids();
    const idle = await createWorkerPool(modelPath, { threads: 2, priority: 'idle' });
    try {
      for (let waited = 0; newThreadsWith(idleBefore, 41, SCHED_IDLE) < 2 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      if (backendInfo().native.isa) expect(newThreadsWith(idleBefore, 41, SCHED_IDLE)).toBeGreaterThanOrEqual(2);
      expect(Array.from((await idle.predict(batch(2, 4))).data)).toEqual(Array.from((await predict(model, batch(2, 4))).data));
    } finally {
      await idle.close();
    }
    await expect(createWorkerPool(modelPath, { priority: 20 })).rejects.toThrow(/priority must be in \[0, 19\]/);
    await expect(createWorkerPool(modelPath, { priority: 'low' as 'idle' })).rejects.toThrow(/priority must be a nice value in \[0, 19\] or 'idle', got string 'low'/);
    await expect(createWorkerPool(modelPath, { priority: -1 })).rejects.toThrow(/priority must be/);
  }, 60_000);

  it('close() refuses new calls with ClosedError', async () => {
    const other = await createWorkerPool(modelPath, { threads: 1, softmax: true });
    const p = await other.predict(batch(1, 2));
    expect(p.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    await other.close();
    await expect(other.predict(batch(1, 2))).rejects.toBeInstanceOf(ClosedError);
  });
});
