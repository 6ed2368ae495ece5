/**
 * Incremental decoders for audio bodies that arrive in pieces split anywhere: raw 16-bit
 * little-endian PCM, and WAV (header first, then PCM). Both return mono float samples in [-1, 1].
 */
import { UndertoneError } from '../../errors/undertone-error.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';

/** Largest WAV header accepted before the `data` chunk, in bytes. */
const MAX_HEADER_BYTES = 64 * 1024;

const bad = (message: string) =>
  new UndertoneError(ERROR_CODES.ttsFailed, message, { category: 'upstream' });

/**
 * Raw s16le, interleaved when `channels` > 1 (averaged to mono). A sample split across pushes
 * waits for its other half.
 */
export class Pcm16Decoder {
  private carry: Uint8Array = new Uint8Array(0);

  constructor(private readonly channels = 1) {}

  push(bytes: Uint8Array): Float32Array {
    const data = this.carry.length ? concat(this.carry, bytes) : bytes;
    const frameBytes = 2 * this.channels;
    const usable = data.length - (data.length % frameBytes);
    this.carry = data.slice(usable);

    const view = new DataView(data.buffer, data.byteOffset, usable);
    const out = new Float32Array(usable / frameBytes);
    for (let i = 0; i < out.length; i++) {
      let sum = 0;
      for (let c = 0; c < this.channels; c++)
        sum += view.getInt16((i * this.channels + c) * 2, true);
      out[i] = sum / this.channels / 32768;
    }
    return out;
  }

  /** Bytes left over that did not make a whole sample frame (a truncated body). */
  end(): number {
    const left = this.carry.length;
    this.carry = new Uint8Array(0);
    return left;
  }
}

/** A streamed WAV file: parses the header, then decodes its 16-bit PCM data as it arrives. */
export class WavStreamDecoder {
  private header: Uint8Array = new Uint8Array(0);
  private pcm: Pcm16Decoder | undefined;
  /** Data bytes still expected, or Infinity when the header leaves the size open (streaming). */
  private dataLeft = Infinity;

  constructor(private readonly expectedRateHz: number) {}

  push(bytes: Uint8Array): Float32Array {
    if (this.pcm) return this.data(bytes);

    this.header = concat(this.header, bytes);
    const parsed = this.parseHeader();
    if (!parsed) {
      if (this.header.length > MAX_HEADER_BYTES)
        throw bad('WAV header too long or missing its data chunk');
      return new Float32Array(0);
    }
    const rest = this.header.subarray(parsed.dataStart);
    this.header = new Uint8Array(0);
    return this.data(rest);
  }

  /** Ends the body; returns the bytes of a last, incomplete sample frame. */
  end(): number {
    if (!this.pcm && this.header.length > 0) throw bad('WAV body ended inside its header');
    return this.pcm?.end() ?? 0;
  }

  private data(bytes: Uint8Array): Float32Array {
    const take = Number.isFinite(this.dataLeft) ? bytes.subarray(0, this.dataLeft) : bytes;
    this.dataLeft -= take.length;
    return this.pcm!.push(take);
  }

  /** Walks the chunks; returns where the sample data starts once `fmt ` and `data` are in. */
  private parseHeader(): { dataStart: number } | undefined {
    const h = this.header;
    if (h.length < 12) return undefined;
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength);
    const tag = (at: number) => String.fromCharCode(h[at]!, h[at + 1]!, h[at + 2]!, h[at + 3]!);
    if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE')
      throw bad('speech server sent something that is not WAV');

    let format: { channels: number; rateHz: number; bits: number; code: number } | undefined;
    for (let at = 12; at + 8 <= h.length; ) {
      const id = tag(at);
      const size = view.getUint32(at + 4, true);
      if (id === 'data') {
        if (!format) throw bad('WAV data chunk before its fmt chunk');
        this.start(format, size);
        return { dataStart: at + 8 };
      }
      if (at + 8 + size > h.length) return undefined;
      if (id === 'fmt ') {
        format = {
          code: view.getUint16(at + 8, true),
          channels: view.getUint16(at + 10, true),
          rateHz: view.getUint32(at + 12, true),
          bits: view.getUint16(at + 22, true),
        };
      }
      at += 8 + size + (size % 2);
    }
    return undefined;
  }

  private start(
    format: { channels: number; rateHz: number; bits: number; code: number },
    size: number,
  ): void {
    const pcm16 = (format.code === 1 || format.code === 0xfffe) && format.bits === 16;
    if (!pcm16 || format.channels < 1)
      throw bad(`WAV format ${format.code}/${format.bits}-bit is not 16-bit PCM`);
    if (format.rateHz !== this.expectedRateHz) {
      throw bad(
        `WAV at ${format.rateHz} Hz, expected ${this.expectedRateHz} Hz (set tts sampleRateHz)`,
      );
    }
    this.pcm = new Pcm16Decoder(format.channels);
    // Streaming servers write 0 or 0xFFFFFFFF as the size: the data runs to the end of the body.
    this.dataLeft = size === 0 || size === 0xffffffff ? Infinity : size;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
