// Every exported test model passes onnx.checker.check_model(full_check=True) (which also runs
// ONNX's strict shape inference against the declared output shape) at every opset. Needs a
// Python with the onnx package (Debian: apt-get install python3-onnx; PYTHON=... picks one);
// skipped without it, as in CI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeOnnx } from '../lib/index.js';
import { exportCases } from './onnx-models.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'check_onnx.py');
// Debian's python3-onnx lives in the system Python, which a pyenv or venv python3 may hide.
const candidates = [...new Set([process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p))];
const python = candidates.find((p) => spawnSync(p, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0) ?? null;

describe.skipIf(!python)(`exported files pass onnx.checker${python ? '' : ' (skipped: no python3 with the onnx package; apt-get install python3-onnx)'}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-onnx-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every test model at opsets 11-17', () => {
    const paths: string[] = [];
    exportCases().forEach(({ model, inputShape }, i) => {
      for (let opset = 11; opset <= 17; opset++) {
        const path = join(dir, `case${i}-opset${opset}.onnx`);
        writeFileSync(path, encodeOnnx(model, { inputShape, opset }));
        paths.push(path);
      }
    });
    const run = spawnSync(python as string, [SCRIPT, ...paths], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(paths.length);
  });

  it('the checker script rejects an invalid file', () => {
    const path = join(dir, 'not-onnx.onnx');
    writeFileSync(path, encodeOnnx(exportCases()[0].model, { inputShape: [1, 32, 32] }).subarray(0, 100));
    const run = spawnSync(python as string, [SCRIPT, path], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/invalid/);
  });
});
