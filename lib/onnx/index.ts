// ONNX interchange: exportOnnx writes a model as an ONNX graph, importOnnx reads one (both
// through the protobuf schema in schema.ts).
export { exportOnnx, encodeOnnx, type OnnxExportOptions } from './export.js';
export { importOnnx, OnnxModel, type ImportOnnxOptions } from './import/index.js';
