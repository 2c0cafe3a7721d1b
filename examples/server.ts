// An HTTP inference server for the LeNet that `npm start` trains and saves
// (out/lenet/lenet.safetensors), or any model file given.
//
//   npm run serve -- [MODEL_FILE] [--input-shape 1x32x32] [--mean 0.1307] [--std 0.3081]
//                    [--max-batch 32] [--max-delay-ms 2] [--max-queue 1024] [--max-body-bytes 1048576]
//                    [--workers N]     (N worker threads decode the uploads and run them as batches: only HTTP stays on the event loop)
//                    [--worker-priority idle|0-19]  (idle, the default: the workers use only CPU time that nothing else wants)
//   PORT=3000 (default; 0 picks a free port), HOST (default: every interface)
//
//   curl -s --data-binary @digit.png http://localhost:3000/predict
//   {"top":[{"class":7,"p":0.98},...]}     the 5 most likely classes, softmax probabilities
//   GET /healthz, GET /metrics (event-loop delay p50/p99/max in ms, counts; ?reset=1 restarts them)
//
// The PNG must have the model's input size (32x32 for LeNet), gray, RGB or RGBA; pixels are
// scaled to [0, 1] and normalised with --mean/--std (MNIST's by default, as LeNet was trained).
// A MODEL_FILE ending in .onnx is served by onnxruntime-node instead (the bench compares both).
// SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit 0.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBatcher, createWorkerPool, data, load, setNumThreads, type InferFunction, type nn } from '../lib/index.js';
import { repoRoot } from './common/cli.js';
import { createPredictServer } from './serve/app.js';
import { batcherClassifier, poolClassifier, type UploadClassifier } from './serve/classifiers.js';
import { createOrtInfer } from './serve/ort-backend.js';

const DEFAULT_MODEL = resolve(repoRoot, 'out', 'lenet', 'lenet.safetensors');

function usageError(message: string): never {
  process.stderr.write(`server: ${message}\n`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        'input-shape': { type: 'string', default: '1x32x32' },
        mean: { type: 'string', default: String(data.MNIST_MEAN) },
        std: { type: 'string', default: String(data.MNIST_STD) },
        'max-batch': { type: 'string', default: '32' },
        'max-delay-ms': { type: 'string', default: '2' },
        'max-queue': { type: 'string', default: '1024' },
        'max-body-bytes': { type: 'string', default: String(2 ** 20) },
        workers: { type: 'string', default: '0' },
        'worker-priority': { type: 'string', default: 'idle' },
      },
    });
  } catch (err) {
    return usageError((err as Error).message);
  }
})();

function numbers(name: string, text: string, sep: string): number[] {
  const list = text.split(sep).map(Number);
  if (list.some((v) => !Number.isFinite(v))) usageError(`--${name} must be numbers separated by '${sep}', got '${text}'`);
  return list;
}
const one = (name: string, text: string) => numbers(name, text, ',')[0]!;
const perChannel = (name: string, text: string) => { const v = numbers(name, text, ','); return v.length === 1 ? v[0]! : v; };

if (positionals.length > 1) usageError(`one model file at most, got ${positionals.length}`);
const modelPath = resolve(positionals[0] ?? DEFAULT_MODEL);
if (!existsSync(modelPath)) {
  usageError(positionals[0] ? `no model file at ${modelPath}` : `no model at ${modelPath}: run \`npm start\` first (it trains LeNet and saves it there), or pass a model file`);
}
const inputShape = numbers('input-shape', values['input-shape']!, 'x');
if (inputShape.length !== 3 || ![1, 3].includes(inputShape[0]!)) usageError(`--input-shape must be CxHxW with C 1 or 3, got '${values['input-shape']}'`);

const mean = perChannel('mean', values.mean!), std = perChannel('std', values.std!);
const workers = one('workers', values.workers!);
if (!Number.isInteger(workers) || workers < 0) usageError(`--workers must be a non-negative integer, got '${values.workers}'`);
if (workers > 0 && modelPath.endsWith('.onnx')) usageError('--workers serves convkit model files; ONNX Runtime has its own threads');
// A server first: by default the workers run only on CPU time that the event loop (and anything
// else on the machine) leaves, so that the loop never waits for them. On a machine shared with
// other busy work, give them a nice value instead (10 is createWorkerPool's default).
const workerPriority = values['worker-priority'] === 'idle' ? 'idle' : one('worker-priority', values['worker-priority']!);

const maxBatch = one('max-batch', values['max-batch']!), maxQueue = one('max-queue', values['max-queue']!);
// What answers an upload: a pool of worker threads that decode and run them (png-preprocess.ts),
// or, in this thread, a batcher over the model or over ONNX Runtime.
let classifier: UploadClassifier;
try {
  if (workers > 0) {
    // Each worker runs its batch on its own thread: a LeNet batch is too small to split, and the
    // pool's spinning threads would take the cores the workers and the event loop need. (The
    // native thread pool is one per process, so this covers every worker.)
    setNumThreads(1);
    const preprocess = new URL(`./serve/png-preprocess${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
    classifier = poolClassifier(await createWorkerPool(modelPath, {
      threads: workers, softmax: true, maxBatch, maxQueue, priority: workerPriority, preprocess, preprocessOptions: { inputShape, mean, std },
    }));
  } else {
    const infer: InferFunction | nn.Module = modelPath.endsWith('.onnx') ? await createOrtInfer(modelPath) : await load(modelPath);
    const batcher = createBatcher(infer, { inputShape, softmax: true, maxBatch, maxDelayMs: one('max-delay-ms', values['max-delay-ms']!), maxQueue });
    classifier = batcherClassifier(batcher, { mean, std });
  }
} catch (err) {
  usageError(`cannot serve ${modelPath}: ${(err as Error).message}`);
}
const app = createPredictServer({ classifier, maxBodyBytes: one('max-body-bytes', values['max-body-bytes']!) });

const port = process.env.PORT === undefined ? 3000 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) usageError(`PORT must be an integer in [0, 65535], got '${process.env.PORT}'`);
app.server.on('error', (err) => usageError(`cannot listen on port ${port}: ${err.message}`));
app.server.listen(port, process.env.HOST, () => {
  const address = app.server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  // One line that tests and the bench read: the port actually bound.
  const where = workers > 0 ? `, ${workers} worker threads` : '';
  console.log(`server: serving ${modelPath} (input ${inputShape.join('x')}${where}) on http://localhost:${actual}`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    console.log(`server: ${signal}, finishing the requests in flight`);
    // In case a client holds a request open: give up after 10 s.
    setTimeout(() => process.exit(1), 10_000).unref();
    app.close().then(() => {
      console.log('server: closed');
      process.exit(0);
    }, (err: unknown) => {
      console.error('server: error while closing', err);
      process.exit(1);
    });
  });
}
