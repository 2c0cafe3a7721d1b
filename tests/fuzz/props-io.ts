// Properties of lib/io: safetensors and model files round-trip exactly, and hostile files are
// rejected with TypeError/RangeError without allocating much more than their size.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { load, loadStateDictFile, manualSeed, nn, readSafetensors, saveSync, tensor, writeSafetensors, type Tensor } from '../../lib/index.js';
import { attempt, attemptAsync, expectTypeOrRangeError, type FuzzProperty } from './property.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-fuzz-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = () => join(dir, `case-${fileCounter++ % 64}.safetensors`); // files are reused: the fuzz writes thousands

const bytesOf = (t: Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

// ---- safetensors round trip --------------------------------------------------------------------

interface TensorDict { tensors: Array<[string, number[], Float32Array]>; metadata: Record<string, string> }

/** Names and metadata of any (well-formed) Unicode, shapes with zero dims, every float32 bit pattern. */
const tensorDict: fc.Arbitrary<TensorDict> = fc.record({
  tensors: fc.uniqueArray(
    fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
      .filter(([name]) => name !== '__metadata__')
      .chain(([name, shape]) => {
        const n = shape.reduce((a, b) => a * b, 1);
        return fc.float32Array({ minLength: n, maxLength: n }).map((data) => [name, shape, data] as [string, number[], Float32Array]);
      }),
    { selector: ([name]) => name, maxLength: 5 }),
  metadata: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 12 }), { maxKeys: 3 }),
});

export const safetensorsRoundTrip: FuzzProperty<TensorDict> = {
  name: 'io.safetensors-round-trip',
  arbitrary: tensorDict,
  ciRuns: 800,
  check: (d) => {
    const tensors: Record<string, Tensor> = {};
    for (const [name, shape, data] of d.tensors) Object.defineProperty(tensors, name, { value: tensor(data, shape), enumerable: true });
    const back = readSafetensors(writeSafetensors(tensors, d.metadata));
    if (JSON.stringify(back.metadata) !== JSON.stringify(Object.fromEntries(Object.entries(d.metadata)))) {
      throw new Error(`metadata ${JSON.stringify(back.metadata)}, expected ${JSON.stringify(d.metadata)}`);
    }
    const names = Object.keys(back.tensors).sort();
    const want = d.tensors.map(([n]) => n).sort();
    if (JSON.stringify(names) !== JSON.stringify(want)) throw new Error(`names ${JSON.stringify(names)}, expected ${JSON.stringify(want)}`);
    for (const [name, shape, data] of d.tensors) {
      const t = back.tensors[name];
      if (JSON.stringify(t.shape) !== JSON.stringify(shape)) throw new Error(`'${name}': shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(shape)}`);
      if (!bytesOf(t).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength))) throw new Error(`'${name}': the bytes differ`);
    }
  },
};

// ---- model round trip --------------------------------------------------------------------------

type Config = { type: string; args: unknown[] };

const small = fc.integer({ min: 1, max: 4 });
const pairArb = fc.oneof(small, fc.tuple(small, small));

/** Configs of every layer type, with valid arguments (the constructors check them). */
const layerConfig: fc.Arbitrary<Config> = fc.oneof(
  fc.record({ groups: fc.constantFrom(1, 2), i: small, o: small, k: pairArb, stride: pairArb, padding: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.constantFrom('same', 'valid')), dilation: pairArb, bias: fc.boolean() })
    .map((r) => ({ type: 'Conv2d', args: [r.i * r.groups, r.o * r.groups, r.k, { stride: r.stride, padding: r.padding, dilation: r.dilation, groups: r.groups, bias: r.bias }] })),
  fc.record({ i: small, o: small, k: small, bias: fc.boolean() }).map((r) => ({ type: 'Conv1d', args: [r.i, r.o, r.k, { bias: r.bias }] })),
  fc.record({ i: fc.integer({ min: 1, max: 20 }), o: small, bias: fc.boolean() }).map((r) => ({ type: 'Linear', args: [r.i, r.o, { bias: r.bias }] })),
  fc.record({ n: small, eps: fc.constantFrom(1e-5, 1e-3), momentum: fc.constantFrom(0.1, 0, 1), affine: fc.boolean(), track: fc.boolean() })
    .map((r) => ({ type: 'BatchNorm2d', args: [r.n, { eps: r.eps, momentum: r.momentum, affine: r.affine, trackRunningStats: r.track }] })),
  fc.record({ k: pairArb, ceilMode: fc.boolean() }).map((r) => ({ type: 'MaxPool2d', args: [r.k, { ceilMode: r.ceilMode }] })),
  fc.record({ k: pairArb, cip: fc.boolean() }).map((r) => ({ type: 'AvgPool2d', args: [r.k, { countIncludePad: r.cip }] })),
  fc.constantFrom<Config>({ type: 'ReLU', args: [] }, { type: 'Tanh', args: [] }, { type: 'Sigmoid', args: [] }, { type: 'GlobalAvgPool2d', args: [] }),
  fc.constantFrom(0.01, 0.2).map((s) => ({ type: 'LeakyReLU', args: [s] })),
  fc.constantFrom(-1, 1).map((a) => ({ type: 'Softmax', args: [a] })),
  fc.constantFrom(1, 2).map((d) => ({ type: 'Flatten', args: [d] })),
  fc.constantFrom(0, 0.5).map((p) => ({ type: 'Dropout', args: [p] })),
);

