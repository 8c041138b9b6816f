/**
 * Builds ONNX models in TypeScript: a `GraphBuilder` collects inputs, outputs, initializers and nodes and
 * serialises them as an ONNX ModelProto (field numbers from onnx/onnx.proto).
 *
 * Initializers larger than `externalThresholdBytes` can be written to a side file (ONNX "external data"),
 * which keeps the protobuf under its 2 GiB limit and lets onnxruntime map the weights from disk.
 */
import { ProtoWriter } from './protobuf.ts';

/** ONNX TensorProto.DataType values. */
export const OnnxType = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  double: 11,
} as const;
export type OnnxTypeName = keyof typeof OnnxType;

/** The default opset: 17 has LayerNormalization, STFT/DFT and the ReduceX ops with axes as attributes. */
export const DEFAULT_OPSET = 17;

/**
 * Attribute values: a plain number is an INT (it must be an integer), `{ f }` a FLOAT, `number[]` INTS,
 * `{ floats }` FLOATS, a string STRING and a TensorData TENSOR.
 */
export type AttributeValue = number | { f: number } | string | number[] | { floats: number[] } | TensorData;

/** A FLOAT attribute value. */
export const f = (value: number): { f: number } => ({ f: value });

type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

/**
 * A constant tensor: dims and its data (the typed array decides the ONNX type unless `type` says otherwise).
 * `data` may be a function producing the array: it is called only when the model is serialised, and with an
 * external-data sink each array is written and dropped at once, so large models are built in bounded memory.
 * Lazy data is float32 unless `type` says otherwise.
 */
export interface TensorData {
  dims: readonly number[];
  data: TypedData | (() => TypedData);
  type?: OnnxTypeName;
}

/** A dimension is a fixed size or a symbolic name such as "frames". */
export type Dim = number | string;

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, AttributeValue>;
  domain: string;
}

interface ValueSpec {
  name: string;
  type: OnnxTypeName;
  dims: readonly Dim[];
}

function typeOf(t: TensorData): OnnxTypeName {
  if (t.type) return t.type;
  if (typeof t.data === 'function') return 'float';
  if (t.data instanceof Float32Array) return 'float';
  if (t.data instanceof Float64Array) return 'double';
  if (t.data instanceof Int32Array) return 'int32';
  if (t.data instanceof BigInt64Array) return 'int64';
  if (t.data instanceof Uint8Array) return 'uint8';
  return 'float16';
}

function isTensorData(v: unknown): v is TensorData {
  return typeof v === 'object' && v !== null && 'dims' in v && 'data' in v;
}

