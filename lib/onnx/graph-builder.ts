// Collects the nodes and initializers of an ONNX graph as plain objects in onnx.proto's field
// names, for schema.ts to encode. Attribute values carry their ONNX type explicitly: a JS
// number cannot say whether it is an INT or a FLOAT.
import { endianness } from 'node:os';
import { onnxSchema } from './schema.js';

export type Attribute =
  | { name: string; type: 'INT'; value: number }
  | { name: string; type: 'INTS'; value: readonly number[] }
  | { name: string; type: 'FLOAT'; value: number };

export const intAttr = (name: string, value: number): Attribute => ({ name, type: 'INT', value });
export const intsAttr = (name: string, value: readonly number[]): Attribute => ({ name, type: 'INTS', value });
export const floatAttr = (name: string, value: number): Attribute => ({ name, type: 'FLOAT', value });

const LITTLE_ENDIAN = endianness() === 'LE';

/** ONNX raw_data is little-endian whatever the machine. */
function littleEndianBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return bytes;
}

export class GraphBuilder {
  readonly nodes: Array<Record<string, unknown>> = [];
  readonly initializers: Array<Record<string, unknown>> = [];
  private readonly valueNames = new Set<string>();
  private readonly nodeNames = new Set<string>();

  /** input: the name of the graph's input value. */
  constructor(readonly input: string) {
    this.valueNames.add(input);
  }

  /** Graph values are assigned once (SSA) and nodes named once; a clash would be a bug here. */
  private static claim(names: Set<string>, name: string): string {
    if (names.has(name)) throw new Error(`exportOnnx: internal error: the graph name '${name}' is used twice`);
    names.add(name);
    return name;
  }

  /** A float32 constant (a weight), stored as little-endian raw_data. */
  addFloatInitializer(name: string, dims: readonly number[], values: Float32Array): string {
    const { dataType } = onnxSchema();
    this.initializers.push({ name: GraphBuilder.claim(this.valueNames, name), dims: [...dims], data_type: dataType.FLOAT, raw_data: littleEndianBytes(values) });
    return name;
  }

  /** A 1-d int64 constant (a shape for Reshape). */
  addInt64Initializer(name: string, values: readonly number[]): string {
    const { dataType } = onnxSchema();
    this.initializers.push({ name: GraphBuilder.claim(this.valueNames, name), dims: [values.length], data_type: dataType.INT64, int64_data: [...values] });
    return name;
  }

  /** Adds a node; returns its (single) output's name. */
  addNode(opType: string, name: string, inputs: readonly string[], output: string, attributes: readonly Attribute[] = []): string {
    const { attributeType } = onnxSchema();
    this.nodes.push({
      op_type: opType,
      name: GraphBuilder.claim(this.nodeNames, name), // apart from value names: '0' may name both
      input: [...inputs],
      output: [GraphBuilder.claim(this.valueNames, output)],
      attribute: attributes.map((a) => ({
        name: a.name,
        type: attributeType[a.type],
        ...(a.type === 'INT' ? { i: a.value } : a.type === 'FLOAT' ? { f: a.value } : { ints: [...a.value] }),
      })),
    });
    return output;
  }

  /** Gives the value a node produces a new name (the graph's output is named 'output'). */
  renameOutput(from: string, to: string): void {
    const producer = this.nodes.find((n) => (n.output as string[])[0] === from);
    if (!producer) throw new Error(`exportOnnx: internal error: no node produces '${from}'`);
    GraphBuilder.claim(this.valueNames, to);
    producer.output = [to];
  }
}
