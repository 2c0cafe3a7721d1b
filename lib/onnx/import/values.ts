// What an ONNX value is while a graph is imported: a tensor computed at run time (its shape
// known as far as import can tell), a float constant, or integers computed at import (shapes,
// axes, indices), whose elements may be symbolic sizes.
import type { Module } from '../../nn/module.js';
import type { Tensor } from '../../tensor.js';
import type { Dim, ShapeTable } from './dims.js';

/** A float tensor made at run time, in slot `slot` of the run's value table. */
export interface TensorValue { readonly kind: 'tensor'; readonly slot: number; readonly shape: readonly Dim[] }
/** A float constant (an initializer, a Constant node, or a node folded at import). */
export interface ConstValue { readonly kind: 'const'; readonly dims: readonly number[]; readonly values: Float32Array; readonly name: string }
/** An integer tensor known at import up to symbolic sizes (a shape, axes, indices). */
export interface IntsValue { readonly kind: 'ints'; readonly dims: readonly number[]; readonly elems: readonly Dim[] }

export type Value = TensorValue | ConstValue | IntsValue;

/** One node's work at run time: tensors in, tensors out. */
export interface Step {
  /** 'Conv node /conv1/Conv (#0)', for messages. */
  readonly label: string;
  /** Slots read (tensors and constants). */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** The layer this node became, when it maps onto one of convkit's. */
  readonly layer: Module | null;
  /** Whether every output is new memory, or a view that holds its own share of it (reshape). */
  readonly ownsOutputs: boolean;
  /** Set on an Add of two run-time tensors: where a residual connection joins (residual.ts). */
  readonly joinsBranches?: boolean;
  run(inputs: Tensor[], shapes: ShapeTable): Tensor[];
}
