// lib/io: the safetensors layout byte by byte, model save/load round trips, metadata, hostile
// and broken files (clear errors, no crash, no huge allocation) and atomic saves.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../lib/nn/index.js';
import { noGrad, tensor, Tensor } from '../lib/index.js';
import { manualSeed } from '../lib/random.js';
import { load, loadStateDictFile, readSafetensors, save, saveSync, writeSafetensors } from '../lib/io/index.js';
import { randTensor, rng } from './helpers.js';
import { leNet5 } from './models.js';

const any = (v: unknown) => v as never;
const dir = mkdtempSync(join(tmpdir(), 'convkit-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = (name = 'model') => join(dir, `${name}-${fileCounter++}.safetensors`);

/** A model whose running statistics are no longer their initial values. */
function trainedLeNet(): nn.Sequential {
  manualSeed(7);
  const model = leNet5({ batchNorm: true });
  noGrad(() => {
    model.forward(randTensor(rng(2), [4, 1, 32, 32]));
    model.forward(randTensor(rng(3), [4, 1, 32, 32]));
  });
  return model;
}

// A Buffer, compared with equals(): toEqual walks large arrays element by element (seconds here).
const bytesOf = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/** safetensors bytes from a header (object or raw text) and a data section; length can be forced. */
function build(header: unknown, data: Uint8Array | number = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

const entry = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
const listDir = (d: string) => readdirSync(d).sort();

describe('safetensors layout', () => {
  const a = tensor([1, 2], [2]);
  const b = tensor([3], []);

  it('writes the exact bytes of a tiny example', () => {
    const bytes = writeSafetensors({ a, b });
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}';
    expect(json.length).toBe(107);
    const headerLength = 112; // padded with 5 spaces to a multiple of 8
    expect([...bytes.subarray(0, 8)]).toEqual([112, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))).toBe(json + '     ');
    expect(bytes.length).toBe(8 + headerLength + 12);
    const data = bytes.subarray(8 + headerLength);
    // 1.0f = 0x3f800000, 2.0f = 0x40000000, 3.0f = 0x40400000, little-endian
    expect([...data]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40]);
  });

  it('matches, byte for byte, a file written by the reference implementation', () => {
    // safetensors 0.8.0 (Python): save({"a": float32 [1, 2], "b": float32 3}, metadata={"note": "hi", "x.y": '{"json":true}'})
    const reference = Buffer.from(
      'a0000000000000007b225f5f6d657461646174615f5f223a7b226e6f7465223a226869222c22782e79223a227b5c226a736f6e5c223a747275657d227d2c' +
      '2261223a7b226474797065223a22463332222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c385d7d2c2262223a7b2264747970' +
      '65223a22463332222c227368617065223a5b5d2c22646174615f6f666673657473223a5b382c31325d7d7d0000803f0000004000004040', 'hex');
    const metadata = { note: 'hi', 'x.y': '{"json":true}' };
    expect(Buffer.from(writeSafetensors({ a, b }, metadata))).toEqual(reference);
    const back = readSafetensors(new Uint8Array(reference), 'reference');
    expect(back.metadata).toEqual(metadata);
    expect([...back.tensors.a.data, ...back.tensors.b.data]).toEqual([1, 2, 3]);
  });

  it('writes __metadata__ first, and reads back what it wrote', () => {
    const bytes = writeSafetensors({ a, b }, { note: 'hi', 'x.y': '{"json":true}' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd())
      .toBe('{"__metadata__":{"note":"hi","x.y":"{\\"json\\":true}"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}');
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ note: 'hi', 'x.y': '{"json":true}' });
    expect(Object.keys(back.tensors)).toEqual(['a', 'b']);
    expect([...back.tensors.a.data]).toEqual([1, 2]);
    expect(back.tensors.a.shape).toEqual([2]);
    expect(back.tensors.b.shape).toEqual([]);
    expect(back.tensors.b.item()).toBe(3);
  });

  it('keeps tensor order even for integer-like names, and copies data out of the buffer', () => {
    const bytes = writeSafetensors({ z: a, 10: b, '2': a });
    const back = readSafetensors(bytes);
    // JS objects list integer keys first; the file order is the object's order, offsets ascending.
    expect(Object.keys(back.tensors).sort()).toEqual(['10', '2', 'z']);
    bytes.fill(0);
    expect([...back.tensors.z.data]).toEqual([1, 2]);
  });

  it('reads files written by others: unpadded header, entries not in offset order, empty tensors, no metadata', () => {
    const data = new Uint8Array(new Float32Array([5, 6, 7]).buffer);
    const bytes = build({ second: entry([2], 4, 12), empty: entry([0, 3], 4, 4), first: entry([1], 0, 4) }, data);
    const back = readSafetensors(bytes, 'other.safetensors');
    expect(Object.keys(back.tensors)).toEqual(['first', 'empty', 'second']);
    expect([...back.tensors.second.data]).toEqual([6, 7]);
    expect(back.tensors.empty.shape).toEqual([0, 3]);
    expect(back.metadata).toEqual({});
  });

  it('reads a data section at an odd offset (header length not a multiple of 4)', () => {
    const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const bytes = build('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} ', data);
    expect((bytes.length - 8) % 4).not.toBe(0);
    expect([...readSafetensors(bytes).tensors.t.data]).toEqual([1.5, -2]);
  });

  it('stores a tensor named __proto__ as data, not as the prototype', () => {
    const bytes = build('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4);
    const { tensors } = readSafetensors(bytes);
    expect(Object.getPrototypeOf(tensors)).toBe(Object.prototype);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(tensors['__proto__']).toBeInstanceOf(Tensor);
  });

  it('rejects bad arguments to writeSafetensors', () => {
    expect(() => writeSafetensors(any(null))).toThrow(TypeError);
    expect(() => writeSafetensors(any({ a: [1, 2] }))).toThrow(/tensor 'a' must be a Tensor/);
    expect(() => writeSafetensors({ __metadata__: a })).toThrow(RangeError);
    expect(() => writeSafetensors({ a }, any({ n: 1 }))).toThrow(/metadata value 'n' must be a string/);
    expect(() => writeSafetensors({ a }, any('x'))).toThrow(TypeError);
    expect(() => readSafetensors(any([1, 2, 3]))).toThrow(TypeError);
  });
});

