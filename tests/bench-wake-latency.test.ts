// bench/wake-latency.ts, the bench's probe of how long the event loop was unavailable: a loop
// blocked by synchronous work for 40 ms takes a message posted at its start only at its end.
import { describe, expect, it } from 'vitest';
import { largestWakeLatencyMs } from '../bench/wake-latency.js';

describe('largestWakeLatencyMs', () => {
  it('sees a loop blocked for 40 ms, and returns the work finished', async () => {
    let done = false;
    const blocked = await largestWakeLatencyMs(() => {
      const until = performance.now() + 40;
      while (performance.now() < until) { /* blocks the loop */ }
      done = true;
    });
    expect(done).toBe(true);
    expect(blocked).toBeGreaterThan(30);
  });
});
