// convkit beside onnxruntime-node (issue 12): the same model, the same weights (the convkit model
// exported with encodeOnnx and loaded from those bytes), the same inputs, in one process, at 1
// and 2 threads, in alternating rounds (bench/alternate.ts) so that a burst of load on this
// shared machine lands on every contender alike. Contenders: convkit eager
// (noGrad(() => model.forward(x)) in eval mode), compiled run() and await runAsync(), and
// onnxruntime's await session.run() (intraOpNumThreads = the thread count, interOpNumThreads 1,
// sequential execution, graphOptimizationLevel 'all'). Ratios are paired: the median over rounds
// of ORT's time / the contender's time in the same round (> 1: faster than ORT). No thresholds.
//
// onnxruntime-node is an optional peer, never a dependency; without it the convkit rows still run.
import { spawnSync } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { backendInfo, compile, conv2d, encodeOnnx, manualSeed, nn, noGrad, setNumThreads, tensor, type Tensor } from '../lib/index.js';
import { groupedBarPlot, svgProblem } from '../examples/common/svg.js';
import { alternate, medianSpeedup } from './alternate.js';
import { largestEventLoopGapMs } from './event-loop.js';
import { largestWakeLatencyMs } from './wake-latency.js';
import { randomArray } from './fill.js';
import { lenet } from './lenet-epoch.js';
import { median } from './stats.js';
import { markdownTable } from './table.js';

