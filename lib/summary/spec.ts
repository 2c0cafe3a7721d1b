// parseSpec: a one-line text grammar for Sequential models, used by the convkit CLI.
//
//   "1x32x32 conv6k5 relu pool2 conv16k5 relu pool2 flatten fc120 relu fc84 relu fc10"
//
// The first token is the input shape without the batch dim, sizes joined by 'x'
// (CxHxW for images, CxL for signals, N for vectors). Every other token is one layer, and
// tokens are separated by spaces (commas and '->' also work as separators). Options after
// a kernel size (sS, pP, dD, gG, nobias, ceil) come in any order, each at most once:
//
//   convOUTkK[sS][pP|psame|pvalid][dD][gG][nobias]
//                      convolution with OUT output channels and a KxK kernel (K or KHxKW),
//                      stride S, padding P, dilation D, G groups, no bias; the input
//                      channels come from the shape so far. On a CxL input it is a Conv1d.
//                      conv96k11s4, conv64k3p1, conv64k3psame, conv32k3x1, conv64k3g2
//   poolK[sS][pP][ceil]    max pooling (stride defaults to K): pool2, pool3s2
//   maxpoolK[sS][pP][ceil] the same: maxpool3s2p1, maxpool3s2ceil
//   avgpoolK[sS][pP][ceil] average pooling: avgpool2
//   gap                    global average pooling, CxHxW -> Cx1x1
//   bn                     BatchNorm2d over the channels so far
//   relu  tanh  sigmoid  softmax  lrelu[SLOPE] (default 0.01: lrelu, lrelu0.2)
//   dropout[P]             default 0.5: dropout, dropout0.25
//   flatten                CxHxW -> C*H*W
//   fcN                    Linear to N features (linearN too), from the features so far
//
// A bad token is a RangeError that names it, gives its position in the string and
// underlines it with carets; so is a layer that does not fit the shape so far.
import { Module } from '../nn/module.js';
import { Conv1d, Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { AvgPool2d, GlobalAvgPool2d, MaxPool2d } from '../nn/pool.js';
import { Flatten } from '../nn/shape.js';
import { Dropout } from '../nn/dropout.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from '../nn/activation.js';
import { Sequential } from '../nn/sequential.js';
import { describe } from '../shape.js';
import { inferNamedLayer, type FieldState } from './summary.js';
import { withDeferredInit } from '../nn/deferred.js';

/** The token forms, one a line (for --help and error messages). */
export const SPEC_GRAMMAR = [
  'CxHxW (first token: the input shape without batch, e.g. 1x32x32; CxL or N also work)',
  'convOUTkK[sS][pP|psame|pvalid][dD][gG][nobias]  e.g. conv6k5, conv96k11s4, conv64k3p1, conv64k3psame',
  'poolK[sS][pP][ceil] / maxpoolK[sS][pP][ceil]    max pooling, e.g. pool2, maxpool3s2',
  'avgpoolK[sS][pP][ceil]                          average pooling, e.g. avgpool2',
  'gap                                             global average pooling',
  'bn                                              batch norm',
  'relu | tanh | sigmoid | softmax | lrelu[SLOPE]  activations, e.g. lrelu0.2',
  'dropout[P]                                      e.g. dropout0.5',
  'flatten                                         CxHxW -> C*H*W',
  'fcN (or linearN)                                fully connected to N features, e.g. fc120',
];

const EXPECTED = 'convOUTkK[sS][pP][dD][gG], pool2, maxpool3s2, avgpool2, gap, bn, relu, tanh, sigmoid, softmax, lrelu[SLOPE], dropout[P], flatten or fcN';

/** What parseSpec() returns: the input shape and the model the spec describes. */
export interface ParsedSpec {
  /** Without the batch dim. */
  inputShape: number[];
  model: Sequential;
}

interface Token {
  text: string;
  /** Character offset in the spec. */
  position: number;
}

const CONV = /^conv(\d+)k(\d+)(?:x(\d+))?([a-z0-9]*)$/;
const POOL = /^(pool|maxpool|avgpool)(\d+)(?:x(\d+))?([a-z0-9]*)$/;
const OPTION = /s(\d+)|p(\d+|same|valid)|d(\d+)|g(\d+)|(nobias)|(ceil)/y;

interface Suffix { s?: string; p?: string; d?: string; g?: string; nobias?: string; ceil?: string }

/** The options after the kernel (s2, p1, psame, d2, g2, nobias, ceil, each once, any order); null when they do not parse or are not allowed. */
function parseSuffix(text: string, allowed: readonly (keyof Suffix)[]): Suffix | null {
  const out: Suffix = {};
  const keys = ['s', 'p', 'd', 'g', 'nobias', 'ceil'] as const;
  OPTION.lastIndex = 0;
  while (OPTION.lastIndex < text.length) {
    const m = OPTION.exec(text);
    if (!m) return null;
    const i = m.slice(1).findIndex((v) => v !== undefined);
    const key = keys[i];
    if (!allowed.includes(key) || out[key] !== undefined) return null;
    out[key] = m[i + 1];
  }
  return out;
}
const FC = /^(?:fc|linear)(\d+)$/;
const NUMBER = '(\\d+(?:\\.\\d*)?|\\.\\d+)';
const LRELU = new RegExp(`^(?:lrelu|leakyrelu)${NUMBER}?$`);
const DROPOUT = new RegExp(`^dropout${NUMBER}?$`);

function tokenize(spec: string): Token[] {
  const tokens: Token[] = [];
  for (const m of spec.matchAll(/[^\s,]+/g)) {
    // '->' between tokens is a separator too ('1x32x32 -> conv6k5 -> relu').
    if (m[0] === '->') continue;
    tokens.push({ text: m[0], position: m.index });
  }
  return tokens;
}

function pointAt(spec: string, token: Token, message: string): RangeError {
  const caret = ' '.repeat(token.position) + '^'.repeat(Math.max(1, token.text.length));
  return new RangeError(`${message}\n  ${spec}\n  ${caret}`);
}

/** Builds the module for one layer token, given the shape so far; null for an unknown token. */
function buildLayer(text: string, shape: readonly number[]): Module | null {
  const t = text.toLowerCase();
  let m: RegExpExecArray | null;
  let o: Suffix | null;
  if ((m = CONV.exec(t)) && (o = parseSuffix(m[4], ['s', 'p', 'd', 'g', 'nobias']))) {
    const [, out, kh, kw] = m;
    const { s, p, d, g, nobias } = o;
    const padding: number | 'same' | 'valid' | undefined = p === undefined ? undefined : p === 'same' || p === 'valid' ? p : Number(p);
    const opts = {
      ...(s !== undefined && { stride: Number(s) }),
      ...(padding !== undefined && { padding }),
      ...(d !== undefined && { dilation: Number(d) }),
      ...(g !== undefined && { groups: Number(g) }),
      ...(nobias !== undefined && { bias: false }),
    };
    if (shape.length === 2) {
      if (kw !== undefined) throw new RangeError(`a 1-d convolution (input CxL) takes one kernel size, not ${kh}x${kw}`);
      return new Conv1d(shape[0], Number(out), Number(kh), opts);
    }
    if (shape.length !== 3) throw new RangeError(`a convolution needs a CxHxW (or CxL) input, but the shape so far is ${shape.join('x')}`);
    return new Conv2d(shape[0], Number(out), kw === undefined ? Number(kh) : [Number(kh), Number(kw)], opts);
  }
  if ((m = POOL.exec(t)) && (o = parseSuffix(m[4], ['s', 'p', 'ceil'])) && !(o.p && !/^\d+$/.test(o.p))) {
    const [, kind, kh, kw] = m;
    const { s, p, ceil } = o;
    const kernel: number | [number, number] = kw === undefined ? Number(kh) : [Number(kh), Number(kw)];
    const opts = {
      ...(s !== undefined && { stride: Number(s) }),
      ...(p !== undefined && { padding: Number(p) }),
      ...(ceil !== undefined && { ceilMode: true }),
    };
    return kind === 'avgpool' ? new AvgPool2d(kernel, opts) : new MaxPool2d(kernel, opts);
  }
  if ((m = FC.exec(t))) {
    const inFeatures = shape[shape.length - 1];
    if (shape.length !== 1) throw new RangeError(`fc needs a flat input, but the shape so far is ${shape.join('x')} (add 'flatten' or 'gap flatten' before it)`);
    return new Linear(inFeatures, Number(m[1]));
  }
  if ((m = LRELU.exec(t))) return new LeakyReLU(m[1] === undefined ? undefined : Number(m[1]));
  if ((m = DROPOUT.exec(t))) return new Dropout(m[1] === undefined ? undefined : Number(m[1]));
  switch (t) {
    case 'gap': return new GlobalAvgPool2d();
    case 'bn':
    case 'batchnorm':
      if (shape.length !== 3) throw new RangeError(`bn needs a CxHxW input, but the shape so far is ${shape.join('x')}`);
      return new BatchNorm2d(shape[0]);
    case 'relu': return new ReLU();
    case 'tanh': return new Tanh();
    case 'sigmoid': return new Sigmoid();
    case 'softmax': return new Softmax();
    case 'flatten': return new Flatten();
    default: return null;
  }
}

/**
 * Parses a model spec like "1x32x32 conv6k5 relu pool2 conv16k5 relu pool2 flatten fc120 relu
 * fc84 relu fc10" (grammar in this file's header and SPEC_GRAMMAR) into its input shape and a
 * Sequential. Each layer is checked against the shape so far: a bad token or a layer that
 * does not fit is a RangeError that points at the token.
 */
export function parseSpec(spec: string): ParsedSpec {
  const op = 'parseSpec';
  if (typeof spec !== 'string') throw new TypeError(`${op}: spec must be a string like "1x32x32 conv6k5 relu pool2 flatten fc10", got ${describe(spec)}`);
  const tokens = tokenize(spec);
  if (tokens.length === 0) {
    throw new RangeError(`${op}: the spec is empty; it starts with the input shape, e.g. "1x32x32 conv6k5 relu pool2 flatten fc10"`);
  }
  const first = tokens[0];
  if (!/^\d+(?:x\d+)*$/i.test(first.text)) {
    throw pointAt(spec, first, `${op}: the first token '${first.text}' at position ${first.position} must be the input shape without batch, like 1x32x32 (CxHxW)`);
  }
  const inputShape = first.text.toLowerCase().split('x').map(Number);
  if (inputShape.some((d) => d < 1 || !Number.isSafeInteger(d)) || inputShape.length > 3) {
    throw pointAt(spec, first, `${op}: the input shape '${first.text}' at position ${first.position} must be 1 to 3 positive sizes (CxHxW, CxL or N)`);
  }
  const model = new Sequential();
  let shape: readonly number[] = inputShape;
  let field: FieldState = { rf: 1, jump: 1 };
  for (let i = 1; i < tokens.length; i++) {
    const token = tokens[i];
    const name = String(i - 1);
    const where = `'${token.text}' at position ${token.position} (layer ${name})`;
    let layer: Module | null;
    try {
      // Deferred: the spec's weights are made when the model is first used, never by parsing.
      layer = withDeferredInit(() => buildLayer(token.text, shape));
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) throw pointAt(spec, token, `${op}: token ${where}: ${e.message}`);
      throw e;
    }
    if (layer === null) throw pointAt(spec, token, `${op}: unknown token ${where}: expected ${EXPECTED}`);
    try {
      const info = inferNamedLayer(op, name, layer, shape, field);
      shape = info.outputShape;
      field = info.field;
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) {
        const message = e.message.replace(/^parseSpec: layer (\S+) \(([^)]*)\)/, (_all, layerName: string, what: string) =>
          `${op}: token '${token.text}' at position ${token.position} (layer ${layerName}: ${what})`);
        throw pointAt(spec, token, message);
      }
      throw e;
    }
    model.append(layer);
  }
  return { inputShape, model };
}
