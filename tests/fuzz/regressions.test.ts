// The fuzzer's findings (tests/fuzz/regressions.ts), replayed in a child process so a case that
// crashes native code again fails here with its name.
import { describe, expect, it } from 'vitest';
import { problems, runChild } from './harness.js';
import { regressions } from './regressions.js';

describe('fuzz regressions', () => {
  it('every recorded case names a property and says what it found', () => {
    for (const r of regressions) expect(r.note.length, JSON.stringify(r)).toBeGreaterThan(10);
  });

  it('every fixed case holds', async () => {
    const outcome = await runChild({ regressions: true, stallMs: 30_000 });
    expect(problems(outcome).join('\n\n')).toBe('');
    expect(outcome.results.length).toBe(regressions.length);
  }, 120_000);

  for (const r of regressions.filter((q) => q.open)) it.todo(`open: ${r.property}: ${r.note} (${r.open})`);
});
