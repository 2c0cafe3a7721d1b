// Full-size torchvision resnet18 and mobilenet_v2 (random weights, no download), exported by
// torch.onnx.export into a temp dir by tests/fixtures/make_onnx_fixtures.py --full, import and
// give PyTorch's outputs. Needs /usr/bin/python3 with torch, torchvision and onnx (Debian's
// python3-torch, python3-torchvision, python3-onnx; PYTHON=... picks another); skipped without
// them, as in CI, where the committed fixtures of onnx-import.test.ts cover the same ops.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, noGrad, readSafetensors } from '../lib/index.js';
import { expectClose, hasCpu, withBackendAsync } from './helpers.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'make_onnx_fixtures.py');
const candidates = [...new Set([process.env.PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p))];
const python = candidates.find((p) => spawnSync(p, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' }).status === 0) ?? null;
const backend = hasCpu ? 'cpu' : 'js';

describe.skipIf(!python)(`full-size torchvision networks${python ? '' : ' (skipped: no python3 with torch, torchvision and onnx; apt-get install python3-torch python3-torchvision python3-onnx)'}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-torchvision-'));
  beforeAll(() => {
    const run = spawnSync(python as string, [SCRIPT, '--full', dir], { encoding: 'utf8', timeout: 300_000 });
    if (run.status !== 0) throw new Error(`make_onnx_fixtures.py --full failed: ${run.stderr}`);
  }, 310_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['resnet18', 'mobilenet_v2'])(`%s imports and gives PyTorch's outputs on ${backend}`, async (name) => {
    const model = await withBackendAsync(backend, () => importOnnx(join(dir, `${name}.onnx`)));
    const io = readSafetensors(new Uint8Array(readFileSync(join(dir, `${name}-io.safetensors`))), name).tensors;
    const y = await withBackendAsync(backend, async () => noGrad(() => model.forward(io['input.b2'])));
    expect(y.shape).toEqual([2, 1000]);
    expectClose(y.toArray(), io['output.b2'].data, `${name} on ${backend}`, 1e-4, 1e-6);
    expect(model.parameters().reduce((n, p) => n + p.size, 0)).toBeGreaterThan(name === 'resnet18' ? 11e6 : 3e6);
  }, 120_000);
});
