// A node's attributes, read with their ONNX type checked: a wrong or missing type is a clear
// error naming the node and the attribute, never a silent default.
import { hostTensor, type HostTensor } from './tensors.js';

type AttributeProto = Record<string, unknown>;

export class Attributes {
  private readonly byName = new Map<string, AttributeProto>();

  /** fail(message) throws the node's error (it names the node, op type and opset). */
  constructor(list: readonly AttributeProto[], private readonly fail: (message: string, type?: 'type' | 'range') => never) {
    for (const a of list) {
      const name = a.name as string;
      if (this.byName.has(name)) fail(`attribute '${name}' is given twice`);
      this.byName.set(name, a);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  private get(name: string, type: string): AttributeProto | undefined {
    const a = this.byName.get(name);
    if (a && a.type !== type) this.fail(`attribute '${name}' must be ${type}, got ${String(a.type)}`, 'type');
    if (a?.ref_attr_name) this.fail(`attribute '${name}' refers to a function attribute, which is not supported`, 'type');
    return a;
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const a = this.get(name, 'INT');
    if (!a) return fallback;
    const v = a.i as number;
    if (!Number.isSafeInteger(v)) this.fail(`attribute '${name}' is ${v}, beyond the integers convkit reads exactly`, 'range');
    return v;
  }

  ints(name: string): number[] | undefined {
    const a = this.get(name, 'INTS');
    if (!a) return undefined;
    const v = a.ints as number[];
    for (const x of v) if (!Number.isSafeInteger(x)) this.fail(`attribute '${name}' holds ${x}, beyond the integers convkit reads exactly`, 'range');
    return [...v];
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    const a = this.get(name, 'FLOAT');
    return a ? (a.f as number) : fallback;
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, 'FLOATS');
    return a ? [...(a.floats as number[])] : undefined;
  }

  string(name: string, fallback: string): string {
    const a = this.get(name, 'STRING');
    return a ? new TextDecoder().decode(a.s as Uint8Array) : fallback;
  }

  tensor(name: string): HostTensor | undefined {
    const a = this.get(name, 'TENSOR');
    return a ? hostTensor(`attribute '${name}'`, a.t as Record<string, unknown>) : undefined;
  }

  /** Rejects attributes the handler does not read, so that none is silently ignored. */
  onlyKnown(known: readonly string[]): void {
    for (const name of this.byName.keys()) {
      if (!known.includes(name)) this.fail(`attribute '${name}' is not supported`, 'type');
    }
  }
}
