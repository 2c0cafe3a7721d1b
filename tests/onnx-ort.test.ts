// exportOnnx round trip through onnxruntime-node: each exported model must give convkit's
// eval-mode outputs. onnxruntime-node is an optional peer (benches/interop), never a dependency:
// install it locally with
//   ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --ignore-scripts onnxruntime-node
// Without it these tests are skipped.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeOnnx, importOnnx, noGrad, OnnxModel, readSafetensors, tensor } from '../lib/index.js';
import { exportCases } from './onnx-models.js';
import { leNet5 } from './models.js';
import { randData, rng } from './helpers.js';

interface OrtTensor { dims: readonly number[]; data: Float32Array }
interface Ort {
  InferenceSession: { create(model: Uint8Array): Promise<{ run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> }> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

// A variable specifier, so that typecheck does not need the package either.
const ORT_PACKAGE = 'onnxruntime-node';
const ort: Ort | null = await import(ORT_PACKAGE).then((m) => (m.default ?? m) as Ort, () => null);

const OPSETS = [11, 12, 13, 14, 15, 16, 17];
const BATCHES = [1, 3, 8];

/** |actual - expected| <= rtol * max(1, |expected|) everywhere. */
function expectClose(actual: Float32Array, expected: Float32Array, what: string, rtol = 1e-5): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= rtol * Math.max(1, Math.abs(expected[i])))) {
      expect.fail(`${what}: element ${i} is ${actual[i]} in onnxruntime but ${expected[i]} in convkit`);
    }
  }
}

describe.skipIf(!ort)(`exportOnnx in onnxruntime-node${ort ? '' : ' (skipped: onnxruntime-node is not installed; see the header of this file)'}`, () => {
  const runtime = ort as Ort;

  async function expectSameOutputs(model: Parameters<typeof encodeOnnx>[0], inputShape: number[], opset: number, seed: number): Promise<void> {
    const session = await runtime.InferenceSession.create(encodeOnnx(model, { inputShape, opset }));
    model.eval();
    const r = rng(seed);
    for (const n of BATCHES) {
      const shape = [n, ...inputShape];
      const x = randData(r, shape.reduce((a, b) => a * b, 1));
      const expected = noGrad(() => model.forward(tensor(x, shape)));
      const { output } = await session.run({ input: new runtime.Tensor('float32', x, shape) });
      expect(output.dims, `output shape, batch ${n}`).toEqual(expected.shape);
      expectClose(output.data, expected.toArray(), `opset ${opset}, batch ${n}`);
    }
  }

  it('a convkit LeNet runs with the same outputs (issue 13 done-when)', async () => {
    await expectSameOutputs(leNet5(), [1, 32, 32], 13, 1);
  });

  for (const c of exportCases()) {
    it(`${c.name}: same outputs at opsets ${OPSETS[0]}-${OPSETS[OPSETS.length - 1]}`, async () => {
      for (const opset of OPSETS) await expectSameOutputs(c.model, c.inputShape, opset, opset);
    });
  }
});

// importOnnx against onnxruntime-node on the torch.onnx.export fixtures (tests/onnx-import.test.ts
// checks them against PyTorch's outputs; this is the runtime most servers would use instead).
describe.skipIf(!ort)(`importOnnx agrees with onnxruntime-node${ort ? '' : ' (skipped: onnxruntime-node is not installed; see the header of this file)'}`, () => {
  const runtime = ort as Ort;
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'onnx');
  const fixtures: Array<{ file: string; io: string; inputs: string[]; outputs: string[]; batches: number[] }> =
    JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

  for (const f of fixtures) {
    it(`${f.file}: the same outputs at batches ${f.batches.join(', ')}`, async () => {
      const bytes = new Uint8Array(readFileSync(join(dir, f.file)));
      const session = await runtime.InferenceSession.create(bytes);
      const model = await importOnnx(bytes);
      const io = readSafetensors(new Uint8Array(readFileSync(join(dir, f.io))), f.io).tensors;
      for (const b of f.batches) {
        const inputs = Object.fromEntries(f.inputs.map((name) => [name, io[`${name}.b${b}`]]));
        const ours = noGrad(() => (f.inputs.length === 1 && f.outputs.length === 1
          ? { [f.outputs[0]]: model.forward(inputs[f.inputs[0]]) }
          : (model as OnnxModel).run(inputs)));
        const feeds = Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, new runtime.Tensor('float32', t.data, t.shape)]));
        const theirs = await session.run(feeds);
        for (const name of f.outputs) {
          expect(ours[name].shape, `${name} shape, batch ${b}`).toEqual(theirs[name].dims);
          expectClose(theirs[name].data, ours[name].toArray(), `${f.file} ${name}, batch ${b}`, 1e-4);
        }
      }
    });
  }
});