interface OrtTensor { dims: readonly number[]; data: Float32Array }
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtSessionOptions {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  executionMode: 'sequential';
  graphOptimizationLevel: 'all';
}
interface Ort {
  InferenceSession: { create(model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  env: { versions: Record<string, string | undefined> };
}

// A variable specifier, so that typecheck does not need the package either.
const ORT_PACKAGE = 'onnxruntime-node';
export const ORT_INSTALL = 'ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --ignore-scripts onnxruntime-node';
const THREADS = [1, 2];

interface Settings {
  /** Alternating rounds and the seconds each contender's batch of calls takes per round. */
  rounds: number;
  roundSeconds: number;
  /** The same for the conv layer (0.1-0.5 s a call). */
  convRounds: number;
  convRoundSeconds: number;
  /** Calls in a row while the event loop is watched: LeNet batch 256, the conv layer. */
  loopCalls: number;
  convLoopCalls: number;
  /** How long the idle baseline of the event loop watches, and the rounds of watching. */
  idleMs: number;
  loopRounds: number;
}
/** About 2 minutes on 2 cores. */
const REAL: Settings = { rounds: 11, roundSeconds: 0.25, convRounds: 7, convRoundSeconds: 0.6, loopCalls: 60, convLoopCalls: 3, idleMs: 150, loopRounds: 7 };
/** A smoke run: every row, few rounds; its figures mean little. */
const QUICK: Settings = { rounds: 3, roundSeconds: 0.04, convRounds: 2, convRoundSeconds: 0.05, loopCalls: 10, convLoopCalls: 2, idleMs: 100, loopRounds: 2 };

async function loadOrt(): Promise<Ort | null> {
  return import(ORT_PACKAGE).then((m) => (m.default ?? m) as Ort, () => null);
}

/** A timed contender; call may return a promise (awaited). */
interface Contender { name: string; call: () => unknown }

interface Case {
  /** The table's case column, and the chart's group label. */
  label: string;
  chart: string;
  /** The rate column from the median seconds per call. */
  rate: (seconds: number) => string;
  contenders: Contender[];
  ort: Contender | null;
  rounds: number;
  roundSeconds: number;
  minCalls: number;
}

interface Measured { label: string; /** The chart's group and series. */ group: string; series: string; threads: number; name: string; medianMs: number; rate: string; vsOrt: number | null; isOrt: boolean }
/**
 * gapMs: the median over rounds of each round's largest timer gap; rangeMs: the smallest and
 * largest of those; wakeMs: the same median for the largest wake-up latency (wake-latency.ts).
 */
interface Gap { label: string; threads: number; name: string; perCallMs: number; gapMs: number; rangeMs: [number, number]; wakeMs: number }

const volume = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/**
 * Node's own work on the libuv pool (crypto.pbkdf2) sized to take about `ms` a call: the floor for
 * the largest gap of any work run off the event loop in this pattern, since the loop's timer then
 * fires around the completions rather than every 1 ms.
 */
async function libuvPoolFloor(ms: number): Promise<Contender> {
  const hash = (iterations: number) => new Promise<void>((resolve, reject) => pbkdf2('convkit', 'salt', iterations, 32, 'sha256', (err) => (err ? reject(err) : resolve())));
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    await hash(2000);
    times.push(performance.now() - t0);
  }
  const iterations = Math.max(1, Math.round(2000 * ms / median(times.slice(1))));
  return { name: `node:crypto pbkdf2 on the libuv pool (${ms.toFixed(1)} ms, the floor)`, call: () => hash(iterations) };
}

/** The facts a reader needs to place the figures: CPU, cores, ISA, Node, ORT, commit. */
function machineFacts(ortVersion: string | null, settings: Settings, quick: boolean): string[] {
  const info = backendInfo();
  const git = spawnSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8' });
  return [
    `CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} logical cores`,
    `convkit ISA: ${info.native.isa ?? 'none (no native addon)'}${info.native.isaNote ? ` (${info.native.isaNote})` : ''}`,
    `Node ${process.version} ${process.platform}-${process.arch}`,
    `onnxruntime-node: ${ortVersion ?? `not installed (${ORT_INSTALL})`}`,
    `convkit commit: ${git.status === 0 ? git.stdout.trim() : 'unknown'}; ${new Date().toISOString()}`,
    `run: ${quick ? 'quick (smoke: few rounds, figures mean little)' : 'full'}; ${settings.rounds} rounds (conv layer ${settings.convRounds}), alternating, medians`,
  ];
}

export interface PeersReport {
  /** The markdown report (facts, table, notes, chart link), also written to markdownPath. */
  markdown: string;
  markdownPath: string;
  svgPath: string | null;
}

/** Runs the suite and writes bench/results/peers.md and peers.svg (peers-quick.* for --quick). */
export async function peersReport(root: string, quick: boolean): Promise<PeersReport> {
  const settings = quick ? QUICK : REAL;
  const info = backendInfo();
  if (!info.native.loaded) throw new Error(`peers: the native addon is not loaded (${info.native.error}); build it with npm run build:native`);
  const ort = await loadOrt();
  const ortVersion = ort ? (ort.env?.versions?.node ?? 'unknown version') : null;
  const notes: string[] = [];
  if (!ort) notes.push(`onnxruntime-node is not installed: convkit rows only, no ratios. Install it without saving (it is an optional peer, not a dependency): \`${ORT_INSTALL}\``);
  const facts = machineFacts(ortVersion, settings, quick);
  for (const f of facts) console.log(`peers: ${f}`);
  if (!ort) console.log(`peers: ${notes[0]}`);

  // The models and inputs, shared by every contender.
  manualSeed(1);
  const model = lenet().eval();
  const compiledLenet = compile(model, { inputShape: [1, 32, 32] });
  const lenetBytes = encodeOnnx(model, { inputShape: [1, 32, 32] });
  const lenetX = new Map([1, 256].map((n) => [n, tensor(randomArray(n * 32 * 32, 31 + n), [n, 1, 32, 32])]));
  const convShape = [64, 64, 56, 56];
  const layer = new nn.Conv2d(64, 64, 3, { padding: 1 });
  const convModel = new nn.Sequential(layer).eval();
  const compiledConv = compile(convModel, { inputShape: convShape.slice(1) });
  const convBytes = encodeOnnx(convModel, { inputShape: convShape.slice(1) });
  const convX = tensor(randomArray(volume(convShape), 41), convShape);
  const convFlops = 2 * 64 * 64 * 64 * 56 * 56 * 9;

  // convkit's results are disposed as they come (their memory serves the next call); ORT's are
  // plain arrays it allocates per call, left to the GC, as its API hands them out.
  const eager = (m: nn.Module, x: Tensor) => () => noGrad(() => m.forward(x)).dispose();
  const run = (c: ReturnType<typeof compile>, x: Tensor) => () => c.run(x).dispose();
  const runAsync = (c: ReturnType<typeof compile>, x: Tensor) => async () => (await c.runAsync(x)).dispose();
  const eagerConv = () => noGrad(() => conv2d(convX, layer.weight, layer.bias, { padding: 1 })).dispose();

  const measured: Measured[] = [];
  const gaps: Gap[] = [];
  const savedThreads = info.native.numThreads ?? 1;
  try {
    for (const threads of THREADS) {
      setNumThreads(threads);
      const options: OrtSessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
      const lenetSession = ort ? await ort.InferenceSession.create(lenetBytes, options) : null;
      const convSession = ort ? await ort.InferenceSession.create(convBytes, options) : null;
      try {
        const feed = (x: Tensor) => ({ input: new ort!.Tensor('float32', x.data, x.shape) });
        const ortCall = (session: OrtSession | null, x: Tensor): Contender | null => {
          if (!session) return null;
          const feeds = feed(x);
          return { name: `onnxruntime-node ${ortVersion}`, call: () => session.run(feeds) };
        };
        // The same weights give the same outputs, or the comparison means nothing (once per run).
        if (threads === THREADS[0] && lenetSession && convSession) {
          const x = lenetX.get(256)!;
          const lenetDiff = maxAbsDiff((await lenetSession.run(feed(x))).output.data, compiledLenet.run(x).data);
          const convDiff = maxAbsDiff((await convSession.run(feed(convX))).output.data, compiledConv.run(convX).data);
          notes.push(`same weights: max |ORT - convkit compiled| = ${lenetDiff.toExponential(1)} on LeNet's batch-256 logits, ${convDiff.toExponential(1)} on the conv layer's output`);
          if (!(lenetDiff < 1e-3 && convDiff < 1e-3)) throw new Error(`peers: onnxruntime and convkit disagree (LeNet ${lenetDiff}, conv ${convDiff}): the exported model is not the same model`);
        }
        const lenetContenders = (x: Tensor): Contender[] => [
          { name: 'convkit eager', call: eager(model, x) },
          { name: 'convkit compiled run', call: run(compiledLenet, x) },
          { name: 'convkit compiled runAsync', call: runAsync(compiledLenet, x) },
        ];
        const cases: Case[] = [
          { label: 'LeNet-5 batch 256', chart: 'LeNet b256', rate: (s) => `${(256 / s).toFixed(0)} img/s`,
            contenders: lenetContenders(lenetX.get(256)!), ort: ortCall(lenetSession, lenetX.get(256)!),
            rounds: settings.rounds, roundSeconds: settings.roundSeconds, minCalls: 3 },
          { label: 'LeNet-5 batch 1 latency', chart: 'LeNet b1', rate: (s) => `${(s * 1e3).toFixed(3)} ms`,
            contenders: lenetContenders(lenetX.get(1)!), ort: ortCall(lenetSession, lenetX.get(1)!),
            rounds: settings.rounds, roundSeconds: settings.roundSeconds, minCalls: 20 },
          { label: 'conv N64 64->64 56x56 3x3 pad 1', chart: 'conv 64->64 56x56', rate: (s) => `${(convFlops / s / 1e9).toFixed(1)} GFLOP/s`,
            contenders: [{ name: 'convkit eager conv2d', call: eagerConv }, { name: 'convkit compiled run', call: run(compiledConv, convX) },
              { name: 'convkit compiled runAsync', call: runAsync(compiledConv, convX) }],
            ort: ortCall(convSession, convX), rounds: settings.convRounds, roundSeconds: settings.convRoundSeconds, minCalls: 1 },
        ];
        for (const c of cases) {
          const all = c.ort ? [...c.contenders, c.ort] : c.contenders;
          const { perCall, callsPerRound } = await alternate(all.map((v) => v.call), { rounds: c.rounds, roundSeconds: c.roundSeconds, minCalls: c.minCalls });
          const ortSeconds = c.ort ? perCall[perCall.length - 1] : null;
          all.forEach((v, i) => {
            const s = median(perCall[i]);
            measured.push({ label: c.label, group: `${c.chart}\n${threads} thread${threads > 1 ? 's' : ''}`, series: v.name.replace(/ conv2d$/, ''), threads, name: v.name, medianMs: s * 1e3, rate: c.rate(s),
              vsOrt: ortSeconds ? medianSpeedup(perCall[i], ortSeconds) : null, isOrt: v === c.ort });
          });
          console.log(`peers: ${c.label}, ${threads} thread${threads > 1 ? 's' : ''}: ${c.rounds} rounds x ${callsPerRound} calls`);
        }

        // The event loop while calls run back to back, beside an idle baseline, in alternating
        // rounds: a single largest gap is mostly the VM's scheduling noise (an idle loop's ranges
        // from 1.2 to 3 ms here), so each row is the median over rounds of each round's largest gap.
        const lenetAsyncMs = median(measured.filter((m) => m.threads === threads && m.label === 'LeNet-5 batch 256' && m.name === 'convkit compiled runAsync').map((m) => m.medianMs));
        const loops: Array<[string, number, Contender[]]> = [
          ['LeNet-5 batch 256', settings.loopCalls, [
            { name: 'convkit compiled runAsync', call: runAsync(compiledLenet, lenetX.get(256)!) },
            await libuvPoolFloor(lenetAsyncMs),
            { name: 'convkit compiled run (sync)', call: run(compiledLenet, lenetX.get(256)!) },
            ...(lenetSession ? [ortCall(lenetSession, lenetX.get(256)!)!] : [])]],
          ['conv N64 64->64 56x56', settings.convLoopCalls, [
            { name: 'convkit compiled runAsync', call: runAsync(compiledConv, convX) },
            ...(convSession ? [ortCall(convSession, convX)!] : [])]],
        ];
        const watched: Array<{ label: string; name: string; calls: number; call: (() => unknown) | null; gapsMs: number[]; wakesMs: number[]; ms: number[] }> = [
          { label: 'idle', name: `idle baseline (setTimeout ${settings.idleMs} ms)`, calls: 0, call: null, gapsMs: [], wakesMs: [], ms: [] },
          ...loops.flatMap(([label, calls, contenders]) => contenders.map((v) => ({ label: `${label}, ${calls} calls in a row`, name: v.name, calls, call: v.call, gapsMs: [], wakesMs: [], ms: [] }))),
        ];
        const workOf = (w: (typeof watched)[number]) => async () => {
          if (!w.call) return new Promise((resolve) => setTimeout(resolve, settings.idleMs));
          for (let i = 0; i < w.calls; i++) {
            await w.call();
            await new Promise(setImmediate); // a turn of the loop between calls, as between a server's requests
          }
        };
        for (let round = 0; round < settings.loopRounds; round++) {
          for (const w of watched) {
            const t0 = performance.now();
            w.gapsMs.push(await largestEventLoopGapMs(workOf(w)));
            w.ms.push((performance.now() - t0) / Math.max(1, w.calls));
            // Apart from the timer: the probe's own messages wake the loop, which would stretch its ticks.
            w.wakesMs.push(await largestWakeLatencyMs(workOf(w)));
          }
        }
        for (const w of watched) {
          gaps.push({ label: w.label, threads, name: w.name, perCallMs: w.call ? median(w.ms) : NaN, gapMs: median(w.gapsMs), rangeMs: [Math.min(...w.gapsMs), Math.max(...w.gapsMs)], wakeMs: median(w.wakesMs) });
        }
      } finally {
        await lenetSession?.release();
        await convSession?.release();
      }
    }
  } finally {
    setNumThreads(savedThreads);
  }

  const table = markdownTable(['case', 'threads', 'contender', 'median ms/call', 'rate', 'vs ORT'],
    measured.map((m) => [m.label, String(m.threads), m.name, m.medianMs.toFixed(3), m.rate, m.isOrt ? '1 (peer)' : m.vsOrt === null ? '-' : `${m.vsOrt.toFixed(2)}x`]),
    [1, 3, 4, 5]);
  const gapTable = markdownTable(['event loop while', 'threads', 'contender', 'ms/call', 'largest gap ms (median of rounds)', 'range over rounds', 'largest wake-up latency ms (median)'],
    gaps.map((g) => [g.label, String(g.threads), g.name, Number.isNaN(g.perCallMs) ? '-' : g.perCallMs.toFixed(2), g.gapMs.toFixed(2), `${g.rangeMs[0].toFixed(2)}-${g.rangeMs[1].toFixed(2)}`, g.wakeMs.toFixed(2)]),
    [1, 3, 4, 5, 6]);
  if (ort) notes.push('vs ORT: the median over rounds of (ORT time / contender time) in the same round; > 1 is faster than onnxruntime-node. ' +
    'Rate and median ms are each contender\'s own median over rounds.');
  notes.push(`Event loop: the largest gap between the ticks of a 1 ms timer while the calls run, with a turn of the loop between calls, ` +
    `in ${settings.loopRounds} rounds that alternate the idle baseline and every contender; the median over rounds is shown. ` +
    'A gap near the idle baseline means the loop never stalled. The pbkdf2 row is Node\'s own work on the libuv pool, sized like ' +
    'runAsync\'s calls: what any off-loop work gets in this pattern, because the timer then fires around the completions ' +
    '(libuv computes its waits from a clock in whole milliseconds, so a completion just before a tick delays the tick by up to ~1 ms). ' +
    'The wake-up latency column is a probe without that quantization, in rounds of its own: a worker thread posts its clock every 0.5 ms ' +
    'and the largest age of a message when the loop takes it is the longest the loop was unavailable.');
  if (ort) notes.push('onnxruntime-node\'s session.run does its work on the main thread (in a setImmediate), so its largest gap is about one call; ' +
    'convkit\'s runAsync runs the forward pass on a libuv worker.');
  if (ort) notes.push('ORT session options other than intraOpNumThreads, interOpNumThreads 1, executionMode sequential and graphOptimizationLevel all are its defaults ' +
    '(with 2 threads its pool threads spin-wait briefly after each call, as they do for its users).');

  const base = quick ? 'peers-quick' : 'peers';
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  let svgPath: string | null = null;
  const ratioRows = measured.filter((m) => m.vsOrt !== null && !m.isOrt);
  if (ratioRows.length > 0) {
    const groups = [...new Set(ratioRows.map((m) => m.group))];
    const names = [...new Set(ratioRows.map((m) => m.series))];
    const svg = groupedBarPlot({
      title: `convkit speed vs onnxruntime-node ${ortVersion}, paired rounds in one run${quick ? ' (quick)' : ''}`,
      groups,
      series: names.map((name) => ({ name, values: groups.map((g) => ratioRows.find((m) => m.group === g && m.series === name)?.vsOrt ?? NaN) })),
      yLabel: 'speed vs onnxruntime-node (x)',
      reference: { value: 1, label: 'onnxruntime-node = 1' },
      format: (v) => `${v.toFixed(2)}x`,
    });
    const problem = svgProblem(svg);
    if (problem) throw new Error(`peers: the chart is not well-formed SVG: ${problem}`);
    svgPath = join(dir, `${base}.svg`);
    writeFileSync(svgPath, svg);
  } else {
    rmSync(join(dir, `${base}.svg`), { force: true }); // not an earlier run's chart beside this report
    notes.push('no chart: the ratios need onnxruntime-node');
  }

  const markdown = [
    `# convkit vs onnxruntime-node${quick ? ' (quick run)' : ''}`,
    '',
    ...facts.map((f) => `- ${f}`),
    '',
    table,
    '',
    gapTable,
    '',
    ...notes.map((n) => `- ${n}`),
    ...(svgPath ? ['', `![convkit speed vs onnxruntime-node](${base}.svg)`] : []),
    '',
  ].join('\n');
  const markdownPath = join(dir, `${base}.md`);
  writeFileSync(markdownPath, markdown);
  return { markdown, markdownPath, svgPath };
}
