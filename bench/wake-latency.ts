// How long the event loop takes to notice an event from another thread while work runs: a
// probe without a timer's quantization. libuv keeps its loop clock in whole milliseconds and
// computes every wait from it, so a 1 ms timer whose loop was woken just before a tick sleeps
// most of a millisecond more although the loop was free (event-loop.ts measures that timer).
// Here a worker thread posts its clock (process.hrtime, shared by the threads) every 0.5 ms,
// and each message's age when the loop takes it is how long the loop was unavailable.
import { Worker } from 'node:worker_threads';

const PROBE = `
const { parentPort } = require('node:worker_threads');
const sleep = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  Atomics.wait(sleep, 0, 0, 0.5);
  parentPort.postMessage(process.hrtime.bigint());
}`;

export async function largestWakeLatencyMs(work: () => Promise<unknown> | unknown): Promise<number> {
  const probe = new Worker(PROBE, { eval: true });
  let worst = 0;
  let measuring = false;
  probe.on('message', (sent: bigint) => {
    if (measuring) worst = Math.max(worst, Number(process.hrtime.bigint() - sent) / 1e6);
  });
  try {
    await new Promise((resolve) => probe.once('message', resolve)); // the probe is running,
    await new Promise((resolve) => setTimeout(resolve, 30)); // and done starting (its start-up takes a core for a while)
    measuring = true;
    await work();
    await new Promise((resolve) => setTimeout(resolve, 2)); // a message posted during the last call
    return worst;
  } finally {
    measuring = false;
    await probe.terminate();
  }
}
