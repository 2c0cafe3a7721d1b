// convkit's file formats: model files (safetensors with the architecture in the metadata) and
// plain safetensors reading/writing for weights that come from or go to other tools.
export { save, saveSync, load, loadStateDictFile, type SaveOptions } from './model-file.js';
export { readSafetensors, writeSafetensors, type SafetensorsContents } from './safetensors.js';
export { IntegerTensor, type IntegerDtype, type IntegerArray } from '../integer-tensor.js';
