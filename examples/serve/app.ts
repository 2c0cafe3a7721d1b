// The HTTP side of examples/server.ts, on node:http: POST /predict (a PNG) answers the 5 most
// likely classes, GET /healthz, GET /metrics (event-loop delay, counts, the classifier's stats).
// What turns an upload into probabilities is given (classifiers.ts: a batcher in this process,
// or a worker pool), so the same server serves convkit or ONNX Runtime for the bench. Every bad
// request gets a 4xx JSON error and the server keeps serving; close() lets in-flight requests finish.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ClosedError, QueueFullError } from '../../lib/index.js';
import type { UploadClassifier } from './classifiers.js';
import { HttpError } from './http-error.js';
import { createTickBudget } from './tick-budget.js';

export interface PredictServerOptions {
  /** Answers one upload with its class probabilities. */
  classifier: UploadClassifier;
  /** The largest body accepted, in bytes (default 1 MiB); larger is a 413. */
  maxBodyBytes?: number;
  /** How many classes to answer (default 5). */
  top?: number;
  /**
   * The most time one turn of the event loop spends on request work (decoding, answering), in
   * ms (default 2); the rest waits a turn (tick-budget.ts), so that a burst of uploads or of
   * answers does not hold timers and new connections back for its whole length.
   */
  turnBudgetMs?: number;
}

export interface PredictServer {
  server: Server;
  /** Stops accepting connections, lets in-flight requests finish, then closes the classifier. */
  close(): Promise<void>;
}

export function createPredictServer(options: PredictServerOptions): PredictServer {
  const { classifier } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 2 ** 20;
  const topK = options.top ?? 5;
  const turn = createTickBudget(options.turnBudgetMs ?? 2);
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const counts = { requests: 0, ok: 0, clientErrors: 0, serverErrors: 0 };
  let closing: Promise<void> | null = null;

  const server = createServer((req, res) => {
    counts.requests++;
    handle(req, res).catch((err: unknown) => fail(res, err));
  });
  // A body sent slower than this (or shorter than its Content-Length) does not hold a socket forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  // One AbortController per connection, aborted when the client hangs up, takes that client's
  // requests out of the queue. Cheaper than one per request (an AbortSignal is an
  // EventTarget, with a Map of listeners), and the same, since a connection's requests go together.
  const hangups = new WeakMap<Socket, AbortController>();
  server.on('connection', (socket: Socket) => {
    const hangup = new AbortController();
    hangups.set(socket, hangup);
    socket.once('close', () => hangup.abort());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The path by hand: a URL object per request is garbage the event loop pays for in GC pauses.
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const path = query < 0 ? target : target.slice(0, query);
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed('GET');
      return send(res, closing ? 503 : 200, { status: closing ? 'closing' : 'ok' });
    }
    if (path === '/metrics') {
      if (req.method !== 'GET') throw methodNotAllowed('GET');
      const body = metrics(loopDelay);
      if (query >= 0 && new URLSearchParams(target.slice(query + 1)).get('reset') === '1') loopDelay.reset();
      return send(res, 200, { ...body, ...counts, classifier: classifier.stats });
    }
    if (path !== '/predict') throw new HttpError(404, `no route ${path}: POST /predict, GET /healthz, GET /metrics`);
    if (req.method !== 'POST') throw methodNotAllowed('POST');
    const body = await readBody(req, maxBodyBytes);
    await turn();
    const answer = classifier.classify(body, hangups.get(req.socket)?.signal);
    if (closing) classifier.flush(); // shutting down: no waiting for others to join the batch
    const probabilities = await answer;
    await turn(); // a batch's answers come back together: spread them over turns too
    send(res, 200, { top: topClasses(probabilities, topK) });
  }

  function fail(res: ServerResponse, err: unknown): void {
    if (err instanceof HttpError) {
      if (err.allow) res.setHeader('Allow', err.allow);
      return send(res, err.status, { error: err.message });
    }
    if (err instanceof QueueFullError || err instanceof ClosedError) {
      res.setHeader('Retry-After', '1');
      return send(res, 503, { error: err.message });
    }
    if ((err as Error)?.name === 'AbortError') return; // the client left; nobody to answer
    console.error('server: unexpected error', err);
    send(res, 500, { error: 'internal error' });
  }

  function send(res: ServerResponse, status: number, body: object): void {
    if (res.headersSent || res.destroyed) return;
    if (status >= 500) counts.serverErrors++;
    else if (status >= 400) counts.clientErrors++;
    else counts.ok++;
    const text = JSON.stringify(body);
    // Closing or after a 413 (whose body may still be coming), the connection is not reused.
    const close = closing !== null || status === 413;
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...(close ? { Connection: 'close' } : {}) });
    res.end(text);
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve())); // waits for in-flight requests
      server.closeIdleConnections();
      classifier.flush(); // what is queued runs now; requests still uploading are flushed as they arrive
      await closed;
      await classifier.close();
      loopDelay.disable();
    })();
    return closing;
  }

  return { server, close };
}

function methodNotAllowed(allow: string): HttpError {
  return new HttpError(405, `method not allowed: use ${allow}`, allow);
}

/** The body as one Buffer, or a 413 as soon as it is known to pass the limit (from Content-Length, or while reading). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume(); // discard, never buffer; the 413 closes the connection
    return Promise.reject(new HttpError(413, `body too large: ${declared} bytes, the limit is ${limit}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `body too large: more than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    // A client that hangs up mid-upload is its own problem, not a server error.
    req.on('error', (err) => reject(new HttpError(400, `request body: ${err.message}`)));
    req.on('close', () => { if (!req.complete) reject(new HttpError(400, 'request body: the connection closed before the whole body came')); });
  });
}

/** The k most likely classes, best first (ties in class order), without sorting them all. */
export function topClasses(probs: Float32Array, k: number): Array<{ class: number; p: number }> {
  const best: number[] = []; // class indices, most likely first
  for (let c = 0; c < probs.length; c++) {
    let i = best.length;
    while (i > 0 && probs[c]! > probs[best[i - 1]!]!) i--;
    if (i < k) {
      best.splice(i, 0, c);
      if (best.length > k) best.pop();
    }
  }
  return best.map((c) => ({ class: c, p: Number(probs[c]!.toFixed(6)) }));
}

function metrics(h: IntervalHistogram): object {
  const ms = (ns: number) => Number((ns / 1e6).toFixed(3));
  return { eventLoopDelayMs: { mean: ms(h.mean), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) } };
}
