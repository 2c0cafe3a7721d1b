// Model files: a module's weights as safetensors, with its architecture (toConfig() JSON) in the
// metadata, so load() can rebuild the module without the code that first built it. Any
// safetensors reader (PyTorch, numpy) can read the weights.
import { describe } from '../shape.js';
import { checkOptions } from '../check.js';
import { Module, type ModuleConfig } from '../nn/module.js';
import { moduleFromConfig } from '../nn/config.js';
import { withDeferredInit } from '../nn/deferred.js';
import { checkMetadata, writeSafetensors, type SafetensorsContents } from './safetensors.js';
import { readSafetensorsFile } from './safetensors-file.js';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-write.js';

/** save()'s options. */
export interface SaveOptions {
  /** Extra string -> string entries for the file's __metadata__ (e.g. a version or dataset). */
  metadata?: Record<string, string>;
}

/** Metadata keys convkit writes itself; user metadata may not replace them. */
const FORMAT_KEY = 'format';
const FORMAT_VALUE = 'convkit';
const CONFIG_KEY = 'convkit.config';

function encodeModel(op: string, model: unknown, path: unknown, options: unknown): Uint8Array {
  if (!(model instanceof Module)) throw new TypeError(`${op}: model must be an nn.Module, got ${describe(model)}`);
  if (typeof path !== 'string' || path === '') throw new TypeError(`${op}: path must be a non-empty string, got ${describe(path)}`);
  const opts = checkOptions<SaveOptions>(op, options, ['metadata']);
  const user = checkMetadata(op, opts.metadata);
  for (const key of [FORMAT_KEY, CONFIG_KEY]) {
    if (Object.hasOwn(user, key)) throw new RangeError(`${op}: metadata key '${key}' is reserved for convkit`);
  }
  const metadata = { [FORMAT_KEY]: FORMAT_VALUE, [CONFIG_KEY]: JSON.stringify(model.toConfig()), ...user };
  return writeSafetensors(model.stateDict(), metadata);
}

/** Writes the model's weights and architecture to path as safetensors, atomically. */
export async function save(model: Module, path: string, options?: SaveOptions): Promise<void> {
  const bytes = encodeModel('save', model, path, options);
  await writeFileAtomic(path, bytes, 'save');
}

/** save(), blocking: for exit handlers and scripts. */
export function saveSync(model: Module, path: string, options?: SaveOptions): void {
  const bytes = encodeModel('saveSync', model, path, options);
  writeFileAtomicSync(path, bytes, 'saveSync');
}

/**
 * The tensors and metadata of any safetensors file (from convkit, PyTorch's
 * safetensors.torch.save_file, ...): float tensors as float32 in `tensors`, integer ones
 * unchanged in `integers`, for model.loadStateDict({ ...tensors, ...integers }).
 */
export async function loadStateDictFile(path: string): Promise<SafetensorsContents> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`loadStateDictFile: path must be a non-empty string, got ${describe(path)}`);
  return readSafetensorsFile(path);
}

/** Re-throws a TypeError/RangeError from a step of load() with the file named in it. */
function withFile<T>(path: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof TypeError) throw new TypeError(`load: '${path}': ${err.message}`, { cause: err });
    if (err instanceof RangeError) throw new RangeError(`load: '${path}': ${err.message}`, { cause: err });
    throw err;
  }
}

function parseConfig(path: string, metadata: Record<string, string>): ModuleConfig {
  const text = metadata[CONFIG_KEY];
  if (text === undefined) {
    throw new RangeError(`load: '${path}' has no '${CONFIG_KEY}' metadata, so it was not saved by convkit's save(); build the model in code and load its weights with loadStateDictFile(path) and model.loadStateDict()`);
  }
  try {
    return JSON.parse(text) as ModuleConfig;
  } catch (err) {
    throw new RangeError(`load: '${path}': the '${CONFIG_KEY}' metadata is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Rebuilds the module saved at path and loads its weights (all of them, shapes checked). The
 * module comes back in training mode, as a new module does: call eval() for inference.
 */
export async function load(path: string): Promise<Module> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`load: path must be a non-empty string, got ${describe(path)}`);
  const { tensors, integers, metadata } = await readSafetensorsFile(path);
  const config = parseConfig(path, metadata);
  // Deferred: the config alone makes no memory; loadStateDict checks every name and shape
  // against the file's tensors and then fills the parameters from them.
  const model = withFile(path, () => withDeferredInit(() => moduleFromConfig(config)));
  withFile(path, () => model.loadStateDict({ ...tensors, ...integers }, { strict: true }));
  return model;
}
