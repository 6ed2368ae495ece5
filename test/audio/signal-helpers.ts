/** Small signal utilities shared by the audio and prosody tests. */
import { concatSamples } from '../../src/audio/channel-mix.js';

export const tone = (hz: number, rateHz: number, samples: number, amplitude = 0.5): Float32Array =>
  Float32Array.from(
    { length: samples },
    (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rateHz),
  );

/** RMS of `samples[from, to)`. */
export function rms(samples: Float32Array, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** Frequency of a clean tone from its rising zero crossings (linearly interpolated), in Hz. */
export function toneFrequencyHz(
  samples: Float32Array,
  rateHz: number,
  from = 0,
  to = samples.length,
): number {
  const crossings: number[] = [];
  for (let i = Math.max(1, from); i < to; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (a < 0 && b >= 0) crossings.push(i - 1 + a / (a - b));
  }
  const periods = crossings.length - 1;
  return (periods * rateHz) / (crossings[periods]! - crossings[0]!);
}

export const concatFloat = concatSamples;

/** Splits `[uint16 BE length][packet]` records. */
export function splitLengthPrefixed(data: Uint8Array): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const packets: Uint8Array[] = [];
  for (let at = 0; at + 2 <= data.byteLength; ) {
    const n = view.getUint16(at);
    packets.push(data.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return packets;
}
