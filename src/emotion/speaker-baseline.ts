/**
 * A speaker's own voice baseline: running mean and variance of pitch, loudness, speaking rate
 * and voicing, with exponential forgetting, warm-started from population priors. Voice features
 * become z-scores relative to the speaker, so a shout is a shout for this speaker, not a loud
 * line or a high voice.
 *
 * The baseline learns from whole utterances (`update`), weighted by their voiced seconds; while
 * an utterance goes on, it is judged against the baseline as it stood before it began.
 */
import type { ProsodySegment } from '../prosody/types.js';

/** The voice features the baseline tracks. */
export const VOICE_FEATURES = ['f0', 'energy', 'rate', 'voiced'] as const;
export type VoiceFeature = (typeof VOICE_FEATURES)[number];

/** Raw per-utterance values: F0 in semitones re 100 Hz, energy in dBFS, syllables/s, 0..1. */
export type VoiceValues = Record<VoiceFeature, number | undefined>;
/** Z-scores against the speaker's baseline; 0 where a feature had no value. */
export type VoiceZ = Record<`${VoiceFeature}Z`, number>;

export interface FeaturePrior {
  mean: number;
  /** Spread of utterance means across speakers and moods; the z unit before the speaker is known. */
  sd: number;
  /** The baseline's spread never falls below this, so a monotone speaker's small change is not a huge z. */
  minSd: number;
}

/**
 * Population priors, chosen so that with one utterance (baseline = prior) a calm adult voice
 * lands near 0: F0 around 110 Hz (between adult male ~100-120 and female ~190-220 Hz, leaning
 * male because a lone female utterance should read as somewhat raised rather than a male one as
 * flat) with a 4.5-semitone spread; speech loudness around -24 dBFS (a normally levelled
 * telephone or headset recording) with 6 dB spread; 5.5 syllable-like energy peaks per voiced
 * second (our peak counter runs above true syllable rates) with 1.5 spread; 55 % voiced frames.
 */
export const POPULATION_PRIORS: Readonly<Record<VoiceFeature, FeaturePrior>> = {
  f0: { mean: 1.65, sd: 4.5, minSd: 1.5 },
  energy: { mean: -24, sd: 6, minSd: 2.5 },
  rate: { mean: 5.5, sd: 1.5, minSd: 0.7 },
  voiced: { mean: 0.55, sd: 0.15, minSd: 0.06 },
};

export interface SpeakerBaselineOptions {
  priors?: Readonly<Record<VoiceFeature, FeaturePrior>>;
  /** Weight of the prior, in voiced seconds of evidence. Default 4. */
  priorWeightS?: number;
  /** Memory of the baseline, in voiced seconds: older speech fades beyond it. Default 60. */
  memoryS?: number;
}

interface Running {
  mean: number;
  variance: number;
  weight: number;
}

/** Raw voice values of an utterance's prosody summary; absent where the summary has none. */
export function voiceValues(segment: ProsodySegment): VoiceValues {
  const voicedS = (segment.voicedRatio * segment.durationMs) / 1000;
  return {
    f0: segment.f0MeanHz > 0 ? 12 * Math.log2(segment.f0MeanHz / 100) : undefined,
    energy: segment.durationMs > 0 ? segment.energyMeanDb : undefined,
    rate: voicedS >= 0.2 ? segment.speakingRateSylPerS : undefined,
    voiced: segment.durationMs > 0 ? segment.voicedRatio : undefined,
  };
}

export class SpeakerBaseline {
  private readonly stats: Record<VoiceFeature, Running>;
  private readonly priors: Readonly<Record<VoiceFeature, FeaturePrior>>;
  private readonly memoryS: number;
  private utterances = 0;

  constructor(options: SpeakerBaselineOptions = {}) {
    this.priors = options.priors ?? POPULATION_PRIORS;
    this.memoryS = options.memoryS ?? 60;
    const weight = options.priorWeightS ?? 4;
    this.stats = Object.fromEntries(
      VOICE_FEATURES.map((f) => [
        f,
        { mean: this.priors[f].mean, variance: this.priors[f].sd ** 2, weight },
      ]),
    ) as Record<VoiceFeature, Running>;
  }

  /** Utterances learnt so far. */
  get utteranceCount(): number {
    return this.utterances;
  }

  /** Current mean and standard deviation of a feature. */
  describe(feature: VoiceFeature): { mean: number; sd: number } {
    const s = this.stats[feature];
    return { mean: s.mean, sd: Math.max(this.priors[feature].minSd, Math.sqrt(s.variance)) };
  }

  /** Z-scores of `values` against the baseline, clipped to +-4; 0 for absent values. */
  zScores(values: VoiceValues): VoiceZ {
    const z = (f: VoiceFeature): number => {
      const v = values[f];
      if (v === undefined || !Number.isFinite(v)) return 0;
      const { mean, sd } = this.describe(f);
      return Math.max(-4, Math.min(4, (v - mean) / sd));
    };
    return { f0Z: z('f0'), energyZ: z('energy'), rateZ: z('rate'), voicedZ: z('voiced') };
  }

  /**
   * Learns one utterance with `weightS` seconds of voiced speech behind it. The effective
   * weight is capped at `memoryS`, which makes the forgetting exponential in speech time.
   */
  update(values: VoiceValues, weightS: number): void {
    if (!(weightS > 0)) return;
    for (const f of VOICE_FEATURES) {
      const v = values[f];
      if (v === undefined || !Number.isFinite(v)) continue;
      const s = this.stats[f];
      const alpha = weightS / (s.weight + weightS);
      const delta = v - s.mean;
      s.mean += alpha * delta;
      s.variance = (1 - alpha) * (s.variance + alpha * delta * delta);
      s.weight = Math.min(this.memoryS, s.weight + weightS);
    }
    this.utterances++;
  }
}
