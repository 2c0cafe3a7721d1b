// BatchNormalization at inference: an nn.BatchNorm2d in eval mode (running statistics as its
// buffers) on NCHW inputs; on other ranks, the per-channel affine it amounts to.
import type { NodeContext } from './context.js';
import { BatchNorm2d } from '../../nn/batchnorm.js';
import { withDeferredInit } from '../../nn/deferred.js';
import { add, mul } from '../../ops/binary.js';
import { tensor } from '../../tensor.js';
import { constView } from './context.js';
import { shapeOf, type Handler } from './handler.js';

export const batchNormalization: Handler = (ctx: NodeContext) => {
  ctx.attrs.onlyKnown(['epsilon', 'momentum', 'training_mode', 'spatial']);
  if (ctx.attrs.int('training_mode', 0) !== 0) ctx.fail('training_mode 1 is not supported (inference only)');
  if (ctx.attrs.int('spatial', 1) !== 1) ctx.fail('spatial 0 is not supported');
  ctx.onlyFirstOutput('running statistics');
  const x = ctx.floatInput(0);
  const params = [1, 2, 3, 4].map((i) => ctx.floatInput(i));
  const input = shapeOf(x);
  const c = input[1];
  if (input.length < 2 || typeof c !== 'number') ctx.fail('the input must be at least 2-d with its channel count known at import');
  const [scale, bias, mean, variance] = params.map((p, i) => {
    if (p.kind !== 'const') ctx.fail(`input ${i + 1} must be a constant`);
    if (p.values.length !== c) ctx.fail(`input ${i + 1} must hold ${c} values (one per channel), got ${p.values.length}`, 'range');
    return { ...p, dims: [c] };
  });
  const eps = ctx.attrs.float('epsilon', 1e-5);
  if (!(eps > 0)) ctx.fail(`attribute 'epsilon' must be positive, got ${eps}`, 'range');
  if (input.length === 4) {
    const layer = withDeferredInit(() => new BatchNorm2d(c, { eps }));
    layer.loadStateDict({
      weight: constView(scale), bias: constView(bias), running_mean: constView(mean), running_var: constView(variance),
      num_batches_tracked: tensor([0], []),
    });
    return [ctx.layer(layer.eval(), x, input)];
  }
  // y = x * a + b per channel, a = scale / sqrt(var + eps), b = bias - mean * a (in float64).
  const a = new Float32Array(c), b = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    const s = scale.values[i] / Math.sqrt(variance.values[i] + eps);
    a[i] = s;
    b[i] = bias.values[i] - mean.values[i] * s;
  }
  const perChannel = [c, ...new Array<number>(input.length - 2).fill(1)];
  const ka = ctx.constant(perChannel, a, `${ctx.layerName}_scale`), kb = ctx.constant(perChannel, b, `${ctx.layerName}_shift`);
  return [ctx.step1([x, ka, kb], input, ([t, sa, sb]) => add(mul(t, sa), sb))];
};
