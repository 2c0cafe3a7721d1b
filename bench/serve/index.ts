// npm run bench:serve: autocannon against examples/server.ts at 1, 16 and 64 concurrent
// connections, POSTing a 32x32 PNG to /predict: requests/s, latency p50/p99, and the server's
// own event-loop delay p99 (perf_hooks.monitorEventLoopDelay, read from its /metrics). Beside
// it, when onnxruntime-node is installed, the same server logic on ONNX
// Runtime with the same weights. Results: a markdown table and an SVG bar chart.
//
//   npm run bench:serve -- [--duration 5] [--rounds 3] [--connections 1,16,64] [--workers N] [--worker-priority idle,10] [--client-nice 10] [--server-cpus LIST] [--out DIR] [--docs]
//
// autocannon stands in for clients on other machines, but shares the servers' cores here. It runs
// at --client-nice (default 10) so that it takes the CPU the servers leave rather than competing
// with their event loops for it: a loop woken on the core where the client runs otherwise waits
// behind it, up to the scheduler's next tick (4 ms at HZ=250), which is the client's cost, not the
// server's. --client-nice 0 measures the servers at the client's own priority.
//
// --server-cpus runs each server under `taskset -c LIST`; with the bench itself on the other
// CPUs (`taskset -c 1 npm run bench:serve -- --server-cpus 0`) autocannon gets a core of its own.
//
// Three servers when all is there: convkit in one process, convkit with N worker threads
// (default: one per core, at the server's default priority, idle; 0 skips it; --worker-priority
// with a list starts one such server per priority, to compare them in one run), and ONNX Runtime. They run side by side, and each
// row is the median of --rounds runs that alternate between them round by round.
//
// The model is the LeNet that `npm start` saved (out/lenet/lenet.safetensors), else the same
// architecture with seeded random weights: the weights change the answers, not the speed.
// --docs also writes the chart to docs/img/serve-bench.svg for the README.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus as cpuList, getPriority, loadavg, setPriority, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { PNG } from 'pngjs';
import { backendInfo, exportOnnx, load, manualSeed, nn, save } from '../../lib/index.js';
import { importOrt, ORT_INSTALL_HINT } from '../../examples/serve/ort-backend.js';
import { barChartSvg, markdownTable, type ServeRow } from './report.js';
import { median } from '../measure.js';
import { startServer, type ServerProcess } from './server-process.js';

const cpuCount = () => cpuList().length;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '1,16,64' },
    workers: { type: 'string', default: String(availableParallelism()) },
    'worker-priority': { type: 'string' },
    'client-nice': { type: 'string', default: '10' },
    out: { type: 'string', default: join(root, 'out', 'bench-serve') },
    'server-cpus': { type: 'string' },
    docs: { type: 'boolean', default: false },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const connectionCounts = values.connections!.split(',').map(Number);
const workers = Number(values.workers);
// undefined: the server's default; else one worker server per priority given.
const workerPriorities = values['worker-priority']?.split(',') ?? [undefined];
const clientNice = Number(values['client-nice']);
const validPriority = (p: string | undefined) => p === undefined || p === 'idle' || (/^\d+$/.test(p) && Number(p) <= 19);
if (!(duration > 0) || !Number.isInteger(rounds) || rounds < 1 || connectionCounts.some((c) => !Number.isInteger(c) || c < 1) || !Number.isInteger(workers) || workers < 0 ||
  !workerPriorities.every(validPriority) || !Number.isInteger(clientNice) || clientNice < 0 || clientNice > 19) {
  console.error('bench:serve: --duration must be a positive number of seconds, --rounds a positive integer, --connections positive integers like 1,16,64, --workers a non-negative integer, --worker-priority a list of idle or 0-19, --client-nice 0-19');
  process.exit(2);
}
const loadAtStart = loadavg()[0]!;
const outDir = resolve(values.out!);
mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'convkit-bench-serve-'));

/** The saved LeNet, or one with seeded random weights. */
async function lenetFile(): Promise<{ path: string; note: string }> {
  const saved = join(root, 'out', 'lenet', 'lenet.safetensors');
  if (existsSync(saved)) return { path: saved, note: `the LeNet that npm start saved (${saved})` };
  manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 6, 5), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10));
  const path = join(tmp, 'lenet.safetensors');
  await save(model, path);
  return { path, note: 'LeNet-5 with seeded random weights (no out/lenet/lenet.safetensors: run npm start for the trained one)' };
}

function digitPng(): Buffer {
  const image = new PNG({ width: 32, height: 32 });
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
    const v = Math.abs(x - 16) < 3 && y > 5 && y < 27 ? 255 : 0; // a "1"
    image.data.set([v, v, v, 255], (y * 32 + x) * 4);
  }
  return PNG.sync.write(image);
}

interface Contender {
  name: string;
  server: ServerProcess;
}

/** One autocannon run against one server at `connections`, with the server's own figures. */
async function runOnce({ name, server }: Contender, connections: number, body: Buffer): Promise<ServeRow> {
  await server.metrics(true);
  const waited = server.loopWaitNs();
  const r = await autocannon({ url: `${server.url}/predict`, connections, duration, method: 'POST', body, headers: { 'content-type': 'image/png' } });
  const m = await server.metrics();
  const waitedAfter = server.loopWaitNs();
  const loopWaitPct = waited === null || waitedAfter === null ? null : (waitedAfter - waited) / 1e7 / duration;
  const row: ServeRow = {
    backend: name, connections, requestsPerSecond: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99,
    loopP99Ms: m.eventLoopDelayMs.p99, loopWaitPct, failures: r.non2xx + r.errors + r.timeouts,
  };
  console.log(`${name}, ${connections} connections: ${Math.round(row.requestsPerSecond)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, event-loop p99 ${row.loopP99Ms} ms${loopWaitPct === null ? '' : ` (waiting for a CPU ${Math.round(loopWaitPct)}% of the run)`}, failures ${row.failures}`);
  return row;
}