describe('model files', () => {
  it('round-trips LeNet-5 with BatchNorm: same config, same state dict bytes, same outputs', async () => {
    const model = trainedLeNet();
    const bn = model.namedModules().find(([, m]) => m instanceof nn.BatchNorm2d)![1] as nn.BatchNorm2d;
    expect(bn.numBatchesTracked!.item()).toBe(2);
    const path = freshPath();
    await save(model, path);
    const loaded = await load(path);
    expect(loaded).toBeInstanceOf(nn.Sequential);
    expect(loaded.toConfig()).toEqual(model.toConfig());
    const want = model.stateDict();
    const got = loaded.stateDict();
    expect(Object.keys(got)).toEqual(Object.keys(want));
    expect(Object.keys(got)).toContain('1.running_var');
    for (const key of Object.keys(want)) {
      expect(got[key].shape, key).toEqual(want[key].shape);
      expect(sameBytes(bytesOf(got[key]), bytesOf(want[key])), key).toBe(true);
    }
    model.eval();
    loaded.eval();
    const x = randTensor(rng(9), [3, 1, 32, 32]);
    expect(sameBytes(bytesOf(loaded.forward(x)), bytesOf(model.forward(x)))).toBe(true);
    // Saving the loaded model gives the same file, byte for byte.
    const again = freshPath();
    await save(loaded, again);
    expect(sameBytes(readFileSync(again), readFileSync(path))).toBe(true);
  });

  it('saveSync writes the same bytes as save', async () => {
    const model = trainedLeNet();
    const p1 = freshPath();
    const p2 = freshPath();
    await save(model, p1, { metadata: { run: '1' } });
    saveSync(model, p2, { metadata: { run: '1' } });
    expect(sameBytes(readFileSync(p2), readFileSync(p1))).toBe(true);
  });

  it('writes a standard safetensors file that loadStateDictFile reads, with the metadata', async () => {
    const model = new nn.Linear(3, 2);
    const path = freshPath();
    await save(model, path, { metadata: { dataset: 'mnist', epochs: '12' } });
    const { tensors, metadata } = await loadStateDictFile(path);
    expect(metadata).toEqual({ format: 'convkit', 'convkit.config': JSON.stringify(model.toConfig()), dataset: 'mnist', epochs: '12' });
    expect(Object.keys(tensors)).toEqual(['weight', 'bias']);
    const other = new nn.Linear(3, 2);
    other.loadStateDict(tensors);
    expect(sameBytes(bytesOf(other.stateDict().weight), bytesOf(model.stateDict().weight))).toBe(true);
  });

  it('loads a PyTorch-style file (no convkit metadata) into a model built in code', async () => {
    const w = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const bias = tensor([0.5, -0.5], [2]);
    const path = freshPath('torch');
    writeFileSync(path, writeSafetensors({ weight: w, bias }, { format: 'pt' }));
    const model = new nn.Linear(3, 2);
    model.loadStateDict((await loadStateDictFile(path)).tensors);
    expect([...model.forward(tensor([1, 0, 0], [1, 3])).data]).toEqual([1.5, 3.5]);
    await expect(load(path)).rejects.toThrow(/has no 'convkit.config' metadata.*loadStateDictFile/);
  });

  it('overwrites an existing file', async () => {
    const path = freshPath();
    await save(new nn.Linear(2, 2), path);
    await save(new nn.Linear(4, 1), path);
    expect((await load(path)).toConfig()).toEqual(new nn.Linear(4, 1).toConfig());
  });

  it('checks save arguments', async () => {
    const path = freshPath();
    await expect(save(any({}), path)).rejects.toThrow(/model must be an nn.Module/);
    await expect(save(new nn.ReLU(), any(3))).rejects.toThrow(/path must be a non-empty string/);
    await expect(save(new nn.ReLU(), path, any({ meta: {} }))).rejects.toThrow(/unknown option 'meta'/);
    await expect(save(new nn.ReLU(), path, { metadata: { format: 'pt' } })).rejects.toThrow(/'format' is reserved/);
    await expect(save(new nn.ReLU(), path, { metadata: { 'convkit.config': '{}' } })).rejects.toThrow(RangeError);
    await expect(save(new nn.ReLU(), path, { metadata: any({ epochs: 12 }) })).rejects.toThrow(TypeError);
    await expect(load(any(null))).rejects.toThrow(TypeError);
    await expect(loadStateDictFile(any(''))).rejects.toThrow(TypeError);
    await expect(load(join(dir, 'no-such-file.safetensors'))).rejects.toThrow(/ENOENT.*no-such-file/);
  });

  it('saves a module without weights (an empty data section)', async () => {
    const path = freshPath();
    await save(new nn.Sequential(new nn.ReLU(), new nn.Flatten()), path);
    expect((await load(path)).toConfig()).toEqual(new nn.Sequential(new nn.ReLU(), new nn.Flatten()).toConfig());
  });
});

