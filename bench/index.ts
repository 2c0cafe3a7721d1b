// npm run bench: every suite, one table. Ratios against peers are measured in the same run,
// because the machines are shared and noisy.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo } from '../lib/index.js';
import { arithRows, convRows, gemmRows, layoutRows, maxPoolRows, optimRows } from './ops.js';
import { eventLoopRows } from './event-loop-rows.js';
import { lenetEpochRows } from './lenet-epoch.js';
import { lenetStepRows } from './lenet-step.js';
import { matmulRows } from './matmul-api.js';
import { overheadRows } from './overhead.js';
import { peersReport } from './peers.js';
import { torchLenetRows } from './torch-lenet.js';
import { sgemmVsOpenblas } from './sgemm-openblas.js';
import { printTable, type Row } from './table.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const FLAGS = ['--quick'];
const badFlag = args.find((a) => a.startsWith('-') && !FLAGS.includes(a));
if (badFlag) throw new Error(`bench: unknown flag ${badFlag} (flags: ${FLAGS.join(', ')}; suites are named without dashes)`);
/** --quick (or CONVKIT_BENCH_QUICK=1): a smoke run of the suites that support it (peers). */
const quick = args.includes('--quick') || process.env.CONVKIT_BENCH_QUICK === '1';
const only = args.filter((a) => !a.startsWith('-'));
const wanted = (suite: string) => only.length === 0 || only.includes(suite);

const info = backendInfo();
console.log(`convkit bench: backends ${info.available.join(', ')}; isa ${info.native.isa ?? '-'}; threads ${info.native.numThreads ?? '-'}`);
if (info.native.error) console.log(`native: ${info.native.error}`);

const rows: Row[] = [];
const notes: string[] = [];
if (wanted('sgemm')) {
  const { rows: sgemm, note } = sgemmVsOpenblas(root);
  rows.push(...sgemm);
  if (note) notes.push(note);
}
if (wanted('gemm')) rows.push(...gemmRows());
if (wanted('conv')) rows.push(...convRows());
if (wanted('pool')) rows.push(...maxPoolRows());
if (wanted('optim')) rows.push(...optimRows());
if (wanted('arith')) rows.push(...arithRows());
if (wanted('layout')) rows.push(...layoutRows());
if (wanted('eventloop')) rows.push(...(await eventLoopRows()));
if (wanted('lenet')) rows.push(...(await lenetStepRows()), ...(await lenetEpochRows()));
if (wanted('overhead')) rows.push(...(await overheadRows()));
// Framework cost: the public API next to its kernels, and against peers in child processes.
// A torch epoch takes 20-60 s here, so the default run trains on 10000 images per epoch;
// `npm run bench -- torch` trains on all 60000.
const torchLimit = only.includes('torch') ? undefined : 10000;
for (const [suite, run] of [['matmul', () => matmulRows(root)], ['torch', () => torchLenetRows(torchLimit)]] as const) {
  if (!wanted(suite)) continue;
  const result = await run();
  rows.push(...result.rows);
  notes.push(...result.notes);
  // The full torch run (`npm run bench -- torch`) is kept as bench/results/torch-lenet.md.
  const markdown = (result as { markdown?: string }).markdown;
  if (markdown && torchLimit === undefined) {
    const path = join(root, 'bench', 'results', 'torch-lenet.md');
    writeFileSync(path, markdown);
    notes.push(`torch: wrote ${path}`);
  }
}

// convkit against onnxruntime-node: a report of its own (markdown + SVG under bench/results/).
if (wanted('peers') && !info.native.loaded) notes.push('peers: skipped: it compares the native cpu backend, and the addon is not loaded (npm run build:native)');
else if (wanted('peers')) {
  const report = await peersReport(root, quick);
  console.log(`\n${report.markdown}`);
  console.log(`peers: wrote ${[report.markdownPath, report.svgPath].filter(Boolean).join(' and ')}`);
}

if (rows.length > 0) printTable(rows);
for (const note of notes) console.log(`note: ${note}`);
