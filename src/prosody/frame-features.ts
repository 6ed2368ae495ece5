/**
 * Prosodic features of one analysis frame: F0 with a voicing decision (YIN), RMS energy in dBFS,
 * zero-crossing rate and spectral centroid. All work buffers are allocated once per analyser.
 */
import type { ProsodyFrame } from '../protocol/messages.js';
import { RealFft } from './real-fft.js';
import { YinPitchDetector } from './yin-pitch.js';

export interface ProsodyOptions {
  /** Rate of the input, in Hz. Default 16000. */
  sampleRateHz?: number;
  /** Analysis frame length, in ms. Default 32 (512 samples at 16 kHz). */
  frameMs?: number;
  /** Hop between frames, in ms. Default 20. */
  hopMs?: number;
  /** F0 search range, in Hz. Defaults 60 and 500. */
  fMinHz?: number;
  fMaxHz?: number;
  /** YIN threshold: the largest normalised difference still called voiced. Default 0.2. */
  voicingThreshold?: number;
  /** Frames quieter than this (dBFS) are unvoiced without a pitch search. Default -50. */
  silenceDb?: number;
  /** Frames with a higher zero-crossing rate (noise, fricatives) are unvoiced. Default 0.35. */
  maxVoicedZcr?: number;
}

export type ResolvedProsodyOptions = Required<ProsodyOptions>;

export function resolveProsodyOptions(options: ProsodyOptions = {}): ResolvedProsodyOptions {
  return {
    sampleRateHz: options.sampleRateHz ?? 16000,
    frameMs: options.frameMs ?? 32,
    hopMs: options.hopMs ?? 20,
    fMinHz: options.fMinHz ?? 60,
    fMaxHz: options.fMaxHz ?? 500,
    voicingThreshold: options.voicingThreshold ?? 0.2,
    silenceDb: options.silenceDb ?? -50,
    maxVoicedZcr: options.maxVoicedZcr ?? 0.35,
  };
}

/** Energy reported for digital silence, in dBFS. */
export const ENERGY_FLOOR_DB = -100;
/** Below this level the spectrum is not worth computing; the centroid is reported as 0. */
const CENTROID_FLOOR_DB = -90;

export class FrameAnalyzer {
  readonly options: ResolvedProsodyOptions;
  readonly frameSamples: number;
  private readonly yin: YinPitchDetector;
  private readonly fft: RealFft;
  private readonly hann: Float32Array;
  private readonly windowed: Float64Array;
  private readonly spectrum: Float64Array;
  private readonly binHz: number;

  constructor(options: ProsodyOptions = {}) {
    this.options = resolveProsodyOptions(options);
    const { sampleRateHz, frameMs, fMinHz, fMaxHz, voicingThreshold } = this.options;
    this.frameSamples = Math.round((sampleRateHz * frameMs) / 1000);
    this.yin = new YinPitchDetector(this.frameSamples, {
      sampleRateHz,
      fMinHz,
      fMaxHz,
      threshold: voicingThreshold,
    });
    let size = 4;
    while (size < this.frameSamples) size <<= 1;
    this.fft = new RealFft(size);
    this.binHz = sampleRateHz / size;
    const n = this.frameSamples;
    this.hann = Float32Array.from(
      { length: n },
      (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n),
    );
    this.windowed = new Float64Array(size);
    this.spectrum = new Float64Array(size / 2 + 1);
  }

  /**
   * Features of `samples[offset, offset + frameSamples)`, which must be finite (the tracker
   * cleans its input). `timeMs` is stamped on the result as is.
   */
  analyze(samples: ArrayLike<number>, offset: number, timeMs: number): ProsodyFrame {
    const n = this.frameSamples;
    let energy = 0;
    let crossings = 0;
    let prevPositive = samples[offset]! >= 0;
    for (let i = 0; i < n; i++) {
      const s = samples[offset + i]!;
      energy += s * s;
      const positive = s >= 0;
      if (positive !== prevPositive) crossings++;
      prevPositive = positive;
    }
    const rms = Math.sqrt(energy / n);
    const energyDb = rms > 1e-5 ? 20 * Math.log10(rms) : ENERGY_FLOOR_DB;
    const zeroCrossingRate = crossings / (n - 1);

    let f0Hz = 0;
    if (energyDb >= this.options.silenceDb && zeroCrossingRate <= this.options.maxVoicedZcr) {
      f0Hz = this.yin.detect(samples, offset).f0Hz;
    }
    const spectralCentroidHz = energyDb >= CENTROID_FLOOR_DB ? this.centroid(samples, offset) : 0;

    return { timeMs, f0Hz, voiced: f0Hz > 0, energyDb, zeroCrossingRate, spectralCentroidHz };
  }

  /** Magnitude-weighted mean frequency of the Hann-windowed frame, in Hz. */
  private centroid(samples: ArrayLike<number>, offset: number): number {
    const { windowed, hann, spectrum, binHz } = this;
    const n = this.frameSamples;
    for (let i = 0; i < n; i++) windowed[i] = samples[offset + i]! * hann[i]!;
    this.fft.magnitudes(windowed, spectrum);

    let weighted = 0;
    let total = 0;
    for (let k = 1; k < spectrum.length; k++) {
      const m = spectrum[k]!;
      weighted += k * m;
      total += m;
    }
    return total > 1e-9 ? (weighted / total) * binHz : 0;
  }
}