describe('broken and hostile files', () => {
  const valid = writeSafetensors({ w: tensor([1, 2, 3, 4, 5, 6], [2, 3]), b: tensor([7, 8], [2]) }, { k: 'v' });
  const read = (bytes: Uint8Array) => () => readSafetensors(bytes, 'bad.safetensors');
  const f32 = (n: number) => new Uint8Array(n * 4);

  it('rejects a file truncated at every tenth, naming the file', async () => {
    for (let k = 0; k < 10; k++) {
      const cut = valid.subarray(0, Math.floor((valid.length * k) / 10));
      expect(read(cut), `cut at ${k}/10`).toThrow(RangeError);
      expect(read(cut), `cut at ${k}/10`).toThrow(/bad\.safetensors/);
      const path = freshPath('truncated');
      writeFileSync(path, cut);
      await expect(loadStateDictFile(path), `file cut at ${k}/10`).rejects.toThrow(RangeError);
    }
    expect(read(valid.subarray(0, 5))).toThrow(/5 bytes, too short/);
    expect(read(valid.subarray(0, 20))).toThrow(/only 12 bytes follow/);
  });

  it('rejects absurd header lengths before allocating', async () => {
    expect(read(build({}, 0, 2n ** 63n))).toThrow(/more than the limit 100000000/);
    expect(read(build({}, 0, 2n ** 64n - 1n))).toThrow(RangeError);
    expect(read(build({}, 0, 100_000_001n))).toThrow(/limit/);
    expect(read(build({}, 0, 1000n))).toThrow(/declares a header of 1000 bytes/);
    const path = freshPath('huge-header');
    writeFileSync(path, build({}, 0, 2n ** 63n));
    await expect(load(path)).rejects.toThrow(/huge-header.*limit/);
  });

  it('rejects headers that are not UTF-8, not JSON or not an object', () => {
    const notUtf8 = build('{"a":1}');
    notUtf8[10] = 0xff;
    expect(read(notUtf8)).toThrow(/not valid UTF-8/);
    expect(read(build('{"a":'))).toThrow(/not valid JSON/);
    expect(read(build('[]'))).toThrow(/must be a JSON object, got array/);
    expect(read(build('null'))).toThrow(/must be a JSON object/);
    expect(read(build('7'))).toThrow(RangeError);
  });

  it('rejects tensor entries with missing or wrong fields', () => {
    expect(read(build({ t: 1 }))).toThrow(/tensor 't' must be an object/);
    expect(read(build({ t: { dtype: 'F32', shape: [1] } }, 4))).toThrow(/tensor 't' is missing data_offsets/);
    expect(read(build({ t: { shape: [1], data_offsets: [0, 4] } }, 4))).toThrow(/missing dtype/);
    expect(read(build({ t: { ...entry([1], 0, 4), dtype: 32 } }, 4))).toThrow(/dtype must be a string/);
    expect(read(build({ t: { ...entry([1], 0, 4), data_offsets: [0] } }, 4))).toThrow(/data_offsets must be \[begin, end\]/);
    expect(read(build({ t: { ...entry([1], 0, 4), data_offsets: [0, '4'] } }, 4))).toThrow(RangeError);
    expect(read(build({ t: { ...entry([1], 0, 4), data_offsets: [-4, 0] } }, 4))).toThrow(RangeError);
  });

  it('rejects bad shapes, including ones whose volume overflows', () => {
    expect(read(build({ t: entry([1e6, 1e6, 1e6], 0, 4) }, 4))).toThrow(/more elements than the limit/);
    expect(read(build({ t: entry([2 ** 40, 2 ** 40, 0], 0, 0) }, 0))).not.toThrow(); // zero volume is fine
    expect(read(build({ t: entry([2 ** 53, 2], 0, 4) }, 4))).toThrow(/shape must be an array of non-negative integers/);
    expect(read(build({ t: entry([-1], 0, 4) }, 4))).toThrow(/non-negative integers/);
    expect(read(build({ t: entry([1.5], 0, 4) }, 4))).toThrow(RangeError);
    expect(read(build({ t: { ...entry([1], 0, 4), shape: '1' } }, 4))).toThrow(RangeError);
    expect(read(build({ t: entry([3], 0, 8) }, 8))).toThrow(/needs 12 bytes of F32 but data_offsets \[0,8\] hold 8/);
  });

  it('rejects offsets out of range, reversed, overlapping, with gaps or leaving trailing bytes', () => {
    expect(read(build({ t: entry([2], 0, 8) }, 4))).toThrow(/outside the data section of 4 bytes/);
    expect(read(build({ t: entry([1], 8, 4) }, 8))).toThrow(/outside/);
    expect(read(build({ a: entry([2], 0, 8), b: entry([2], 4, 12) }, f32(3)))).toThrow(/tensor 'b'.*overlaps/);
    expect(read(build({ a: entry([2], 0, 8), b: entry([2], 0, 8) }, f32(2)))).toThrow(/overlaps/);
    expect(read(build({ a: entry([1], 0, 4), b: entry([1], 8, 12) }, f32(3)))).toThrow(/gap of 4 bytes/);
    expect(read(build({ a: entry([1], 4, 8) }, f32(2)))).toThrow(/gap/);
    expect(read(build({ a: entry([1], 0, 4) }, f32(2)))).toThrow(/cover 4 bytes but the data section has 8/);
    expect(read(build({}, f32(1)))).toThrow(/cover 0 bytes/);
  });

  it('rejects non-string metadata values', () => {
    expect(read(build({ __metadata__: { epochs: 12 } }))).toThrow(/__metadata__ value 'epochs' must be a string/);
    expect(read(build({ __metadata__: [] }))).toThrow(TypeError);
    expect(readSafetensors(build({ __metadata__: null })).metadata).toEqual({});
  });

  describe('load() of files with broken architecture or weights', () => {
    const linear = new nn.Linear(3, 2);
    const weights = linear.stateDict();
    const withMeta = (metadata: Record<string, string>, tensors: Record<string, Tensor> = weights) => {
      const path = freshPath('arch');
      writeFileSync(path, writeSafetensors(tensors, metadata));
      return path;
    };

    it('names the file and the problem', async () => {
      await expect(load(withMeta({ 'convkit.config': '{"type":' }))).rejects.toThrow(/arch-\d+\.safetensors': the 'convkit.config' metadata is not valid JSON/);
      await expect(load(withMeta({ 'convkit.config': '{"type":"Transformer","args":[]}' }))).rejects.toThrow(/arch-\d+\.safetensors': moduleFromConfig: unknown module type 'Transformer'/);
      await expect(load(withMeta({ 'convkit.config': '[1]' }))).rejects.toThrow(TypeError);
      await expect(load(withMeta({ 'convkit.config': '{"type":"Linear","args":[3,"two"]}' }))).rejects.toThrow(/arch-/);
      const config = JSON.stringify(linear.toConfig());
      await expect(load(withMeta({ 'convkit.config': config }, { weight: weights.weight }))).rejects.toThrow(/arch-\d+\.safetensors'.*missing keys: bias/);
      await expect(load(withMeta({ 'convkit.config': config }, { ...weights, extra: weights.bias }))).rejects.toThrow(/unexpected keys: extra/);
      await expect(load(withMeta({ 'convkit.config': config }, { weight: tensor([1, 2, 3], [1, 3]), bias: weights.bias })))
        .rejects.toThrow(/'weight' has shape \[1,3\] but the module expects \[2,3\]/);
      await expect(load(withMeta({ 'convkit.config': config }))).resolves.toBeInstanceOf(nn.Linear);
    });
  });
});

describe('atomic saves', () => {
  async function withGoodFile(): Promise<{ path: string; before: Buffer; folder: string }> {
    const folder = join(dir, `atomic-${fileCounter++}`);
    mkdirSync(folder);
    const path = join(folder, 'model.safetensors');
    await save(new nn.Linear(2, 3), path);
    return { path, before: readFileSync(path), folder };
  }

  it('a save rejected before writing leaves the previous file and no temp files', async () => {
    const { path, before, folder } = await withGoodFile();
    await expect(save(new nn.Linear(5, 5), path, { metadata: any({ n: 5 }) })).rejects.toThrow(TypeError);
    expect(() => saveSync(new nn.Linear(5, 5), path, { metadata: any({ n: 5 }) })).toThrow(TypeError);
    expect(readFileSync(path)).toEqual(before);
    expect(listDir(folder)).toEqual(['model.safetensors']);
  });

  it('a save that fails after writing the temp file removes it and keeps the previous file', async () => {
    const { path, before, folder } = await withGoodFile();
    // A directory at the target makes the final rename fail, after the temp file was written.
    const blocked = join(folder, 'blocked.safetensors');
    mkdirSync(join(blocked, 'inside'), { recursive: true });
    await expect(save(new nn.Linear(5, 5), blocked)).rejects.toThrow(/save: could not write '.*blocked\.safetensors'.*previous file there is unchanged/);
    expect(() => saveSync(new nn.Linear(5, 5), blocked)).toThrow(/saveSync: could not write/);
    expect(listDir(folder)).toEqual(['blocked.safetensors', 'model.safetensors']);
    expect(listDir(blocked)).toEqual(['inside']);
    expect(readFileSync(path)).toEqual(before);
  });

  it('a save into a missing directory fails clearly and creates nothing', async () => {
    const { folder } = await withGoodFile();
    const missing = join(folder, 'no-such-dir', 'model.safetensors');
    await expect(save(new nn.Linear(2, 2), missing)).rejects.toThrow(/could not write '.*no-such-dir.*ENOENT/);
    expect(() => saveSync(new nn.Linear(2, 2), missing)).toThrow(/ENOENT/);
    expect(listDir(folder)).toEqual(['model.safetensors']);
  });

  it('many concurrent saves to one path leave one complete file and no temp files', async () => {
    const { path, folder } = await withGoodFile();
    const models = Array.from({ length: 8 }, (_, i) => new nn.Linear(i + 1, 2));
    await Promise.all(models.map((m) => save(m, path)));
    const loaded = await load(path);
    expect(models.some((m) => JSON.stringify(m.toConfig()) === JSON.stringify(loaded.toConfig()))).toBe(true);
    expect(listDir(folder)).toEqual(['model.safetensors']);
  });
});