const modelConfig: fc.Arbitrary<Config> = fc.letrec<{ model: Config }>((tie) => ({
  model: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    layerConfig,
    fc.array(fc.oneof({ arbitrary: layerConfig, weight: 4 }, { arbitrary: tie('model'), weight: 1 }), { maxLength: 4 }).map((layers) => ({ type: 'Sequential', args: layers }))),
})).model;

interface ModelCase { config: Config; seed: number; metadata: Record<string, string> }

const modelCase: fc.Arbitrary<ModelCase> = fc.record({
  config: modelConfig,
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  metadata: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }).filter((k) => k !== 'format' && k !== 'convkit.config'), fc.string({ unit: 'grapheme', maxLength: 8 }), { maxKeys: 2 }),
});

export const modelRoundTrip: FuzzProperty<ModelCase> = {
  name: 'io.model-round-trip',
  arbitrary: modelCase,
  ciRuns: 150,
  check: async (c) => {
    manualSeed(c.seed);
    const model = nn.moduleFromConfig(c.config as nn.ModuleConfig);
    const path = freshPath();
    saveSync(model, path, { metadata: c.metadata });
    const loaded = await load(path);
    if (JSON.stringify(loaded.toConfig()) !== JSON.stringify(model.toConfig())) {
      throw new Error(`config ${JSON.stringify(loaded.toConfig())}, expected ${JSON.stringify(model.toConfig())}`);
    }
    const [want, got] = [model.stateDict(), loaded.stateDict()];
    if (JSON.stringify(Object.keys(got)) !== JSON.stringify(Object.keys(want))) throw new Error(`state dict keys ${Object.keys(got)}, expected ${Object.keys(want)}`);
    for (const key of Object.keys(want)) {
      if (JSON.stringify(got[key].shape) !== JSON.stringify(want[key].shape) || !bytesOf(got[key]).equals(bytesOf(want[key]))) throw new Error(`'${key}' differs`);
    }
    const { metadata } = await loadStateDictFile(path);
    for (const [k, v] of Object.entries(c.metadata)) if (metadata[k] !== v) throw new Error(`metadata '${k}' is ${JSON.stringify(metadata[k])}, expected ${JSON.stringify(v)}`);
  },
};

// ---- hostile files -----------------------------------------------------------------------------

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; edits: Array<[number, number]> }
  | { kind: 'header-length'; value: bigint }
  | { kind: 'random'; bytes: Uint8Array }
  | { kind: 'header'; json: string; dataBytes: number };

interface HostileCase { base: TensorDict; config: boolean; mutation: Mutation }

const huge = fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300, 2 ** 40, 65536 * 65536 + 4);

/** A header's JSON text, mostly well-formed, with hostile shapes, offsets, dtypes or nesting. */
const hostileHeader: fc.Arbitrary<string> = fc.oneof(
  fc.record({ shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 8 }), huge, fc.constantFrom(-1, 1.5, '2', null)), { maxLength: 4 }),
    begin: fc.oneof(fc.integer({ min: 0, max: 64 }), huge, fc.constantFrom(-4, 0.5)), end: fc.oneof(fc.integer({ min: 0, max: 64 }), huge),
    dtype: fc.constantFrom('F32', 'F16', 'I64', 'BOOL', '', 'F32\u0000') })
    .map((e) => JSON.stringify({ t: { dtype: e.dtype, shape: e.shape, data_offsets: [e.begin, e.end] } })),
  fc.integer({ min: 1, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)), // deep nesting
  fc.integer({ min: 1, max: 2000 }).map((n) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, { dtype: 'F32', shape: [0], data_offsets: [0, 0] }])))),
  fc.constantFrom('{"__metadata__":{"convkit.config":"{\\"type\\":\\"Sequential\\",\\"args\\":[]}"},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
    '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', '{"constructor":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
    '{"__metadata__":{"__proto__":"x"}}', '{"__metadata__":"x"}', '{"t":{"dtype":"F32","shape":[],"data_offsets":[0,4],"extra":1}}'),
  fc.json({ maxDepth: 3 }),
  // A config that names a huge layer in a tiny file (load() must not build its weights first).
  fc.constantFrom(40000, 100000).map((n) => JSON.stringify({ __metadata__: { format: 'convkit', 'convkit.config': JSON.stringify({ type: 'Linear', args: [n, n] }) } })),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((at) => ({ kind: 'truncate' as const, at })),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((edits) => ({ kind: 'flip' as const, edits })),
  fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(2n ** 63n, 100_000_000n, 100_000_001n, 2n ** 32n), fc.bigInt({ min: 0n, max: 4096n }))
    .map((value) => ({ kind: 'header-length' as const, value })),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ kind: 'random' as const, bytes })),
  fc.record({ json: hostileHeader, dataBytes: fc.integer({ min: 0, max: 64 }) }).map((r) => ({ kind: 'header' as const, ...r })),
);

