// examples/server.ts: the HTTP server answers the 5 best classes for a PNG, survives a fuzz of
// bad uploads with a 4xx JSON error every time (random bytes, truncated PNGs, wrong sizes, a
// huge Content-Length, bodies over the limit, wrong methods and paths) and still serves a good
// request afterwards; on SIGTERM the request in flight finishes and the process exits 0.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatcher, fromImage, manualSeed, nn, predict, save } from '../lib/index.js';
import { createPredictServer, topClasses, type PredictServer } from '../examples/serve/app.js';
import { batcherClassifier } from '../examples/serve/classifiers.js';
import { createTickBudget } from '../examples/serve/tick-budget.js';
import { rng } from './helpers.js';

const root = join(import.meta.dirname, '..');
const SIZE = 8;
manualSeed(11);
const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(2 * 6 * 6, 4));
const norm = { mean: 0.5, std: 0.25 };

function png(width: number, height: number, seed = 1): Buffer {
  const image = new PNG({ width, height });
  const r = rng(seed);
  for (let i = 0; i < image.data.length; i++) image.data[i] = i % 4 === 3 ? 255 : Math.floor(r() * 256);
  return PNG.sync.write(image);
}

interface Reply { status: number; body: string; headers: Record<string, string | string[] | undefined> }

function post(port: number, path: string, body: Buffer | null, method = 'POST'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** A raw request whose headers promise more than is sent (a client may lie in Content-Length). */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.on('data', (d) => { text += d.toString(); });
    socket.on('end', () => resolve(text));
    socket.on('close', () => resolve(text));
    socket.on('error', (err) => (text ? resolve(text) : reject(err)));
  });
}

const expectClientError = (r: Reply, what: string) => {
  expect(r.status, `${what}: ${r.body}`).toBeGreaterThanOrEqual(400);
  expect(r.status, `${what}: ${r.body}`).toBeLessThan(500);
  expect(typeof JSON.parse(r.body).error).toBe('string');
};

describe('the HTTP server (in process)', () => {
  let app: PredictServer;
  let port: number;
  beforeAll(async () => {
    const batcher = createBatcher(model, { inputShape: [1, SIZE, SIZE], softmax: true, maxDelayMs: 1 });
    app = createPredictServer({ classifier: batcherClassifier(batcher, norm), maxBodyBytes: 4096 });
    await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => { await app.close(); });

  it('answers the best classes of a PNG, as predict does', async () => {
    const image = png(SIZE, SIZE, 3);
    const r = await post(port, '/predict', image);
    expect(r.status).toBe(200);
    const { top } = JSON.parse(r.body) as { top: Array<{ class: number; p: number }> };
    expect(top).toHaveLength(4); // the model has 4 classes; 5 at most
    const decoded = PNG.sync.read(image);
    const want = await predict(model, fromImage(decoded.data, { width: SIZE, height: SIZE, channels: 4, outputChannels: 1, ...norm }), { softmax: true });
    const order = Array.from(want.data, (p, c) => ({ c, p })).sort((a, b) => b.p - a.p);
    expect(top.map((t) => t.class)).toEqual(order.map((o) => o.c));
    top.forEach((t, i) => expect(t.p).toBeCloseTo(order[i]!.p, 5));
    expect((await post(port, '/healthz', null, 'GET')).status).toBe(200);
  });

  it('survives a fuzz of bad uploads: a 4xx JSON error every time, then still serves', async () => {
    const r = rng(2024);
    const good = png(SIZE, SIZE);
    for (let i = 0; i < 60; i++) {
      const kind = i % 5;
      let body: Buffer;
      if (kind === 0) body = Buffer.from(Array.from({ length: Math.floor(r() * 3000) }, () => Math.floor(r() * 256)));
      else if (kind === 1) body = Buffer.concat([good.subarray(0, 8), Buffer.from(Array.from({ length: Math.floor(r() * 500) }, () => Math.floor(r() * 256)))]);
      else if (kind === 2) body = good.subarray(0, 1 + Math.floor(r() * (good.length - 2))); // truncated
      else if (kind === 3) body = png(1 + Math.floor(r() * 40), 1 + Math.floor(r() * 40), i); // wrong size (or, rarely, right)
      else body = Buffer.alloc(0);
      const reply = await post(port, '/predict', body);
      if (kind === 3 && reply.status === 200) continue; // the random size happened to be 8x8
      expectClientError(reply, `case ${i} (kind ${kind}, ${body.length} bytes)`);
    }
    // A PNG header declaring a huge image is refused before anything is decoded.
    const huge = Buffer.from(good);
    huge.writeUInt32BE(100_000, 16);
    huge.writeUInt32BE(100_000, 20);
    const hugeReply = await post(port, '/predict', huge);
    expect(hugeReply.status).toBe(422);
    expect(JSON.parse(hugeReply.body).error).toMatch(/wrong image size: 100000x100000, the model takes 8x8/);
    // Too large: declared, or streamed past the limit.
    const declared = await rawRequest(port, 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\nabc');
    expect(declared).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared).toMatch(/body too large: 1000000000000 bytes, the limit is 4096/);
    expectClientError(await post(port, '/predict', Buffer.alloc(5000, 1)), 'over the limit');
    // A client that hangs up mid-upload, or while its request waits.
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789');
        setImmediate(() => { socket.destroy(); resolve(); });
      });
    });
    await new Promise<void>((resolve) => {
      const req = request({ port, path: '/predict', method: 'POST', agent: false });
      req.on('error', () => resolve());
      req.end(good, () => setImmediate(() => { req.destroy(); resolve(); }));
    });
    // Wrong method and path.
    const get = await post(port, '/predict', null, 'GET');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await post(port, '/nope', good)).status).toBe(404);
    expect((await post(port, '/healthz', good, 'PUT')).status).toBe(405);
    // Still serving.
    expect((await post(port, '/predict', good)).status).toBe(200);
    const metrics = JSON.parse((await post(port, '/metrics', null, 'GET')).body);
    expect(metrics.serverErrors).toBe(0);
    expect(metrics.eventLoopDelayMs.p99).toBeGreaterThan(0);
  });
});