/** The tensor's bytes, producing lazy data now and checking its length against the dims. */
function bytesOf(name: string, t: TensorData): Uint8Array {
  const data = typeof t.data === 'function' ? t.data() : t.data;
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`initializer ${name}: dims [${t.dims.join(', ')}] need ${expected} values, got ${data.length}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Where external initializer bytes go: the sink stores them and says where (a file relative to the model, an offset). */
export interface ExternalDataSink {
  /** Stores one initializer's bytes; `name` is the initializer's name. */
  append(bytes: Uint8Array, name: string): { location: string; offset: number };
}

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly inputs: ValueSpec[] = [];
  private readonly outputs: ValueSpec[] = [];
  private readonly initializers = new Map<string, TensorData>();
  private counter = 0;

  constructor(readonly name = 'graph') {}

  /** A fresh, unique value name with the given prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, type: OnnxTypeName, dims: readonly Dim[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  output(name: string, type: OnnxTypeName, dims: readonly Dim[]): string {
    this.outputs.push({ name, type, dims });
    return name;
  }

  /** Adds a constant (weight) tensor and returns its name. */
  init(name: string, tensor: TensorData): string {
    if (this.initializers.has(name)) throw new Error(`initializer ${name} defined twice`);
    const expected = tensor.dims.reduce((a, b) => a * b, 1);
    if (typeof tensor.data !== 'function' && tensor.data.length !== expected) {
      throw new Error(`initializer ${name}: dims [${tensor.dims.join(', ')}] need ${expected} values, got ${tensor.data.length}`);
    }
    this.initializers.set(name, tensor);
    return name;
  }

  /** Scalar or 1-D constants, named automatically. */
  constFloat(values: number | number[], name = this.fresh('c')): string {
    const arr = Array.isArray(values) ? values : [values];
    return this.init(name, { dims: Array.isArray(values) ? [arr.length] : [], data: Float32Array.from(arr) });
  }

  constInt64(values: number | number[], name = this.fresh('i')): string {
    const arr = Array.isArray(values) ? values : [values];
    return this.init(name, { dims: Array.isArray(values) ? [arr.length] : [], data: BigInt64Array.from(arr.map(BigInt)) });
  }

  /**
   * Adds a node. Returns its single output name (or the first of several when `outputs` is a number).
   * Use `nodeMulti` when the node has several outputs you need.
   */
  node(op: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputName?: string): string {
    return this.nodeMulti(op, inputs, 1, attributes, outputName ? [outputName] : undefined)[0]!;
  }

  nodeMulti(
    op: string,
    inputs: string[],
    outputCount: number,
    attributes: Record<string, AttributeValue> = {},
    outputNames?: string[],
    domain = '',
  ): string[] {
    const base = this.fresh(op);
    const outputs = outputNames ?? Array.from({ length: outputCount }, (_, i) => (outputCount === 1 ? base : `${base}_out${i}`));
    this.nodes.push({ op, inputs, outputs, name: base, attributes, domain });
    return outputs;
  }

  /**
   * Serialises the model. With `external`, every initializer of at least `externalThresholdBytes` bytes is
   * appended to the sink and referenced by location/offset/length instead of being embedded.
   */
  toModel(options: { opset?: number; external?: ExternalDataSink; externalThresholdBytes?: number; docString?: string } = {}): Uint8Array[] {
    const opset = options.opset ?? DEFAULT_OPSET;
    const threshold = options.externalThresholdBytes ?? 1024;

    const graph = new ProtoWriter();
    for (const n of this.nodes) graph.message(1, encodeNode(n));
    graph.string(2, this.name);
    for (const [name, t] of this.initializers) graph.message(5, encodeTensor(name, t, options.external, threshold));
    for (const v of this.inputs) graph.message(11, encodeValueInfo(v));
    for (const v of this.outputs) graph.message(12, encodeValueInfo(v));

    const model = new ProtoWriter();
    model.varint(1, 8); // ir_version 8 (onnx 1.10+), enough for opset 17
    model.string(2, 'audiosae');
    model.string(3, '0.1.0');
    if (options.docString) model.string(6, options.docString);
    model.message(7, graph);
    model.message(8, new ProtoWriter().string(1, '').varint(2, opset));
    model.message(8, new ProtoWriter().string(1, 'com.microsoft').varint(2, 1));
    return model.finish();
  }

  /** The whole model in one buffer (embedded weights only). */
  toBytes(opset?: number): Uint8Array {
    const chunks = this.toModel({ opset });
    const total = chunks.reduce((a, c) => a + c.byteLength, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  }
}

function encodeValueInfo(v: ValueSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  }
  const tensorType = new ProtoWriter().varint(1, OnnxType[v.type]).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

function encodeTensor(name: string, t: TensorData, external: ExternalDataSink | undefined, threshold: number): ProtoWriter {
  const w = new ProtoWriter();
  w.packedVarints(1, t.dims);
  w.varint(2, OnnxType[typeOf(t)]);
  w.string(8, name);
  const bytes = bytesOf(name, t);
  if (external && bytes.byteLength >= threshold) {
    const { location, offset } = external.append(bytes, name);
    const entry = (k: string, v: string) => new ProtoWriter().string(1, k).string(2, v);
    w.message(13, entry('location', location));
    w.message(13, entry('offset', String(offset)));
    w.message(13, entry('length', String(bytes.byteLength)));
    w.varint(14, 1); // data_location = EXTERNAL
  } else {
    w.bytes(9, bytes);
  }
  return w;
}

function encodeAttribute(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; use f(${value}) for a float`);
    w.varint(3, value).varint(20, 2); // INT
  } else if (typeof value === 'string') {
    w.string(4, value).varint(20, 3); // STRING
  } else if (Array.isArray(value)) {
    for (const i of value) w.varint(8, i);
    w.varint(20, 7); // INTS
  } else if (isTensorData(value)) {
    w.message(5, encodeTensor('', value, undefined, Infinity)).varint(20, 4); // TENSOR
  } else if ('f' in value) {
    w.float(2, value.f).varint(20, 1); // FLOAT
  } else {
    for (const x of value.floats) w.float(7, x);
    w.varint(20, 6); // FLOATS
  }
  return w;
}

function encodeNode(n: NodeSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes)) w.message(5, encodeAttribute(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}
