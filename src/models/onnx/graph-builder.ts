/**
 * A small builder for ONNX graphs: named inputs and outputs, seeded random weights, and helpers
 * for the layers our fixture models use (linear, layer norm, GELU, multi-head attention pieces).
 * Node and value names are generated in a fixed order, so a model is byte-identical run to run.
 */
import type {
  AttributeValue,
  Dim,
  ElemType,
  GraphSpec,
  NodeSpec,
  TensorSpec,
  ValueInfoSpec,
} from './onnx-proto.js';
import { SeededRandom } from './prng.js';

/** Attribute constructors: `attr.ints([0, 2, 1])`. */
export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  ints: (value: readonly number[]): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  floats: (value: readonly number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  tensor: (value: TensorSpec): AttributeValue => ({ kind: 'tensor', value }),
  graph: (value: GraphSpec): AttributeValue => ({ kind: 'graph', value }),
};

interface SharedState {
  counter: number;
  rng: SeededRandom;
}

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly inputs: ValueInfoSpec[] = [];
  private readonly outputs: ValueInfoSpec[] = [];
  private readonly initializers: TensorSpec[] = [];
  private readonly shared: SharedState;

  constructor(
    readonly name: string,
    seedOrShared: number | SharedState,
  ) {
    this.shared =
      typeof seedOrShared === 'number'
        ? { counter: 0, rng: new SeededRandom(seedOrShared) }
        : seedOrShared;
  }

  get rng(): SeededRandom {
    return this.shared.rng;
  }

  /** A builder for a subgraph (If branches) sharing names and random stream with this one. */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, this.shared);
  }

  private fresh(hint: string): string {
    this.shared.counter += 1;
    return `${hint}_${this.shared.counter}`;
  }

  input(name: string, type: ElemType, shape: readonly Dim[]): string {
    this.inputs.push({ name, type, shape });
    return name;
  }

  /** Declares `name` as a graph output, fed from `from` through Identity when they differ. */
  output(name: string, type: ElemType, shape: readonly Dim[] | undefined, from: string): void {
    if (from !== name)
      this.nodes.push({
        opType: 'Identity',
        inputs: [from],
        outputs: [name],
        name: this.fresh('out'),
      });
    this.outputs.push({ name, type, shape });
  }

  initializer(
    name: string,
    type: ElemType,
    dims: readonly number[],
    data: TensorSpec['data'],
  ): string {
    this.initializers.push({ name, type, dims, data });
    return name;
  }

  /** Random normal weights. */
  weight(name: string, dims: readonly number[], std: number): string {
    return this.initializer(
      name,
      'float',
      dims,
      this.rng.normals(
        dims.reduce((a, b) => a * b, 1),
        std,
      ),
    );
  }

  constFloat(
    values: readonly number[] | Float32Array,
    dims: readonly number[] = [values.length],
  ): string {
    return this.initializer(this.fresh('cf'), 'float', dims, Float32Array.from(values));
  }

  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(
      this.fresh('ci'),
      'int64',
      dims,
      BigInt64Array.from(values.map(BigInt)),
    );
  }

  /** Adds one node and returns its single output. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes?: Record<string, AttributeValue>,
  ): string {
    return this.opN(opType, inputs, 1, attributes)[0]!;
  }

  /** Adds one node with `outputCount` outputs. */
  opN(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attributes?: Record<string, AttributeValue>,
  ): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({ opType, inputs, outputs, name: this.fresh(`n_${opType}`), attributes });
    return outputs;
  }

  /** Adds a node whose outputs carry the given names. */
  opNamed(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes?: Record<string, AttributeValue>,
  ): void {
    this.nodes.push({ opType, inputs, outputs, name: this.fresh(`n_${opType}`), attributes });
  }

  /** x @ W + b with W [inDim, outDim] ~ N(0, std^2), std defaulting to 1/sqrt(inDim). */
  linear(
    x: string,
    prefix: string,
    inDim: number,
    outDim: number,
    options: { bias?: boolean; std?: number } = {},
  ): string {
    const w = this.weight(`${prefix}.weight`, [inDim, outDim], options.std ?? 1 / Math.sqrt(inDim));
    const y = this.op('MatMul', [x, w]);
    if (options.bias === false) return y;
    const b = this.weight(`${prefix}.bias`, [outDim], 0.02);
    return this.op('Add', [y, b]);
  }

  /** LayerNormalization over the last axis with unit scale and zero shift. */
  layerNorm(x: string, prefix: string, dim: number): string {
    const scale = this.initializer(
      `${prefix}.weight`,
      'float',
      [dim],
      new Float32Array(dim).fill(1),
    );
    const shift = this.initializer(`${prefix}.bias`, 'float', [dim], new Float32Array(dim));
    return this.op('LayerNormalization', [x, scale, shift], {
      axis: attr.int(-1),
      epsilon: attr.float(1e-5),
    });
  }

  /** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)) (the Gelu op arrived only in opset 20). */
  gelu(x: string): string {
    const scaled = this.op('Mul', [x, this.constFloat([Math.SQRT1_2], [])]);
    const erfPlusOne = this.op('Add', [this.op('Erf', [scaled]), this.constFloat([1], [])]);
    return this.op('Mul', [this.op('Mul', [x, erfPlusOne]), this.constFloat([0.5], [])]);
  }

  /** [B, T, heads*headDim] -> [B, heads, T, headDim]. */
  splitHeads(x: string, heads: number, headDim: number): string {
    const r = this.op('Reshape', [x, this.constInt64([0, 0, heads, headDim])]);
    return this.op('Transpose', [r], { perm: attr.ints([0, 2, 1, 3]) });
  }

  /** [B, heads, T, headDim] -> [B, T, heads*headDim]. */
  mergeHeads(x: string, dim: number): string {
    const t = this.op('Transpose', [x], { perm: attr.ints([0, 2, 1, 3]) });
    return this.op('Reshape', [t, this.constInt64([0, 0, dim])]);
  }

  /** softmax(q k^T / sqrt(headDim) + mask) v over [B, heads, T, headDim] tensors. */
  attention(q: string, k: string, v: string, headDim: number, mask?: string): string {
    const kt = this.op('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) });
    let scores = this.op('Mul', [
      this.op('MatMul', [q, kt]),
      this.constFloat([1 / Math.sqrt(headDim)], []),
    ]);
    if (mask) scores = this.op('Add', [scores, mask]);
    const probs = this.op('Softmax', [scores], { axis: attr.int(-1) });
    return this.op('MatMul', [probs, v]);
  }

  /** Dim `axis` of `x`'s shape as an int64 [1] tensor. */
  dimOf(x: string, axis: number): string {
    return this.op('Shape', [x], { start: attr.int(axis), end: attr.int(axis + 1) });
  }

  /** An int64 [1] tensor as a scalar. */
  scalar(x: string): string {
    return this.op('Squeeze', [x, this.constInt64([0])]);
  }

  build(): GraphSpec {
    return {
      name: this.name,
      nodes: this.nodes,
      inputs: this.inputs,
      outputs: this.outputs,
      initializers: this.initializers,
    };
  }
}
