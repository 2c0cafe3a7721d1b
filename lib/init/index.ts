// Weight initializers, as torch.nn.init: each fills a tensor in place and returns it.
export { zeros, ones, constant, uniform, normal } from './fill.js';
export { xavierUniform, xavierNormal, kaimingUniform, kaimingNormal, lecunNormal } from './variance-scaling.js';
export type { XavierOptions, KaimingOptions, FanMode } from './variance-scaling.js';
export { calculateGain, type Nonlinearity } from './gain.js';
export { fans, type Fans } from './fans.js';
export { initializerByName, INIT_NAMES, type InitName } from './by-name.js';
export type { GeneratorOption } from './args.js';
