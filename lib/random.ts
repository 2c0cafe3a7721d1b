// Seeded randomness. Every random draw in convkit (initializers, shuffles, dropout) goes
// through a Generator, by default the global one that manualSeed() resets, so the same seed
// gives the same weights and the same batches. xoshiro128** (fast, 2^128-1 period, good
// statistics) seeded through splitmix32, as its authors recommend.

function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) >>> 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A seeded random-number generator (xoshiro128**): the same seed gives the same sequence on every
 * platform. Pass one to initializers, dropout and DataLoader to keep their draws apart from the
 * global one (manualSeed).
 */
export class Generator {
  private s = new Uint32Array(4);
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Restarts the sequence from seed (any safe integer). */
  seed(seed: number): void {
    if (!Number.isSafeInteger(seed)) throw new TypeError(`manualSeed: seed must be a safe integer, got ${String(seed)}`);
    // Both 32-bit halves of the seed feed the state, so seeds above 2^32 differ too.
    const state = { x: (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b1) };
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(state);
    this.spareNormal = null;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1), with 32 bits of resolution. */
  random(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    if (typeof low !== 'number' || typeof high !== 'number') {
      throw new TypeError(`Generator.uniform: low and high must be numbers, got ${typeof low} and ${typeof high}`);
    }
    return low + (high - low) * this.random();
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    const u1 = (this.nextUint32() + 1) / (2 ** 32 + 1); // (0, 1): log(u1) is finite
    const u2 = this.random();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** An unbiased integer in [0, n), for n in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`Generator.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n); // reject the uneven tail
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Shuffles items in place (Fisher-Yates) and returns them. */
  shuffle<T extends { length: number; [i: number]: any }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A fixed default seed, so that runs are repeatable even without manualSeed (as PyTorch). */
const DEFAULT_SEED = 5489;
const globalGenerator = new Generator(DEFAULT_SEED);

/** Reseeds the global generator that initializers, shuffles and dropout draw from. */
export function manualSeed(seed: number): void {
  globalGenerator.seed(seed);
}

export function defaultGenerator(): Generator {
  return globalGenerator;
}
