// How long the event loop is blocked while work runs: the largest gap between the ticks of
// a 1 ms interval timer (a gap of about 1 ms means the loop never stalled).
import { performance } from 'node:perf_hooks';

export async function largestEventLoopGapMs(work: () => Promise<unknown> | unknown): Promise<number> {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 5)); // let the interval settle
  last = performance.now();
  await work();
  await new Promise((resolve) => setTimeout(resolve, 2)); // catch the gap that ends with the work
  clearInterval(timer);
  return Math.max(worst, performance.now() - last);
}
