// The shape of a fuzz property, and the checks the properties share.
import type fc from 'fast-check';

export interface FuzzProperty<T = any> {
  /** Unique, used on the command line and in regressions.ts. */
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /**
   * Throws (or rejects) when the property does not hold for value. May return a tag
   * ('compared', 'both threw', ...) that the runner counts, so a test can check that most cases
   * really exercised the op instead of being rejected early.
   */
  check: (value: T) => string | void | Promise<string | void>;
  /** Runs in the seeded vitest suite (a minute of CI for all of them together). */
  ciRuns: number;
  /** Set when the property needs the native cpu backend. */
  needsCpu?: boolean;
}

/** Fails unless err is a TypeError or RangeError (plain Errors, strings, crashes are findings). */
export function expectTypeOrRangeError(err: unknown, what: string): void {
  if (err instanceof TypeError || err instanceof RangeError) return;
  const shown = err instanceof Error ? `${err.constructor.name}: ${err.message}\n${err.stack}` : String(err);
  throw new Error(`${what} threw something other than a TypeError or RangeError: ${shown}`);
}

/** What a call did: its value, or what it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

export async function attemptAsync<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

export const errorText = (e: unknown): string => (e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e));
