/**
 * RIFF/WAVE reading and writing. Reads PCM 8/16/24/32-bit, IEEE float 32/64, G.711 A-law and
 * mu-law, and WAVE_FORMAT_EXTENSIBLE wrappers of those; channels come back separated as floats
 * in [-1, 1] at the file's own rate.
 */
import { decodeALaw, decodeMuLaw } from './g711.js';

export interface WavAudio {
  sampleRateHz: number;
  /** One array per channel. */
  channels: Float32Array[];
  /** The stored encoding. */
  encoding: 'pcm' | 'float' | 'alaw' | 'mulaw';
  bitsPerSample: number;
}

export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

const FORMAT = { pcm: 1, float: 3, alaw: 6, mulaw: 7, extensible: 0xfffe } as const;

/** Parses a WAV file held in memory. Throws `WavFormatError` with the reason when it is not one. */
export function parseWav(data: Uint8Array): WavAudio {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tag = (at: number) => String.fromCharCode(...data.subarray(at, at + 4));
  if (data.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file');
  }

  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let body: Uint8Array | undefined;
  for (let at = 12; at + 8 <= data.byteLength; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const start = at + 8;
    const end = Math.min(start + size, data.byteLength);
    if (id === 'fmt ') {
      let format = view.getUint16(start, true);
      if (format === FORMAT.extensible && size >= 26) format = view.getUint16(start + 24, true);
      fmt = {
        format,
        channels: view.getUint16(start + 2, true),
        rate: view.getUint32(start + 4, true),
        bits: view.getUint16(start + 14, true),
      };
    } else if (id === 'data') {
      // A streamed WAV may declare a data size of 0 or 0xffffffff: take what is there. Any other
      // size is a promise: a file cut short of it (a failed copy or upload) is refused, not
      // read as a shorter recording.
      const open = size === 0 || size === 0xffffffff;
      if (!open && start + size > data.byteLength + 1) {
        throw new WavFormatError(
          `truncated: the data chunk declares ${size} bytes, ${data.byteLength - start} are there`,
        );
      }
      body = data.subarray(start, open ? data.byteLength : end);
    }
    at = start + size + (size & 1);
  }
  if (!fmt) throw new WavFormatError('no fmt chunk');
  if (!body) throw new WavFormatError('no data chunk');
  if (fmt.channels < 1 || fmt.rate < 1)
    throw new WavFormatError('bad channel count or sample rate');

  const decoded = decodeInterleaved(body, fmt.format, fmt.bits);
  const frames = Math.floor(decoded.samples.length / fmt.channels);
  const channels = Array.from({ length: fmt.channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < fmt.channels; c++) channels[c]![i] = decoded.samples[i * fmt.channels + c]!;
  }
  return { sampleRateHz: fmt.rate, channels, encoding: decoded.encoding, bitsPerSample: fmt.bits };
}

function decodeInterleaved(
  body: Uint8Array,
  format: number,
  bits: number,
): { samples: Float32Array; encoding: WavAudio['encoding'] } {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (format === FORMAT.mulaw) return { samples: decodeMuLaw(body), encoding: 'mulaw' };
  if (format === FORMAT.alaw) return { samples: decodeALaw(body), encoding: 'alaw' };

  const bytes = bits / 8;
  const n = Math.floor(body.byteLength / bytes);
  const out = new Float32Array(n);
  if (format === FORMAT.float && bits === 32) {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
    return { samples: out, encoding: 'float' };
  }
  if (format === FORMAT.float && bits === 64) {
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
    return { samples: out, encoding: 'float' };
  }
  if (format !== FORMAT.pcm) throw new WavFormatError(`unsupported WAV format tag ${format}`);
  switch (bits) {
    case 8:
      for (let i = 0; i < n; i++) out[i] = (view.getUint8(i) - 128) / 128;
      break;
    case 16:
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true) / 32768;
      break;
    case 24:
      for (let i = 0; i < n; i++) {
        const v =
          view.getUint8(i * 3) | (view.getUint8(i * 3 + 1) << 8) | (view.getInt8(i * 3 + 2) << 16);
        out[i] = v / 8388608;
      }
      break;
    case 32:
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true) / 2147483648;
      break;
    default:
      throw new WavFormatError(`unsupported PCM bit depth ${bits}`);
  }
  return { samples: out, encoding: 'pcm' };
}

/**
 * Converts float samples to 16-bit PCM, clipping to [-1, 1] (-1 is -32768, 1 is 32767) and mapping
 * NaN and +/-Inf to 0. Writes into `out` when given (it must hold `samples.length` values).
 */
export function floatToPcm16(
  samples: Float32Array,
  out: Int16Array = new Int16Array(samples.length),
): Int16Array {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const v = Number.isFinite(s) ? Math.max(-1, Math.min(1, s)) : 0;
    out[i] = v < 0 ? Math.round(v * 32768) : Math.round(v * 32767);
  }
  return out;
}

/** Writes 16-bit PCM WAV. `channels` are separate arrays of equal length. */
export function encodeWav(channels: Float32Array[], sampleRateHz: number): Uint8Array {
  const count = channels.length;
  const frames = channels[0]?.length ?? 0;
  const dataBytes = frames * count * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const write = (at: number, s: string) =>
    [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  write(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  write(8, 'WAVE');
  write(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, FORMAT.pcm, true);
  view.setUint16(22, count, true);
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * count * 2, true);
  view.setUint16(32, count * 2, true);
  view.setUint16(34, 16, true);
  write(36, 'data');
  view.setUint32(40, dataBytes, true);
  const pcm = channels.map((c) => floatToPcm16(c));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < count; c++) view.setInt16(44 + (i * count + c) * 2, pcm[c]![i]!, true);
  }
  return out;
}
