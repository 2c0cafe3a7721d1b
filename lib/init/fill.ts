// In-place fills: constants and plain uniform / normal draws. The variance-scaled
// initializers are these draws with a bound or std taken from the fans.
import { type GeneratorOption, checkInitTensor, initOptions, numberArg, nonNegativeArg } from './args.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { backendForDevice } from '../backend/registry.js';

/** Fills t with 0, in place, and returns it. */
export function zeros(t: Tensor): Tensor {
  return writeValues(checkInitTensor('init.zeros', t), (d) => d.fill(0));
}

/** Fills t with 1, in place, and returns it. */
export function ones(t: Tensor): Tensor {
  return writeValues(checkInitTensor('init.ones', t), (d) => d.fill(1));
}

/** Fills t with `value`, in place, and returns it. */
export function constant(t: Tensor, value: number): Tensor {
  checkInitTensor('init.constant', t);
  if (value === undefined) throw new TypeError('init.constant: value must be a number, got undefined');
  const v = numberArg('init.constant', 'value', value, 0);
  return writeValues(t, (d) => d.fill(v));
}

/** Uniform draws in [a, b). */
export function uniform(t: Tensor, a = 0, b = 1, opts: GeneratorOption = {}): Tensor {
  const op = 'init.uniform';
  checkInitTensor(op, t);
  numberArg(op, 'a', a, 0);
  numberArg(op, 'b', b, 1);
  if (a > b) throw new RangeError(`${op}: a must be <= b, got a=${a}, b=${b}`);
  const [, g] = initOptions<GeneratorOption>(op, opts, ['generator']);
  return fillUniform(t, a, b, g);
}

/** Fills t with draws from N(mean, std^2) (default N(0, 1)), in place, and returns it. */
export function normal(t: Tensor, mean = 0, std = 1, opts: GeneratorOption = {}): Tensor {
  const op = 'init.normal';
  checkInitTensor(op, t);
  numberArg(op, 'mean', mean, 0);
  nonNegativeArg(op, 'std', std, 1);
  const [, g] = initOptions<GeneratorOption>(op, opts, ['generator']);
  return fillNormal(t, mean, std, g);
}

/** @internal Unchecked: the callers have validated. */
export function fillUniform(t: Tensor, low: number, high: number, g: Generator): Tensor {
  return writeValues(t, (d) => {
    for (let i = 0; i < d.length; i++) d[i] = g.uniform(low, high);
  });
}

/** @internal Unchecked: the callers have validated. */
export function fillNormal(t: Tensor, mean: number, std: number, g: Generator): Tensor {
  return writeValues(t, (d) => {
    for (let i = 0; i < d.length; i++) d[i] = mean + std * g.normal();
  });
}

/** Fills t in place through a host array: its own data on the cpu, an upload on a device. */
function writeValues(t: Tensor, fill: (values: Float32Array) => void): Tensor {
  if (t.device === 'cpu') {
    fill(t.data);
    return t;
  }
  const values = new Float32Array(t.size);
  fill(values);
  backendForDevice(t.device).copyFromHost(values, t.storage);
  return t;
}