/** Each figure's median over the rounds (failures: their sum). */
function medianRow(runs: ServeRow[]): ServeRow {
  const waits = runs.map((r) => r.loopWaitPct).filter((w): w is number => w !== null);
  return {
    backend: runs[0]!.backend, connections: runs[0]!.connections,
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)), p50Ms: median(runs.map((r) => r.p50Ms)), p99Ms: median(runs.map((r) => r.p99Ms)),
    loopP99Ms: median(runs.map((r) => r.loopP99Ms)), loopWaitPct: waits.length === runs.length ? median(waits) : null,
    failures: runs.reduce((n, r) => n + r.failures, 0),
  };
}

/**
 * Every server runs at once (an idle one costs nothing), and each connection count is measured
 * in rounds that alternate between them, so that a change in the machine's load reaches every
 * server alike; each row is the median of its rounds.
 */
async function measureAll(contenders: Contender[]): Promise<ServeRow[]> {
  const body = digitPng();
  // A warm-up at the largest load: first-call costs (lazy init, JIT) and the heap's growth to
  // its steady size stay out of the figures (the first seconds under load scavenge far more).
  const warmUp = Math.max(...connectionCounts);
  for (const { server } of contenders) await autocannon({ url: `${server.url}/predict`, connections: warmUp, duration: 3, method: 'POST', body });
  const rows = contenders.map(() => [] as ServeRow[]); // per server, per connection count
  for (const connections of connectionCounts) {
    const runs = contenders.map(() => [] as ServeRow[]);
    for (let round = 0; round < rounds; round++) {
      for (const [i, contender] of contenders.entries()) runs[i]!.push(await runOnce(contender, connections, body));
    }
    runs.forEach((r, i) => rows[i]!.push(medianRow(r)));
  }
  return rows.flat();
}

/** The ONNX file of the same weights, or why the ORT side is skipped. */
async function onnxFile(modelPath: string): Promise<{ path: string } | { skip: string }> {
  if (!(await importOrt())) return { skip: `onnxruntime-node is not installed (${ORT_INSTALL_HINT})` };
  const path = join(tmp, 'lenet.onnx');
  await exportOnnx(await load(modelPath), path, { inputShape: [1, 32, 32] });
  return { path };
}

try {
  const info = backendInfo();
  const model = await lenetFile();
  console.log(`bench:serve: ${model.note}; backend ${info.native.isa ? `cpu (${info.native.isa}, ${info.native.numThreads} threads)` : 'js'}; ${rounds} rounds of ${duration} s per row`);
  const rows: ServeRow[] = [];
  const onnx = await onnxFile(model.path);
  const cpus = values['server-cpus'];
  const contenders: Contender[] = [];
  try {
    contenders.push({ name: 'convkit', server: await startServer(root, model.path, [], cpus) });
    for (const priority of workers > 0 ? workerPriorities : []) {
      const name = `convkit, ${workers} worker${workers === 1 ? '' : 's'}${priority === undefined ? '' : ` (priority ${priority})`}`;
      const args = ['--workers', String(workers), ...(priority === undefined ? [] : ['--worker-priority', priority])];
      contenders.push({ name, server: await startServer(root, model.path, args, cpus) });
    }
    if ('path' in onnx) contenders.push({ name: 'onnxruntime-node', server: await startServer(root, onnx.path, [], cpus) });
    if (getPriority() < clientNice) setPriority(clientNice); // this thread is autocannon's; the servers, started above, keep theirs
    rows.push(...(await measureAll(contenders)));
  } finally {
    await Promise.all(contenders.map(({ server }) => server.stop()));
  }
  const where = cpus === undefined ? 'sharing every CPU' : `the servers on CPUs ${cpus} (taskset)`;
  const notes = [`Model: ${model.note}. Each row: the median of ${rounds} runs of ${duration} s, alternating between the servers round by round; each server in its own process, autocannon in the bench's at nice ${clientNice}, ${where}; ${cpuCount()} CPUs, load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end.`];
  if (!('path' in onnx)) {
    console.log(`bench:serve: ORT side skipped: ${onnx.skip}`);
    notes.push(`ORT side skipped: ${onnx.skip}.`);
  }
  const table = markdownTable(rows);
  writeFileSync(join(outDir, 'results.md'), `${table}\n${notes.join('\n')}\n`);
  const svg = barChartSvg(rows, 'LeNet-5 over HTTP: requests/s (POST /predict, 32x32 PNG)');
  writeFileSync(join(outDir, 'serve-bench.svg'), svg);
  if (values.docs) writeFileSync(join(root, 'docs', 'img', 'serve-bench.svg'), svg);
  console.log(`\n${table}\n${notes.join('\n')}\nwritten: ${join(outDir, 'results.md')}, ${join(outDir, 'serve-bench.svg')}${values.docs ? ', docs/img/serve-bench.svg' : ''}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
