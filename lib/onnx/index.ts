// ONNX interchange: exportOnnx writes a model as an ONNX graph (schema.ts holds the protobuf
// schema that reading ONNX files shares).
export { exportOnnx, encodeOnnx, type OnnxExportOptions } from './export.js';
