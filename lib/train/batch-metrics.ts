// The loss and accuracy of an epoch, summed over its batches. A host batch is read at once.
// A device batch's loss and logits come back through toArrayAsync, so the training loop keeps
// queueing GPU work instead of waiting for each batch; at most MAX_IN_FLIGHT batches are
// unread, and settle() waits for all of them (the epoch's end, or a callback that needs this
// batch's numbers). Until then the running figures (for the progress bar) trail by those batches.
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

// Two batches (four copies, one libuv pool thread each while they wait) keep the GPU busy
// without taking the whole default pool of four threads from fs, zlib and crypto.
const MAX_IN_FLIGHT = 2;

export class BatchMetrics {
  private lossSum = 0;
  private correct = 0;
  /** Samples whose loss has been read. */
  private counted = 0;
  private readonly inFlight: Promise<void>[] = [];
  private failure: { error: unknown } | null = null;

  constructor(private readonly op: string, private readonly withAccuracy: boolean) {}

  /** Adds a batch: its mean loss (a 1-element tensor), its [batch, classes] output and labels. */
  async add(loss: Tensor, output: Tensor, labels: Int32Array): Promise<void> {
    if (this.withAccuracy) this.checkOutput(output, labels);
    if (loss.device === 'cpu') {
      this.record(loss.data[0], this.withAccuracy ? output.data : null, labels);
      return;
    }
    const logits = this.withAccuracy ? output.toArrayAsync() : Promise.resolve(null);
    // Errors are kept and rethrown by add/settle, never left as unhandled rejections.
    this.inFlight.push(Promise.all([loss.toArrayAsync(), logits]).then(
      ([l, out]) => this.record(l[0], out, labels),
      (error: unknown) => { this.failure ??= { error }; },
    ));
    if (this.inFlight.length > MAX_IN_FLIGHT) await this.inFlight.shift();
    this.rethrow();
  }

  /** Waits until every batch added so far has been read. */
  async settle(): Promise<void> {
    await Promise.all(this.inFlight.splice(0));
    this.rethrow();
  }

  /** Whether any batch has been read yet. */
  get any(): boolean {
    return this.counted > 0;
  }

  /** Mean loss per sample over the batches read so far. */
  get loss(): number {
    return this.lossSum / this.counted;
  }

  /** Accuracy over the batches read so far; undefined without the accuracy metric. */
  get accuracy(): number | undefined {
    return this.withAccuracy ? this.correct / this.counted : undefined;
  }

  private record(meanLoss: number, logits: Float32Array | null, labels: Int32Array): void {
    this.lossSum += meanLoss * labels.length;
    if (logits) this.correct += countCorrect(logits, labels);
    this.counted += labels.length;
  }

  private rethrow(): void {
    if (this.failure) throw this.failure.error;
  }

  private checkOutput(output: Tensor, labels: Int32Array): void {
    if (output.ndim !== 2 || output.shape[0] !== labels.length || output.shape[1] < 1) {
      throw new RangeError(`${this.op}: the accuracy metric needs an output of shape [batch, classes] with batch ${labels.length}, got ${formatShape(output.shape)}`);
    }
  }
}

/** Rows of logits [labels.length, classes] whose first maximum is at the label. */
function countCorrect(logits: Float32Array, labels: Int32Array): number {
  const c = logits.length / labels.length;
  let correct = 0;
  for (let i = 0, row = 0; i < labels.length; i++, row += c) {
    let best = 0;
    let bestValue = logits[row];
    for (let j = 1; j < c; j++) {
      const v = logits[row + j];
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    if (best === labels[i]) correct++;
  }
  return correct;
}
