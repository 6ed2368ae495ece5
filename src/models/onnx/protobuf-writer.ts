/**
 * A minimal protocol-buffers writer: just the wire types ONNX needs (varint, 64-bit, length
 * delimited, 32-bit). Messages are built bottom-up as byte arrays, so nested messages are written
 * once their length is known.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

/** Appends protobuf fields to a growing list of chunks; `finish()` joins them. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private byteLength = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.byteLength += bytes.length;
  }

  private tag(field: number, wireType: number): void {
    this.push(encodeVarint(BigInt((field << 3) | wireType)));
  }

  /** An int32/int64/enum/bool field (negative values use the 10-byte two's complement form). */
  int(field: number, value: number | bigint | boolean): this {
    this.tag(field, WIRE_VARINT);
    this.push(
      encodeVarint(BigInt.asUintN(64, BigInt(typeof value === 'boolean' ? Number(value) : value))),
    );
    return this;
  }

  /** A float field (fixed32, little endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  /** A bytes or embedded-message field. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.push(encodeVarint(BigInt(value.length)));
    this.push(value);
    return this;
  }

  /** A UTF-8 string field. */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** Repeated int64 written unpacked (valid for proto2 and accepted by every parser). */
  ints(field: number, values: readonly (number | bigint)[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  /** Repeated float written unpacked. */
  floats(field: number, values: readonly number[]): this {
    for (const v of values) this.float(field, v);
    return this;
  }

  /** Repeated embedded messages. */
  messages(field: number, values: readonly Uint8Array[]): this {
    for (const v of values) this.bytes(field, v);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** Base-128 varint of an unsigned 64-bit value. */
export function encodeVarint(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return Uint8Array.from(bytes);
}