const hostileCase: fc.Arbitrary<HostileCase> = fc.record({ base: tensorDict, config: fc.boolean(), mutation });

function hostileBytes(c: HostileCase): Uint8Array {
  const m = c.mutation;
  if (m.kind === 'random') return m.bytes;
  if (m.kind === 'header') {
    const json = new TextEncoder().encode(m.json);
    const out = new Uint8Array(8 + json.length + m.dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  }
  const tensors: Record<string, Tensor> = {};
  for (const [name, shape, data] of c.base.tensors) Object.defineProperty(tensors, name, { value: tensor(data, shape), enumerable: true });
  const metadata = c.config ? { ...c.base.metadata, format: 'convkit', 'convkit.config': JSON.stringify(new nn.Linear(2, 2).toConfig()) } : c.base.metadata;
  const bytes = writeSafetensors(tensors, metadata);
  if (m.kind === 'truncate') return bytes.subarray(0, m.at % Math.max(1, bytes.length)); // always shorter than the file
  if (m.kind === 'flip') {
    for (const [at, v] of m.edits) bytes[at % bytes.length] = v;
    return bytes;
  }
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(0, m.value, true);
  return bytes;
}

const MiB = 2 ** 20;
/** Loosely "no more than the file's size allows": the data is copied a few times at most. */
const allowance = (size: number) => 16 * size + 8 * MiB;
let baselineMaxRss = 0;

function checkMemory(what: string, size: number, arrayBuffersBefore: number): void {
  const grown = process.memoryUsage().arrayBuffers - arrayBuffersBefore;
  if (grown > allowance(size)) throw new Error(`${what}: ${(grown / MiB).toFixed(1)} MiB of ArrayBuffers after reading a file of ${size} bytes`);
  // The peak resident size of this (child) process: a bomb that touched its memory shows here.
  const peak = process.resourceUsage().maxRSS * 1024;
  if (baselineMaxRss === 0) baselineMaxRss = peak;
  if (peak - baselineMaxRss > 256 * MiB) throw new Error(`${what}: peak RSS grew by ${((peak - baselineMaxRss) / MiB).toFixed(0)} MiB reading files of at most ${size} bytes`);
}

export const hostileFilesRejected: FuzzProperty<HostileCase> = {
  name: 'io.hostile-files-rejected',
  arbitrary: hostileCase,
  ciRuns: 800,
  check: async (c) => {
    const bytes = hostileBytes(c);
    let before = process.memoryUsage().arrayBuffers;
    const parsed = attempt(() => readSafetensors(bytes, 'hostile.safetensors'));
    checkMemory('readSafetensors', bytes.length, before);
    if (!parsed.ok) expectTypeOrRangeError(parsed.error, 'readSafetensors');
    // Reading from disk takes another path (sizes checked before each read); half the cases, for speed.
    if (!c.config) return parsed.ok ? 'accepted' : 'rejected';
    const path = freshPath();
    writeFileSync(path, bytes);
    before = process.memoryUsage().arrayBuffers;
    const fromFile = await attemptAsync(() => loadStateDictFile(path));
    if (!fromFile.ok) expectTypeOrRangeError(fromFile.error, 'loadStateDictFile');
    if (fromFile.ok !== parsed.ok) throw new Error(`readSafetensors ${parsed.ok ? 'accepted' : 'rejected'} the bytes but loadStateDictFile ${fromFile.ok ? 'accepted' : 'rejected'} the file`);
    const model = await attemptAsync(() => load(path));
    checkMemory('loadStateDictFile and load', bytes.length, before);
    if (!model.ok) expectTypeOrRangeError(model.error, 'load');
    return parsed.ok ? 'accepted' : 'rejected';
  },
};

export const ioProperties: FuzzProperty[] = [safetensorsRoundTrip, modelRoundTrip, hostileFilesRejected];
