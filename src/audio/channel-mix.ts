/**
 * Channel handling after decoding: cleaning float samples, splitting interleaved channels, joining
 * sample arrays, and a stereo downmix that survives anti-phase input.
 */

/**
 * Replaces NaN and +/-Inf with 0 and clamps to [-1, 1], in place.
 * @returns how many samples were not finite
 */
export function sanitizeSamples(samples: Float32Array): number {
  let nonFinite = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    // NaN fails both comparisons; Inf is caught by the clamp, but counted as non-finite.
    if (s >= -1 && s <= 1) continue;
    if (s !== s || s === Infinity || s === -Infinity) {
      samples[i] = 0;
      nonFinite++;
    } else {
      samples[i] = s > 1 ? 1 : -1;
    }
  }
  return nonFinite;
}

/** Joins sample arrays end to end into a new array. */
export function concatSamples(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits interleaved samples into one array per channel. */
export function deinterleave(interleaved: Float32Array, channels: number): Float32Array[] {
  if (channels === 1) return [interleaved];

  const frames = Math.floor(interleaved.length / channels);
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let c = 0; c < channels; c++) {
    const track = out[c]!;
    for (let i = 0, j = c; i < frames; i++, j += channels) track[i] = interleaved[j]!;
  }
  return out;
}

/** Smoothing of the per-chunk energies that drive the downmix choice (share of the new chunk). */
const ENERGY_SMOOTHING = 0.3;
/** The mix counts as cancelled when it is this far below the louder channel (10 dB, in power). */
const CANCELLED_RATIO = 0.1;
/** Back to the plain mix once it is within about 5 dB of the louder channel. */
const RESTORED_RATIO = 0.3;
/** Below -80 dBFS (power) nothing is decided: silence looks cancelled too. */
const SILENCE_POWER = 1e-8;

/**
 * Stereo to mono. Normally `(L + R) / 2`; when that mix is far quieter than the channels (right
 * = -left, as some phones and broken mixers produce, makes the plain mix silence), it takes the
 * louder channel instead, with hysteresis so it does not flip every chunk.
 */
export class StereoDownmixer {
  private mode: 'mix' | 'left' | 'right' = 'mix';
  private powerL = -1;
  private powerR = 0;
  private powerMix = 0;

  /** Which source the last chunk used. */
  get source(): 'mix' | 'left' | 'right' {
    return this.mode;
  }

  /** Downmixes interleaved stereo samples. */
  downmix(interleaved: Float32Array): Float32Array {
    const frames = interleaved.length >> 1;
    const mix = new Float32Array(frames);
    let eL = 0;
    let eR = 0;
    let eM = 0;
    for (let i = 0, j = 0; i < frames; i++, j += 2) {
      const l = interleaved[j]!;
      const r = interleaved[j + 1]!;
      const m = (l + r) * 0.5;
      mix[i] = m;
      eL += l * l;
      eR += r * r;
      eM += m * m;
    }
    if (frames === 0) return mix;

    this.track(eL / frames, eR / frames, eM / frames);
    if (this.mode === 'mix') return mix;

    const offset = this.mode === 'left' ? 0 : 1;
    for (let i = 0, j = offset; i < frames; i++, j += 2) mix[i] = interleaved[j]!;
    return mix;
  }

  private track(eL: number, eR: number, eM: number): void {
    if (this.powerL < 0) {
      this.powerL = eL;
      this.powerR = eR;
      this.powerMix = eM;
    } else {
      this.powerL += ENERGY_SMOOTHING * (eL - this.powerL);
      this.powerR += ENERGY_SMOOTHING * (eR - this.powerR);
      this.powerMix += ENERGY_SMOOTHING * (eM - this.powerMix);
    }

    const louder = Math.max(this.powerL, this.powerR);
    if (louder < SILENCE_POWER) return;

    if (this.mode === 'mix') {
      if (this.powerMix < CANCELLED_RATIO * louder) {
        this.mode = this.powerR > this.powerL ? 'right' : 'left';
      }
      return;
    }
    if (this.powerMix > RESTORED_RATIO * louder) this.mode = 'mix';
    else if (this.mode === 'left' && this.powerR > 2 * this.powerL) this.mode = 'right';
    else if (this.mode === 'right' && this.powerL > 2 * this.powerR) this.mode = 'left';
  }
}
