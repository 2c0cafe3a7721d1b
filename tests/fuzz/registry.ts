// Every fuzz property by name, and self-test properties that crash, hang or fail on purpose (run
// only when named: tests/fuzz/harness.test.ts checks that the harness reports each with its case).
import fc from 'fast-check';
import { opsProperties } from './props-ops.js';
import { ioProperties } from './props-io.js';
import type { FuzzProperty } from './property.js';

export const properties: FuzzProperty[] = [...opsProperties, ...ioProperties];

const selfTests: FuzzProperty[] = [
  {
    name: 'self-test.crash',
    arbitrary: fc.integer({ min: 0, max: 100 }),
    ciRuns: 5,
    check: (v) => {
      if (v >= 0) process.kill(process.pid, 'SIGSEGV'); // what a native out-of-bounds write looks like from outside
    },
  },
  {
    name: 'self-test.fails-above-10',
    arbitrary: fc.integer({ min: 0, max: 1000 }),
    ciRuns: 5,
    check: (v) => {
      if (v > 10) throw new Error(`${v} is above 10`);
    },
  },
  {
    name: 'self-test.hang',
    arbitrary: fc.integer({ min: 0, max: 100 }),
    ciRuns: 5,
    check: () => {
      for (;;); // a kernel that never returns
    },
  },
];

export function propertyByName(name: string): FuzzProperty {
  const p = [...properties, ...selfTests].find((q) => q.name === name);
  if (!p) throw new RangeError(`no fuzz property '${name}' (known: ${properties.map((q) => q.name).join(', ')})`);
  return p;
}
