#!/usr/bin/env node
// convkit's command line: the shape calculator.
//
//   convkit summary "1x32x32 conv6k5 relu pool2 conv16k5 relu pool2 flatten fc120 relu fc84 relu fc10" [--json]
//   convkit outputsize --size 227 --kernel 11 --stride 4 [--padding P|B,A|same|valid] [--dilation D] [--ceil]
//   convkit steps 199 1 [--kernel 3] [--stride 1] [--padding 0] [--dilation 1]
//   convkit --help
//
// Bad input prints the message on stderr (no stack trace) and exits with code 2.
import { parseArgs } from 'node:util';
import { outputSizeDetail, stepsToReach, type OutputSizeOptions } from './summary/output-size.js';
import { summary } from './summary/summary.js';
import { parseSpec, SPEC_GRAMMAR } from './summary/spec.js';

const HELP = `convkit: the shape calculator

Usage:
  convkit summary "<spec>" [--json]
      Per-layer output shape, parameters, MACs and receptive field of a model.
      --json prints the rows and totals as JSON.
  convkit outputsize --size W --kernel F [--stride S] [--padding P] [--dilation D] [--ceil]
      floor((W + 2P - D(F-1) - 1)/S) + 1 (ceil with --ceil). P is a number, B,A
      (before,after), same or valid. Says so when (W - F + 2P)/S + 1 is not an integer.
  convkit steps FROM TO [--kernel 3] [--stride 1] [--padding 0] [--dilation 1]
      How many identical layers take size FROM to size TO, and the sizes on the way.
  convkit --help

The spec is the input shape without batch, then one token per layer, e.g.
  "1x32x32 conv6k5 relu pool2 conv16k5 relu pool2 flatten fc120 relu fc84 relu fc10"
Tokens:
${SPEC_GRAMMAR.map((line) => `  ${line}`).join('\n')}

Exit codes: 0 ok, 2 bad input (the message goes to stderr).`;

class UsageError extends Error {}

function int(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

function padding(value: string | undefined): OutputSizeOptions['padding'] {
  if (value === undefined) return 0;
  if (value === 'same' || value === 'valid') return value;
  const m = /^(\d+)(?:,(\d+))?$/.exec(value);
  if (!m) throw new UsageError(`--padding must be a number, before,after, same or valid, got '${value}'`);
  return m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
}

const WINDOW_OPTIONS = {
  size: { type: 'string' },
  kernel: { type: 'string' },
  stride: { type: 'string' },
  padding: { type: 'string' },
  dilation: { type: 'string' },
} as const;

function run(argv: string[]): string {
  const command = argv[0];
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return HELP;
  const rest = argv.slice(1);
  if (rest.includes('--help') || rest.includes('-h')) return HELP;
  switch (command) {
    case 'summary': {
      const { values, positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, allowPositionals: true });
      if (positionals.length === 0) throw new UsageError('summary needs a spec, e.g. convkit summary "1x32x32 conv6k5 relu pool2 flatten fc10"');
      // The spec may come as one quoted argument or as several words.
      const { inputShape, model } = parseSpec(positionals.join(' '));
      const s = summary(model, inputShape);
      if (values.json) {
        const { toString: _toString, ...data } = s;
        return JSON.stringify(data, null, 2);
      }
      return s.toString();
    }
    case 'outputsize':
    case 'output-size': {
      const { values, positionals } = parseArgs({ args: rest, options: { ...WINDOW_OPTIONS, ceil: { type: 'boolean' } }, allowPositionals: true });
      if (positionals.length) throw new UsageError(`outputsize takes options only (--size, --kernel, ...), got '${positionals.join(' ')}'`);
      const d = outputSizeDetail({
        size: int('size', values.size),
        kernel: int('kernel', values.kernel),
        stride: int('stride', values.stride, 1),
        padding: padding(values.padding),
        dilation: int('dilation', values.dilation, 1),
        ceilMode: values.ceil ?? false,
      });
      const note = d.exact ? '' : `\nnote: (W - F + 2P)/S + 1 = ${Number(d.value.toFixed(4))} is not an integer, so the walkthrough calls these settings invalid; the layer ${values.ceil ? 'rounds up' : 'rounds down'} to ${d.size}`;
      return `${d.size}${note}`;
    }
    case 'steps': {
      const { values, positionals } = parseArgs({ args: rest, options: WINDOW_OPTIONS, allowPositionals: true });
      if (positionals.length !== 2) throw new UsageError(`steps needs FROM and TO, e.g. convkit steps 199 1 --kernel 3`);
      if (values.size !== undefined) throw new UsageError('steps takes FROM and TO as arguments, not --size');
      const [from, to] = positionals.map((p, i) => int(i === 0 ? 'FROM' : 'TO', p));
      const r = stepsToReach(from, to, {
        kernel: int('kernel', values.kernel, 3),
        stride: int('stride', values.stride, 1),
        padding: padding(values.padding),
        dilation: int('dilation', values.dilation, 1),
      });
      return `${r.steps} steps: ${r.sizes.join(' -> ')}${r.exact ? '' : '\nnote: some steps round down (the walkthrough formula is not an integer there)'}`;
    }
    default:
      throw new UsageError(`unknown command '${command}' (expected summary, outputsize, steps or --help)`);
  }
}

try {
  process.stdout.write(run(process.argv.slice(2)) + '\n');
} catch (e) {
  // Bad input: our own messages, argument errors and parseArgs' errors (TypeError with a code).
  if (e instanceof UsageError || e instanceof RangeError || e instanceof TypeError) {
    process.stderr.write(`convkit: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
