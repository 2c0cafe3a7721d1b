// fit's progress output: a cli-progress bar per epoch on a TTY, plain lines elsewhere (one
// per epoch, or every N batches), nothing with progress: false. Everything goes through a
// writer (process.stdout by default) so that tests and servers can capture it.
import cliProgress from 'cli-progress';
import { checkBoolean, checkInt, checkOptions } from '../check.js';
import { describe } from '../shape.js';
import type { EpochLogs, ProgressOptions, ProgressWriter } from './types.js';

/** What fit tells the reporter; the batch call is cheap (it redraws at most every 100 ms). */
export interface ProgressReporter {
  epochStart(epoch: number, batches: number): void;
  batch(batch: number, loss: number, accuracy: number | undefined, imagesPerSecond: number, elapsedSeconds: number): void;
  epochEnd(logs: EpochLogs): void;
  close(): void;
}

const silent: ProgressReporter = { epochStart() {}, batch() {}, epochEnd() {}, close() {} };

export function createProgress(op: string, progress: unknown, epochs: number): ProgressReporter {
  if (progress === false) return silent;
  if (progress !== undefined && progress !== true && (progress === null || typeof progress !== 'object')) {
    throw new TypeError(`${op}: progress must be a boolean or { output, bar, every }, got ${describe(progress)}`);
  }
  const o = progress === true || progress === undefined ? {} : checkOptions<ProgressOptions>(`${op}: progress`, progress, ['output', 'bar', 'every']);
  const output = o.output ?? process.stdout;
  if (output === null || typeof output !== 'object' || typeof (output as ProgressWriter).write !== 'function') {
    throw new TypeError(`${op}: progress.output must have a write(string) method, got ${describe(output)}`);
  }
  const bar = checkBoolean(`${op}: progress`, 'bar', o.bar, output.isTTY === true);
  const every = o.every === undefined ? 0 : checkInt(`${op}: progress`, 'every', o.every, 0);
  return bar ? new BarProgress(output, epochs) : new LineProgress(output, epochs, every);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : String(v);
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

/** The epoch summary: 'epoch 2/5 - loss 0.1234 - accuracy 0.9650 - valLoss ... - 1.2s - 1650 img/s - lr 0.001'. */
export function formatEpoch(logs: EpochLogs, epochs: number): string {
  let s = `epoch ${logs.epoch}/${epochs} - loss ${fmt(logs.loss)}`;
  if (logs.accuracy !== undefined) s += ` - accuracy ${fmt(logs.accuracy)}`;
  if (logs.valLoss !== undefined) s += ` - valLoss ${fmt(logs.valLoss)}`;
  if (logs.valAccuracy !== undefined) s += ` - valAccuracy ${fmt(logs.valAccuracy)}`;
  return `${s} - ${duration(logs.seconds)} - ${Math.round(logs.imagesPerSecond)} img/s - lr ${logs.lr.toPrecision(4)}`;
}

class LineProgress implements ProgressReporter {
  private epoch = 0;
  private batches = 0;

  constructor(private readonly output: ProgressWriter, private readonly epochs: number, private readonly every: number) {}

  epochStart(epoch: number, batches: number): void {
    this.epoch = epoch;
    this.batches = batches;
  }

  batch(batch: number, loss: number, accuracy: number | undefined, imagesPerSecond: number, elapsed: number): void {
    if (this.every === 0 || batch % this.every !== 0 || batch === this.batches) return;
    const eta = (elapsed / batch) * (this.batches - batch);
    const acc = accuracy === undefined ? '' : ` - accuracy ${fmt(accuracy)}`;
    this.output.write(`epoch ${this.epoch}/${this.epochs} batch ${batch}/${this.batches} - loss ${fmt(loss)}${acc} - ${Math.round(imagesPerSecond)} img/s - ETA ${duration(eta)}\n`);
  }

  epochEnd(logs: EpochLogs): void {
    this.output.write(formatEpoch(logs, this.epochs) + '\n');
  }

  close(): void {}
}

interface BarPayload {
  epoch: number;
  epochs: number;
  loss: string;
  acc: string;
  ips: number;
}

class BarProgress implements ProgressReporter {
  private bar: cliProgress.SingleBar | null = null;
  private lastDraw = 0;
  private total = 0;
  private readonly payload: BarPayload;

  constructor(private readonly output: ProgressWriter, private readonly epochs: number) {
    this.payload = { epoch: 0, epochs, loss: '-', acc: '', ips: 0 };
  }

  epochStart(epoch: number, batches: number): void {
    this.payload.epoch = epoch;
    this.payload.loss = '-';
    this.payload.acc = '';
    this.payload.ips = 0;
    this.bar = new cliProgress.SingleBar({
      // cli-progress only needs write() and isTTY (readline's cursor calls go through write()).
      stream: this.output as unknown as NodeJS.WritableStream,
      format: 'epoch {epoch}/{epochs} {bar} {value}/{total} | loss {loss}{acc} | {ips} img/s | ETA {eta_formatted}',
      barsize: 24,
      hideCursor: false,
      clearOnComplete: true,
      etaBuffer: 50,
    });
    this.total = batches;
    this.bar.start(batches, 0, this.payload);
    this.lastDraw = 0;
  }

  batch(batch: number, loss: number, accuracy: number | undefined, imagesPerSecond: number): void {
    if (!this.bar) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && batch < this.total) {
      this.bar.increment(); // keeps the ETA buffer fed; cli-progress redraws on its own timer
      return;
    }
    this.lastDraw = now;
    this.payload.loss = fmt(loss);
    this.payload.acc = accuracy === undefined ? '' : ` | accuracy ${fmt(accuracy)}`;
    this.payload.ips = Math.round(imagesPerSecond);
    this.bar.update(batch, this.payload as unknown as object);
  }

  epochEnd(logs: EpochLogs): void {
    this.stopBar();
    this.output.write(formatEpoch(logs, this.epochs) + '\n');
  }

  close(): void {
    this.stopBar();
  }

  private stopBar(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
