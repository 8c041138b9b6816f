/**
 * A minimal protocol-buffers writer: just what ONNX model files need (varints, 32-bit floats,
 * length-delimited fields and nested messages).
 *
 * A message is built as a list of byte chunks so that large tensor payloads are referenced, never copied,
 * until the final `concat` (or until they are streamed to a file chunk by chunk).
 */

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LENGTH_DELIMITED = 2;

export class ProtoWriter {
  readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  byteLength = 0;

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    const bytes = Uint8Array.from(this.scratch);
    this.chunks.push(bytes);
    this.byteLength += bytes.length;
    this.scratch = [];
  }

  private pushVarint(value: bigint | number): void {
    let v = BigInt(value);
    if (v < 0n) v = BigInt.asUintN(64, v); // negative int64 values are written as 10-byte two's complement
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.scratch.push(byte);
    } while (v !== 0n);
  }

  private key(field: number, wire: number): void {
    this.pushVarint((field << 3) | wire);
  }

  /** int32/int64/enum/bool field. */
  varint(field: number, value: number | bigint): this {
    this.key(field, WIRE_VARINT);
    this.pushVarint(value);
    return this;
  }

  /** float field (wire type fixed32). */
  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    return this;
  }

  /** bytes field; the payload is referenced, not copied. */
  bytes(field: number, payload: Uint8Array): this {
    this.key(field, WIRE_LENGTH_DELIMITED);
    this.pushVarint(payload.byteLength);
    this.flushScratch();
    if (payload.byteLength > 0) {
      this.chunks.push(payload);
      this.byteLength += payload.byteLength;
    }
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** Embedded message field. */
  message(field: number, inner: ProtoWriter): this {
    inner.flushScratch();
    this.key(field, WIRE_LENGTH_DELIMITED);
    this.pushVarint(inner.byteLength);
    this.flushScratch();
    for (const c of inner.chunks) this.chunks.push(c);
    this.byteLength += inner.byteLength;
    return this;
  }

  /** Packed repeated int64 field. */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.pushVarint(values[i]!);
    return this.message(field, inner);
  }

  /** Packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const f = Float32Array.from(values as ArrayLike<number>);
    return this.bytes(field, new Uint8Array(f.buffer));
  }

  /** All chunks in order (the scratch buffer flushed first). */
  finish(): Uint8Array[] {
    this.flushScratch();
    return this.chunks;
  }

  /** The whole message as one buffer. */
  concat(): Uint8Array {
    const chunks = this.finish();
    const out = new Uint8Array(this.byteLength);
    let offset = 0;
    for (const c of chunks) {
      out.set(c, offset);
      offset += c.byteLength;
    }
    return out;
  }
}
