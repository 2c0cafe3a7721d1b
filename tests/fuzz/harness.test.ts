// The crash detection itself: a child killed by a signal, or stuck in a loop, is reported with
// the case it was running; a finding comes back with its seed, path and counterexample.
import { describe, expect, it } from 'vitest';
import { problems, runChild } from './harness.js';

describe('the fuzz harness', () => {
  it('reports a segfaulting case as a crash, naming the case', async () => {
    const outcome = await runChild({ properties: ['self-test.crash'], seed: 1, runs: 5 });
    expect(outcome.signal).toBe('SIGSEGV');
    expect(outcome.lastCase).toMatch(/^self-test\.crash\t\d+$/);
    expect(problems(outcome).join('\n')).toMatch(/killed by SIGSEGV \(a crash\) while running:\n {2}self-test\.crash\t\d+/);
  }, 60_000);

  it('reports a case that never returns as a hang, naming the case', async () => {
    const outcome = await runChild({ properties: ['self-test.hang'], seed: 1, runs: 5, stallMs: 1500 });
    expect(outcome.stalled).toBe(true);
    expect(problems(outcome).join('\n')).toMatch(/stopped making progress \(a hang\) while running:\n {2}self-test\.hang\t\d+/);
  }, 60_000);

  it('reports a failing property with its seed, path and shrunk counterexample', async () => {
    const outcome = await runChild({ properties: ['self-test.fails-above-10'], seed: 7, runs: 200 });
    const [result] = outcome.results;
    expect(result.status).toBe('failed');
    expect(result.seed).toBe(7);
    expect(result.counterexample).toBe('11');
    expect(result.path).toMatch(/^\d+(:\d+)*$/);
    expect(problems(outcome).join('\n')).toMatch(/replay: npm run fuzz -- --property self-test\.fails-above-10 --seed 7 --path \S+ --runs 1/);
  }, 60_000);
});
