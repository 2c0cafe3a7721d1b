// The same server logic on ONNX Runtime (onnxruntime-node), for the serving bench: an
// inference function over an .onnx file that the batcher runs like convkit's model.
// onnxruntime-node is an optional peer for benches only, imported dynamically:
//   ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node
import { Tensor, type InferFunction } from '../../lib/index.js';

export const ORT_INSTALL_HINT = 'ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node';

/** onnxruntime-node's module, or null when it is not installed (or does not load here). */
export async function importOrt(): Promise<any | null> { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    return await import('onnxruntime-node' as string);
  } catch {
    return null;
  }
}

/** Runs one batch through an ORT session on onnxPath (first input, first output). */
export async function createOrtInfer(onnxPath: string, options: { threads?: number } = {}): Promise<InferFunction> {
  const ort = await importOrt();
  if (!ort) throw new Error(`onnxruntime-node is not installed; for the ORT side: ${ORT_INSTALL_HINT}`);
  const session = await ort.InferenceSession.create(onnxPath, options.threads ? { intraOpNumThreads: options.threads } : {});
  const [inputName] = session.inputNames as string[];
  const [outputName] = session.outputNames as string[];
  // session.run works on ORT's own threads: the event loop only waits for the promise.
  return async (x) => {
    const out = await session.run({ [inputName!]: new ort.Tensor('float32', x.data, x.shape) });
    const y = out[outputName!];
    return new Tensor(y.data as Float32Array, Array.from(y.dims as number[]));
  };
}
