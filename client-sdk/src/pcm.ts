/**
 * PCM helpers shared by the Node and browser parts: float <-> 16-bit conversion, interleaving,
 * resampling and cutting into frames. Samples are floats in [-1, 1].
 */

/** Float samples to 16-bit PCM, clipping, with NaN and infinities mapped to 0. */
export function floatToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const v = Number.isFinite(s) ? Math.max(-1, Math.min(1, s)) : 0;
    out[i] = v < 0 ? Math.round(v * 32768) : Math.round(v * 32767);
  }
  return out;
}

export function int16ToFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

/** Little-endian PCM16 bytes (as on the wire) to float samples, interleaved as they come. */
export function pcm16BytesToFloat(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  return out;
}

/** Float samples to little-endian PCM16 bytes. */
export function floatToPcm16Bytes(samples: Float32Array): Uint8Array {
  const pcm = floatToInt16(samples);
  const out = new Uint8Array(pcm.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i]!, true);
  return out;
}

/** Interleaves equal-length channels (L R L R ...). */
export function interleave(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const frames = channels[0]?.length ?? 0;
  const out = new Float32Array(frames * channels.length);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels.length; c++) out[i * channels.length + c] = channels[c]![i]!;
  }
  return out;
}

/** Averages interleaved channels down to mono. */
export function downmixInterleaved(samples: Float32Array, channels: number): Float32Array {
  if (channels === 1) return samples;
  const out = new Float32Array(Math.floor(samples.length / channels));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[i * channels + c]!;
    out[i] = sum / channels;
  }
  return out;
}

const HALF_TAPS = 16;

/**
 * Resamples one channel held whole in memory with a windowed-sinc filter (Blackman window, 16 taps
 * each side), low-passed at the lower of the two Nyquist rates so downsampling does not alias.
 */
export function resample(samples: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return samples;
  const ratio = toHz / fromHz;
  const out = new Float32Array(Math.floor(samples.length * ratio));
  const cutoff = Math.min(1, ratio);
  const span = HALF_TAPS / cutoff;

  for (let i = 0; i < out.length; i++) {
    const center = i / ratio;
    const first = Math.max(0, Math.ceil(center - span));
    const last = Math.min(samples.length - 1, Math.floor(center + span));
    let sum = 0;
    let weights = 0;
    for (let j = first; j <= last; j++) {
      const x = (j - center) * cutoff;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w =
        0.42 +
        0.5 * Math.cos((Math.PI * x) / HALF_TAPS) +
        0.08 * Math.cos((2 * Math.PI * x) / HALF_TAPS);
      const weight = sinc * w;
      sum += samples[j]! * weight;
      weights += weight;
    }
    out[i] = weights === 0 ? 0 : sum / weights;
  }
  return out;
}

/** Samples in one frame of `frameMs` at `sampleRateHz`. */
export const samplesPerFrame = (sampleRateHz: number, frameMs: number): number =>
  Math.round((sampleRateHz * frameMs) / 1000);
