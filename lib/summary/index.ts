// The shape calculator: output sizes, steps between sizes, per-layer model summaries, and a
// small text grammar for models (used by the convkit CLI, lib/cli.ts).
export { outputSize, outputSizeDetail, isExactOutputSize, stepsToReach,
  type OutputSizeOptions, type OutputSizeDetail, type StepsOptions, type StepsResult } from './output-size.js';
export { summary, describeLayer, type LayerRow, type Summary } from './summary.js';
export { parseSpec, SPEC_GRAMMAR, type ParsedSpec } from './spec.js';