describe('the HTTP server, one request at a time', () => {
  it('takes the request of a client that hangs up out of the batcher queue', async () => {
    const batcher = createBatcher(model, { inputShape: [1, SIZE, SIZE], softmax: true, maxDelayMs: 60_000 });
    const app = createPredictServer({ classifier: batcherClassifier(batcher, norm) });
    await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
    const { port } = app.server.address() as AddressInfo;
    const until = async (ok: () => boolean) => { while (!ok()) await new Promise((r) => setTimeout(r, 5)); };
    const req = request({ port, path: '/predict', method: 'POST' });
    req.on('error', () => {});
    req.end(png(SIZE, SIZE));
    await until(() => batcher.stats.queued === 1); // waiting a minute for others to join its batch
    req.destroy();
    await until(() => batcher.stats.queued === 0);
    expect(batcher.stats.batches).toBe(0);
    await app.close();
  });

  it('createTickBudget: work past the budget waits for a later turn of the loop, in order', async () => {
    for (const [budget, want] of [[0, ['a', 'b', 'next turn', 'c']], [Infinity, ['a', 'b', 'c', 'next turn']]] as const) {
      const turn = createTickBudget(budget);
      const order: string[] = [];
      const work = Promise.all(['a', 'b', 'c'].map((name) => turn().then(() => order.push(name))));
      setImmediate(() => order.push('next turn'));
      await work;
      await new Promise((r) => setImmediate(r));
      expect(order).toEqual(want);
    }
  });

  it('topClasses: the k best, best first, ties in class order', () => {
    expect(topClasses(Float32Array.of(0.1, 0.3, 0.2, 0.3, 0.1), 3)).toEqual([{ class: 1, p: 0.3 }, { class: 3, p: 0.3 }, { class: 2, p: 0.2 }]);
    expect(topClasses(Float32Array.of(0.25, 0.75), 5)).toEqual([{ class: 1, p: 0.75 }, { class: 0, p: 0.25 }]);
    expect(topClasses(Float32Array.of(0.5, 0.5, 0.5), 2).map((t) => t.class)).toEqual([0, 1]);
  });
});

describe('examples/server.ts (a child process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-server-'));
  const modelPath = join(dir, 'tiny.safetensors');
  beforeAll(async () => { await save(model, modelPath); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** examples/server.ts on a free port; resolves once it listens. */
  async function startChild(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/server.ts', modelPath, '--input-shape', `1x${SIZE}x${SIZE}`, ...args], {
      cwd: root, env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /on http:\/\/localhost:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
    });
    return { child, port, exited, out: () => out };
  }

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    // A batch waits up to a minute for company, so the request is surely in flight at SIGTERM;
    // closing runs it at once.
    const { child, port, exited, out } = await startChild(['--max-delay-ms', '60000']);
    try {
      const inFlight = post(port, '/predict', png(SIZE, SIZE));
      for (;;) { // until the server holds the request in its batcher's queue
        const m = JSON.parse((await post(port, '/metrics', null, 'GET')).body);
        if (m.classifier.queued === 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGTERM');
      const reply = await inFlight;
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body).top).toHaveLength(4);
      expect(await exited).toBe(0);
      expect(out()).toMatch(/SIGTERM, finishing the requests in flight[\s\S]*closed/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('--workers decodes the uploads and runs them as batches on worker threads, with the same answers and errors', async () => {
    const { child, port, exited } = await startChild(['--workers', '1', '--mean', String(norm.mean), '--std', String(norm.std)]);
    try {
      const image = png(SIZE, SIZE, 5);
      const reply = await post(port, '/predict', image);
      expect(reply.status).toBe(200);
      const decoded = PNG.sync.read(image);
      const want = await predict(model, fromImage(decoded.data, { width: SIZE, height: SIZE, channels: 4, outputChannels: 1, ...norm }), { softmax: true });
      for (const t of JSON.parse(reply.body).top as Array<{ class: number; p: number }>) expect(t.p).toBeCloseTo(want.data[t.class]!, 5);
      // Decoded in a worker, bad uploads keep their status: wrong size, broken, not a PNG, in one turn.
      const bad = await Promise.all([png(SIZE + 1, SIZE), image.subarray(0, image.length - 20), Buffer.from('GIF89a')].map((b) => post(port, '/predict', b)));
      expect(bad.map((r) => r.status)).toEqual([422, 400, 415]);
      expect(JSON.parse(bad[0]!.body).error).toMatch(/wrong image size/);
      expect((await post(port, '/predict', image)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('explains a missing model file and exits 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/server.ts', join(dir, 'missing.safetensors')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/server: no model file at .*missing\.safetensors/);
  }, 60_000);
});
