/**
 * ONNX messages (onnx.proto, proto2) encoded with `ProtoWriter`: ModelProto, GraphProto,
 * NodeProto with attributes, TensorProto with `raw_data`, ValueInfoProto with numeric and
 * symbolic dims. Field numbers follow onnx/onnx.proto.
 */
import { ProtoWriter } from './protobuf-writer.js';

/** TensorProto.DataType values we write. */
export const DataType = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
} as const;

export type ElemType = keyof typeof DataType;

/** A dim is a number (fixed) or a string (symbolic, `dim_param`). */
export type Dim = number | string;

export interface TensorSpec {
  name: string;
  type: ElemType;
  dims: readonly number[];
  /** Values; bool tensors take 0/1 numbers. */
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

export interface ValueInfoSpec {
  name: string;
  type: ElemType;
  /** Omitted = rank unknown. */
  shape?: readonly Dim[];
}

export type AttributeValue =
  | { kind: 'int'; value: number | bigint }
  | { kind: 'ints'; value: readonly (number | bigint)[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorSpec }
  | { kind: 'graph'; value: GraphSpec };

export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
  initializers?: readonly TensorSpec[];
}

export interface ModelSpec {
  graph: GraphSpec;
  /** Default 8. */
  irVersion?: number;
  /** Default-domain opset; default 17. */
  opset?: number;
  producerName?: string;
  docString?: string;
  /** Stored as metadata_props. */
  metadata?: Readonly<Record<string, string>>;
}

const AttributeType = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  graph: 5,
  floats: 6,
  ints: 7,
} as const;

export function encodeTensor(t: TensorSpec): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new Error(`tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(',')}]`);
  }
  // raw_data is little endian; every platform Node runs on here is little endian too.
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return new ProtoWriter()
    .ints(1, t.dims)
    .int(2, DataType[t.type])
    .string(8, t.name)
    .bytes(9, raw)
    .finish();
}

export function encodeValueInfo(v: ValueInfoSpec): Uint8Array {
  const tensorType = new ProtoWriter().int(1, DataType[v.type]);
  if (v.shape) {
    const shape = new ProtoWriter();
    for (const d of v.shape) {
      const dim = new ProtoWriter();
      if (typeof d === 'number') dim.int(1, d);
      else dim.string(2, d);
      shape.bytes(1, dim.finish());
    }
    tensorType.bytes(2, shape.finish());
  }
  const typeProto = new ProtoWriter().bytes(1, tensorType.finish()).finish();
  return new ProtoWriter().string(1, v.name).bytes(2, typeProto).finish();
}

function encodeAttribute(name: string, a: AttributeValue): Uint8Array {
  const w = new ProtoWriter().string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.bytes(5, encodeTensor(a.value));
      break;
    case 'graph':
      w.bytes(6, encodeGraph(a.value));
      break;
    case 'floats':
      w.floats(7, a.value);
      break;
    case 'ints':
      w.ints(8, a.value);
      break;
  }
  return w.int(20, AttributeType[a.kind]).finish();
}

export function encodeNode(n: NodeSpec): Uint8Array {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, value] of Object.entries(n.attributes ?? {}))
    w.bytes(5, encodeAttribute(name, value));
  if (n.domain) w.string(7, n.domain);
  return w.finish();
}

export function encodeGraph(g: GraphSpec): Uint8Array {
  return new ProtoWriter()
    .messages(1, g.nodes.map(encodeNode))
    .string(2, g.name)
    .messages(5, (g.initializers ?? []).map(encodeTensor))
    .messages(11, g.inputs.map(encodeValueInfo))
    .messages(12, g.outputs.map(encodeValueInfo))
    .finish();
}

/** Serialises a whole model to the bytes of a `.onnx` file. */
export function encodeModel(m: ModelSpec): Uint8Array {
  const opset = new ProtoWriter()
    .string(1, '')
    .int(2, m.opset ?? 17)
    .finish();
  const w = new ProtoWriter()
    .int(1, m.irVersion ?? 8)
    .string(2, m.producerName ?? 'undertone-fixtures')
    .string(3, '1')
    .bytes(7, encodeGraph(m.graph))
    .bytes(8, opset);
  if (m.docString) w.string(6, m.docString);
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    w.bytes(14, new ProtoWriter().string(1, key).string(2, value).finish());
  }
  return w.finish();
}
